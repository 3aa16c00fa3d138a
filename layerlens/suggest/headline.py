"""The saving the way users judge it: per Dockerfile, the per-commit rebuild time and push
bytes now, with the safe fixes, and with the unsafe fixes too; then, per layer, the share
of commits that rebuild it in each.

Everything here reads the replays the suggest engine already ran (`SuggestReport.variants`,
each a `Subject` whose `summary` is `Analysis.replay_text` over the one mined history);
nothing reads the inputs again.
"""

from __future__ import annotations

from dataclasses import dataclass

from layerlens.cache.costs import CostSummary, paired
from layerlens.dockerfile import Dockerfile

VARIANTS = ("current", "safe", "unsafe")


@dataclass(frozen=True, slots=True)
class Figures:
    """One Dockerfile text's replayed cost per commit."""

    variant: str  # "current", "safe" or "unsafe"
    rules: tuple[str, ...]  # fixes applied to today's file to make it, in order
    seconds_per_commit: float | None  # None: no build replayed
    push_bytes_per_commit: float | None  # the known part; None when nothing pushed is known
    unknown_push_layers: int  # pushed layer rebuilds of unknown size, whole window
    estimated: bool  # some seconds are estimates
    builds: int  # replayed builds (the denominator)
    # today's file over the same builds, for the change (a rewrite that fails at some
    # commits is compared over the commits at which both build: cache/costs.py paired)
    base_seconds_per_commit: float | None = None
    failed_builds: int = 0  # commits at which this text fails and today's file builds


@dataclass(frozen=True, slots=True)
class LayerRow:
    """One layer step, matched across the texts by stage and instruction text."""

    stage: str  # stage name, or "stage N"
    text: str  # the instruction, whitespace folded
    lines: tuple[int | None, ...]  # its first line in each variant (None: not there)
    shares: tuple[float | None, ...]  # share of builds that rebuild it, per variant


@dataclass(frozen=True, slots=True)
class Headline:
    figures: tuple[Figures, ...]  # current, safe, unsafe (in VARIANTS order)
    layers: tuple[LayerRow, ...]  # in today's file order, then layers new in the rewrites
    # today's file's lines whose COPY --from (or bind mount from a stage) counted as rebuilt
    # because its stage rebuilt: the figures from the first on are upper bounds
    # (cache/timeline.py upper_bound_counts)
    upper_bound_lines: tuple[int, ...] = ()

    def by(self, variant: str) -> Figures:
        return self.figures[VARIANTS.index(variant)]


def _figures(name: str, rules: tuple[str, ...], c: CostSummary,
             current: CostSummary) -> Figures:
    """A variant's figures; a rewrite's over the commits at which it and today's file both
    build, so that its change compares the same commits."""
    if c is current:
        return Figures(name, rules, c.mean_seconds, c.mean_push_bytes, c.unknown_push_layers,
                       c.estimated, c.builds, c.mean_seconds)
    p = paired(current, c)
    push = p.after_push_bytes if c.mean_push_bytes is not None else None
    return Figures(name, rules, p.after_seconds, push, p.unknown_push_layers[1],
                   c.estimated, p.builds, p.before_seconds, p.after_failed)


def _layer_keys(df: Dockerfile, c: CostSummary) -> dict[tuple[str, str, int], tuple[int, float
                                                                                    | None]]:
    """(stage label, text, occurrence) -> (line, share) for every layer step replayed."""
    out: dict[tuple[str, str, int], tuple[int, float | None]] = {}
    seen: dict[tuple[str, str], int] = {}
    for idx, st in sorted(c.instructions.items()):
        if idx < 0 or idx >= len(df.instructions):
            continue  # an ONBUILD trigger's step has no line of this file
        ins = df.instructions[idx]
        stage = df.stages[ins.stage]
        label = stage.name or f"stage {stage.index}"
        text = " ".join(ins.original.split())
        n = seen.get((label, text), 0) + 1
        seen[(label, text)] = n
        out[(label, text, n)] = (ins.start_line, st.change_rate)
    return out


def headline(rep) -> Headline | None:
    """The headline of a `SuggestReport`, or None when no history was replayed."""
    if not rep.replayed or len(rep.variants) != len(VARIANTS):
        return None
    costs = [v.costs for v in rep.variants]
    if any(c is None for c in costs):
        return None
    figures = tuple(_figures(v.name, tuple(s.rule for s in v.steps), c, costs[0])
                    for v, c in zip(rep.variants, costs, strict=True))
    keyed = [_layer_keys(v.subject.df, c) for v, c in zip(rep.variants, costs, strict=True)]
    order: list[tuple[str, str, int]] = []
    for k in keyed:
        order += [key for key in k if key not in order]
    rows = tuple(LayerRow(key[0], key[1],
                          tuple(k[key][0] if key in k else None for k in keyed),
                          tuple(k[key][1] if key in k else None for k in keyed))
                 for key in order)
    analysis = rep.variants[0].subject.analysis
    upper: tuple[int, ...] = ()
    if analysis.history is not None:
        upper = tuple(sorted(analysis.dockerfile.instructions[i].start_line
                             for i in analysis.history.upper_bounds))
    return Headline(figures, rows, upper)
