"""LL007: RUNs that always rebuild together could be one layer; a RUN whose parts change at
different rates could be split.

Two adjacent RUNs that rebuilt in exactly the same commits give nothing for being two
layers: one merged layer is one fewer to store, push and pull. A RUN that reads a build
arg changing every build in one of its parts rebuilds its stable parts every time too.
Hints only: whether the merged or split commands behave the same depends on the commands.
"""

from __future__ import annotations

import itertools

from layerlens.suggest.engine import Rule, Subject
from layerlens.suggest.graph import uses
from layerlens.suggest.model import Suggestion


def check(subject: Subject) -> list[Suggestion]:
    df = subject.df
    out: list[Suggestion] = []
    summary = subject.summary(subject.text) if subject.history is not None else None
    rebuilt: dict[int, set[int]] = {}
    if summary is not None:
        for n, c in enumerate(summary.commits):
            for i in c.rebuilt_instructions:
                rebuilt.setdefault(i, set()).add(n)
    volatile = set(subject.history.volatile_args) if subject.history is not None else set()
    for stage in sorted(df.needed_stages()):
        members = [df.instructions[i] for i in df.stages[stage].instructions[1:]]
        runs = [m for m in members if m.keyword == "run"]
        for a, b in itertools.pairwise(members):
            if a.keyword != "run" or b.keyword != "run" or summary is None:
                continue
            ra, rb = rebuilt.get(a.index, set()), rebuilt.get(b.index, set())
            if ra and ra == rb:
                out.append(Suggestion(
                    "LL007", "Merge RUNs that always rebuild together",
                    f"RUNs at lines {a.start_line} and {b.start_line} rebuilt in the same "
                    f"{len(ra)} commits: as one RUN they make one layer fewer",
                    "Every layer is stored, pushed and pulled separately; two layers that "
                    "always change together cost more than one.",
                    (a.start_line, b.start_line), False,
                    note="join them with && if the second does not rely on the first being "
                    "a separate layer"))
        for r in runs:
            if r.exec_form or not r.args or "&&" not in r.args[0]:
                continue
            parts = [p.strip() for p in r.args[0].split("&&") if p.strip()]
            hot = [p for p in parts if any(("$" + v) in p or ("${" + v) in p for v in volatile)]
            if hot and len(hot) < len(parts):
                out.append(Suggestion(
                    "LL007", "Split a RUN whose parts change at different rates",
                    f"RUN at line {r.start_line}: {len(hot)} of {len(parts)} commands read a "
                    f"per-build arg ({', '.join(sorted(v for v in volatile if v in uses(r)))}), "
                    "so the stable ones rerun on every build",
                    "A RUN is one cache unit: its stable commands rebuild whenever its "
                    "volatile ones do.", (r.start_line,), False,
                    note="move the commands that use the per-build arg into a later RUN"))
    return out


RULE = Rule("LL007", "merge-split", "RUNs that change together or apart", check)
