"""Git history: what changed in the build context, commit by commit."""
