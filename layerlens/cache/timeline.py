"""Mine the history of a build context once, then replay Dockerfile texts over it and price
every commit.

The subject is the Dockerfile in front of the user: its text, `.dockerignore`, build args and
target as they are now, replayed over the window's context changes (`replay_text`). The same
mined history serves every counterfactual (`suggest`'s rewrites, the TUI after an apply), so
a rewrite's "before" is exactly `analyze`'s figure. The "as built" replay, each commit with the
Dockerfile it had then, is optional (`HistoryOptions.as_built`): it answers "what did our
builds actually cost", not "what does this file cost".
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING

from layerlens.cache.costs import CostSummary, OpCost, estimate, summarize, summarize_rows
from layerlens.cache.ops import BuildPlan, build_plan, detect_volatile
from layerlens.cache.replay import Matching, ReplayResult, Version, replay, submodule_note
from layerlens.context.inputs import CopyInputs
from layerlens.context.patterns import Matcher, read_ignore_lines
from layerlens.dockerfile import Dockerfile, decode, parse
from layerlens.dockerfile.model import find_stage
from layerlens.errors import LayerlensError
from layerlens.gcpause import paused
from layerlens.history.mine import MineOptions, MiningCache, find_repo, read_blobs
from layerlens.history.model import Commit, History
from layerlens.units import plural

if TYPE_CHECKING:
    from layerlens.cache.replaystore import ReplayStore
    from layerlens.context.tree import Context


@dataclass(frozen=True, slots=True)
class HistoryOptions:
    enabled: bool = True
    since: str | None = None
    max_commits: int | None = 1000
    first_parent: bool = True
    pullers: int = 1
    base_refresh_seconds: int | None = None
    volatile_args: frozenset[str] = frozenset()
    stable_args: frozenset[str] = frozenset()
    op_costs: Mapping[str, OpCost] = field(default_factory=dict)  # e.g. from an image
    build_log: Path | None = None
    as_built: bool = False  # also replay each commit with the Dockerfile it had then
    # one mining pass shared by several analyses of one repository (`scan`)
    mining: MiningCache | None = field(default=None, compare=False)
    cache: bool = True  # keep mined history under $XDG_CACHE_HOME/layerlens (--no-cache)
    # where replays are kept (None: the default place, when `cache`); tests and benchmarks
    # read its `last` to see what a run did
    replay_store: ReplayStore | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class ReplaySetup:
    """Everything a replay of one Dockerfile text needs, read once: the mined history, where
    the replay starts, and the build's settings and known costs."""

    history: History
    start: int  # index in history.commits of the replay's first (cache-warming) commit
    build_args: Mapping[str, str]
    platform: str
    target: str | None
    volatile_args: frozenset[str]
    base_refresh_seconds: int | None
    pullers: int
    known_costs: Mapping[str, OpCost]  # by operation identity (from an image)
    log_seconds: Mapping[str, float]  # by operation identity (from a build log)
    # by operation identity: (seconds, basis) a `layerlens measure` build recorded for
    # today's instruction with today's inputs (cache/measured.py)
    measured: Mapping[str, tuple[float, str]] = field(default_factory=dict)
    # path-matching answers shared by every replay over this history (suggest's candidates)
    matching: Matching = field(default_factory=Matching, compare=False, repr=False)
    # reads a file of today's build context (`Analysis.context_file`): the project scripts
    # and Makefiles a RUN runs are priced from today's version (runmodel/follow.py)
    read: Callable[[str], bytes | None] | None = field(default=None, compare=False,
                                                        repr=False)


@dataclass(frozen=True, slots=True)
class AsBuilt:
    """Each commit built with the Dockerfile and ignore file it had then."""

    replay: ReplayResult
    costs: CostSummary
    notices: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HistoryAnalysis:
    toplevel: str
    prefix: str
    history: History
    replay: ReplayResult  # the current Dockerfile at every commit
    costs: CostSummary
    volatile_args: frozenset[str]
    notices: tuple[str, ...]
    dockerfile_repo_path: str | None
    setup: ReplaySetup
    as_built: AsBuilt | None = None
    # instruction -> commits at which its COPY --from counted as rebuilt only because its
    # stage rebuilt (`upper_bound_counts`): the notice and suggest's headline read it
    upper_bounds: Mapping[int, int] = field(default_factory=dict)

    @property
    def window(self) -> int:
        """Commits of the replay window: the first warms the cache, each later one is a
        replayed build (`len(costs.commits)` of them)."""
        return len(self.history.commits) - self.setup.start if self.history.commits else 0

    @property
    def build_args(self) -> Mapping[str, str]:
        return self.setup.build_args

    @property
    def platform(self) -> str:
        return self.setup.platform

    @property
    def base_refresh_seconds(self) -> int | None:
        return self.setup.base_refresh_seconds


def _repo_path(path: Path, toplevel: Path) -> str | None:
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(toplevel))
    if rel.startswith(".."):
        return None
    return rel.replace(os.sep, "/")


def _target_index(df: Dockerfile, target: str | None) -> int | None:
    if target is None:
        return None
    idx = find_stage(df.stages, target)
    if idx is None:
        names = ", ".join(s.name for s in df.stages if s.name) or "none"
        raise LayerlensError(f"target stage {target!r} not found (named stages: {names})",
                             path=df.path)
    return idx


def plan_of(df: Dockerfile, setup: ReplaySetup) -> BuildPlan:
    """The build plan of `df` for the setup's target and volatile args."""
    return build_plan(df, volatile_args=setup.volatile_args,
                      target=_target_index(df, setup.target))


def op_costs(plan: BuildPlan, inputs: Mapping[int, CopyInputs],
             known: Mapping[str, OpCost],
             log_seconds: Mapping[str, float] | None = None,
             df: Dockerfile | None = None,
             measured: Mapping[str, tuple[float, str]] | None = None,
             read: Callable[[str], bytes | None] | None = None) -> dict[str, OpCost]:
    """Today's cost of each operation, by identity: known figures first (an image), else
    context sizes and estimates (a RUN priced by the RUN model when `df`, the plan's
    Dockerfile, is given; with `read`, today's context reader, through the project
    scripts and Makefiles it runs). Real seconds replace the image's or the estimate's: a build
    log's first, then a `layerlens measure` build's (`measured`: seconds and basis)."""
    out: dict[str, OpCost] = {}
    for sp in plan.stages:
        for op in sp.ops:
            if op.identity in known:
                cost = known[op.identity]
            else:
                size = None
                if op.keyword in ("copy", "add"):
                    inp = inputs.get(op.instruction)
                    if inp is not None and all(s.kind in ("context", "heredoc")
                                               for s in inp.sources):
                        size = inp.bytes
                ins = df.instructions[op.instruction] if df is not None and \
                    op.instruction >= 0 else None
                followed = ()
                if ins is not None and read is not None and op.keyword == "run":
                    from layerlens.runmodel.follow import follow_run

                    followed = follow_run(df, ins, read, inputs)  # type: ignore[arg-type]
                cost = estimate(op, size, ins, followed)
            if log_seconds and op.identity in log_seconds:
                cost = OpCost(log_seconds[op.identity], "log", cost.size_bytes, cost.push_bytes,
                              cost.push_source, "BuildKit build log (--build-log)")
            elif measured and op.identity in measured:
                secs, basis = measured[op.identity]
                cost = OpCost(secs, "measured", cost.size_bytes, cost.push_bytes,
                              cost.push_source, basis)
            out[op.identity] = cost
    return out


def replay_plan(setup: ReplaySetup, plan: BuildPlan, matcher: Matcher) -> ReplayResult:
    """Replay one fixed build plan with one ignore matcher over the setup's window."""
    version = Version(plan, matcher)
    return replay(setup.history, lambda _c, _b: version, start=setup.start,
                  base_refresh=setup.base_refresh_seconds, shared=setup.matching)


def replay_stored(setup: ReplaySetup, plan: BuildPlan, matcher: Matcher,
                  store: ReplayStore | None) -> ReplayResult:
    """As `replay_plan`, resuming from `store`'s checkpoint of the same replay when there is
    one for this window (then only the commits after it are replayed), and saving the new
    newest state. Same result as `replay_plan` (see layerlens/cache/replaystore.py)."""
    history = setup.history
    if store is None or not history.commits:
        return replay_plan(setup, plan, matcher)
    from layerlens.cache.replay import resume
    from layerlens.cache.replaystore import checkpoint, fingerprint, restore, resume_point

    version = Version(plan, matcher)
    fp = fingerprint(plan, version, history, setup.base_refresh_seconds)
    start = max(0, min(setup.start, len(history.commits) - 1))
    cp = store.load(fp)
    last = resume_point(cp, history, start) if cp is not None else None
    if cp is not None and last is not None:
        prior, tree = restore(cp, plan)
        result = resume(history, version, base_refresh=setup.base_refresh_seconds,
                        start=start, prior=prior, tree=tree, last=last,
                        first_failed=cp.first_failed, shared=setup.matching)
        store.last = "resumed"
        if last == len(history.commits) - 1:
            return result
    else:
        result = replay_plan(setup, plan, matcher)
        store.last = "cold"
        cp = None
    new = checkpoint(fp, result, history, cp)
    if new is not None:
        store.save(new)
    return result


def replay_text(
    setup: ReplaySetup,
    df: Dockerfile,
    matcher: Matcher,
    inputs: Mapping[int, CopyInputs],
) -> CostSummary:
    """Replay the Dockerfile `df` (with ignore rules `matcher` and the context files each of
    its COPY/ADD brings in, `inputs`) at every commit of the window, and price it.

    Returns its `CostSummary` (seconds, push and pull bytes per commit and per
    instruction); the replay itself is only priced, never kept (`tracks.fixed_rows`).
    Raises `LayerlensError` for an unknown target stage.
    """
    from layerlens.cache.tracks import churn_of, fixed_rows, replay_fixed

    plan = plan_of(df, setup)
    version = Version(plan, matcher)
    churn = churn_of(setup.matching, setup.history, setup.start, matcher)
    if churn is None:  # no commit mined: nothing to track
        result = replay_fixed(setup.history, version, start=setup.start,
                              base_refresh=setup.base_refresh_seconds, shared=setup.matching)
        costs = op_costs(plan, inputs, setup.known_costs, setup.log_seconds, df,
                         setup.measured, setup.read)
        return summarize(result, costs, plan=plan, pullers=setup.pullers)
    # a counterfactual of the window: from the tracks shared with every other one
    rows = fixed_rows(setup.history, version, start=setup.start,
                      base_refresh=setup.base_refresh_seconds, shared=setup.matching)
    costs = op_costs(plan, inputs, setup.known_costs, setup.log_seconds, df, setup.measured,
                     setup.read)
    return summarize_rows(rows, costs, plan=plan, pullers=setup.pullers, churn=churn)


def restarted(result: ReplayResult, ok: int, history: History) -> ReplayResult:
    """`result` (a replay of one fixed Dockerfile whose first commit failed to build) as if it
    had started at its replayed commit `ok`, the first that built.

    Equal to replaying again from there: the tree and the digests at each commit do not
    depend on where the replay started, every commit before `ok` failed (so the cache held
    nothing), and `ok` itself built, so the keys cached after it are the same either way.
    """
    start = result.skipped + 1 + ok
    return ReplayResult(result.commits[ok + 1:], history.commits[start].sha, result.plan,
                        start, False)


def _window_start(history: History, df_path: str | None) -> int:
    """Index of the commit from which the Dockerfile exists at `df_path` without a break
    (0 when it exists at the oldest commit, or is not tracked at all)."""
    if df_path is None:
        return 0
    exists = df_path in history.base_tree
    start = 0
    seen = exists
    for i, c in enumerate(history.commits[1:], 1):
        for ch in c.changes:
            if ch.path != df_path:
                continue
            if ch.deleted:
                exists = False
            elif not exists:
                exists, start, seen = True, i, True
    return start if seen and exists else 0


@paused()  # hundreds of thousands of acyclic records: see layerlens/gcpause.py
def analyze_history(
    df: Dockerfile,
    dockerfile: Path,
    context: Path,
    inputs: Mapping[int, CopyInputs],
    matcher: Matcher,
    options: HistoryOptions,
    *,
    build_args: Mapping[str, str],
    target: str | None = None,
    log_seconds: Mapping[str, float] | None = None,
    measured: Mapping[str, tuple[float, str]] | None = None,
    progress: Callable[[str], None] | None = None,
    scanned: Context | None = None,
    read: Callable[[str], bytes | None] | None = None,
) -> tuple[HistoryAnalysis | None, tuple[str, ...]]:
    """Mine the window once and replay the current Dockerfile `df` over it.

    `matcher` is the `.dockerignore` in force now and `inputs` the context files each
    COPY/ADD of `df` brings in now; `log_seconds` (a build log's) and `measured` (`layerlens
    measure`'s, with their basis) are real step seconds by operation identity; `scanned`, the
    context scanned with `matcher`, spares the replay testing today's files against it
    again; `read` reads a file of today's context (`Analysis.context_file`), for the
    scripts and Makefiles RUNs run. Returns (None, notices) when there is no usable history.
    Raises `LayerlensError` when git itself fails.
    """
    say = progress or (lambda _m: None)
    if not options.enabled:
        return None, ()
    info = find_repo(context)
    if info is None:
        return None, (f"{context} is not inside a git repository (or git is missing): static "
                      "analysis only, no history",)
    if info.head is None:
        return None, (f"the repository at {info.toplevel} has no commits yet: static analysis "
                      "only",)
    df_path = _repo_path(dockerfile, info.toplevel)
    ignore_paths = []
    if df_path is not None:
        ignore_paths.append(df_path + ".dockerignore")
    ignore_paths.append(info.prefix + ".dockerignore")
    watched = tuple(p for p in [df_path, *ignore_paths] if p)
    extra = tuple(p for p in watched if not p.startswith(info.prefix))
    say("reading git history")
    mining = options.mining
    if mining is None:
        from layerlens.history.store import HistoryStore

        mining = MiningCache(HistoryStore() if options.cache else None)
    history = mining.mine(info, extra, MineOptions(since=options.since,
                                                   max_commits=options.max_commits,
                                                   first_parent=options.first_parent),
                          progress=lambda n: say(f"git history: {n} commits"))
    notices = list(history.notices)
    detected = detect_volatile(df) - options.stable_args
    volatile = frozenset(detected | options.volatile_args) - options.stable_args
    for name in sorted(detected - options.volatile_args):
        notices.append(f"build arg {name} is treated as changing on every build (its name says "
                       f"so); pass --stable-arg {name} if it does not")
    tracked = df_path is not None and (
        df_path in history.base_tree
        # `in` over C iterators: every changed path of a long window, without a Python loop
        or df_path in map(itemgetter(1), chain.from_iterable(  # Change.path
            c.changes for c in history.commits)))
    if not tracked and history.commits:
        notices.append(f"{dockerfile} is not tracked by git: its text of today is replayed at "
                       "every commit of the window")
    start = _window_start(history, df_path if tracked else None)
    if start:
        c = history.commits[start]
        day = time.strftime("%Y-%m-%d", time.gmtime(c.time))
        notices.append(
            f"{df_path} was added (or moved there) at {c.sha[:12]} ({day}): the replay starts "
            f"there; the {plural(start, 'commit')} mined before it had no Dockerfile to "
            f"build and {'is' if start == 1 else 'are'} not in the figures")
    setup = ReplaySetup(history, start, dict(build_args), df.platform, target, volatile,
                        options.base_refresh_seconds, options.pullers, dict(options.op_costs),
                        dict(log_seconds or {}), dict(measured or {}), read=read)
    if scanned is not None:
        setup.matching.seed(matcher, (f.path for f in scanned.files), scanned.excluded)
    say(f"replaying {len(history.commits) - start} commits")
    plan = plan_of(df, setup)
    store = None
    if options.cache:
        from layerlens.cache.replaystore import ReplayStore

        store = options.replay_store or ReplayStore()
    result = replay_stored(setup, plan, matcher, store)
    if result.first_failed:
        # The file's literal COPY sources came later than the file (a lock file added
        # after the Dockerfile, say): start where today's file first builds.
        ok = next((i for i, c in enumerate(result.commits) if not c.failed), None)
        if ok is not None:
            new_start = setup.start + 1 + ok
            c = history.commits[new_start]
            day = time.strftime("%Y-%m-%d", time.gmtime(c.time))
            notices.append(
                f"today's {df.path} first builds at {c.sha[:12]} ({day}), when all its COPY "
                f"sources exist: the replay starts there; the "
                f"{plural(new_start - setup.start, 'commit')} before it could not build it "
                f"and {'is' if new_start - setup.start == 1 else 'are'} not in the figures")
            setup = replace(setup, start=new_start)
            result = restarted(result, ok, history)
    summary = summarize(result, op_costs(plan, inputs, setup.known_costs, setup.log_seconds,
                                         df, setup.measured, setup.read),
                        plan=plan, pullers=setup.pullers)
    notices += _failed_notices(df, summary)
    upper = upper_bound_counts(result)
    notices += _from_stage_notices(df, upper)
    notices += _pointer_notices(history, info.toplevel, context)
    if not result.commits:
        notices.append("fewer than two commits in the window: nothing to replay, rates are "
                       "unknown")
    elif summary.builds == 0:
        notices.append("the build fails at every commit of the window (a COPY source is "
                       "absent): rates are unknown; a file CI builds before `docker build` "
                       "(dist/, target/) is in no commit, so the replay cannot build it")
    as_built = None
    if options.as_built:
        as_built = _as_built(setup, df_path if tracked else None, tuple(ignore_paths), watched,
                             inputs, df, str(dockerfile))
    return HistoryAnalysis(
        str(info.toplevel), info.prefix, history, result, summary, volatile, tuple(notices),
        df_path, setup, as_built, upper,
    ), ()


def _failed_notices(df: Dockerfile, summary: CostSummary) -> list[str]:
    counts: dict[int, int] = {}
    for c in summary.commits:
        for ins in c.failed:
            counts[ins] = counts.get(ins, 0) + 1
    out = []
    for ins, n in sorted(counts.items()):
        if ins < 0:  # an ONBUILD trigger: its COPY is not one of this file's instructions
            continue
        i = df.instructions[ins]
        out.append(f"{df.path}:{i.start_line}: {i.upper} sources are absent at {n} of "
                   f"{len(summary.commits)} replayed commits: the build fails there, and "
                   "those commits are left out of the rates")
    return out


def _pointer_notices(history: History, toplevel: Path, context: Path) -> list[str]:
    """Submodules and Git LFS pointers in the context: what their changes count as."""
    out = []
    note = submodule_note(history)
    if note:
        out.append(note)
    for d in dict.fromkeys((Path(toplevel), context)):
        try:
            text = (d / ".gitattributes").read_text("utf-8", errors="replace")
        except OSError:
            continue
        lfs = [line.split()[0] for line in text.splitlines()
               if "filter=lfs" in line and line.split()]
        if lfs:
            shown = ", ".join(lfs[:3]) + (f" and {len(lfs) - 3} more" if len(lfs) > 3 else "")
            out.append(f"Git LFS stores {shown} as pointers: a change counts by its pointer "
                       "(the content is not read); the bytes a COPY brings in are the "
                       "checkout's, which may be pointers too if LFS files were not pulled")
            break
    return out


def upper_bound_counts(result: ReplayResult) -> dict[int, int]:
    """Instruction -> commits at which it missed because a stage it takes from rebuilt.

    BuildKit keys `COPY --from=stage` (and a bind mount from a stage) on the content of
    what it takes (opsutils.NewContentHashFunc); the replay cannot see that content, so it
    counts a miss whenever the stage rebuilt: from those lines on, the figures are upper
    bounds. Only where the stage reference itself is the first miss of its stage."""
    counts: dict[int, int] = {}
    if result.plan is None or not any(op.stage_refs or op.content_upper
                                      for sp in result.plan.stages for op in sp.ops):
        return counts  # one plan (the current file), and nothing in it takes from a stage
    for c in result.commits:
        first = {m.first_instruction for m in c.rebuilt}
        for op in c.rebuilt_ops:
            if (op.stage_refs or op.content_upper) and op.instruction in first \
                    and op.instruction >= 0:
                counts[op.instruction] = counts.get(op.instruction, 0) + 1
    return counts


def _from_stage_notices(df: Dockerfile, counts: Mapping[int, int]) -> list[str]:
    """Say where COPY --from makes the figures upper bounds (`upper_bound_counts`)."""
    if len(counts) > 1:  # one notice for all of them: a line each would repeat the reason
        items = sorted(counts.items())
        lines = ",".join(str(df.instructions[ins].start_line) for ins, _ in items)
        first = df.instructions[items[0][0]].start_line
        each = ", ".join(f"line {df.instructions[ins].start_line} at {plural(n, 'commit')}"
                         for ins, n in items)
        return [f"{df.path}:{lines}: these {len(items)} instructions take files from another "
                f"stage; each is counted as rebuilt where that stage rebuilt ({each}), but "
                "BuildKit reuses one when the files it takes are unchanged: the figures from "
                f"line {first} on are upper bounds"]
    out = []
    for ins, n in sorted(counts.items()):
        i = df.instructions[ins]
        out.append(f"{df.path}:{i.start_line}: {i.upper} takes files from another stage; it "
                   f"is counted as rebuilt at the {plural(n, 'commit')} where that stage "
                   "rebuilt, but "
                   "BuildKit reuses it when the files it takes are unchanged: the figures from "
                   "this line on are upper bounds")
    return out


class _Versions:
    """For the as-built replay: parses each distinct Dockerfile/ignore blob once."""

    def __init__(self, setup: ReplaySetup, dockerfile_path: str | None,
                 ignore_paths: tuple[str, ...], fixed_text: str | None, label: str) -> None:
        history = setup.history
        self.setup = setup
        self.dockerfile_path = dockerfile_path
        self.ignore_paths = ignore_paths  # in priority order
        self.fixed_text = fixed_text
        self.label = label
        wanted = {dockerfile_path, *ignore_paths}
        shas = [e.sha for p, e in history.base_tree.items() if p in wanted]
        for c in history.commits:
            shas += [ch.sha for ch in c.changes if not ch.deleted and ch.path in wanted]
        self.blobs = read_blobs(history.toplevel, shas)
        self.cache: dict[tuple[str | None, str | None], Version] = {}

    def _plan(self, text: str, where: str) -> tuple[BuildPlan | None, str | None]:
        try:
            df = parse(text, where, build_args=self.setup.build_args,
                       platform=self.setup.platform)
            return plan_of(df, self.setup), None
        except LayerlensError as exc:
            return None, str(exc)

    def __call__(self, commit: Commit, blobs: dict[str, str | None]) -> Version:
        df_sha = blobs.get(self.dockerfile_path) if self.dockerfile_path else None
        ig_sha = next((blobs[p] for p in self.ignore_paths if blobs.get(p)), None)
        key = (df_sha, ig_sha)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        matcher = Matcher([], "")
        if ig_sha is not None and ig_sha in self.blobs:
            try:
                matcher = Matcher.from_lines(read_ignore_lines(decode(self.blobs[ig_sha])),
                                             ".dockerignore")
            except LayerlensError as exc:
                v = Version(None, matcher, f"at {commit.sha[:12]}: {exc}")
                self.cache[key] = v
                return v
        if self.fixed_text is not None:
            plan, err = self._plan(self.fixed_text, self.label)
        elif df_sha is None:
            plan, err = None, f"no Dockerfile at {commit.sha[:12]}"
        else:
            plan, err = self._plan(decode(self.blobs.get(df_sha, b"")),
                                   f"{self.dockerfile_path}@{commit.sha[:12]}")
        v = Version(plan, matcher, err)
        self.cache[key] = v
        return v


def _as_built(setup: ReplaySetup, df_path: str | None, ignore_paths: tuple[str, ...],
              watched: tuple[str, ...], inputs: Mapping[int, CopyInputs], df: Dockerfile,
              label: str) -> AsBuilt:
    """Each commit of the whole mined window with the Dockerfile it had then; commits
    without a Dockerfile (or whose Dockerfile does not parse) build nothing."""
    versions = _Versions(setup, df_path, ignore_paths, None if df_path else df.source, label)
    result = replay(setup.history, versions, watched=watched,
                    base_refresh=setup.base_refresh_seconds)
    plan = plan_of(df, setup)
    costs = op_costs(plan, inputs, setup.known_costs, setup.log_seconds, df, setup.measured,
                     setup.read)
    summary = summarize(result, costs, plan=plan, pullers=setup.pullers)
    notices = []
    broken = [c for c in result.commits if c.error]
    if broken:
        notices.append(f"{plural(len(broken), 'commit')} could not be built as "
                       f"{'it was' if len(broken) == 1 else 'they were'} (first: "
                       f"{broken[0].error}); {'it is' if len(broken) == 1 else 'they are'} left "
                       "out of the figures")
    return AsBuilt(result, summary, tuple(notices))
