"""Frozen records of a mined history window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

GITLINK = 0o160000
SYMLINK = 0o120000


@dataclass(frozen=True, slots=True)
class TreeEntry:
    mode: int  # git mode: 0o100644, 0o100755, 0o120000 (link), 0o160000 (submodule)
    sha: str


class Change(NamedTuple):
    """One path a commit changed. A named tuple, not a frozen dataclass: mining makes one
    per changed path (170,753 for rails' mainline), and a tuple is built several times faster
    while being just as immutable."""

    rel: str  # path relative to the context ('' when outside it)
    path: str  # path relative to the repository top level
    mode: int  # new mode; 0 when deleted
    sha: str  # new blob id; all zeros when deleted
    status: str  # A, M, D, T (type change)

    @property
    def deleted(self) -> bool:
        return self.mode == 0


class Commit(NamedTuple):
    """One mined commit. A named tuple, as `Change`: mining makes one per commit (46,177
    for rails' mainline) and a tuple is built about twice as fast as a frozen dataclass."""

    sha: str
    time: int  # committer time, unix seconds
    parents: tuple[str, ...]
    # only those under the context or on the extra paths: a tuple, or from the history
    # cache an equal sequence decoded when first read (history/store.py StoredChanges)
    changes: Sequence[Change]


@dataclass(frozen=True, slots=True)
class History:
    toplevel: Path
    prefix: str  # the context's path inside the repository ('' or 'dir/')
    commits: tuple[Commit, ...]  # oldest first
    base_tree: dict[str, TreeEntry]  # repository path -> entry, at commits[0]
    shallow: bool
    notices: tuple[str, ...] = ()

    @property
    def span_seconds(self) -> int:
        if len(self.commits) < 2:
            return 0
        return self.commits[-1].time - self.commits[0].time
