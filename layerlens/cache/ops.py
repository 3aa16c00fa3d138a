"""The build cache's view of a Dockerfile: per stage, the chain of cached operations.

This models BuildKit's keys. Operations that produce a layer (RUN, COPY, ADD, and WORKDIR,
which BuildKit runs as a mkdir) form a chain; each operation's key is its parent's key plus
its own definition:

* RUN: the command (exec or shell form, with the SHELL in force), the environment it runs
  with (ENV plus the build ARGs in scope), working directory, user, network, security and
  mount options, plus the content of context files bind-mounted with
  `--mount=type=bind` (cache, secret, tmpfs and ssh mounts contribute only their options);
* COPY/ADD: the expanded sources, destination and flags, plus content and mode (never the
  mtime) of exactly the context files it brings in, after `.dockerignore`;
* `COPY --from` / `--mount ... from=` another stage: that stage's final key, so a rebuilt
  stage misses here;
* metadata instructions (ENV, ARG, LABEL, USER, EXPOSE, CMD, ...) make no layer; they act
  through the definitions of the RUNs after them, so an ENV or ARG change misses at the next
  RUN, and a LABEL change rebuilds nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from layerlens.context.inputs import glob_base, glob_regex, has_wildcard, source_kind
from layerlens.context.patterns import Matcher, compile_pattern, go_clean
from layerlens.dockerfile.model import Dockerfile, Instruction, find_stage

CHAIN_KEYWORDS = frozenset({"run", "copy", "add", "workdir"})
# Build-arg names that usually carry a per-build value (commit, date, version).
VOLATILE_ARG_NAMES = frozenset(
    {
        "GIT_SHA", "GIT_COMMIT", "GIT_COMMIT_SHA", "GIT_REV", "GIT_REVISION", "COMMIT",
        "COMMIT_SHA", "COMMIT_HASH", "SOURCE_COMMIT", "VCS_REF", "REVISION", "BUILD_DATE",
        "BUILD_TIME", "BUILD_TIMESTAMP", "BUILD_NUMBER", "BUILD_ID", "BUILD_VERSION",
        "VERSION", "APP_VERSION", "RELEASE", "CI_COMMIT_SHA", "GITHUB_SHA", "SOURCE_DATE_EPOCH",
    }
)


@dataclass(frozen=True, slots=True)
class Reader:
    """Which context paths one source reads: `path == root`, below it, or a glob match."""

    root: str  # cleaned, relative; '' for the whole context
    glob: re.Pattern[str] | None
    depth: int  # number of path segments the glob spans
    exclude: Matcher | None
    base: str  # directory that --exclude patterns are relative to
    # A literal COPY/ADD source: the build fails when it matches nothing. Wildcards may
    # match nothing (BuildKit copies with AllowEmptyWildcard), and `.` always exists.
    required: bool = False

    def reads(self, path: str) -> bool:
        if self.glob is not None:
            parts = path.split("/")
            if len(parts) < self.depth:
                return False
            if not self.glob.match("/".join(parts[: self.depth])):
                return False
        elif self.root and path != self.root and not path.startswith(self.root + "/"):
            return False
        if self.exclude is not None:
            rel = path[len(self.base) + 1 :] if self.base and path.startswith(self.base + "/") \
                else path
            if path == self.root and "/" in path:
                rel = path.rsplit("/", 1)[1]
            if self.exclude.excludes(rel):
                return False
        return True


@dataclass(frozen=True, slots=True)
class Op:
    instruction: int
    stage: int
    line: int
    keyword: str
    definition: str
    readers: tuple[Reader, ...]  # context files whose content is part of the key
    stage_refs: tuple[int, ...]  # stages whose final key is part of the key
    volatile: tuple[str, ...]  # build args modelled as changing on every build
    # `COPY --link` / `ADD --link`: BuildKit copies onto an empty layer and merges it, so the
    # copy's own cache key does not include the layers before it
    link: bool
    # stable across Dockerfile versions: stage label + normalized text, and "\x01N" for the
    # Nth repeat of the same text in a stage (two `WORKDIR /app` are two operations)
    identity: str

    @property
    def reads_context(self) -> bool:
        return bool(self.readers)

    def reads(self, path: str) -> bool:
        return any(r.reads(path) for r in self.readers)


@dataclass(frozen=True, slots=True)
class StagePlan:
    index: int
    base_image: str | None  # None when based on a stage
    base_stage: int | None
    platform: str
    ops: tuple[Op, ...]


@dataclass(frozen=True, slots=True)
class BuildPlan:
    """What the builder runs for the target, in dependency order."""

    stages: tuple[StagePlan, ...]  # only needed stages, dependencies first
    pushed_stages: frozenset[int]  # the target and the stages it is FROM (its image layers)
    volatile_args: frozenset[str]


def _reader(src: str, excludes: tuple[str, ...], *, copy_source: bool = False) -> Reader:
    rel = go_clean("/" + src)[1:]
    pats = [p for p in (compile_pattern(x) for x in excludes) if p]
    exclude = Matcher(pats, "--exclude") if pats else None
    if has_wildcard(rel):
        return Reader(rel, glob_regex(rel), rel.count("/") + 1, exclude, glob_base(rel))
    return Reader(rel, None, 0, exclude, rel, required=copy_source and rel != "")


def _norm(ins: Instruction) -> str:
    return " ".join(ins.original.split())


def build_plan(
    df: Dockerfile,
    *,
    volatile_args: frozenset[str] = frozenset(),
    target: int | None = None,
) -> BuildPlan:
    needed = df.needed_stages(target)
    tgt = len(df.stages) - 1 if target is None else target
    pushed = set()
    cur: int | None = tgt
    while cur is not None and cur not in pushed:
        pushed.add(cur)
        cur = df.stages[cur].base_stage
    plans: dict[int, StagePlan] = {}
    state: dict[int, tuple[str, str, str]] = {}  # stage -> (workdir, user, shell) at its end
    for st in df.stages:
        if st.index not in needed:
            continue
        if st.base_stage is not None:
            workdir, user, shell = state.get(st.base_stage, ("/", "", '["/bin/sh","-c"]'))
        else:
            workdir, user, shell = "/", "", '["/bin/sh","-c"]'
        declared: set[str] = set()
        if st.base_stage is not None:
            declared |= {k for k, _ in df.stages[st.base_stage].args}
        ops: list[Op] = []
        label = st.name or f"stage {st.index}"
        if st.base_stage is not None:
            # The parent stage's ONBUILD triggers run first in a stage built FROM it.
            ops += _onbuild_ops(df, st.base_stage, st.index, label, volatile_args)
        for idx in st.instructions[1:]:
            ins = df.instructions[idx]
            kw = ins.keyword
            if kw == "arg":
                declared |= {k for k, _ in ins.pairs}
                continue
            if kw == "user":
                user = ins.expanded[0] if ins.expanded else ""
                continue
            if kw == "shell":
                shell = json.dumps(list(ins.args), separators=(",", ":"))
                continue
            if kw == "workdir":
                wd = ins.expanded[0] if ins.expanded else "/"
                workdir = go_clean(wd if wd.startswith("/") else workdir.rstrip("/") + "/" + wd)
            if kw not in CHAIN_KEYWORDS:
                continue
            readers: list[Reader] = []
            refs: list[int] = []
            volatile: tuple[str, ...] = ()
            if kw == "run":
                env = dict(ins.build_args)
                env.update(ins.env)
                volatile = tuple(sorted(declared & volatile_args))
                for name in volatile:
                    env.pop(name, None)
                mounts = []
                for m in ins.mounts:
                    mounts.append(list(m.options))
                    if m.type == "bind":
                        if m.from_:
                            ref = find_stage(df.stages, m.from_)
                            if ref is not None:
                                refs.append(ref)
                        else:
                            readers.append(_reader(m.source or ".", ()))
                definition = json.dumps(
                    {
                        "run": list(ins.args), "exec": ins.exec_form,
                        "heredocs": [[h.name, h.body, h.expand] for h in ins.heredocs],
                        "shell": None if ins.exec_form else shell,
                        "env": sorted(env.items()), "workdir": workdir, "user": user,
                        "mounts": mounts,
                        "flags": sorted(f.raw for f in ins.flags if f.name != "mount"),
                    },
                    sort_keys=True,
                )
            elif kw in ("copy", "add"):
                sources = ins.expanded[:-1]
                dest = ins.expanded[-1] if ins.expanded else ""
                excludes = ins.flag_values("exclude")
                if ins.from_stage is not None:
                    refs.append(ins.from_stage)
                else:
                    for src in sources:
                        if source_kind(ins, src) == "context":
                            readers.append(_reader(src, excludes, copy_source=True))
                definition = json.dumps(
                    {
                        "op": kw, "src": list(sources), "dest": dest,
                        "workdir": workdir if not dest.startswith("/") else "",
                        "flags": sorted(f.name + "=" + (f.value or "") for f in ins.flags),
                        "heredocs": [[h.name, h.body, h.expand] for h in ins.heredocs],
                        "from_image": ins.from_image,
                    },
                    sort_keys=True,
                )
            else:  # workdir
                definition = json.dumps({"mkdir": workdir})
            link = kw in ("copy", "add") and _link(ins)
            ops.append(Op(idx, st.index, ins.start_line, kw, definition, tuple(readers),
                          tuple(refs), volatile, link, f"{label}\0{_norm(ins)}"))
        ops = _distinct_identities(ops)
        state[st.index] = (workdir, user, shell)
        base_image = None if st.base_stage is not None else st.base
        plans[st.index] = StagePlan(st.index, base_image, st.base_stage,
                                    st.platform or df.platform, tuple(ops))
    order = _topo(plans)
    return BuildPlan(tuple(plans[i] for i in order), frozenset(pushed), volatile_args)


def _link(ins: Instruction) -> bool:
    """`--link` or `--link=true` (BuildKit parses the value as a boolean)."""
    f = ins.flag("link")
    if f is None:
        return False
    return (f.value or "true").lower() in ("true", "1", "t")


def _distinct_identities(ops: list[Op]) -> list[Op]:
    from dataclasses import replace

    seen: dict[str, int] = {}
    out = []
    for op in ops:
        n = seen.get(op.identity, 0) + 1
        seen[op.identity] = n
        out.append(op if n == 1 else replace(op, identity=f"{op.identity}\x01{n}"))
    return out


def _onbuild_ops(df: Dockerfile, parent: int, child: int, label: str,
                 volatile_args: frozenset[str]) -> list[Op]:
    """The parent's ONBUILD triggers as operations of the child stage (Dockerfile reference,
    ONBUILD: triggers execute in the downstream build right after its FROM).

    Each trigger is read as an instruction of its own; its operation carries a negative
    instruction id (unique per child and trigger) and the line of the ONBUILD.
    """
    from layerlens.dockerfile import parse
    from layerlens.errors import LayerlensError

    out: list[Op] = []
    triggers = [df.instructions[i] for i in df.stages[parent].instructions
                if df.instructions[i].keyword == "onbuild" and df.instructions[i].onbuild]
    for k, trig in enumerate(triggers):
        try:
            mini = parse(f"FROM scratch\n{trig.onbuild}\n", df.path, platform=df.platform)
        except LayerlensError:
            continue
        plan = build_plan(mini, volatile_args=volatile_args)
        for op in (o for sp in plan.stages for o in sp.ops):
            out.append(Op(-(1 + child * 1000 + k), child, trig.start_line, op.keyword,
                          op.definition, op.readers, (), op.volatile, op.link,
                          f"{label}\0ONBUILD {_norm(trig)}"))
    return out


def _topo(plans: dict[int, StagePlan]) -> list[int]:
    out: list[int] = []
    seen: set[int] = set()

    def visit(i: int) -> None:
        if i in seen or i not in plans:
            return
        seen.add(i)
        p = plans[i]
        if p.base_stage is not None:
            visit(p.base_stage)
        for op in p.ops:
            for r in op.stage_refs:
                visit(r)
        out.append(i)

    for i in sorted(plans):
        visit(i)
    return out


def detect_volatile(df: Dockerfile) -> frozenset[str]:
    """Declared build args whose names say they change on every build."""
    names = {k for ins in df.instructions if ins.keyword == "arg" for k, _ in ins.pairs}
    return frozenset(n for n in names if n.upper() in VOLATILE_ARG_NAMES)
