"""Glue: mine the history of a build context, replay it, and price every commit."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from layerlens.cache.costs import CostSummary, OpCost, estimate, summarize
from layerlens.cache.ops import BuildPlan, build_plan, detect_volatile
from layerlens.cache.replay import ReplayResult, Version, replay
from layerlens.context.inputs import CopyInputs
from layerlens.context.patterns import Matcher, read_ignore_lines
from layerlens.dockerfile import Dockerfile, decode, parse
from layerlens.errors import LayerlensError
from layerlens.history.mine import MineOptions, find_repo, mine, read_blobs
from layerlens.history.model import Commit, History


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


@dataclass(frozen=True, slots=True)
class HistoryAnalysis:
    toplevel: str
    prefix: str
    history: History
    replay: ReplayResult
    costs: CostSummary
    volatile_args: frozenset[str]
    notices: tuple[str, ...]
    dockerfile_repo_path: str | None
    watched: tuple[str, ...]
    build_args: Mapping[str, str]
    platform: str
    base_refresh_seconds: int | None

    @property
    def window(self) -> int:
        return len(self.history.commits)


def _repo_path(path: Path, toplevel: Path) -> str | None:
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(toplevel))
    if rel.startswith(".."):
        return None
    return rel.replace(os.sep, "/")


class _Versions:
    """Parses each distinct Dockerfile/ignore blob once."""

    def __init__(self, history: History, dockerfile_path: str | None,
                 ignore_paths: tuple[str, ...], build_args: Mapping[str, str], platform: str,
                 volatile: frozenset[str], fixed_text: str | None, label: str,
                 extra_ignore: tuple[str, ...] = ()) -> None:
        self.extra_ignore = extra_ignore
        self.dockerfile_path = dockerfile_path
        self.ignore_paths = ignore_paths  # in priority order
        self.build_args = build_args
        self.platform = platform
        self.volatile = volatile
        self.fixed_text = fixed_text
        self.label = label
        shas = [e.sha for p, e in history.base_tree.items()
                if p == dockerfile_path or p in ignore_paths]
        for c in history.commits:
            shas += [ch.sha for ch in c.changes
                     if not ch.deleted and (ch.path == dockerfile_path or ch.path in ignore_paths)]
        self.blobs = read_blobs(history.toplevel, shas)
        self.cache: dict[tuple[str | None, str | None], Version] = {}
        self.fixed_plan: tuple[BuildPlan | None, str | None] | None = None

    def plan_for(self, text: str, where: str) -> tuple[BuildPlan | None, str | None]:
        try:
            df = parse(text, where, build_args=self.build_args, platform=self.platform)
        except LayerlensError as exc:
            return None, str(exc)
        return build_plan(df, volatile_args=self.volatile), None

    def __call__(self, commit: Commit, blobs: dict[str, str | None]) -> Version:
        df_sha = blobs.get(self.dockerfile_path) if self.dockerfile_path else None
        ig_sha = next((blobs[p] for p in self.ignore_paths if blobs.get(p)), None)
        key = (df_sha, ig_sha)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        matcher = Matcher([], "")
        if (ig_sha is not None and ig_sha in self.blobs) or self.extra_ignore:
            text = decode(self.blobs[ig_sha]) if ig_sha in self.blobs else ""
            try:
                matcher = Matcher.from_lines(
                    read_ignore_lines(text) + list(self.extra_ignore), ".dockerignore")
            except LayerlensError as exc:
                v = Version(None, matcher, f"at {commit.sha[:12]}: {exc}")
                self.cache[key] = v
                return v
        if self.fixed_text is not None:
            if self.fixed_plan is None:
                self.fixed_plan = self.plan_for(self.fixed_text, self.label)
            plan, err = self.fixed_plan
        elif df_sha is None:
            plan, err = None, f"no Dockerfile at {commit.sha[:12]}"
        else:
            plan, err = self.plan_for(decode(self.blobs.get(df_sha, b"")),
                                      f"{self.dockerfile_path}@{commit.sha[:12]}")
        v = Version(plan, matcher, err)
        self.cache[key] = v
        return v


def op_costs(plan: BuildPlan, inputs: Mapping[int, CopyInputs],
             known: Mapping[str, OpCost],
             log_seconds: Mapping[str, float] | None = None) -> dict[str, OpCost]:
    """Today's cost of each operation: known figures first, else context sizes + defaults;
    seconds from a build log replace estimated seconds."""
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
                cost = estimate(op, size)
            if log_seconds and op.identity in log_seconds:
                cost = OpCost(log_seconds[op.identity], "log", cost.size_bytes, cost.push_bytes,
                              cost.push_source)
            out[op.identity] = cost
    return out


def analyze_history(
    df: Dockerfile,
    dockerfile: Path,
    context: Path,
    inputs: Mapping[int, CopyInputs],
    build_args: Mapping[str, str],
    options: HistoryOptions,
    progress: Callable[[str], None] | None = None,
    fixed_text: str | None = None,
) -> tuple[HistoryAnalysis | None, tuple[str, ...]]:
    """Mine, replay and price. Returns (None, notices) when there is no usable history."""
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
    history = mine(info, extra, MineOptions(since=options.since, max_commits=options.max_commits,
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
        or any(ch.path == df_path for c in history.commits for ch in c.changes))
    text = fixed_text
    if text is None and not tracked:
        text = df.source
        notices.append(f"{dockerfile} is not tracked by git: replaying today's text at every "
                       "commit")
    versions = _Versions(history, df_path if tracked else None, tuple(ignore_paths), build_args,
                         df.platform, volatile, text, str(dockerfile))
    say(f"replaying {len(history.commits)} commits")
    result = replay(history, versions, watched=watched,
                    base_refresh=options.base_refresh_seconds)
    broken = [c for c in result.commits if c.error]
    if broken:
        notices.append(f"{len(broken)} commit(s) could not be built as they were "
                       f"(first: {broken[0].error}); they count as no rebuild")
    if len(history.commits) < 2:
        notices.append("fewer than two commits in the window: nothing to replay")
    plan = build_plan(df, volatile_args=volatile)
    log_seconds = None
    if options.build_log is not None:
        from layerlens.cache.buildlog import match_steps, read_build_log

        steps = read_build_log(options.build_log)
        log_seconds = match_steps(steps, plan)
        timed_ops = sum(1 for sp in plan.stages for _ in sp.ops)
        notices.append(f"build log {options.build_log}: timed {len(log_seconds)} of "
                       f"{timed_ops} steps (cached or unmatched steps keep estimates)")
    costs = op_costs(plan, inputs, options.op_costs, log_seconds)
    summary = summarize(result, costs, plan=plan, pullers=options.pullers)
    return HistoryAnalysis(
        str(info.toplevel), info.prefix, history, result, summary, volatile, tuple(notices),
        df_path, watched, dict(build_args), df.platform, options.base_refresh_seconds,
    ), ()


def replay_text(
    hist: HistoryAnalysis,
    text: str,
    *,
    context_inputs: Callable[[Dockerfile], Mapping[int, CopyInputs]],
    known: Mapping[str, OpCost],
    pullers: int,
    label: str = "Dockerfile",
    extra_ignore: tuple[str, ...] = (),
) -> CostSummary | None:
    """Counterfactual: the same mined history, built with `text` at every commit."""
    try:
        df = parse(text, label, build_args=hist.build_args, platform=hist.platform)
    except LayerlensError:
        return None
    versions = _Versions(hist.history, None, tuple(p for p in hist.watched
                                                   if p.endswith(".dockerignore")),
                         hist.build_args, hist.platform, hist.volatile_args, text, label,
                         extra_ignore)
    result = replay(hist.history, versions, watched=hist.watched,
                    base_refresh=hist.base_refresh_seconds)
    plan = build_plan(df, volatile_args=hist.volatile_args)
    costs = op_costs(plan, context_inputs(df), known)
    return summarize(result, costs, plan=plan, pullers=pullers)
