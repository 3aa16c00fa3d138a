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
from dataclasses import dataclass, replace

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
    # A COPY/ADD source whose absence fails the build (`presence` says what must exist): a
    # literal that matches nothing, or a wildcard whose directory is absent. A wildcard may
    # match nothing (dockerfile2llb copies with AllowEmptyWildcard), but the copy walks the
    # directory before its first wildcard segment (fsutil copy's resolveWildcards,
    # filepath.Walk), and fails with `lstat DIR: no such file or directory` when it is not
    # in the context (moby/buildkit#2933). The context root (`.`, `*.json`) always exists.
    required: bool = False

    @property
    def presence(self) -> Reader:
        """The paths one of which must exist for the build not to fail here: the source
        itself when literal, else everything below the wildcard's directory."""
        if self.glob is None:
            return self
        return Reader(self.base, None, 0, None, self.base, required=self.required)

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
    # `COPY --from=stage` keyed on the content it takes (BuildKit's content hash): the source
    # stage whose files it reads, when the plan could follow them back to context files
    content_stage: int | None = None
    # ... followed through a RUN layerlens cannot bound: the content key may change when
    # the files taken did not, so its rebuilds are an upper bound
    content_upper: bool = False

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
        base = glob_base(rel)
        return Reader(rel, glob_regex(rel), rel.count("/") + 1, exclude, base,
                      required=copy_source and base != "")
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
            content: tuple[str, tuple[Reader, ...], bool] | None = None
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
                    content = _content_inputs(df, plans, ins.from_stage, sources)
                    if content is None:
                        refs.append(ins.from_stage)
                    else:
                        # The files it takes are read at the source stage's COPY; a missing
                        # one fails the build there, not here.
                        readers += [replace(r, required=False) if r.required else r
                                    for r in content[1]]
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
                        "content": content[0] if content is not None else None,
                    },
                    sort_keys=True,
                )
            else:  # workdir
                definition = json.dumps({"mkdir": workdir})
            link = kw in ("copy", "add") and _link(ins)
            content_stage = ins.from_stage if kw in ("copy", "add") and ins.from_stage \
                is not None and not refs else None
            ops.append(Op(idx, st.index, ins.start_line, kw, definition, tuple(readers),
                          tuple(refs), volatile, link, f"{label}\0{_norm(ins)}",
                          content_stage, content is not None and content[2]))
        ops = _distinct_identities(ops)
        state[st.index] = (workdir, user, shell)
        base_image = None if st.base_stage is not None else st.base
        plans[st.index] = StagePlan(st.index, base_image, st.base_stage,
                                    st.platform or df.platform, tuple(ops))
    order = _topo(plans)
    return BuildPlan(tuple(plans[i] for i in order), frozenset(pushed), volatile_args)


def _overlaps(a: str, b: str) -> bool:
    """One absolute path is the other, or lies below it."""
    a2, b2 = a.rstrip("/") + "/", b.rstrip("/") + "/"
    return a2.startswith(b2) or b2.startswith(a2)


def _content_inputs(df: Dockerfile, plans: dict[int, StagePlan], src_stage: int,
                    sources: list[str]) -> tuple[str, tuple[Reader, ...], bool] | None:
    """What the files a `COPY --from=src_stage` takes are made of, when that can be decided.

    BuildKit keys such a copy on the content of the files it takes
    (dockerfile2llb → llb.Copy with a content-based cache key, opsutils.NewContentHashFunc),
    not on whether the source stage re-ran. Following the source paths back through the
    stage: a COPY from the context that writes them contributes the context files mapped
    to them; a RUN that may write them contributes its definition and, in turn, what it
    reads (layerlens/runmodel/effects.py); an unbounded RUN contributes itself and every
    step before it. Returns (a definition of those steps, the context readers, whether that
    went through an unbounded RUN reading the context: an upper bound), or None
    when it cannot be decided (a per-build RUN, another stage, an ONBUILD trigger, a stage
    built on a stage, a wildcard): then the copy keys on the stage's final key, and the
    figures are upper bounds.
    """
    from layerlens.runmodel.effects import effects

    sp = plans.get(src_stage)
    if sp is None or sp.base_stage is not None:
        return None
    need = [go_clean("/" + s) for s in sources]
    if any(has_wildcard(n) for n in need):
        return None
    deps: list[str] = [json.dumps([sp.base_image, sp.platform])]
    readers: list[Reader] = []
    ops = list(sp.ops)
    for k in range(len(ops) - 1, -1, -1):
        op = ops[k]
        if op.instruction < 0:
            return None
        if op.keyword == "workdir":
            continue
        if op.keyword == "run":
            eff = effects(df.instructions[op.instruction])
            if not eff.bounded:
                # It may have written what we take, from anything before it: its output is
                # a function of its definition and of every step before it.
                for earlier in ops[: k + 1]:
                    if earlier.instruction < 0 or earlier.volatile or earlier.stage_refs \
                            or earlier.content_stage is not None:
                        return None
                    deps.append(earlier.definition)
                    readers += earlier.readers
                return json.dumps(deps), tuple(readers), bool(readers)
            if not any(eff.may_write(p) for p in need):
                continue
            if op.volatile or op.stage_refs:
                return None
            deps.append(op.definition)
            readers += op.readers  # context files bind-mounted into it
            need += list(eff.reads)
            continue
        d = json.loads(op.definition)  # copy/add
        dest = d.get("dest") or ""
        if not dest.startswith("/"):
            dest = (d.get("workdir") or "/").rstrip("/") + "/" + dest
        dest = go_clean(dest)
        hit = [p for p in need if _overlaps(p, dest)]
        if not hit:
            continue
        if op.stage_refs or op.content_stage is not None or d.get("heredocs") or \
                d.get("from_image"):
            if op.stage_refs or op.content_stage is not None:
                return None
            deps.append(op.definition)
            continue
        deps.append(op.definition)
        whole = len(op.readers) != 1 or op.readers[0].root != "" or \
            op.readers[0].glob is not None or op.readers[0].exclude is not None
        for p in hit:
            if whole or not p.startswith(dest.rstrip("/") + "/"):
                readers += op.readers
                break
            # `COPY . DEST`: DEST/x is the context file x
            readers.append(_reader(p[len(dest.rstrip("/")) + 1:], ()))
    return json.dumps(deps), tuple(readers), False


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
            if op.content_stage is not None:
                visit(op.content_stage)
        out.append(i)

    for i in sorted(plans):
        visit(i)
    return out


_VCS_WORDS = frozenset({"GIT", "VCS", "SOURCE", "HEAD", "SCM"})
_REV_WORDS = frozenset({"SHA", "SHA1", "REV", "REVISION", "HASH", "REF"})
_BUILD_WORDS = frozenset({"DATE", "TIME", "TIMESTAMP", "NUMBER", "ID", "SHA", "NUM"})


def volatile_name(name: str) -> bool:
    """Whether an ARG's name says it changes on every build: one of `VOLATILE_ARG_NAMES`,
    or by its words (split at `_` and `-`): any `COMMIT` (BUILD_COMMIT_SHA, as maybe's
    CI passes `${{ github.sha }}`), a VCS word with a revision word (APP_GIT_REV), or
    BUILD with a date, time, number or id word (DOCKER_BUILD_DATE). Names of pinned
    versions (NODE_VERSION) are not: a version changes when someone edits it."""
    upper = name.upper()
    if upper in VOLATILE_ARG_NAMES:
        return True
    words = frozenset(w for w in re.split(r"[_\-]+", upper) if w)
    return ("COMMIT" in words or bool(words & _VCS_WORDS and words & _REV_WORDS)
            or ("BUILD" in words and bool(words & _BUILD_WORDS)))


def detect_volatile(df: Dockerfile) -> frozenset[str]:
    """Declared build args whose names say they change on every build (`volatile_name`)."""
    names = {k for ins in df.instructions if ins.keyword == "arg" for k, _ in ins.pairs}
    return frozenset(n for n in names if volatile_name(n))
