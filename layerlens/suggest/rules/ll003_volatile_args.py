"""LL003: a build arg that changes every build (commit SHA, date, version) declared early.

Every RUN after such an ARG sees it in its environment, so every one of them misses the
cache on every build. Declared just before the first instruction that uses it, it costs
only what follows that use.
"""

from __future__ import annotations

from layerlens.runmodel import effects
from layerlens.suggest.graph import uses
from layerlens.suggest.model import Suggestion
from layerlens.suggest.rewrite import move_before
from layerlens.suggest.rule import Rule, Subject

LAYER = ("run", "copy", "add", "workdir")


def check(subject: Subject) -> list[Suggestion]:
    from layerlens.cache.ops import detect_volatile

    df = subject.df
    volatile = set(detect_volatile(df))
    if subject.history is not None:
        volatile = set(subject.history.volatile_args)
    out: list[Suggestion] = []
    for stage in sorted(df.needed_stages()):
        members = [df.instructions[i] for i in df.stages[stage].instructions[1:]]
        for k, ins in enumerate(members):
            if ins.keyword != "arg" or len(ins.pairs) != 1:
                continue
            name = ins.pairs[0][0]
            if name not in volatile:
                continue
            later = members[k + 1:]
            # LABELs that read it travel with it; the first layer instruction that reads it
            # (or the end of the stage) is where the group goes.
            first_use = next((x for x in later if x.keyword in LAYER and name in uses(x)), None)
            passengers = [x for x in later if x.keyword == "label" and name in uses(x)
                          and (first_use is None or x.index < first_use.index)]
            blockers = [x for x in later if x.keyword not in LAYER and x.keyword != "label"
                        and name in uses(x) and (first_use is None or x.index < first_use.index)]
            between = later[: later.index(first_use)] if first_use else later
            runs = [x for x in between if x.keyword == "run"]
            if not runs or blockers:
                continue
            title = RULE.title
            reason = (f"{name} changes on every build; every RUN after its ARG sees it in its "
                      "environment and misses the cache. RUNs left before it no longer get it: "
                      "the move is safe only past RUNs whose commands are known not to read it.")
            lines = (ins.start_line, *(p.start_line for p in passengers))
            new_text = _move_group(df, [ins, *passengers], first_use, members)
            open_runs = [(x, effects(x)) for x in runs if not effects(x).bounded]
            safety, unsafe_reason = "safe", None
            if open_runs:
                x, eff = open_runs[0]
                safety = "unsafe"
                unsafe_reason = (f"the RUN at line {x.start_line} may read {name} from its "
                                 f"environment ({eff.why[0]}), and would no longer see it")
            savings = subject.measure(new_text)
            where = (f"just before line {first_use.start_line}" if first_use
                     else "the end of the stage")
            out.append(Suggestion(
                "LL003", title,
                f"move ARG {name} (line {ins.start_line})"
                f"{' with the LABEL that reads it' if passengers else ''} to {where}: "
                f"{len(runs)} RUN{'s stop' if len(runs) != 1 else ' stops'} rebuilding on "
                "every build",
                reason, lines, True, savings, dockerfile=new_text, safety=safety,
                unsafe_reason=unsafe_reason,
            ))
    return out


def _find(df, ins):
    """The same instruction in a re-parsed text (same stage, same text)."""
    return next(i for i in df.instructions if i.original == ins.original
                and i.stage == ins.stage)


def _move_group(df, group, target, members) -> str:
    """Move the instructions of `group` (in order) before `target`, or after the stage end."""
    from layerlens.dockerfile import parse
    from layerlens.suggest.rewrite import move_after

    text = df.source
    cur = df
    last = members[-1]
    for ins in group:  # in order; after the stage end, each after the one moved before it
        if target is not None:
            text = move_before(cur, _find(cur, ins), _find(cur, target))
        else:
            text = move_after(cur, _find(cur, ins), _find(cur, last))
            last = ins
        cur = parse(text, df.path)
    return text


RULE = Rule(
    "LL003", "volatile-args", "Declare a per-build ARG after the layers that do not use it",
    "A per-build ARG changes on every build; every RUN after it sees it in its environment and "
    "misses the cache.", ("safe", "unsafe"),
    "a per-build ARG (commit SHA, date, version) early in a stage: move it, with the LABELs "
    "that read it, past the layers that do not use it; unsafe past a RUN whose commands may "
    "read it from the environment", check)
