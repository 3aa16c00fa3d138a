"""Replay one fixed Dockerfile over a mined window from per-commit input tracks shared by
every replay of that window (`suggest`'s candidates, the TUI's counterfactuals).

A replay (layerlens/cache/replay.py) walks every commit's changes, keeps the context tree
and each reading operation's XOR digest, then chains the cache keys. A candidate rewrite
changes a few operations; the tree walk, the ignore matching, the per-commit change sets and
the digests of every operation whose sources are unchanged are the same. So the window's
tree is walked once (`Walk`), and per ignore matcher filtered once into a `Window`: each
included path's value at the warm commit and its events (commit index, XOR delta, +1/-1
presence). Per operation's sources, the digest and the presence counts are then *tracks*,
one value per commit, computed once (`itertools.accumulate` over the events of only the
paths they read) and reused by every candidate with equal sources. A candidate replay is
left with its cache keys, a column at a time (one `map(hash, zip(...))` per operation), and
its misses, also a column at a time (comparisons and set operations in C).

Exactly equal to `replay.replay` with a constant version (tests/integration/test_tracks.py
checks that over real-shaped git histories for reorder, insert, merge, delete and failing
rewrites): the keys are the same hashes of the same tuples, and an operation's key is tested
against the whole set of the previous build's keys whenever it differs from its own previous
key and some other operation ever has it.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import accumulate, chain, compress, islice, repeat
from operator import add, attrgetter, itemgetter, ne, xor

from layerlens.cache.costs import commit_rows, top_files
from layerlens.cache.ops import BuildPlan, Op, Reader
from layerlens.cache.replay import (
    GIT_MARKER,
    CommitReplay,
    Matching,
    ReplayResult,
    StageMiss,
    Version,
    _Chain,
    replay,
)
from layerlens.context.patterns import Matcher
from layerlens.gcpause import paused
from layerlens.history.model import History

_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


class Walk:
    """The window's context tree walked once, whatever the ignore rules: `initial`, every
    context path's file hash at index 0 (the `.git` marker included when the context is
    the repository root); `events`, path -> [(index, XOR of old and new hash, presence
    change)] in commit order, paths in the order they first changed; `changed[i - 1]`, the
    paths commit i changed, in order; `total[i]`, the XOR of every change at i. A `Window`
    is this, less what its ignore matcher excludes."""

    __slots__ = ("changed", "events", "initial", "n", "total")

    def __init__(self, history: History, start: int) -> None:
        prefix = history.prefix
        plen = len(prefix)
        state: dict[str, int] = {}  # every context path -> file hash (as replay._replay)
        for path, entry in history.base_tree.items():
            if path.startswith(prefix):
                rel = path[plen:]
                state[rel] = hash((rel, entry.mode, entry.sha))
        commits = history.commits
        for commit in commits[1:start + 1]:
            for ch in commit.changes:
                rel = ch.rel
                if rel:
                    if ch.deleted:
                        state.pop(rel, None)
                    else:
                        state[rel] = hash((rel, ch.mode, ch.sha))
        git_dir = prefix == ""
        if git_dir:
            state[GIT_MARKER] = hash((GIT_MARKER, 0o100644, commits[start].sha))
        self.initial = dict(state)
        self.n = n = len(commits) - start
        events: dict[str, list[tuple[int, int, int]]] = {}
        changed: list[tuple[str, ...]] = []
        total = [0] * n
        get = state.get
        for i, commit in enumerate(commits[start + 1:], 1):
            paths: list[str] = []
            t = 0
            for rel, _path, mode, sha, _status in (
                    (*commit.changes, (GIT_MARKER, "", 0o100644, commit.sha, "M"))
                    if git_dir else commit.changes):
                if not rel:
                    continue
                old = get(rel)
                if mode:
                    new = state[rel] = hash((rel, mode, sha))
                    ev = (i, new, 1) if old is None else (i, old ^ new, 0)
                elif old is not None:
                    del state[rel]
                    ev = (i, old, -1)
                else:
                    ev = (i, 0, 0)  # deleted, and absent already
                t ^= ev[1]
                paths.append(rel)
                got = events.get(rel)
                if got is None:
                    events[rel] = [ev]
                else:
                    got.append(ev)
            total[i] = t
            changed.append(tuple(paths))
        self.events = events
        self.changed = changed
        self.total = total


class Window:
    """One mined window seen through one ignore matcher: what reaches the builder.

    Index 0 is the warm commit `history.commits[start]`, index i is `commits[start + i]`.
    `initial`: included context path -> file hash at index 0; `events`: included path ->
    [(index, XOR of old and new hash, presence change)], in commit order; `changed[i - 1]`:
    the included context paths commit i changed, in order (`CommitReplay.changed_paths`);
    `total[i]`: the XOR of every included path's change at i (the digest of a source that
    reads the whole context moves by it). All shared with the `Walk` (read only here)
    where the matcher excludes nothing that changed."""

    __slots__ = ("_changed_counts", "_churn", "_counts", "_paths", "_reads", "_tops", "_xors",
                 "changed", "columns", "events", "initial", "n", "total")

    def __init__(self, walk: Walk, matcher: Matcher, shared: Matching) -> None:
        excluded = shared.excluded_by(matcher)
        test = bool(matcher)

        def included(rel: str) -> bool:
            got = excluded.get(rel)
            if got is None:
                got = excluded[rel] = test and matcher.excludes(rel)
            return not got

        self.initial = {rel: h for rel, h in walk.initial.items() if included(rel)}
        # Path by path, not change by change: the excluded paths that changed are few
        out = [p for p in walk.events if not included(p)]
        if out:
            gone = set(out)
            self.events = {p: ev for p, ev in walk.events.items() if p not in gone}
            total = list(walk.total)
            for p in out:
                for i, delta, _count in walk.events[p]:
                    total[i] ^= delta  # XOR undoes it: what is left is the included paths'
            self.total = total
            keeps = gone.isdisjoint
            self.changed = [t if keeps(t) else tuple([p for p in t if p not in gone])
                            for t in walk.changed]
        else:
            self.events, self.total, self.changed = walk.events, walk.total, walk.changed
        self.n = walk.n
        self._paths = list(dict.fromkeys([*self.initial, *self.events]))
        self._reads: dict[Reader, list[str]] = {}  # reader -> included paths it reads
        self._xors: dict[tuple[Reader, ...], list[int]] = {}
        self._counts: dict[Reader, set[int] | None] = {}
        self._churn: dict[tuple[Reader, ...], list[tuple[str, int]]] = {}
        self._tops: dict[tuple[Reader, ...], tuple[tuple[str, int], ...]] = {}
        self._changed_counts: Counter[str] | None = None
        self.columns = _Columns()  # key columns the candidates replayed here made

    def _read(self, reader: Reader, shared: Matching) -> list[str]:
        try:
            got = self._reads.get(reader)
        except TypeError:  # an unhashable part: no sharing, still correct
            got = None
        if got is None:
            memo = shared.read_by(reader)
            got = []
            for p in self._paths:
                hit = memo.get(p)
                if hit is None:
                    hit = memo[p] = reader.reads(p)
                if hit:
                    got.append(p)
            with contextlib.suppress(TypeError):  # unhashable: not kept
                self._reads[reader] = got
        return got

    def digest(self, readers: tuple[Reader, ...], shared: Matching) -> list[int]:
        """Per index: the XOR of the file hashes of the included paths any of `readers`
        reads (replay._Digests.xor of an operation with these sources)."""
        try:
            got = self._xors.get(readers)
        except TypeError:
            got = None
        if got is not None:
            return got
        if len(readers) == 1:
            paths = self._read(readers[0], shared)
        else:
            paths = list(dict.fromkeys(p for r in readers for p in self._read(r, shared)))
        initial, events = self.initial, self.events
        if len(paths) == len(self._paths):  # the whole context (`COPY . .`)
            col = list(self.total)
            x0 = 0
            for h in initial.values():
                x0 ^= h
        else:
            col = [0] * self.n
            x0 = 0
            for p in paths:
                h = initial.get(p)
                if h is not None:
                    x0 ^= h
                for i, delta, _count in events.get(p, ()):
                    col[i] ^= delta
        col[0] = x0
        got = list(accumulate(col, xor))
        with contextlib.suppress(TypeError):
            self._xors[readers] = got
        return got

    def churn(self, readers: tuple[Reader, ...], shared: Matching) -> list[tuple[str, int]]:
        """(path, replayed commits that changed it) for each changed path any of `readers`
        reads, in the order paths first changed (`costs.top_files` breaks ties by that
        order)."""
        if self._changed_counts is None:
            self._changed_counts = Counter(chain.from_iterable(self.changed))
        try:
            got = self._churn.get(readers)
        except TypeError:
            got = None
        if got is None:
            read = set()
            for r in readers:
                read.update(self._read(r, shared))
            got = [(p, n) for p, n in self._changed_counts.items() if p in read]
            with contextlib.suppress(TypeError):
                self._churn[readers] = got
        return got

    def top_files(self, readers: tuple[Reader, ...], shared: Matching
                  ) -> tuple[tuple[str, int], ...]:
        """`costs.top_files` of `churn(readers)`: the same for every candidate whose
        operation reads these sources, so ranked once."""
        try:
            got = self._tops.get(readers)
        except TypeError:
            got = None
        if got is None:
            got = top_files(self.churn(readers, shared))
            with contextlib.suppress(TypeError):
                self._tops[readers] = got
        return got

    def mask(self, readers: tuple[Reader, ...], shared: Matching) -> int:
        """Bit i - 1 set for each replayed commit i that changed a path `readers` read."""
        events = self.events
        hit = bytearray(self.n)  # then one int from the digits: no big-int OR per event
        if any(len(self._read(r, shared)) == len(self._paths) for r in readers):
            for i, changed in enumerate(self.changed, 1):  # the whole context
                if changed:
                    hit[i] = 1
        else:
            for r in readers:
                for p in self._read(r, shared):
                    for i, _delta, _count in events.get(p, ()):
                        hit[i] = 1
        if not any(hit):
            return 0
        return int(bytes(hit[:0:-1]).translate(_DIGITS), 2)  # index i -> bit i - 1

    def absent(self, reader: Reader, shared: Matching) -> set[int] | None:
        """The indexes at which `reader` (a literal source) matches no included file, or
        None when there are none."""
        try:
            if reader in self._counts:
                return self._counts[reader]
        except TypeError:
            pass
        paths = self._read(reader, shared)
        col = [0] * self.n
        initial, events = self.initial, self.events
        c0 = 0
        for p in paths:
            if p in initial:
                c0 += 1
            for i, _delta, count in events.get(p, ()):
                col[i] += count
        col[0] = c0
        counts = list(accumulate(col, add))
        got = {i for i, c in enumerate(counts) if c == 0} if 0 in counts else None
        with contextlib.suppress(TypeError):
            self._counts[reader] = got
        return got


class _Columns:
    """Key columns made over one window, for the next candidate whose operation has the same
    whole chain: candidates share their first operations with today's file and with each
    other (juice-shop's nine: two columns in five). A column is looked up by the identity of
    the column before it (itself from here), the operation's definition and its digest
    column (the window's own, for a set of sources); equal inputs, equal keys. With each
    column, once asked: its set of keys, and its change positions in a chained replay.
    Nothing here is mutated once made."""

    __slots__ = ("cells", "known", "made")

    # keys kept, over all columns (each about 60 bytes with its share of the key set): past
    # it, all are forgotten at once (the TUI lives on; a long window's columns are long)
    LIMIT = 400_000

    def __init__(self) -> None:
        self.cells = 0
        # (parent column id, definition, digest column id) or a base's key -> the parent
        # and digest columns (kept, so that their ids stay theirs) and the column
        self.made: dict[tuple, tuple[list[int] | None, list[int] | None, list[int]]] = {}
        # id -> [column, its key set, its change positions] for each column made here
        self.known: dict[int, list] = {}

    def _known(self, col: list[int]) -> list | None:
        got = self.known.get(id(col))
        return got if got is not None and got[0] is col else None

    def base(self, key: tuple, make: Callable[[], list[int]]) -> list[int]:
        """A stage's base column, named by `key` (what it is made of), made by `make` the
        first time."""
        got = self.made.get(key)
        return got[2] if got is not None else self._add(key, None, None, make)

    def after(self, parent: list[int], definition: str, digest: list[int] | None
              ) -> list[int]:
        """The column of an operation keyed by `definition` (and `digest`, when it reads
        the context) on top of `parent`: `hash((parent, definition[, digest]))` at each
        index, as `_Chain.keys`. Made once when `parent` was made here (its identity then
        names its whole chain), else every time."""
        if digest is None:
            def make() -> list[int]:
                return list(map(hash, zip(parent, repeat(definition))))
        else:
            def make() -> list[int]:
                return list(map(hash, zip(parent, repeat(definition), digest)))
        if self._known(parent) is None:
            return make()
        key = (id(parent), definition, None if digest is None else id(digest))
        got = self.made.get(key)
        return got[2] if got is not None else self._add(key, parent, digest, make)

    def _add(self, key: tuple, parent: list[int] | None, digest: list[int] | None,
             make: Callable[[], list[int]]) -> list[int]:
        col = make()
        if self.cells + len(col) > self.LIMIT:
            self.made.clear()
            self.known.clear()
            self.cells = 0
        self.cells += len(col)
        self.made[key] = (parent, digest, col)
        self.known[id(col)] = [col, None, None]
        return col

    def keyset(self, col: list[int]) -> set[int]:
        """`set(col)`, kept for a column made here."""
        k = self._known(col)
        if k is None:
            return set(col)
        if k[1] is None:
            k[1] = set(col)
        return k[1]

    def changes(self, col: list[int], positions: range) -> list[int]:
        """The positions k at which `col[k + 1] != col[k]` (a chained replay's candidate
        misses), kept for a column made here."""
        k = self._known(col)
        if k is not None and k[2] is not None:
            return k[2]
        got = list(compress(positions, map(ne, islice(col, 1, None), col)))
        if k is not None:
            k[2] = got
        return got


def window(shared: Matching, history: History, start: int, matcher: Matcher) -> Window:
    """The `Window` of `history` from `start` through `matcher`, built once per `shared`."""
    key = (id(history), start, matcher)
    got = shared.windows.get(key)
    if got is None or got[0] is not history:
        wkey = (id(history), start, None)  # the walk: the same for every matcher
        walk = shared.windows.get(wkey)
        if walk is None or walk[0] is not history:
            walk = shared.windows[wkey] = (history, Walk(history, start))
        got = shared.windows[key] = (history, Window(walk[1], matcher, shared))
    return got[1]


def replay_fixed(history: History, version: Version, *, base_refresh: int | None,
                 start: int, shared: Matching) -> ReplayResult:
    """`replay.replay(history, lambda _c, _b: version, start=start, base_refresh=...)`,
    from the tracks `shared` keeps for this window (see the module docstring)."""
    if not history.commits or version.plan is None:
        return replay(history, lambda _c, _b: version, start=start,
                      base_refresh=base_refresh, shared=shared)
    with paused():
        return _replay_fixed(history, version, base_refresh, start, shared).result()


def fixed_rows(history: History, version: Version, *, base_refresh: int | None,
               start: int, shared: Matching) -> Iterator[tuple]:
    """`replay_fixed`'s commits as `costs.summarize_rows` reads them, one (sha, time,
    rebuilt operations, stage misses, error, failed instructions) tuple per commit, without
    a `CommitReplay` record for each: a candidate's replay is only priced."""
    if not history.commits or version.plan is None:
        return commit_rows(replay_fixed(history, version, base_refresh=base_refresh,
                                        start=start, shared=shared))
    with paused():
        return _replay_fixed(history, version, base_refresh, start, shared).rows()


class _Fixed:
    """A fixed replay's outcome before it is made records: per replayed index, the tuples
    of its build shape, or None where the build failed (`fail_at`: which sources)."""

    __slots__ = ("built", "changed", "commits", "fail_at", "first_failed", "plan", "start")

    def __init__(self, commits: list, built: list, fail_at: dict[int, set[int]],
                 changed: list[tuple[str, ...]], plan: BuildPlan, start: int,
                 first_failed: bool) -> None:
        self.commits, self.built, self.fail_at, self.changed = commits, built, fail_at, changed
        self.plan, self.start, self.first_failed = plan, start, first_failed

    def result(self) -> ReplayResult:
        fail_at = self.fail_at
        results = [
            CommitReplay(c.sha, c.time, b[0], b[1], ch) if b is not None else
            # failed: the cache still holds the last build that succeeded
            CommitReplay(c.sha, c.time, (), (), ch, None, tuple(sorted(fail_at[i])))
            for i, c, b, ch in zip(range(1, len(self.commits)), self.commits[1:],
                                   self.built[1:], self.changed, strict=True)]
        return ReplayResult(tuple(results), self.commits[0].sha, self.plan, self.start,
                            self.first_failed)

    def rows(self) -> Iterator[tuple]:
        if not self.fail_at:  # every build ran: the common case, in C
            return zip(map(attrgetter("sha"), self.commits[1:]),
                       map(attrgetter("time"), self.commits[1:]),
                       map(itemgetter(1), self.built[1:]), map(itemgetter(0), self.built[1:]),
                       repeat(None), repeat(()))
        fail_at = self.fail_at
        return ((c.sha, c.time, b[1], b[0], None, ()) if b is not None else
                (c.sha, c.time, (), (), None, tuple(sorted(fail_at[i])))
                for i, c, b in zip(range(1, len(self.commits)), self.commits[1:],
                                   self.built[1:], strict=True))


def _replay_fixed(history: History, version: Version, base_refresh: int | None, start: int,
                  shared: Matching) -> _Fixed:
    start = max(0, min(start, len(history.commits) - 1))
    plan = version.plan
    assert plan is not None
    w = window(shared, history, start, version.matcher)
    n = w.n
    commits = history.commits[start:]
    xors: dict[int, list[int]] = {}
    fail_at: dict[int, set[int]] = {}
    for sp in plan.stages:
        for op in sp.ops:
            if not op.readers:
                continue
            xors[op.instruction] = w.digest(op.readers, shared)
            for r in op.readers:
                if r.required:
                    for i in w.absent(r.presence, shared) or ():
                        fail_at.setdefault(i, set()).add(op.instruction)
    cols = w.columns
    by_op = _key_columns(_Chain(plan, base_refresh), xors, commits, n, cols)
    first_failed = 0 in fail_at
    # The builds that ran (k-th: index ok[k]) and the build before each (-1: none, the
    # cache is empty): a failed build leaves the cache as the last good one left it.
    if fail_at:
        ok = [i for i in range(1, n) if i not in fail_at]
        before: list[int] = []
        last = -1 if first_failed else 0
        for i in ok:
            before.append(last)
            last = i
    else:  # each build follows the one before: the common case, without a loop
        ok, before = list(range(1, n)), list(range(n - 1))
    chained = not fail_at
    nk = len(ok)
    positions = range(nk)
    before_at = [max(p, 0) for p in before] if not chained else before
    # Keys found in two operations' columns: only such a key can hit the cache through
    # another operation's entry (identical chains in two stages), so only then is the
    # previous build's whole key set asked. Set operations in C, once per replay; the
    # pairwise ones only when the columns' key sets overlap at all.
    owns = [cols.keyset(col) for col in by_op.values()]
    shared_keys: set[int] = set()
    if len(set().union(*owns)) != sum(map(len, owns)):
        seen: set[int] = set()
        for own in owns:
            shared_keys |= seen & own
            seen |= own
    keysets: dict[int, set[int]] = {}

    def missed(col: list[int]) -> list[int]:
        """The positions k in `ok` at which this key is not in the cache."""
        if chained:  # in C: where the column differs from the index before
            got = cols.changes(col, positions)
        else:
            got = list(compress(positions, map(ne, map(col.__getitem__, ok),
                                               map(col.__getitem__, before_at))))
            if first_failed and ok and 0 not in got[:1]:
                got.insert(0, 0)  # the first build after a failed warm commit: cache empty
        if not shared_keys:
            return got
        out = []
        for k in got:
            i, p = ok[k], before[k]
            if p >= 0 and col[i] in shared_keys:
                pset = keysets.get(p)
                if pset is None:
                    pset = keysets[p] = {c[p] for c in by_op.values()}
                if col[i] in pset:
                    continue  # another operation's key last build (same chain)
            out.append(k)
        return out

    # Per stage and build: the first operation not in the cache (its position in the
    # stage; len(ops) when all hit), and the --link copies after it that miss too (a
    # --link copy is reused whatever changed before it). Column by column: set operations
    # in C, and each build's first miss assigned once.
    columns: list[list] = []  # per stage: its shape at each build, (first miss, links)
    for sp in plan.stages:
        first = [len(sp.ops)] * nk
        pending = set(positions)
        link_miss: list[tuple[int, list[int]]] = []
        last_link = max((j for j, op in enumerate(sp.ops) if op.link), default=-1)
        for j, op in enumerate(sp.ops):
            if not pending and j > last_link:
                break  # every build's first miss is known, and no --link copy is left
            got = missed(by_op[op.instruction])
            if op.link:
                link_miss.append((j, got))
            new = pending.intersection(got)
            if new:
                pending -= new
                for k in new:
                    first[k] = j
        if not link_miss:
            columns.append(first)
            continue
        links: list[list[int]] = [[] for _ in range(nk)]
        for j, got in link_miss:
            for k in got:
                if j > first[k]:
                    links[k].append(j)
        columns.append(list(zip(first, map(tuple, links), strict=True)))
    # Builds repeat a few shapes (a stage from its broad COPY on ...): one tuple per shape,
    # made once, then looked up for every build in C.
    shapes = list(zip(*columns, strict=True)) if columns else [()] * nk  # no stage: no rebuild
    made: dict[tuple, tuple[tuple[StageMiss, ...], tuple[Op, ...]]] = {}
    for shape in dict.fromkeys(shapes):
        misses: list[StageMiss] = []
        rebuilt: list[Op] = []
        for sp, cell in zip(plan.stages, shape, strict=True):
            f, link_after = cell if isinstance(cell, tuple) else (cell, ())
            if f < len(sp.ops):
                op = sp.ops[f]
                misses.append(StageMiss(sp.index, op.line, op.instruction))
                rebuilt += [o for j, o in enumerate(sp.ops)
                            if j == f or (j > f and (not o.link or j in link_after))]
        made[shape] = (tuple(misses), tuple(rebuilt))
    built: list[tuple[tuple[StageMiss, ...], tuple[Op, ...]] | None]
    if chained:  # every index from 1 on built
        built = [None, *map(made.__getitem__, shapes)]
    else:
        built = [None] * n
        for i, b in zip(ok, map(made.__getitem__, shapes), strict=True):
            built[i] = b
    return _Fixed(commits, built, fail_at, w.changed, plan, start, first_failed)


def _key_columns(compiled: _Chain, xors: dict[int, list[int]], commits, n: int,
                 memo: _Columns | None = None) -> dict[int, list[int]]:
    """Every operation's cache key at every index: `_Chain.keys`, a column at a time. With
    `memo`, the columns of bases and of plain operations (no stage reference, volatile
    arg or --link) come from there when an earlier candidate made them."""
    memo = memo if memo is not None else _Columns()
    final: dict[int, list[int]] = {}
    by_op: dict[int, list[int]] = {}
    epochs: dict[int, list[int | None]] = {}
    base_refresh = compiled.base_refresh
    shas = None
    for index, base_stage, base_image, platform, refresh, fixed, ops in compiled.stages:
        key: list[int]
        if base_stage is not None:
            key = final.get(base_stage) or memo.base(
                ("stage?", base_stage), lambda b=base_stage: [hash(("stage?", b))] * n)
        else:
            if refresh:
                epoch: list[int | None] = [c.time // base_refresh for c in commits]
                key = memo.base(("image", base_image, platform, base_refresh),
                                lambda e=epoch, b=base_image, p=platform: list(map(hash, zip(
                                    repeat("image"), repeat(b), repeat(p), e))))
            else:
                epoch = [None] * n
                base = fixed if fixed is not None else hash(("image", base_image, platform, None))
                key = memo.base(("image", base), lambda b=base: [b] * n)
            epochs[index] = epoch
        for ins, definition, reads_context, refs, content_stage, volatile, link, simple \
                in ops:
            if simple:
                key = memo.after(key, definition, xors[ins] if reads_context else None)
                by_op[ins] = key
                continue
            parts: list = [repeat(definition)]
            if reads_context:
                parts.append(xors[ins])
            for ref in refs:
                got = final.get(ref)
                parts.append(got if got is not None else repeat(hash(("stage?", ref))))
            if content_stage is not None:
                got_e = epochs.get(content_stage)
                parts.append(got_e if got_e is not None else repeat(None))
            if volatile:
                if shas is None:
                    shas = [c.sha for c in commits]
                parts.append(shas)
            if link:
                # every part may be constant (a --link copy from a stage not built)
                own = list(islice(map(hash, zip(repeat("link"), *parts)), n))
                by_op[ins] = own
                key = list(map(hash, zip(key, own, strict=True)))
                continue
            key = list(map(hash, zip(key, *parts, strict=False)))  # parts may repeat
            by_op[ins] = key
        final[index] = key
    return by_op


def churn_of(shared: Matching, history: History, start: int, matcher: Matcher
             ) -> Callable[[Op], tuple[tuple[str, int], ...]] | None:
    """For `costs.summarize(churn=...)`: each operation's top files (its most changed
    paths with their counts), from the window's shared tracks (None for an empty
    history)."""
    if not history.commits:
        return None
    w = window(shared, history, max(0, min(start, len(history.commits) - 1)), matcher)
    return lambda op: w.top_files(op.readers, shared)
