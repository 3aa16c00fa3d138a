"""Which instruction must stay before which, per stage (a `Precedence` graph).

An edge a -> b means a must stay before b:

* a defines a variable (ARG/ENV) that b reads, or both define the same name; a RUN reads
  every variable in its environment unless it is bounded, and then the ones it names;
* a is WORKDIR/USER/SHELL and b is an instruction it affects (RUN, COPY, ADD, WORKDIR),
  except a bounded RUN and a WORKDIR: a bounded RUN names only absolute paths, so its
  working directory does not matter, and the pair keeps its order only when the RUN reads
  or writes the directory the WORKDIR creates or its parents, reads PWD, or may edit the
  user database while a USER is set (BuildKit creates the WORKDIR directory owned by the
  configured user, looked up in the image's /etc/passwd; with no USER it is root's);
* two RUNs keep their order, unless both are bounded and neither writes where the other
  reads or writes;
* a COPY/ADD and a RUN keep their order unless the RUN is bounded (layerlens/runmodel) and
  neither reads nor writes where the COPY writes, its destination and the parent
  directories it creates;
* a COPY/ADD and a WORKDIR keep their order unless the COPY's destination is absolute and
  lies neither inside nor above the WORKDIR's directory ("/" always exists);
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
    user = _user_in_base(df, stage)
    owned: set[int] = set()  # WORKDIRs that run under a USER
    for ins in items:
        if ins.keyword == "user":
            user = True
        if ins.keyword == "workdir" and ins.expanded:
            wd = ins.expanded[0]
            workdir = wd if wd.startswith("/") else workdir.rstrip("/") + "/" + wd
            dests[ins.index] = workdir
            if user:
                owned.add(ins.index)
        if ins.keyword in ("copy", "add"):
            dests[ins.index] = _dest(ins, workdir)
    settings = _stage_defines(df, stage)
    if not _from_scratch(df, stage):
        settings = settings | {_HAS_FHS}
    for j, b in enumerate(items):
        for a in items[:j]:
            if _must_precede(a, b, dests, settings, owned):
                g.add_edge(a.index, b.index)
    return g


# Directories every distribution image holds (Debian, Alpine, UBI, distroless): a COPY
# never creates them, so a RUN writing below them is no hazard to the COPY's parents.
ALWAYS_PRESENT = frozenset({"/etc", "/usr", "/var", "/tmp"})
_HAS_FHS = "\0fhs"  # marker in `settings`: the stage is built on an image, not scratch


def _from_scratch(df: Dockerfile, stage: int) -> bool:
    cur: int | None = stage
    seen: set[int] = set()
    while cur is not None and cur not in seen:
        seen.add(cur)
        st = df.stages[cur]
        if st.base_stage is None:
            base = (st.base or "").strip().lower()
            return base == "scratch" or not base or "$" in base  # unknown: maybe scratch
        cur = st.base_stage
    return True


def _user_in_base(df: Dockerfile, stage: int) -> bool:
    """Does a stage this one is built on (in the Dockerfile) set USER?"""
    cur = df.stages[stage].base_stage
    seen: set[int] = set()
    while cur is not None and cur not in seen:
        seen.add(cur)
        if any(df.instructions[i].keyword == "user" for i in df.stages[cur].instructions[1:]):
            return True
        cur = df.stages[cur].base_stage
    return False


def _stage_defines(df: Dockerfile, stage: int) -> frozenset[str]:
    """Variables ARG/ENV define in the stage and the stages it is built on."""
    out: set[str] = set()
    cur: int | None = stage
    seen: set[int] = set()
    while cur is not None and cur not in seen:
        seen.add(cur)
        for i in df.stages[cur].instructions[1:]:
            out |= defines(df.instructions[i])
        cur = df.stages[cur].base_stage
    return frozenset(out)


def _settings_moved(eff, settings: frozenset[str]) -> bool:
    """Does the Dockerfile set HOME or a variable that configures the RUN's tools, so that
    their reads and writes may lie elsewhere than the allowlist says?"""
    if eff.reads_home and "HOME" in settings:
        return True
    return any(n.startswith(eff.env_prefixes) for n in settings) if eff.env_prefixes else False


def _bounded_run_ignores_workdir(run: Instruction, workdir: str, owned: bool) -> bool:
    eff = effects(run)
    if not eff.bounded or "PWD" in eff.env:
        return False
    if owned and (eff.may_write("/etc/passwd") or eff.may_write("/etc/group")):
        return False
    return not any(eff.may_read(p) or eff.may_write(p) for p in (workdir, *_parents(workdir)))


def _copy_ignores_workdir(copy: Instruction, workdir: str) -> bool:
    """A COPY to an absolute destination outside the WORKDIR's directory (and not a parent
    of it) neither depends on the WORKDIR nor changes what it creates."""
    dest = (copy.expanded or copy.args)[-1] if (copy.expanded or copy.args) else ""
    if not dest.startswith("/") or workdir.rstrip("/") == "":
        return dest.startswith("/") and workdir.rstrip("/") == ""
    if copy.flag("chown") is not None or copy.flag("chmod") is not None:
        return False
    return not _overlap(dest, workdir)


def _disjoint_runs(a: Instruction, b: Instruction) -> bool:
    """Two bounded RUNs, neither writing where the other reads or writes: either order
    leaves the same files."""
    ea, eb = effects(a), effects(b)
    if not (ea.bounded and eb.bounded):
        return False
    for w in ea.writes:
        if eb.may_read(w) or eb.may_write(w):
            return False
    return not any(ea.may_read(w) for w in eb.writes)


def _must_precede(a: Instruction, b: Instruction, dests: dict[int, str],
                  settings: frozenset[str] = frozenset(),
                  owned: frozenset[int] | set[int] = frozenset()) -> bool:
    ka, kb = a.keyword, b.keyword
    if defines(a) & defines(b) or any(reads_var(b, n) for n in defines(a)):
        return True
    if ka == "run" and any(reads_var(a, n) for n in defines(b)):
        return True  # a RUN before an ARG/ENV it may read must stay before it
    if {ka, kb} == {"workdir", "run"}:
        run, wd = (a, b) if ka == "run" else (b, a)
        return not _bounded_run_ignores_workdir(run, dests.get(wd.index, "/"),
                                                wd.index in owned)
    if {ka, kb} in ({"workdir", "copy"}, {"workdir", "add"}):
        copy, wd = (a, b) if ka != "workdir" else (b, a)
        return not _copy_ignores_workdir(copy, dests.get(wd.index, "/"))
    if ka in ("workdir", "user", "shell") and kb in ("run", "copy", "add", "workdir"):
        return True
    if kb in ("workdir", "user", "shell") and ka in ("run", "copy", "add", "workdir"):
        return True  # the reverse: those ran under the old setting
    if ka == "run" and kb == "run":
        return not _disjoint_runs(a, b)
    if "run" in (ka, kb) and "env" in (ka, kb):
        return True  # a RUN sees every ENV as its environment, referenced or not
    if {ka, kb} == {"run", "copy"} or {ka, kb} == {"run", "add"}:
        run, copy = (a, b) if ka == "run" else (b, a)
        eff = effects(run)
        if _settings_moved(eff, settings):
            return True
        d = dests.get(copy.index, "/")
        if copy.flag("chown") is not None and (eff.may_write("/etc/passwd") or
                                               eff.may_write("/etc/group")):
            return True  # --chown=name looks the name up in the image's user database
        # The COPY writes its destination and creates its missing parents: a RUN that
        # makes or uses a file beside it (`echo > /app/done`, `mkdir -p /app/data`) must keep
        # its side of the COPY, or it fails or leaves the parent with another owner.
        parents = [p for p in _parents(d) if _HAS_FHS not in settings or p not in ALWAYS_PRESENT]
        return any(eff.may_read(p) or eff.may_write(p) for p in (d, *parents))
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
