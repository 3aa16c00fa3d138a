"""LL010: split a RUN's context-free head off and run it before the broad COPY.

`RUN apt-get install -y gcc && pip install -r requirements.txt` after `COPY . .` reinstalls
gcc on every source edit: the two parts change at different rates. When the RUN is a plain
`&&` chain whose leading commands the RUN model bounds (layerlens/runmodel/), the chain is
split into `RUN head` and `RUN rest`, and the head moves up past the instructions the
precedence graph lets it pass (layerlens/suggest/graph.py), above the broad COPY.

Safe by the model: a `&&` chain stops at the first failure either way, the head changes no
shell state the rest could see (no cd, export, set, source, variable assignment), and the
graph proves the head reads and writes nothing the instructions it passes touch. Only the
layer boundaries change; the final root filesystem and config are the same. The saving is
measured by replay like every fix; where the replay prices both RUNs alike (the documented
20 s default), the split alone saves nothing and the engine shows it as a hint.
"""

from __future__ import annotations

from layerlens.dockerfile import parse
from layerlens.dockerfile.model import Dockerfile, Instruction
from layerlens.errors import LayerlensError
from layerlens.runmodel import effects, parse_script
from layerlens.suggest.graph import stage_graph
from layerlens.suggest.model import Suggestion
from layerlens.suggest.rewrite import move_before, replace_instruction
from layerlens.suggest.rule import Rule, Subject
from layerlens.suggest.rules.ll009_context_free_first import broad_copy

_STATE = frozenset({"cd", "export", "set", "unset", "source", ".", "alias", "umask", "trap",
                    "shopt", "ulimit", "exec"})


def split_point(ins: Instruction) -> tuple[str, str] | None:
    """(head, rest) of a shell-form RUN that is a flat `&&` chain with a bounded head of
    one or more commands and a rest that is not bounded; None otherwise."""
    if ins.keyword != "run" or ins.exec_form or ins.heredocs or ins.flags or not ins.args:
        return None
    body = ins.args[0]
    script = parse_script(body)
    cmds = script.commands
    if script.errors or script.compound or len(cmds) < 2 or any(c.nested for c in cmds):
        return None
    if any(op != "&&" for op in script.operators) or len(script.operators) != len(cmds) - 1:
        return None
    src = script.source
    best = None
    for k in range(1, len(cmds)):
        head_cmds = cmds[:k]
        if any(c.assignments or (c.name or "") in _STATE for c in head_cmds):
            break
        head = src[cmds[0].start:cmds[k - 1].end].decode("utf-8", "surrogateescape").strip()
        if not _bounded(head):
            break
        best = k
    if best is None:
        return None
    head = src[cmds[0].start:cmds[best - 1].end].decode("utf-8", "surrogateescape").strip()
    rest = src[cmds[best].start:cmds[-1].end].decode("utf-8", "surrogateescape").strip()
    if _bounded(rest):
        return None  # all of it is bounded: LL001 moves the whole RUN
    return head, rest


def _bounded(script: str) -> bool:
    try:
        run = parse(f"FROM scratch\nRUN {script}\n").instructions[1]
    except LayerlensError:  # a fragment the reader refuses is not bounded
        return False
    return effects(run).bounded


def _rewrite(df: Dockerfile, ins: Instruction, head: str, rest: str) -> tuple[str, int] | None:
    """The split RUNs with the head moved as far up as the graph allows (above the broad
    COPY); None when it cannot pass that COPY. Also the 1-based line of the head."""
    kw = ins.original.split(None, 1)[0]
    text = replace_instruction(df, ins, f"{kw} {head}\n{kw} {rest}")
    df2 = parse(text, df.path)
    head_ins = next(i for i in df2.instructions if i.start_line == ins.start_line)
    stage = head_ins.stage
    members = [df2.instructions[i] for i in df2.stages[stage].instructions[1:]]
    g = stage_graph(df2, stage)
    pos = members.index(head_ins)
    target = None
    for k in range(pos - 1, -1, -1):  # the graph holds an edge for every ordered pair
        if g.has_edge(members[k].index, head_ins.index):
            break
        target = members[k]
    if target is None:
        return None
    passed = members[members.index(target):pos]
    if not any(broad_copy(m) for m in passed):
        return None
    return move_before(df2, head_ins, target), target.start_line


def check(subject: Subject) -> list[Suggestion]:
    df = subject.df
    out: list[Suggestion] = []
    for stage in sorted(df.needed_stages()):
        members = [df.instructions[i] for i in df.stages[stage].instructions[1:]]
        seen_copy = False
        for ins in members:
            seen_copy |= broad_copy(ins)
            if not seen_copy or ins.keyword != "run":
                continue
            parts = split_point(ins)
            if parts is None:
                continue
            got = _rewrite(df, ins, *parts)
            if got is None:
                continue
            new_text, _ = got
            savings = subject.measure(new_text) if subject.history is not None else None
            out.append(Suggestion(
                "LL010", RULE.title,
                f"the head of the RUN at line {ins.start_line} (`{parts[0][:60]}`) reads "
                "nothing the broad COPY brings in: split it off and run it first",
                RULE.reason, (ins.start_line,), True, savings, dockerfile=new_text))
    return out


RULE = Rule(
    "LL010", "split-bounded-head",
    "Split a RUN's context-free head off and run it before the broad COPY",
    "A RUN that installs system packages and then builds the source reinstalls the packages "
    "on every source edit; the two parts change at different rates.", ("safe", "hint"),
    "split the bounded head of a `&&` chain (system package installs, ...) off a RUN after "
    "the broad COPY and move it above (safe: the RUN model bounds the head)", check)
