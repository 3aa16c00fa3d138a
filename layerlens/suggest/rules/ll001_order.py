"""LL001: order instructions from least to most likely to change.

The optimizer searches the orders the stage's precedence graph allows for the one with the
least replayed rebuild cost; the saving is then measured by replaying the rewrite.
"""

from __future__ import annotations

from layerlens.cache.ops import Op, build_plan
from layerlens.suggest.graph import stage_graph
from layerlens.suggest.model import Suggestion
from layerlens.suggest.optimizer import optimize
from layerlens.suggest.rewrite import reorder
from layerlens.suggest.rule import Rule, Subject

CHAIN = ("run", "copy", "add", "workdir")


def _masks(subject: Subject, stage: int, ops: dict[int, Op]
           ) -> tuple[dict[int, float], dict[int, int]]:
    """Per instruction of `stage`: its rebuild seconds, and the replayed commits that
    change what it reads (`ops`: the subject's plan, by instruction)."""
    df = subject.df
    hist = subject.history
    summary = subject.summary(subject.text)
    weight: dict[int, float] = {}
    mask: dict[int, int] = {}
    for idx in df.stages[stage].instructions[1:]:
        ins = df.instructions[idx]
        st = summary.instructions.get(idx) if summary else None
        if ins.keyword in CHAIN and st is not None:
            weight[idx] = st.cost.seconds
        if ins.keyword == "arg" and any(k in hist.volatile_args for k, _ in ins.pairs):
            mask[idx] = (1 << len(hist.replay.commits)) - 1
    # bit per replayed commit of the current file's replay that changed a path the
    # operation reads, from the window's shared tracks (the same matcher's change sets)
    from layerlens.cache.tracks import window

    setup = hist.setup
    w = window(setup.matching, setup.history, hist.replay.skipped, subject.analysis.matcher)
    for idx, op in ops.items():
        if op.stage != stage or not op.reads_context:
            continue
        got = w.mask(op.readers, setup.matching)
        if got:
            mask[idx] = mask.get(idx, 0) | got
    return weight, mask


def check(subject: Subject) -> list[Suggestion]:
    if subject.history is None or not subject.history.replay.commits:
        return []
    df = subject.df
    out: list[Suggestion] = []
    ops: dict[int, Op] | None = None  # the subject's plan, made once for all its stages
    for stage in sorted(df.needed_stages()):
        current = list(df.stages[stage].instructions[1:])
        if len(current) < 2:
            continue
        g = stage_graph(df, stage)
        if ops is None:
            plan = build_plan(df, volatile_args=subject.history.volatile_args)
            ops = {op.instruction: op for sp in plan.stages for op in sp.ops}
        weight, mask = _masks(subject, stage, ops)
        res = optimize(g, current, weight, mask)
        if list(res.order) == current or res.cost >= res.current_cost * 0.99:
            continue
        new_text = reorder(df, stage, res.order)
        savings = subject.measure(new_text)
        if savings is None or savings.seconds_per_commit <= 0:
            continue
        moved = [df.instructions[i].start_line for i, j in zip(current, res.order, strict=True)
                 if i != j]
        gap = (res.current_cost - res.cost) / res.current_cost if res.current_cost else 0.0
        out.append(Suggestion(
            "LL001", RULE.title,
            f"{df.stages[stage].title}: reordering {len(moved)} instructions cuts the "
            f"replayed rebuild cost by {gap:.0%} ({'optimal' if res.exact else 'heuristic'} "
            "order the dependency graph allows)",
            subject.shipped(stage, "When a layer changes, it and every layer after it are "
                            "rebuilt, pushed and pulled; ",
                            "When a layer of this builder stage changes, it and every layer "
                            "after it are rebuilt (a builder stage is never pushed); ")
            + "instructions whose inputs change rarely belong first.",
            tuple(sorted(moved)), True, savings, dockerfile=new_text,
        ))
    return out


RULE = Rule(
    "LL001", "reorder", "Order instructions from least to most likely to change",
    "When a layer changes, it and every layer after it are rebuilt; instructions whose "
    "inputs change rarely belong first.", ("safe",),
    "order instructions from least to most likely to change (the optimizer's answer over the "
    "orders the RUN model's dependency graph allows)", check)

