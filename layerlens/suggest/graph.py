"""Which instruction must stay before which, per stage (a networkx DiGraph).

An edge a -> b means a must stay before b:

* a defines a variable (ARG/ENV) that b reads, or both define the same name;
* a is WORKDIR/USER/SHELL and b is an instruction it affects (RUN, COPY, ADD, WORKDIR);
* two RUNs keep their order;
* a COPY/ADD and a RUN keep their order unless the RUN is recognised as touching only
  system locations (package installs) and the COPY writes elsewhere;
* two COPY/ADD whose destinations may overlap keep their order;
* config instructions (ENV, LABEL, CMD, ENTRYPOINT, EXPOSE, VOLUME, HEALTHCHECK, STOPSIGNAL,
  ONBUILD, MAINTAINER) keep their order among themselves, so the final config is unchanged.

Unknown means dependent: a RUN that is not recognised depends on everything before it.
"""

from __future__ import annotations

import re

import networkx as nx

from layerlens.dockerfile.model import Dockerfile, Instruction

CONFIG = frozenset({"env", "label", "cmd", "entrypoint", "expose", "volume", "healthcheck",
                    "stopsignal", "onbuild", "maintainer"})
SYSTEM_DIRS = ("/usr/", "/etc/", "/var/", "/lib/", "/lib64/", "/bin/", "/sbin/", "/opt/",
               "/root/", "/home/", "/tmp/")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")
_PKG_CMD = re.compile(
    r"^(?:apt-get|apt|apk|yum|dnf|microdnf|zypper|apt-mark|dpkg-reconfigure|update-ca-certificates|"
    r"echo|true|set|rm|ln|mkdir|chmod|locale-gen|export|cd)\b"
)
_SPLIT = re.compile(r"&&|\|\||;|\n")
_SYSTEM_RM = re.compile(r"^rm\s+(-[a-zA-Z]+\s+)*(/var/|/tmp/|/root/\.cache|/usr/share/)")


def uses(ins: Instruction) -> set[str]:
    """Variables an instruction reads (in its text, heredocs and flags)."""
    text = ins.original + "".join(h.content for h in ins.heredocs)
    return {a or b for a, b in _VAR.findall(text)}


def defines(ins: Instruction) -> set[str]:
    if ins.keyword in ("arg", "env"):
        return {k for k, _ in ins.pairs}
    return set()


def system_only_run(ins: Instruction) -> bool:
    """A RUN that only installs or removes system packages: it reads no copied files."""
    if ins.keyword != "run" or ins.exec_form or ins.heredocs or ins.mounts:
        return False
    body = ins.args[0] if ins.args else ""
    if "useradd" in body or "adduser" in body or "groupadd" in body:
        return False
    parts = [p.strip() for p in _SPLIT.split(body.replace("\\\n", " ")) if p.strip()]
    if not parts:
        return False
    saw_pkg = False
    for p in parts:
        if not _PKG_CMD.match(p):
            return False
        if p.startswith("rm") and not _SYSTEM_RM.match(p):
            return False
        if p.startswith(("cd", "mkdir", "chmod", "ln")) and not any(
            d in p for d in SYSTEM_DIRS
        ):
            return False
        if p.split()[0] in ("apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper"):
            saw_pkg = True
    return saw_pkg


def _dest(ins: Instruction, workdir: str) -> str:
    d = (ins.expanded or ins.args)[-1] if (ins.expanded or ins.args) else ""
    if not d.startswith("/"):
        d = workdir.rstrip("/") + "/" + d
    return d


def _overlap(a: str, b: str) -> bool:
    a = a.rstrip("/") + "/"
    b = b.rstrip("/") + "/"
    return a.startswith(b) or b.startswith(a)


def stage_graph(df: Dockerfile, stage: int) -> nx.DiGraph:
    """Precedence graph over the stage's instructions (FROM excluded), by instruction index."""
    st = df.stages[stage]
    items = [df.instructions[i] for i in st.instructions[1:]]
    g = nx.DiGraph()
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
        b_uses = uses(b)
        for a in items[:j]:
            if _must_precede(a, b, b_uses, dests):
                g.add_edge(a.index, b.index)
    return g


def _must_precede(a: Instruction, b: Instruction, b_uses: set[str],
                  dests: dict[int, str]) -> bool:
    ka, kb = a.keyword, b.keyword
    if defines(a) & (b_uses | defines(b)):
        return True
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
        if not system_only_run(run):
            return True
        d = dests.get(copy.index, "/")
        return any(d.startswith(s) or s.startswith(d.rstrip("/") + "/") for s in SYSTEM_DIRS)
    if ka in ("copy", "add") and kb in ("copy", "add"):
        return _overlap(dests.get(a.index, "/"), dests.get(b.index, "/"))
    if ka in CONFIG and kb in CONFIG:
        return True
    return ka == "arg" and kb == "arg" and bool(defines(a) & defines(b))


def allowed(g: nx.DiGraph, order: list[int]) -> bool:
    pos = {n: i for i, n in enumerate(order)}
    return all(pos[a] < pos[b] for a, b in g.edges)
