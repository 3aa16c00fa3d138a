"""A cache of replays on disk, so that a run after new commits replays only those.

One file per replay under `$XDG_CACHE_HOME/layerlens/replay/` (beside the mined history, in
the same size cap), named by a fingerprint of everything the replay's answers depend on: the
compiled build plan (each operation's definition, line, the context paths it reads and its
links to other stages: that is the Dockerfile text, build args, target and platform as they
reach the build), the ignore rules, the base-image refresh period, the repository and the
context's place in it. The file holds the replay of the window from its first commit to the
newest one it reached (`last`), and the context's tree at `last` (path, mode, blob name).

A later run resumes from it only when its window starts at the same commit and holds `last`
at the same distance from it: commits are content-addressed and the window follows first
parents, so the commits in between are the same ones. It rebuilds the digests from the saved
tree, takes the cache keys of `last`'s build, and replays only the newer commits; every
figure is then the one a cold run gives. Anything else (another start, a rewritten history,
a file failing its checksum, schema or fingerprint) is replayed afresh. A replay whose
newest build failed is not saved (its cache holds an older build, which the file does not
keep). Writes are atomic; `--no-cache` bypasses the store; deleting the directory clears it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from itertools import chain
from operator import itemgetter
from pathlib import Path

import msgspec

from layerlens.cache.ops import BuildPlan, Op, Reader
from layerlens.cache.replay import GIT_MARKER, CommitReplay, ReplayResult, StageMiss, Version
from layerlens.history.model import Change, History
from layerlens.sealed import load_sealed, save_sealed

SCHEMA = 2


class Checkpoint(msgspec.Struct, array_like=True):
    schema: int
    fingerprint: str
    first: str  # the replay's first (cache-warming) commit
    first_failed: bool
    last: str  # the newest commit replayed
    paths: list[bytes]  # every changed path, UTF-8 with surrogateescape, referred to by index
    # per replayed commit: (sha, time, [(stage, line, instruction)] first misses, rebuilt
    # instructions, changed path indexes, error, failed instructions)
    # (decoded as tuples: a commit's misses and rebuilt instructions repeat a few patterns,
    # which `restore` builds once each, keyed by them)
    commits: list[tuple[str, int, tuple[tuple[int, int, int], ...], tuple[int, ...],
                        tuple[int, ...], str | None, tuple[int, ...]]]
    # the context at `last`: (path, git mode, blob name), UTF-8 with surrogateescape (a
    # changed file's blob is named `<commit>:<path>`)
    tree: list[tuple[bytes, int, bytes]]


def _b(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def _reader_fp(r: Reader) -> list:
    exclude = [[p.text, p.exclusion] for p in r.exclude.patterns] if r.exclude else None
    return [r.root, r.glob.pattern if r.glob is not None else None, r.depth, exclude, r.base,
            r.required]


def _op_fp(op: Op) -> list:
    return [op.instruction, op.stage, op.line, op.keyword, op.definition,
            [_reader_fp(r) for r in op.readers], list(op.stage_refs), list(op.volatile),
            op.link, op.identity, op.content_stage, op.content_upper]


def fingerprint(plan: BuildPlan, version: Version, history: History,
                base_refresh: int | None) -> str:
    """The name of the replay of `plan` with `version.matcher` over `history`'s context."""
    doc = [
        SCHEMA, os.path.realpath(history.toplevel), history.prefix, base_refresh,
        [[sp.index, sp.base_image, sp.base_stage, sp.platform, [_op_fp(op) for op in sp.ops]]
         for sp in plan.stages],
        [[p.text, p.exclusion] for p in version.matcher.patterns],
    ]
    raw = msgspec.json.encode(doc, enc_hook=lambda o: _b(str(o)).decode("utf-8", "replace"))
    return hashlib.sha256(raw).hexdigest()


class ReplayStore:
    """Replays on disk, one file per fingerprint."""

    def __init__(self, root: Path | None = None) -> None:
        from layerlens.cachedir import cache_root

        self.base = root or cache_root()
        self.root = self.base / "replay"
        self.last: str = "none"  # "resumed", "cold" or "none": what the last lookup did

    def _path(self, fp: str) -> Path:
        return self.root / f"{fp[:32]}.msgpack"

    def load(self, fp: str) -> Checkpoint | None:
        """The checkpoint named `fp`, or None when absent, torn, corrupt or not this one."""
        cp = load_sealed(self._path(fp), Checkpoint)
        if cp is None:
            return None
        if cp.schema != SCHEMA or cp.fingerprint != fp:
            return None
        return cp

    def save(self, cp: Checkpoint) -> None:
        """Write `cp` atomically, then keep the whole cache under its size cap. A cache that
        cannot be written is only a slower next run: errors are swallowed."""
        from layerlens.history.store import prune

        if not save_sealed(self._path(cp.fingerprint), cp):
            return
        prune(self.base)


def resume_point(cp: Checkpoint, history: History, start: int) -> int | None:
    """Index in `history.commits` of the checkpoint's `last` commit when the checkpoint is a
    replay of this window's first commits, else None."""
    commits = history.commits
    if start >= len(commits) or commits[start].sha != cp.first:
        return None
    last = start + len(cp.commits)
    if last >= len(commits) or commits[last].sha != cp.last:
        return None
    if cp.commits and cp.commits[-1][0] != cp.last:
        return None
    return last


def restore(cp: Checkpoint, plan: BuildPlan) -> tuple[list[CommitReplay], dict[str, tuple[int,
                                                                                          str]]]:
    """The checkpoint's replayed commits (their operations taken from `plan`, the plan the
    fingerprint names) and its tree at `last` (path -> (mode, blob name))."""
    paths = [p.decode("utf-8", "surrogateescape") for p in cp.paths]
    op_of = {op.instruction: op for sp in plan.stages for op in sp.ops}
    # rails' 46,000 commits hold four (misses, rebuilt) patterns: each is built once
    patterns: dict[tuple, tuple[tuple[StageMiss, ...], tuple[Op, ...]]] = {}
    out: list[CommitReplay] = []
    append = out.append
    for sha, time, miss, rebuilt, changed, error, failed in cp.commits:
        key = (miss, rebuilt)
        got = patterns.get(key)
        if got is None:
            got = patterns[key] = (tuple([StageMiss(*m) for m in miss]),
                                   tuple(map(op_of.__getitem__, rebuilt)))
        append(CommitReplay(sha, time, got[0], got[1], tuple(map(paths.__getitem__, changed)),
                            error, failed))
    tree = {p.decode("utf-8", "surrogateescape"): (mode, sha.decode("utf-8", "surrogateescape"))
            for p, mode, sha in cp.tree}
    return out, tree


def checkpoint(fp: str, result: ReplayResult, history: History,
               prior: Checkpoint | None = None) -> Checkpoint | None:
    """What to save of `result` (a replay over `history`), or None when it cannot resume.
    `prior` is the checkpoint `result` resumed from: its commits and tree are reused, so
    only the newer commits are encoded."""
    if not result.commits or result.first is None or result.commits[-1].failed or \
            result.commits[-1].error:
        return None
    done = len(prior.commits) if prior is not None else 0
    paths = list(prior.paths) if prior is not None else []
    index = {p.decode("utf-8", "surrogateescape"): i for i, p in enumerate(paths)} \
        if prior is not None else {}
    fresh = result.commits[done:]
    for p in dict.fromkeys(chain.from_iterable(c.changed_paths for c in fresh)):
        if p not in index:
            index[p] = len(paths)
            paths.append(_b(p))
    get = index.__getitem__
    commits = list(prior.commits) if prior is not None else []
    commits += [(c.sha, c.time, [(m.stage, m.first_line, m.first_instruction)
                                 for m in c.rebuilt],
                 [op.instruction for op in c.rebuilt_ops], list(map(get, c.changed_paths)),
                 c.error, list(c.failed)) for c in fresh]
    last = result.skipped + len(result.commits)
    if prior is not None:
        tree = {p.decode("utf-8", "surrogateescape"): (mode, sha.decode("utf-8",
                                                                         "surrogateescape"))
                for p, mode, sha in prior.tree}
        begin = result.skipped + done + 1
    else:
        prefix = history.prefix
        plen = len(prefix)
        tree = {p[plen:]: (e.mode, e.sha) for p, e in history.base_tree.items()
                if p.startswith(prefix)}
        begin = 1
    _apply_all(tree, chain.from_iterable(c.changes for c in history.commits[begin:last + 1]))
    if history.prefix == "":
        tree[GIT_MARKER] = (0o100644, history.commits[last].sha)
    return Checkpoint(SCHEMA, fp, result.first, result.first_failed, result.commits[-1].sha,
                      paths, commits, [(_b(p), mode, _b(sha)) for p, (mode, sha) in tree.items()])


def _apply_all(tree: dict[str, tuple[int, str]], changes: Iterable[Change]) -> None:
    """Apply `changes` (oldest first) to `tree`. Only each path's newest change decides its
    entry: that is found for all of them at once, in C (a dict keeps the last value given
    for a key), so the Python loop runs once per distinct path (12,000 on rails' mainline)
    instead of once per change (170,753)."""
    changes = list(changes)
    newest = dict(zip(map(_rel_of, changes), changes, strict=True))
    newest.pop("", None)  # outside the context
    for rel, ch in newest.items():
        if ch.mode:
            tree[rel] = (ch.mode, ch.sha)
        else:
            tree.pop(rel, None)


_rel_of = itemgetter(0)  # Change.rel
