"""The CI gate: a committed baseline and budgets that `layerlens check` holds a build to."""
