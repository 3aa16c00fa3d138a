"""LL007: RUNs that always rebuild together could be one layer; a RUN whose parts change at
different rates could be split.

Two adjacent RUNs that rebuilt in exactly the same commits give nothing for being two
layers: one merged layer is one fewer to store, push and pull. A RUN that reads a build
arg changing every build in one of its parts rebuilds its stable parts every time too.
Hints only: whether the merged or split commands behave the same depends on the commands.
"""

from __future__ import annotations

import itertools

from layerlens.runmodel import scripts_of
from layerlens.suggest.graph import uses
from layerlens.suggest.model import Suggestion
from layerlens.suggest.rule import Rule, Subject


def check(subject: Subject) -> list[Suggestion]:
    df = subject.df
    out: list[Suggestion] = []
    summary = subject.summary(subject.text) if subject.history is not None else None
    rebuilt: dict[int, set[int]] = {}
    if summary is not None:
        # builds share a few rebuilt sets (one tuple per shape): group the builds by set
        # first, then add each group at once
        groups: dict[int, tuple[tuple[int, ...], list[int]]] = {}
        for n, c in enumerate(summary.commits):
            t = c.rebuilt_instructions
            got = groups.get(id(t))
            if got is None:
                groups[id(t)] = (t, [n])
            else:
                got[1].append(n)
        for t, ns in groups.values():
            for i in t:
                rebuilt.setdefault(i, set()).update(ns)
    from layerlens.cache.ops import detect_volatile

    # as LL003: the replay's per-build args, or without history the ones their names give away
    volatile = set(subject.history.volatile_args) if subject.history is not None else set(
        detect_volatile(df))
    for stage in sorted(df.needed_stages()):
        members = [df.instructions[i] for i in df.stages[stage].instructions[1:]]
        if summary is not None:
            out += _merge_hints(members, rebuilt, subject.shipped(
                stage, "Every layer is stored, pushed and pulled separately; layers that always "
                "change together cost more than one.", "Every layer is snapshotted and stored "
                "separately (a builder stage is never pushed); layers that always change "
                "together cost more than one."))
        for r in (m for m in members if m.keyword == "run"):
            out += _split_hint(r, volatile)
    return out


def _merge_hints(members, rebuilt: dict[int, set[int]], reason: str) -> list[Suggestion]:
    """One hint per run of consecutive RUNs that rebuilt in exactly the same commits."""
    out: list[Suggestion] = []
    groups: list[list] = []
    for a, b in itertools.pairwise(members):
        ok = (a.keyword == "run" and b.keyword == "run" and rebuilt.get(a.index)
              and rebuilt.get(a.index) == rebuilt.get(b.index))
        if not ok:
            continue
        if groups and groups[-1][-1] is a:
            groups[-1].append(b)
        else:
            groups.append([a, b])
    for g in groups:
        n = len(rebuilt[g[0].index])
        lines = tuple(x.start_line for x in g)
        where = ", ".join(str(x) for x in lines[:-1]) + f" and {lines[-1]}"
        out.append(Suggestion(
            "LL007", "Merge RUNs that always rebuild together",
            f"the {len(g)} RUNs at lines {where} rebuilt in the same {n} commits: as one RUN "
            f"they make {len(g) - 1} layer{'s' if len(g) > 2 else ''} fewer",
            reason, lines, False,
            note="join them with && if none relies on another being a separate layer"))
    return out


def _split_hint(r, volatile: set[str]) -> list[Suggestion]:
    """A RUN whose top-level commands read a per-build arg only in some of them."""
    scripts = scripts_of(r)
    parts = [c for sc in scripts for c in sc.commands if not c.nested and c.words]
    if len(parts) < 2 or not volatile:
        return []
    hot = [c for c in parts
           if any(w.variables & volatile for w in c.words)
           or any(v is not None and v.variables & volatile for _, v in c.assignments)
           or any(rd.target is not None and rd.target.variables & volatile
                  for rd in c.redirects)]
    if not hot or len(hot) == len(parts):
        return []
    names = sorted(v for v in volatile if v in uses(r))
    return [Suggestion(
        "LL007", "Split a RUN whose parts change at different rates",
        f"RUN at line {r.start_line}: {len(hot)} of {len(parts)} commands read a "
        f"per-build arg ({', '.join(names)}), so the stable ones rerun on every build",
        "A RUN is one cache unit: its stable commands rebuild whenever its "
        "volatile ones do.", (r.start_line,), False,
        note="move the commands that use the per-build arg into a later RUN")]


RULE = Rule(
    "LL007", "merge-split", "Merge RUNs that always rebuild together",
    "Every layer is stored separately; layers that always change together cost more than one.",
    ("hint",), "RUNs that always rebuild together (one hint per run of them: merge); a RUN "
    "whose commands change at different rates (split)", check)
