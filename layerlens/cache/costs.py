"""What a rebuilt layer costs: build seconds, push bytes, pull bytes.

Sources, best first: a BuildKit build log (seconds per step), a build `layerlens measure`
ran and recorded (cache/measured.py), an image (layer sizes and compressed sizes, history
timestamps), the build context (exact bytes a COPY/ADD brings in). Without them, build
seconds are estimates: a RUN's from what its commands do (cache/runcost.py, where the
table of defaults and its rationale is), other steps from documented defaults. Estimates
are marked as such with their basis; sizes that cannot be known stay unknown (None).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from itertools import chain
from operator import attrgetter
from typing import NamedTuple

from layerlens.cache.ops import BuildPlan, Op
from layerlens.cache.replay import CommitReplay, ReplayResult
from layerlens.dockerfile.model import Instruction
from layerlens.gcpause import paused
from layerlens.runmodel.follow import Followed

# Documented defaults, used only when nothing better is known (marked "estimate").
# A RUN the RUN model cannot read (cache/runcost.py prices the others by their commands).
DEFAULT_RUN_SECONDS = 20.0
COPY_BASE_SECONDS = 0.5
COPY_BYTES_PER_SECOND = 100 * 1024 * 1024
WORKDIR_SECONDS = 0.1
# Stated ratio of compressed (pushed) to uncompressed bytes when no image says better.
COMPRESSION_RATIO = 0.45


@dataclass(frozen=True, slots=True)
class OpCost:
    seconds: float
    seconds_source: str  # "log", "measured", "image" or "estimate"
    size_bytes: int | None
    push_bytes: int | None
    push_source: str | None  # "image", "ratio" or None when unknown
    # how the seconds were found: the log or build that timed the step, or the estimate's
    # rule ("RUN model: OS packages (3 named) 16s (apt-get); step overhead 0.5s")
    seconds_basis: str | None = None
    # a RUN-model estimate's dependency downloads, (ecosystem, seconds), and the
    # ecosystems it prefetches (cache/runcost.py); real seconds carry neither
    download: tuple[tuple[str, float], ...] = ()
    prefetches: frozenset[str] = frozenset()


class CommitCost(NamedTuple):
    """One commit's rebuild priced. A named tuple, as history.model.Change: pricing makes
    one per commit, and a tuple is built about three times as fast as a frozen dataclass
    (40 ms over rails' 46,177 commits)."""

    sha: str
    time: int
    rebuilt: tuple[tuple[int, int], ...]  # (stage, first_line)
    rebuilt_instructions: tuple[int, ...]
    rebuild_seconds: float
    push_bytes: int  # the known part: pushed layers of known size
    pull_bytes: int  # the known part, times the pullers
    unknown_push_layers: int  # rebuilt layers of the final image whose size is unknown
    error: str | None = None
    failed: tuple[int, ...] = ()  # COPY/ADD whose literal sources were absent here


@dataclass(frozen=True, slots=True)
class InstructionStats:
    instruction: int
    rebuilds: int
    change_rate: float | None  # None when no commit was replayed
    cost: OpCost
    expected_seconds: float | None  # per commit
    expected_push_bytes: float | None  # per commit; 0 for layers the image does not hold
    share: float | None  # of the expected rebuild seconds
    top_files: tuple[tuple[str, int], ...]  # context files that changed most behind it
    pushed: bool  # part of the final image (pushed and pulled)


@dataclass(frozen=True, slots=True)
class CostSummary:
    commits: tuple[CommitCost, ...]
    instructions: Mapping[int, InstructionStats]
    pullers: int
    total_seconds: float
    total_push_bytes: int  # known part
    total_pull_bytes: int  # known part
    mean_seconds: float | None  # None when no commit was replayed
    mean_push_bytes: float | None  # known part; None when nothing is known
    mean_pull_bytes: float | None
    estimated: bool  # any seconds are defaults
    unknown_push_layers: int = 0  # rebuilt final-image layers of unknown size, all commits
    builds: int = 0  # commits whose build ran (the denominator of rates and means)

    @property
    def push_complete(self) -> bool:
        """Every pushed layer's size is known, so the push figures are exact sums."""
        return self.unknown_push_layers == 0


def estimate(op: Op, size_bytes: int | None, ins: Instruction | None = None,
             followed: tuple[Followed, ...] = ()) -> OpCost:
    """The estimated cost of `op` (marked "estimate", with its basis). `ins`, the RUN's
    instruction, lets the RUN model price it by what it does (`followed`: the project
    scripts and Makefiles it runs, runmodel/follow.py); without it (or when the model
    finds no command) a RUN costs `DEFAULT_RUN_SECONDS`. COPY/ADD cost a base plus their
    bytes at `COPY_BYTES_PER_SECOND` (bytes unknown: the base alone)."""
    download: tuple[tuple[str, float], ...] = ()
    prefetches: frozenset[str] = frozenset()
    if op.keyword == "run":
        seconds = DEFAULT_RUN_SECONDS
        basis = "default for a RUN the RUN model cannot read"
        if ins is not None:
            from layerlens.cache.runcost import estimate_run

            got = estimate_run(ins, followed)
            if got is not None:
                seconds, basis = got.seconds, got.basis
                download, prefetches = got.download, got.prefetches
    elif op.keyword == "workdir":
        seconds = WORKDIR_SECONDS
        basis = "default for a WORKDIR (a mkdir)"
    else:
        seconds = COPY_BASE_SECONDS + (size_bytes or 0) / COPY_BYTES_PER_SECOND
        basis = (f"{COPY_BASE_SECONDS:g}s + bytes at {COPY_BYTES_PER_SECOND >> 20} MiB/s"
                 if size_bytes is not None else f"{COPY_BASE_SECONDS:g}s; bytes unknown")
    if op.keyword == "workdir":
        size_bytes = 0
    push = None if size_bytes is None else int(size_bytes * COMPRESSION_RATIO)
    return OpCost(seconds, "estimate", size_bytes, push, None if push is None else "ratio",
                  basis, download, prefetches)


def _workdir(op: Op) -> str | None:
    """The working directory a RUN operation runs in (from its definition)."""
    try:
        got = json.loads(op.definition).get("workdir")
    except (ValueError, AttributeError):
        return None
    return got if isinstance(got, str) else None


def prefetched_costs(plan: BuildPlan, costs: Mapping[str, OpCost]) -> dict[int, OpCost]:
    """Build RUNs of `plan` whose dependency download an earlier layer of the same stage
    prefetched, by `id(op)`: their cost without that download part, the basis saying so.

    The earlier layer must run the matching prefetch (cache/runcost.py) in the same
    working directory, so that it read the same manifests. Whether that layer was cached
    or rebuilt in a given build, the build RUN after it finds the dependencies in its
    filesystem and downloads nothing; the prefetch layer's own price counts in the builds
    that rebuild it. Only estimates are adjusted: measured and logged seconds already are
    what the step took.
    """
    out: dict[int, OpCost] = {}
    for sp in plan.stages:
        seen: set[tuple[str, str | None]] = set()  # (ecosystem, workdir) prefetched so far
        for op in sp.ops:
            if op.keyword != "run":
                continue
            cost = costs.get(op.identity)
            if cost is None or cost.seconds_source != "estimate":
                continue
            wd = _workdir(op) if cost.download or cost.prefetches else None
            drop = [(eco, s) for eco, s in cost.download if (eco, wd) in seen]
            if drop:
                secs = cost.seconds - sum(s for _, s in drop)
                lines = ", ".join(f"{eco} {s:g}s" for eco, s in drop)
                out[id(op)] = replace(
                    cost, seconds=secs,
                    seconds_basis=f"{cost.seconds_basis}; dependency download ({lines}) "
                    "dropped: an earlier layer of the stage prefetched it",
                    download=tuple(d for d in cost.download if d not in drop))
            seen |= {(eco, wd) for eco in cost.prefetches}
    return out


def summarize(
    result: ReplayResult,
    costs: Mapping[str, OpCost],
    *,
    plan: BuildPlan,
    pullers: int = 1,
    churn: Callable[[Op], tuple[tuple[str, int], ...]] | None = None,
) -> CostSummary:
    """Costs per commit and per instruction of `plan` (the current Dockerfile).

    `costs` is keyed by operation identity so that operations of older Dockerfile versions
    that are textually the same as today's get today's figures. `churn(op)`, when given,
    answers what this would count from `result`: `op`'s `top_files` (`top_files` of the
    changed paths it reads, with the number of commits that changed each, in the order
    they first changed). A counterfactual replay's window knows it already, for every
    candidate whose operation reads the same sources (layerlens/cache/tracks.py).
    """
    with paused():
        return _summarize(commit_rows(result), costs, plan, pullers, churn, result.commits)


def commit_rows(result: ReplayResult) -> Iterator[tuple]:
    """`result`'s commits as `summarize_rows` reads them."""
    return map(_ROW, result.commits)


def summarize_rows(rows: Iterable[tuple], costs: Mapping[str, OpCost], *, plan: BuildPlan,
                   pullers: int, churn: Callable[[Op], tuple[tuple[str, int], ...]]
                   ) -> CostSummary:
    """`summarize` of a replay given as rows, one (sha, time, rebuilt operations, stage
    misses, error, failed instructions) tuple per commit in order (the fields of its
    `CommitReplay`s), with its `churn`: a counterfactual replay from the window's tracks
    (`tracks.fixed_rows`), which makes no record per commit."""
    with paused():
        return _summarize(rows, costs, plan, pullers, churn, ())


_ROW = attrgetter("sha", "time", "rebuilt_ops", "rebuilt", "error", "failed")


def top_files(churn: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """`InstructionStats.top_files` from (path, commits that changed it) pairs in the order
    the paths first changed: the `TOP_FILES` most changed, ties in that order."""
    return tuple(Counter(dict(churn)).most_common(TOP_FILES))


TOP_FILES = 5


def _summarize(rows: Iterable[tuple], costs: Mapping[str, OpCost], plan: BuildPlan,
               pullers: int, churn_of: Callable[[Op], tuple[tuple[str, int], ...]] | None,
               commits: Iterable[CommitReplay]) -> CostSummary:
    """`summarize` over `rows`; `commits` (the records, for their changed paths) is read
    only without `churn_of`."""
    pushed_stages = plan.pushed_stages
    current = {op.identity: op for sp in plan.stages for op in sp.ops}
    # A build RUN after a prefetch layer of its stage costs its compile only. Known per
    # operation object of the plan the commits were replayed with; an operation of another
    # Dockerfile version (the as-built replay) keeps its full price: when in doubt, the
    # download is counted.
    lighter = prefetched_costs(plan, costs)
    by_ident_light = {op.identity: lighter[id(op)] for op in current.values()
                      if id(op) in lighter}
    rebuilds: Counter[str] = Counter()
    context_ops = [(ident, op) for ident, op in current.items() if op.reads_context]
    out: list[CommitCost] = []
    estimated = False
    # Commits repeat a few rebuilt sets (a whole stage, its last COPY, ...): price each
    # set once, and count every changed path once, in C, before asking who reads it.
    # Keyed by the operations' ids: the as-built replay's plans reuse instruction numbers.
    priced: dict[tuple[int, ...], tuple[float, int, int, tuple[int, ...]]] = {}
    counted: Counter[tuple[int, ...]] = Counter()
    ops_of: dict[tuple[int, ...], tuple[Op, ...]] = {}
    changed: Counter[str] = Counter()
    # A replay from shared tracks gives every build of one shape the same tuples: look
    # them up by identity first (the replay holds them, so ids are stable meanwhile).
    by_tuple: dict[tuple[int, int], tuple] = {}
    for sha, time, rebuilt_ops, misses, error, failed in rows:
        ident = (id(rebuilt_ops), id(misses))
        seen = by_tuple.get(ident)
        if seen is None:
            key = tuple(map(id, rebuilt_ops))
            got = priced.get(key)
            if got is None:
                secs = 0.0
                push = 0
                unknown = 0
                for op in rebuilt_ops:
                    cost = lighter.get(id(op)) or costs.get(op.identity) or \
                        estimate(op, None)
                    estimated |= cost.seconds_source == "estimate"
                    secs += cost.seconds
                    if op.stage in pushed_stages:
                        if cost.push_bytes is None:
                            unknown += 1
                        else:
                            push += cost.push_bytes
                got = priced[key] = (secs, push, unknown,
                                     tuple([op.instruction for op in rebuilt_ops]))
                ops_of[key] = rebuilt_ops
            seen = by_tuple[ident] = (key, tuple([(m.stage, m.first_line) for m in misses]),
                                      *got, [0])
        key, stages, secs, push, unknown, rebuilt, tally = seen
        tally[0] += 1
        out.append(CommitCost(sha, time, stages, rebuilt, secs, push, push * pullers, unknown,
                              error, failed))
    for key, _stages, _s, _p, _u, _r, tally in by_tuple.values():
        counted[key] += tally[0]
    if churn_of is None:
        # one count over every commit's paths in C, in the order a commit-by-commit count
        # sees
        changed.update(chain.from_iterable([c.changed_paths for c in commits]))
    for key, n in counted.items():
        for op in ops_of[key]:
            rebuilds[op.identity] += n
    # first-seen order is kept, so most_common breaks ties as a path-by-path count would
    if churn_of is None:
        churn: dict[str, Counter[str]] = {ident: Counter() for ident, _op in context_ops}
        for path, n in changed.items():
            for ident, op in context_ops:
                if op.reads(path):
                    churn[ident][path] = n
        tops = {ident: tuple(c.most_common(TOP_FILES)) for ident, c in churn.items()}
    else:
        tops = {ident: churn_of(op) for ident, op in context_ops}
    # Failed builds (a literal COPY source absent) and commits that had no buildable
    # Dockerfile (as built) are not builds: they are listed, but rates and means are over
    # the builds that ran.
    n = sum(1 for c in out if not c.failed and not c.error)
    stats: dict[int, InstructionStats] = {}
    rates = {ident: (rebuilds[ident] / n if n else None) for ident in current}
    def cost_of(ident: str, op: Op) -> OpCost:
        return by_ident_light.get(ident) or costs.get(ident) or estimate(op, None)

    total_expected = sum((rates[ident] or 0.0) * cost_of(ident, op).seconds
                         for ident, op in current.items())
    for ident, op in current.items():
        cost = cost_of(ident, op)
        rate = rates[ident]
        pushed = op.stage in pushed_stages
        exp_s = None if rate is None else rate * cost.seconds
        if rate is None:
            exp_p = None
        elif not pushed:
            exp_p = 0.0  # a builder stage's layers are never pushed
        else:
            exp_p = None if cost.push_bytes is None else rate * cost.push_bytes
        share = None if exp_s is None else (exp_s / total_expected if total_expected else 0.0)
        stats[op.instruction] = InstructionStats(
            op.instruction, rebuilds[ident], rate, cost, exp_s, exp_p, share,
            tops.get(ident, ()), pushed,
        )
    total_s = sum(c.rebuild_seconds for c in out)
    total_p = sum(c.push_bytes for c in out)
    unknown = sum(c.unknown_push_layers for c in out)
    # A mean over known parts only is a number when something was known (or nothing was
    # pushed at all); when every pushed layer was of unknown size it is unknown, never 0.
    push_known = total_p > 0 or unknown == 0
    return CostSummary(
        tuple(out), stats, pullers, total_s, total_p, total_p * pullers,
        total_s / n if n else None,
        total_p / n if n and push_known else None,
        total_p * pullers / n if n and push_known else None, estimated, unknown, n,
    )


@dataclass(frozen=True, slots=True)
class Paired:
    """Two replays of one window (today's file and a rewrite of it) compared commit by
    commit, over the commits at which both built.

    A rewrite can fail where today's file builds: it copies a file by name that older
    commits do not have. Means over each side's own builds would then compare different
    commits, and a failed build, which rebuilds nothing, would count as a rebuild avoided.
    Seconds and bytes are per commit over `builds`; push bytes are the known part, exact
    when `unknown_push_layers` is 0."""

    builds: int  # commits at which both built (the denominator)
    after_failed: int  # commits at which `before` built and `after` did not
    before_seconds: float | None  # None when no commit built on both sides
    after_seconds: float | None
    before_push_bytes: float | None
    after_push_bytes: float | None
    pullers: int
    unknown_push_layers: tuple[int, int]  # (before, after), over the paired commits
    rebuilds_avoided: int  # paired commits that rebuilt something before and nothing after

    @property
    def push_exact(self) -> bool:
        return self.unknown_push_layers == (0, 0)


def paired(before: CostSummary, after: CostSummary) -> Paired:
    """`before` and `after` (replays of the same commits, in the same order; ValueError
    otherwise) compared over the commits at which both built, in one pass."""
    n = failed = avoided = 0
    b_secs = a_secs = 0.0
    b_push = a_push = b_unknown = a_unknown = 0
    for b, a in zip(before.commits, after.commits, strict=True):
        if b.sha != a.sha:
            raise ValueError("paired(): the replays cover different commits")
        if b.failed or b.error:
            continue
        if a.failed or a.error:
            failed += 1
            continue
        n += 1
        b_secs += b.rebuild_seconds
        a_secs += a.rebuild_seconds
        b_push += b.push_bytes
        a_push += a.push_bytes
        b_unknown += b.unknown_push_layers
        a_unknown += a.unknown_push_layers
        avoided += bool(b.rebuilt) and not a.rebuilt
    if not n:
        return Paired(0, failed, None, None, None, None, before.pullers, (0, 0), 0)
    return Paired(n, failed, b_secs / n, a_secs / n, b_push / n, a_push / n, before.pullers,
                  (b_unknown, a_unknown), avoided)
