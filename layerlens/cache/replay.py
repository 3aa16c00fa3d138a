"""Replay a history window through the cache model: what each commit's build rebuilt.

The cache is taken to hold the previous commit's build (what a CI runner or a registry cache
of the main branch holds). For every commit after the first, each stage's first operation
whose key is not in that cache is its first miss; it and every later operation of the stage
are rebuilt. Content identity comes from git blob ids, so the replay never reads a file.

Keys are kept incrementally: each context-reading operation carries an order-independent
digest of its inputs (XOR of per-file hashes), updated only for the paths a commit changed;
a new Dockerfile or `.dockerignore` version recomputes digests once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Literal, NamedTuple

from layerlens.cache.ops import BuildPlan, Op, Reader
from layerlens.context.patterns import Matcher
from layerlens.gcpause import paused
from layerlens.history.model import GITLINK, Change, Commit, History, TreeEntry


@dataclass(frozen=True, slots=True)
class Version:
    """The Dockerfile and ignore rules in force at a commit."""

    plan: BuildPlan | None  # None when that commit's Dockerfile does not parse
    matcher: Matcher
    error: str | None = None


@dataclass(frozen=True, slots=True)
class StageMiss:
    stage: int
    first_line: int
    first_instruction: int


class CommitReplay(NamedTuple):
    """What one commit's build rebuilt. A named tuple, as history.model.Change: the replay
    makes one per commit, and a tuple is built about three times as fast as a frozen
    dataclass (40 ms over rails' 46,177 commits)."""

    sha: str
    time: int
    rebuilt: tuple[StageMiss, ...]
    rebuilt_ops: tuple[Op, ...]  # every operation rebuilt, in build order
    changed_paths: tuple[str, ...]  # context paths this commit changed
    error: str | None = None
    # COPY/ADD instructions whose literal sources were absent at this commit: the build
    # fails there. A failed build is no build: it rebuilds nothing that counts, and the
    # cache keeps the last build that succeeded.
    failed: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ReplayResult:
    commits: tuple[CommitReplay, ...]  # commits[start+1:] of the window, each vs its parent
    first: str | None  # the replay's oldest commit: the warm cache everything starts from
    plan: BuildPlan | None  # the plan at the newest commit
    skipped: int = 0  # older commits of the mined window that were not replayed
    first_failed: bool = False  # the warm commit's own build failed (a source was absent)


def _file_hash(path: str, entry: TreeEntry) -> int:
    # Only the executable bit and the file type reach the build: git keeps no other mode.
    return hash((path, entry.mode, entry.sha))


class Matching:
    """Answers that depend only on a path and one rule, shared by every replay of one mined
    history (the current file and each of `suggest`'s candidates): whether an ignore matcher
    excludes the path, and whether a COPY/ADD source reads it. A candidate rewrite changes a
    few operations; the others keep equal sources, so their answers are reused."""

    __slots__ = ("_excluded", "_reads", "windows")

    def __init__(self) -> None:
        self._excluded: dict[Matcher, dict[str, bool]] = {}  # by identity (one per text)
        self._reads: dict[Reader, dict[str, bool]] = {}  # by value (equal sources share)
        # (history id, start, matcher) -> (history, its tracks.Window): the window as one
        # ignore matcher sees it, shared by every replay of a fixed Dockerfile over it; with
        # matcher None, the tracks.Walk every such window is filtered from
        self.windows: dict[tuple[int, int, Matcher | None], tuple[History, object]] = {}

    def excluded_by(self, matcher: Matcher) -> dict[str, bool]:
        """Path -> excluded memo for `matcher`."""
        got = self._excluded.get(matcher)
        if got is None:
            got = self._excluded[matcher] = {}
        return got

    def seed(self, matcher: Matcher, included: Iterable[str],
             excluded: Iterable[str] = ()) -> None:
        """Record answers `matcher` already gave: the context scan (or a narrowed context)
        tested every file of today's tree, and the replay meets most of them again."""
        memo = self.excluded_by(matcher)
        memo.update(dict.fromkeys(included, False))
        memo.update(dict.fromkeys(excluded, True))

    def read_by(self, reader: Reader) -> dict[str, bool]:
        """Path -> `reader.reads(path)` memo for `reader`."""
        try:
            got = self._reads.get(reader)
        except TypeError:  # an unhashable part: no sharing, still correct
            return {}
        if got is None:
            got = self._reads[reader] = {}
        return got


# What one context path matters to: the operations that read it (instruction numbers), and
# the required literal sources it makes present ((instruction, source index)).
_PathInfo = tuple[tuple[int, ...], tuple[tuple[int, int], ...]]


class _Digests:
    """Per operation: an order-independent digest of its context inputs (XOR of per-file
    hashes), and for each literal source the number of files present under it.

    `state` maps each context path to its file hash (`_file_hash`)."""

    __slots__ = ("_excluded", "_info", "_reads", "matcher", "present", "readers", "xor")

    def __init__(self, version: Version, state: dict[str, int],
                 shared: Matching | None = None) -> None:
        self.readers: list[Op] = ([op for sp in version.plan.stages for op in sp.ops
                                   if op.reads_context] if version.plan is not None else [])
        shared = shared if shared is not None else Matching()
        self._excluded = shared.excluded_by(version.matcher)
        # per reading operation: (instruction, [(source index, required, reader, its memo,
        # what must exist for it (Reader.presence), that one's memo)])
        self._reads = [(op.instruction, [(k, r.required, r, shared.read_by(r),
                                          r.presence, shared.read_by(r.presence))
                                         for k, r in enumerate(op.readers)])
                       for op in self.readers]
        self.xor: dict[int, int] = {op.instruction: 0 for op in self.readers}
        self.present: dict[tuple[int, int], int] = {
            (op.instruction, k): 0 for op in self.readers
            for k, r in enumerate(op.readers) if r.required}
        self.matcher = version.matcher
        # path -> False when the ignore file keeps it from the builder, else (the operations
        # that read it, the required sources it makes present). Paths recur across commits,
        # so each is matched against the ignore rules and the sources once.
        self._info: dict[str, Literal[False] | _PathInfo] = {}
        xor, present = self.xor, self.present
        for path, h in state.items():
            info = self._info.get(path)
            if info is None:
                info = self._match(path)
            if info is False:
                continue
            for ins in info[0]:
                xor[ins] ^= h
            for key in info[1]:
                present[key] += 1

    def _match(self, path: str) -> Literal[False] | _PathInfo:
        excluded = self._excluded.get(path)
        if excluded is None:
            excluded = self._excluded[path] = bool(self.matcher) and \
                self.matcher.excludes(path)
        if excluded:
            got: Literal[False] | _PathInfo = False
        else:
            readers: list[int] = []
            required: list[tuple[int, int]] = []
            for ins, sources in self._reads:
                reads = False
                for k, req, reader, memo, pres, pmemo in sources:
                    hit = memo.get(path)
                    if hit is None:
                        hit = memo[path] = reader.reads(path)
                    if hit:
                        reads = True
                    if req:
                        if pres is not reader:  # a wildcard: its directory must exist
                            hit = pmemo.get(path)
                            if hit is None:
                                hit = pmemo[path] = pres.reads(path)
                        if hit:
                            required.append((ins, k))
                if reads:
                    readers.append(ins)
            got = (tuple(readers), tuple(required))
        self._info[path] = got
        return got

    def excluded(self, path: str) -> bool:
        """Whether the ignore file keeps `path` from the builder (memoised: one matcher
        serves the whole replay, and paths recur across commits)."""
        info = self._info.get(path)
        if info is None:
            info = self._match(path)
        return info is False

    def advance(self, state: dict[str, int], changes: tuple[Change, ...]) -> list[str]:
        """Apply one commit's `changes` to `state` and to the digests; return the context
        paths it changed that reach the builder, in order.

        The hot loop of every replay: one pass, everything inlined."""
        changed: list[str] = []
        info_of = self._info
        xor, present = self.xor, self.present
        state_get = state.get
        for rel, _path, mode, sha, _status in changes:  # unpacked: Change's fields, in C
            if not rel:
                continue
            old = state_get(rel)
            if mode:
                new = state[rel] = hash((rel, mode, sha))
            else:
                new = None
                if old is not None:
                    del state[rel]
            info = info_of.get(rel)
            if info is None:
                info = self._match(rel)
            if info is False:
                continue
            changed.append(rel)
            readers, required = info
            if readers:
                delta = (0 if old is None else old) ^ (0 if new is None else new)
                for ins in readers:
                    xor[ins] ^= delta
            if required:
                count = (new is not None) - (old is not None)
                if count:
                    for key in required:
                        present[key] += count
        return changed

    def touch(self, state: dict[str, int], rel: str, new: int, changed: list[str]) -> None:
        """Apply one more change of the commit `advance` applied: `rel` now has the file
        hash `new`. For the `.git` pseudo-file, which every commit changes: applying it here
        spares `advance` a copy of every commit's changes with it appended."""
        old = state.get(rel)
        state[rel] = new
        info = self._info.get(rel)
        if info is None:
            info = self._match(rel)
        if info is False:
            return
        changed.append(rel)
        delta = (0 if old is None else old) ^ new
        for ins in info[0]:
            self.xor[ins] ^= delta
        if old is None:
            for key in info[1]:
                self.present[key] += 1

    def failing(self) -> set[int]:
        """The operations with a literal source that matches no file."""
        if 0 not in self.present.values():
            return set()
        return {ins for (ins, _k), n in self.present.items() if n == 0}


def replay(
    history: History,
    version_at: Callable[[Commit, dict[str, str | None]], Version],
    *,
    watched: tuple[str, ...] = (),
    base_refresh: int | None = None,
    start: int = 0,
    shared: Matching | None = None,
) -> ReplayResult:
    """Replay the window from `history.commits[start]` on.

    `version_at(commit, blobs)` gives the Dockerfile/ignore version, where `blobs` maps each
    watched repository path to its blob id at that commit; a constant function replays one
    fixed Dockerfile (the current file) over every commit. Commits before `start` only
    advance the tree. A version whose Dockerfile does not parse (or is absent) rebuilds
    nothing and carries its error; it never stops the replay. `shared` holds path-matching
    answers reused across replays of the same history.
    """
    with paused():
        return _replay(history, version_at, watched, base_refresh, start, shared)


def resume(history: History, version: Version, *, base_refresh: int | None, start: int,
           prior: list[CommitReplay], tree: dict[str, tuple[int, str]], last: int,
           first_failed: bool, shared: Matching | None = None) -> ReplayResult:
    """The replay of the fixed `version` from `history.commits[start]`, resumed after
    `history.commits[last]`: `prior` is what a replay gave for commits start+1..last (the
    build at `last` succeeded) and `tree` the context there (path -> (mode, blob name), the
    `.git` marker included). Equal to `replay` of the whole window: the digests are rebuilt
    from the tree, and the cache holds the keys of `last`'s build."""
    with paused():
        state = {rel: hash((rel, mode, sha)) for rel, (mode, sha) in tree.items()}
        digests = _Digests(version, state, shared)
        assert version.plan is not None
        chain = _Chain(version.plan, base_refresh)
        prev_keys = chain.keys(digests.xor, history.commits[last])[0]
        results = list(prior)
        _loop(history, last + 1, lambda _c, _b: version, version, digests, chain, state, {},
              prev_keys, base_refresh, results)
        return ReplayResult(tuple(results), history.commits[start].sha, version.plan, start,
                            first_failed)


def _replay(history: History, version_at: Callable[[Commit, dict[str, str | None]], Version],
            watched: tuple[str, ...], base_refresh: int | None, start: int,
            shared: Matching | None) -> ReplayResult:
    prefix = history.prefix
    plen = len(prefix)
    state: dict[str, int] = {}  # context path -> file hash
    blobs: dict[str, str | None] = {p: None for p in watched}
    for path, entry in history.base_tree.items():
        if path in blobs:
            blobs[path] = entry.sha
        if path.startswith(prefix):
            rel = path[plen:]
            state[rel] = _file_hash(rel, entry)
    start = max(0, min(start, len(history.commits) - 1))
    if not history.commits:
        return ReplayResult((), None, None)
    for commit in history.commits[1:start + 1]:
        for ch in commit.changes:
            if ch.path in blobs:
                blobs[ch.path] = None if ch.deleted else ch.sha
            if ch.rel:
                _apply(state, ch.rel, ch)
    # With the context at the repository root, the builder is also sent .git, whose content
    # (HEAD, index, refs) differs at every commit. One pseudo-file stands for it.
    git_dir = prefix == ""
    first = history.commits[start]
    if git_dir:
        state[GIT_MARKER] = hash((GIT_MARKER, 0o100644, first.sha))
    version = version_at(first, blobs)
    digests = _Digests(version, state, shared)
    prev_keys: set[int] = set()
    first_failed = False
    chain = _Chain(version.plan, base_refresh) if version.plan is not None else None
    if chain is not None:
        first_failed = bool(digests.failing())
        if not first_failed:  # else nothing was built, so nothing is cached
            prev_keys = chain.keys(digests.xor, first)[0]
    results: list[CommitReplay] = []
    version = _loop(history, start + 1, version_at, version, digests, chain, state, blobs,
                    prev_keys, base_refresh, results)
    return ReplayResult(tuple(results), first.sha, version.plan, start, first_failed)


def _loop(history: History, begin: int,
          version_at: Callable[[Commit, dict[str, str | None]], Version], version: Version,
          digests: _Digests, chain: _Chain | None, state: dict[str, int],
          blobs: dict[str, str | None], prev_keys: set[int], base_refresh: int | None,
          results: list[CommitReplay]) -> Version:
    """Replay `history.commits[begin:]` onto `results`; returns the version in force last."""
    git_dir = history.prefix == ""
    watched = bool(blobs)
    # rebuilt shape (ids of the rebuilt operations) -> (misses, rebuilt)
    shapes: dict[tuple[int, ...], tuple[tuple[StageMiss, ...], tuple[Op, ...]]] = {}
    for commit in history.commits[begin:]:
        changes = commit.changes
        version_changed = False
        # the Dockerfile and ignore files are in few commits: ask in C (Change.path is
        # field 1) before walking the changes in Python
        if watched and not blobs.keys().isdisjoint(map(itemgetter(1), changes)):
            for ch in changes:
                if ch.path in blobs:
                    blobs[ch.path] = None if ch.deleted else ch.sha
                    version_changed = True
        new_version = version_at(commit, blobs) if version_changed else version
        if new_version is not version:
            version = new_version
            chain = _Chain(version.plan, base_refresh) if version.plan is not None else None
            changed = []
            for ch in changes:
                if ch.rel:
                    _apply(state, ch.rel, ch)
                    changed.append(ch.rel)
            if git_dir:
                state[GIT_MARKER] = hash((GIT_MARKER, 0o100644, commit.sha))
                changed.append(GIT_MARKER)
            digests = _Digests(version, state)
            if version.matcher:
                # Only what reaches the builder counts as churn.
                changed = [p for p in changed if not digests.excluded(p)]
        else:
            changed = digests.advance(state, changes)
            if git_dir:
                digests.touch(state, GIT_MARKER, hash((GIT_MARKER, 0o100644, commit.sha)),
                              changed)
        if chain is None or version.plan is None:
            results.append(CommitReplay(commit.sha, commit.time, (), (), tuple(changed),
                                        version.error))
            prev_keys = set()
            continue
        failed = digests.failing()
        if failed:
            results.append(CommitReplay(commit.sha, commit.time, (), (), tuple(changed), None,
                                        tuple(sorted(failed))))
            continue  # the cache still holds the last build that succeeded
        keys, by_op = chain.keys(digests.xor, commit)
        firsts: list[tuple[int, Op]] = []
        rebuilt: list[Op] = []
        for sp in version.plan.stages:
            hit_all = True
            for op in sp.ops:
                if (hit_all or op.link) and by_op[op.instruction] in prev_keys:
                    continue  # a --link copy is reused whatever changed before it
                if hit_all:
                    firsts.append((sp.index, op))
                    hit_all = False
                rebuilt.append(op)
        # Builds repeat a few shapes (a whole stage, its last COPY, ...): each shape's
        # tuples are made once and shared, which also lets pricing (costs.py) know a shape
        # by identity. The ids name live operations: the memo holds them.
        shape = tuple(map(id, rebuilt))
        got = shapes.get(shape)
        if got is None:
            got = shapes[shape] = (
                tuple([StageMiss(index, op.line, op.instruction) for index, op in firsts]),
                tuple(rebuilt))
        results.append(CommitReplay(commit.sha, commit.time, got[0], got[1], tuple(changed)))
        prev_keys = keys
    return version


GIT_MARKER = ".git/HEAD"


def _apply(state: dict[str, int], rel: str, ch: Change) -> None:
    if ch.deleted:
        state.pop(rel, None)
    else:
        state[rel] = hash((rel, ch.mode, ch.sha))  # _file_hash(rel, TreeEntry(mode, sha))


class _Chain:
    """A build plan compiled for computing every operation's cache key commit after commit:
    what does not change between commits (definitions, the base image's key without a
    refresh epoch) is looked up once."""

    __slots__ = ("base_refresh", "stages")

    def __init__(self, plan: BuildPlan, base_refresh: int | None) -> None:
        self.base_refresh = base_refresh
        self.stages = []
        for sp in plan.stages:
            refresh = bool(base_refresh and sp.base_stage is None and sp.base_image
                           and "@" not in sp.base_image and sp.base_image != "scratch")
            fixed = None if sp.base_stage is not None or refresh else \
                hash(("image", sp.base_image, sp.platform, None))
            ops = tuple((op.instruction, op.definition, op.reads_context, op.stage_refs,
                         op.content_stage if base_refresh else None, bool(op.volatile),
                         op.link,
                         not (op.stage_refs or op.volatile or op.link or
                              (op.content_stage is not None and base_refresh)))
                        for op in sp.ops)
            self.stages.append((sp.index, sp.base_stage, sp.base_image, sp.platform, refresh,
                                fixed, ops))

    def keys(self, xor: dict[int, int], commit: Commit) -> tuple[set[int], dict[int, int]]:
        """Every operation's cache key at `commit`: (all keys, key by instruction). `xor`
        holds each context-reading operation's digest of its inputs."""
        keys: set[int] = set()
        final: dict[int, int] = {}
        by_op: dict[int, int] = {}
        epochs: dict[int, int | None] = {}
        xor_get = xor.get
        for index, base_stage, base_image, platform, refresh, fixed, ops in self.stages:
            if base_stage is not None:
                key = final.get(base_stage, hash(("stage?", base_stage)))
            else:
                epoch = commit.time // self.base_refresh if refresh else None
                key = fixed if fixed is not None else \
                    hash(("image", base_image, platform, epoch))
                epochs[index] = epoch
            for ins, definition, reads_context, refs, content_stage, volatile, link, simple \
                    in ops:
                if simple:
                    key = hash((key, definition, xor_get(ins, 0))) if reads_context else \
                        hash((key, definition))
                    keys.add(key)
                    by_op[ins] = key
                    continue
                parts = [definition]
                if reads_context:
                    parts.append(xor_get(ins, 0))
                for ref in refs:
                    parts.append(final.get(ref, hash(("stage?", ref))))
                if content_stage is not None:
                    parts.append(epochs.get(content_stage))  # the source stage's base moved
                if volatile:
                    parts.append(commit.sha)
                if link:
                    # keyed on its own inputs; the layers after it still chain on the merge
                    own = hash(("link", *parts))
                    keys.add(own)
                    by_op[ins] = own
                    key = hash((key, own))
                    continue
                key = hash((key, *parts))
                keys.add(key)
                by_op[ins] = key
            final[index] = key
        return keys, by_op


def submodule_note(history: History) -> str | None:
    subs = [p for p, e in history.base_tree.items() if e.mode == GITLINK]
    if not subs:
        return None
    return (f"{len(subs)} submodule{'s' if len(subs) != 1 else ''} in the context: a change "
            "of the recorded submodule "
            "commit counts as a change of the files below it")
