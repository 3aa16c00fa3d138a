"""A cache of mined history on disk, so that a run after new commits mines only those.

Per repository and window options, one file under `$XDG_CACHE_HOME/layerlens/history/`
(default `~/.cache/layerlens/history/`) holds what a whole-repository `git log` pass
produced: the commits (id, time, parents, changed paths with their status) and the tree of
the window's oldest commit. Content identity needs nothing more: a change's blob is named
`<commit>:<path>`.

A later run reuses the file when its head is the cached head, or when the cached head is on
the first-parent chain of the new head (then only `cached..HEAD` is mined and the window
slides). Anything else (a rewritten history, a force-push, a shallow clone, a `--since`
window, a file that fails its checksum or its schema) is mined afresh: the figures are
always those of a cold run. Writes are atomic (temporary file and rename), so concurrent
runs never leave a torn file; the directory is capped at `MAX_BYTES`, oldest first.
`--no-cache` bypasses it; deleting the directory clears it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import replace
from itertools import chain
from operator import itemgetter
from pathlib import Path

import msgspec

from layerlens.cachedir import cache_root
from layerlens.history.model import Change, Commit, History, TreeEntry
from layerlens.sealed import load_sealed, save_sealed

SCHEMA = 2
MAX_BYTES = 512 << 20


class _Doc(msgspec.Struct, array_like=True):
    schema: int
    toplevel: str
    options: str
    head: str
    paths: list[bytes]  # every changed path once, UTF-8 with surrogateescape
    # (sha, committer time, parents, indexes of its changed paths, their statuses: "MAD..")
    commits: list[tuple[str, int, list[str], list[int], str]]
    base_commit: str
    base_tree: list[tuple[bytes, int, str]]  # (path, git mode, blob id)


def _b(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")


def _s(path: bytes) -> str:
    return path.decode("utf-8", "surrogateescape")


def _to_doc(h: History, head: str, options: str) -> _Doc:
    # paths recur across commits: each is encoded once and referred to by index, which
    # keeps both directions (and the file) small; map() and join() do the per-change work
    # over all commits at once, and each commit takes its slice
    flat = list(chain.from_iterable(c.changes for c in h.commits))
    index = {p: i for i, p in enumerate(dict.fromkeys(map(_path_of, flat)))}
    idx = list(map(index.__getitem__, map(_path_of, flat)))
    statuses = "".join(map(_status_of, flat))
    commits = []
    pos = 0
    for c in h.commits:
        end = pos + len(c.changes)
        commits.append((c.sha, c.time, list(c.parents), idx[pos:end], statuses[pos:end]))
        pos = end
    base = [(_b(p), e.mode, e.sha) for p, e in h.base_tree.items()]
    return _Doc(SCHEMA, str(h.toplevel), options, head, [_b(p) for p in index], commits,
                h.commits[0].sha if h.commits else "", base)


def _appended(doc: _Doc, commits: tuple[Commit, ...], head: str) -> _Doc:
    """`doc` with `commits` (the next ones on its first-parent chain) appended and `head` as
    its head: only the new commits are encoded."""
    paths = list(doc.paths)
    index = {p: i for i, p in enumerate(paths)}
    for p in dict.fromkeys(_b(ch.path) for c in commits for ch in c.changes):
        if p not in index:
            index[p] = len(paths)
            paths.append(p)
    more = [(c.sha, c.time, list(c.parents), [index[_b(ch.path)] for ch in c.changes],
             "".join(map(_status_of, c.changes))) for c in commits]
    return _Doc(doc.schema, doc.toplevel, doc.options, head, paths, doc.commits + more,
                doc.base_commit, doc.base_tree)


_path_of = itemgetter(1)  # Change.path
_status_of = itemgetter(4)  # Change.status


def _history(doc: _Doc, shallow: bool) -> History | None:
    """The history `doc` holds, or None when its indexes do not fit (a crafted file)."""
    try:
        return _from_doc(doc, shallow)
    except (IndexError, ValueError):
        return None


class StoredChanges:
    """One cached commit's changes, decoded when first read: an immutable sequence of
    `Change` equal (and hashing equal) to the tuple a cold run's commit holds.

    A warm `analyze` reads the changes of the new commits only (the replay resumes after
    the cached ones, and the replay cache holds what the older ones changed); building all
    170,753 of rails' `Change` records up front was a third of its time. A replay from the
    start (`suggest`'s candidates, the as-built replay) decodes each commit once."""

    __slots__ = ("_decoded", "_idx", "_paths", "_sha", "_statuses")

    def __init__(self, paths: list[str], sha: str, idx: list[int], statuses: str) -> None:
        self._paths = paths  # shared by every commit of the file
        self._sha = sha
        self._idx = idx
        self._statuses = statuses
        self._decoded: tuple[Change, ...] | None = None

    def _tuple(self) -> tuple[Change, ...]:
        got = self._decoded
        if got is None:
            pre = self._sha + ":"
            new = tuple.__new__
            got = self._decoded = tuple([
                new(Change, (p, p, 0, "", "D")) if st == "D" else
                new(Change, (p, p, 0o100644, pre + p, st))
                for p, st in zip(map(self._paths.__getitem__, self._idx), self._statuses,
                                 strict=True)])
            self._idx = ()  # the indexes are not needed again
        return got

    def __len__(self) -> int:
        return len(self._statuses)  # one status per change (checked by `_from_doc`)

    def __iter__(self) -> Iterator[Change]:
        return iter(self._tuple())

    def __getitem__(self, i: int | slice) -> Change | tuple[Change, ...]:
        return self._tuple()[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StoredChanges):
            return self._tuple() == other._tuple()
        if isinstance(other, tuple):
            return self._tuple() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._tuple())

    def __repr__(self) -> str:
        return repr(self._tuple())


def _from_doc(doc: _Doc, shallow: bool) -> History:
    paths = [_s(p) for p in doc.paths]
    # checked here, in C, so that a crafted file fails now and not at a later first read
    idxs = [c[3] for c in doc.commits]
    flat = list(chain.from_iterable(idxs))
    if flat and (min(flat) < 0 or max(flat) >= len(paths)):
        raise IndexError("path index out of range")
    if list(map(len, idxs)) != [len(c[4]) for c in doc.commits]:
        raise ValueError("one status per changed path")
    commits = [Commit(sha, time, tuple(parents), StoredChanges(paths, sha, idx, statuses))
               for sha, time, parents, idx, statuses in doc.commits]
    base = {_s(p): TreeEntry(mode, sha) for p, mode, sha in doc.base_tree}
    return History(Path(doc.toplevel), "", tuple(commits), base, shallow, ())


class HistoryStore:
    """Whole-repository histories on disk, keyed by repository and window options."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or cache_root()) / "history"
        self.last: str = "none"  # "hit", "extended", "cold" or "none": what the last run did

    def _path(self, toplevel: Path, options: str) -> Path:
        key = hashlib.sha256(f"{os.path.realpath(toplevel)}\0{options}".encode(
            "utf-8", "surrogateescape")).hexdigest()[:32]
        return self.root / f"{key}.msgpack"

    def _load(self, path: Path, toplevel: Path, options: str) -> _Doc | None:
        doc = load_sealed(path, _Doc)
        if doc is None:
            return None
        if doc.schema != SCHEMA or doc.options != options or \
                os.path.realpath(doc.toplevel) != os.path.realpath(toplevel):
            return None
        if doc.commits and doc.base_commit != doc.commits[0][0]:
            return None
        return doc

    def _save(self, path: Path, doc: _Doc) -> None:
        if save_sealed(path, doc):  # one that cannot be written is only a slower next run
            self._prune()

    def _prune(self) -> None:
        prune(self.root.parent)

    def mine(self, info, options, mine_fn: Callable, list_tree_fn: Callable,
             progress: Callable[[int], None] | None = None) -> History:
        """The whole-repository history for `info` (prefix ignored) and `options`, from the
        cache where it provably equals a cold run, else mined with `mine_fn` and stored."""
        from layerlens.history.mine import RepoInfo

        full_info = RepoInfo(info.toplevel, "", info.shallow, info.head)
        if info.shallow or options.since or info.head is None or \
                options.rev != "HEAD":
            self.last = "none"
            return mine_fn(full_info, (), options, progress)
        key = repr((options.max_commits, options.first_parent, options.renames))
        path = self._path(info.toplevel, key)
        doc = self._load(path, info.toplevel, key)
        old = _history(doc, info.shallow) if doc is not None else None
        if doc is not None and old is not None and doc.head == info.head:
            self.last = "hit"
            return old
        if doc is not None and old is not None and doc.commits and \
                _is_ancestor(info.toplevel, doc.head, info.head):
            new = mine_fn(full_info, (), replace(options, rev=f"{doc.head}..{info.head}",
                                                 max_commits=None), progress, with_base=False)
            if new.commits and new.commits[0].parents[:1] == (doc.head,):
                commits = old.commits + new.commits
                if options.max_commits:
                    commits = commits[-options.max_commits:]
                base = old.base_tree if commits[0].sha == old.commits[0].sha else \
                    list_tree_fn(full_info, commits[0].sha, set())
                hist = History(info.toplevel, "", commits, base, False, ())
                self.last = "extended"
                if commits[0].sha == old.commits[0].sha:  # the window grew: append
                    self._save(path, _appended(doc, new.commits, info.head))
                else:
                    self._save(path, _to_doc(hist, info.head, key))
                return hist
        hist = mine_fn(full_info, (), options, progress)
        self.last = "cold"
        if hist.commits:
            self._save(path, _to_doc(hist, info.head, key))
        return hist


def prune(base: Path) -> None:
    """Keep the whole cache under `base` (mined histories and replays alike) within
    `MAX_BYTES`, deleting the least recently written files first."""
    files = []
    for p in base.glob("*/*.msgpack"):
        try:
            st = p.stat()
        except OSError:
            continue  # removed by a concurrent run
        files.append((st.st_mtime, st.st_size, p))
    files.sort()
    total = sum(size for _, size, _ in files)
    for _, size, p in files:
        if total <= MAX_BYTES:
            break
        try:
            p.unlink()
            total -= size
        except OSError:
            pass


def _is_ancestor(toplevel: Path, old: str, new: str) -> bool:
    from layerlens.history.mine import _env

    try:
        res = subprocess.run(["git", "-C", str(toplevel), "merge-base", "--is-ancestor", old,
                              new], capture_output=True, env=_env())
    except OSError:
        return False
    return res.returncode == 0
