"""Where layerlens keeps what it caches: `$XDG_CACHE_HOME/layerlens` (default
`~/.cache/layerlens`), per the XDG Base Directory specification. Apart from the stores
themselves so that finding it imports no encoder (a `--no-cache` run still looks for
`layerlens measure`'s step seconds there)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """`$XDG_CACHE_HOME/layerlens` (default `~/.cache/layerlens`)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "layerlens"
