"""Which instruction must stay before which, per stage (a `Precedence` graph).

An edge a -> b means a must stay before b:

* a defines a variable (ARG/ENV) that b reads, or both define the same name; a RUN reads
  every variable in its environment unless it is bounded, and then the ones it names;
* a is WORKDIR/USER/SHELL and b is an instruction it affects (RUN, COPY, ADD, WORKDIR);
* two RUNs keep their order;
* a COPY/ADD and a RUN keep their order unless the RUN is bounded (layerlens/runmodel) and
  neither reads nor writes where the COPY writes, its destination and the parent
  directories it creates;
* two COPY/ADD whose destinations may overlap keep their order, and so do two that share a
  parent directory when either sets an owner or mode (--chown, --chmod);
* config instructions (ENV, LABEL, CMD, ENTRYPOINT, EXPOSE, VOLUME, HEALTHCHECK, STOPSIGNAL,
  ONBUILD, MAINTAINER) keep their order among themselves, so the final config is unchanged.

Unknown means dependent: an unbounded RUN depends on everything before it.

The graph needs nodes, edges and predecessors only. It was a networkx DiGraph; importing
networkx costs 0.3 s of CPU (1 s of wall time on a loaded machine), most of what `suggest`
cost beyond `analyze` on juice-shop (issue #14), so `Precedence` offers that subset of the
DiGraph interface (code written for a DiGraph, tests included, still works with it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from layerlens.dockerfile.model import Dockerfile, Instruction
from layerlens.runmodel import effects

CONFIG = frozenset({"env", "label", "cmd", "entrypoint", "expose", "volume", "healthcheck",
                    "stopsignal", "onbuild", "maintainer"})
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")


def uses(ins: Instruction) -> set[str]:
    """Variables an instruction names (in its text, heredocs and flags)."""
    text = ins.original + "".join(h.content for h in ins.heredocs)
    return {a or b for a, b in _VAR.findall(text)}


def reads_var(ins: Instruction, name: str) -> bool:
    """May the instruction's result depend on variable `name`? A RUN sees every ARG and ENV
    in its environment: only a bounded RUN is known to ignore the ones it does not name."""
    if name in uses(ins):
        return True
    return ins.keyword == "run" and effects(ins).reads_env(name)


def defines(ins: Instruction) -> set[str]:
    if ins.keyword in ("arg", "env"):
        return {k for k, _ in ins.pairs}
    return set()


def _dest(ins: Instruction, workdir: str) -> str:
    d = (ins.expanded or ins.args)[-1] if (ins.expanded or ins.args) else ""
    if not d.startswith("/"):
        d = workdir.rstrip("/") + "/" + d
    return d


def _parents(path: str) -> list[str]:
    """The directories above `path`, "/" excluded: a COPY creates the missing ones (with
    its --chown owner), so they are written too."""
    out = []
    head = path.rstrip("/")
    while "/" in head.lstrip("/"):
        head = head.rsplit("/", 1)[0]
        out.append(head)
    return out


def _overlap(a: str, b: str) -> bool:
    a = a.rstrip("/") + "/"
    b = b.rstrip("/") + "/"
    return a.startswith(b) or b.startswith(a)


class Precedence:
    """A directed graph over instruction indexes: the subset of networkx.DiGraph's interface
    the optimizer and rules use. Edges keep their insertion order."""

    __slots__ = ("_preds", "_succ")

    def __init__(self) -> None:
        self._succ: dict[int, dict[int, None]] = {}
        self._preds: dict[int, dict[int, None]] = {}

    def add_node(self, n: int) -> None:
        self._succ.setdefault(n, {})
        self._preds.setdefault(n, {})

    def add_nodes_from(self, nodes: Iterable[int]) -> None:
        for n in nodes:
            self.add_node(n)

    def add_edge(self, a: int, b: int) -> None:
        self.add_node(a)
        self.add_node(b)
        self._succ[a][b] = None
        self._preds[b][a] = None

    def has_edge(self, a: int, b: int) -> bool:
        return b in self._succ.get(a, ())

    def predecessors(self, n: int) -> Iterator[int]:
        """The nodes with an edge to `n`; KeyError for an unknown node, as networkx."""
        return iter(self._preds[n])

    def successors(self, n: int) -> Iterator[int]:
        return iter(self._succ[n])

    @property
    def nodes(self) -> list[int]:
        return list(self._succ)

    @property
    def edges(self) -> list[tuple[int, int]]:
        return [(a, b) for a, bs in self._succ.items() for b in bs]

    def __contains__(self, n: object) -> bool:
        return n in self._succ

    def __len__(self) -> int:
        return len(self._succ)


def stage_graph(df: Dockerfile, stage: int) -> Precedence:
    """Precedence graph over the stage's instructions (FROM excluded), by instruction index."""
    st = df.stages[stage]
    items = [df.instructions[i] for i in st.instructions[1:]]
    g = Precedence()
    g.add_nodes_from(ins.index for ins in items)
    workdir = "/"
    dests: dict[int, str] = {}
    for ins in items:
        if ins.keyword == "workdir" and ins.expanded:
            wd = ins.expanded[0]
            workdir = wd if wd.startswith("/") else workdir.rstrip("/") + "/" + wd
        if ins.keyword in ("copy", "add"):
            dests[ins.index] = _dest(ins, workdir)
    for j, b in enumerate(items):
        for a in items[:j]:
            if _must_precede(a, b, dests):
                g.add_edge(a.index, b.index)
    return g


def _must_precede(a: Instruction, b: Instruction, dests: dict[int, str]) -> bool:
    ka, kb = a.keyword, b.keyword
    if defines(a) & defines(b) or any(reads_var(b, n) for n in defines(a)):
        return True
    if ka == "run" and any(reads_var(a, n) for n in defines(b)):
        return True  # a RUN before an ARG/ENV it may read must stay before it
    if ka in ("workdir", "user", "shell") and kb in ("run", "copy", "add", "workdir"):
        return True
    if kb in ("workdir", "user", "shell") and ka in ("run", "copy", "add", "workdir"):
        return True  # the reverse: those ran under the old setting
    if ka == "run" and kb == "run":
        return True
    if "run" in (ka, kb) and "env" in (ka, kb):
        return True  # a RUN sees every ENV as its environment, referenced or not
    if {ka, kb} == {"run", "copy"} or {ka, kb} == {"run", "add"}:
        run, copy = (a, b) if ka == "run" else (b, a)
        eff = effects(run)
        d = dests.get(copy.index, "/")
        if copy.flag("chown") is not None and (eff.may_write("/etc/passwd") or
                                               eff.may_write("/etc/group")):
            return True  # --chown=name looks the name up in the image's user database
        # The COPY writes its destination and creates its missing parents: a RUN that
        # makes or uses a file beside it (`echo > /app/done`, `mkdir -p /app/data`) must keep
        # its side of the COPY, or it fails or leaves the parent with another owner.
        return any(eff.may_read(p) or eff.may_write(p) for p in (d, *_parents(d)))
    if ka in ("copy", "add") and kb in ("copy", "add"):
        da, db = dests.get(a.index, "/"), dests.get(b.index, "/")
        if _overlap(da, db):
            return True
        owned = any(x.flag(f) is not None for x in (a, b) for f in ("chown", "chmod"))
        return owned and bool(set(_parents(da)) & set(_parents(db)))
    if ka in CONFIG and kb in CONFIG:
        return True
    return ka == "arg" and kb == "arg" and bool(defines(a) & defines(b))


def allowed(g: Precedence, order: list[int]) -> bool:
    pos = {n: i for i, n in enumerate(order)}
    return all(pos[a] < pos[b] for a, b in g.edges)
