"""Second pass: typed flags, ARG/ENV scope and expansion, and the stage model.

Scoping follows the builder: ARGs before the first FROM are global and visible only to
FROM lines (plus the built-in platform ARGs); inside a stage an ARG must be declared to be
visible, takes a build-arg override first, then its own default, then the global value.
Expansions see the build state's environment, where ENV and ARG (with a value) both write
and the later one wins: BuildKit's dispatchArg adds an ARG's value with `AddEnv`, so an ARG
after an ENV of the same name shadows it until the next ENV (the image config's Env keeps
only ENV). A redeclared ARG keeps its first place among the stage's args; redeclared without
a value it shows what the state still holds, as BuildKit's RUN history line
(`runCommandString`) does. A stage built FROM another stage inherits its ENV and ARGs.
Every ENV/LABEL pair of one instruction is expanded against the environment before that
instruction.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping

from layerlens.dockerfile.model import Dockerfile, Flag, Instruction, Mount, Stage, find_stage
from layerlens.dockerfile.shell import ShellLex
from layerlens.dockerfile.syntax import Node, ParsedSource
from layerlens.errors import DockerfileError, ExpansionError

STRING, BOOL, LIST = "string", "bool", "list"
FLAG_SPECS: dict[str, dict[str, str]] = {
    "from": {"platform": STRING},
    "copy": {
        "from": STRING, "chown": STRING, "chmod": STRING, "link": BOOL,
        "parents": BOOL, "exclude": LIST,
    },
    "add": {
        "chown": STRING, "chmod": STRING, "link": BOOL, "keep-git-dir": BOOL,
        "checksum": STRING, "exclude": LIST, "unpack": BOOL, "parents": BOOL,
    },
    "run": {"mount": LIST, "network": STRING, "security": STRING, "device": LIST},
    "healthcheck": {
        "interval": STRING, "timeout": STRING, "start-period": STRING,
        "start-interval": STRING, "retries": STRING,
    },
}
KNOWN_KEYWORDS = frozenset(
    {
        "from", "run", "cmd", "entrypoint", "shell", "copy", "add", "env", "arg", "label",
        "expose", "volume", "user", "workdir", "healthcheck", "stopsignal", "onbuild",
        "maintainer",
    }
)
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9-_\.]*$")
_EXPANDED_FLAGS = frozenset({"from", "chown", "chmod", "checksum", "exclude", "mount", "platform"})
_MOUNT_TYPES = frozenset({"bind", "cache", "tmpfs", "secret", "ssh"})


def platform_args(target: str = "linux/amd64", build: str = "linux/amd64") -> dict[str, str]:
    """Built-in ARGs as a builder running on `build` sets them for `target`."""

    def split(p: str) -> tuple[str, str, str]:
        parts = p.split("/")
        os_ = parts[0] if parts else "linux"
        arch = parts[1] if len(parts) > 1 else "amd64"
        variant = parts[2] if len(parts) > 2 else ""
        return os_, arch, variant

    bos, barch, bvar = split(build)
    tos, tarch, tvar = split(target)
    return {
        "BUILDPLATFORM": build, "BUILDOS": bos, "BUILDARCH": barch, "BUILDVARIANT": bvar,
        "TARGETPLATFORM": target, "TARGETOS": tos, "TARGETARCH": tarch, "TARGETVARIANT": tvar,
    }


def parse_flags(node: Node) -> tuple[Flag, ...]:
    spec = FLAG_SPECS.get(node.keyword, {})
    seen: set[str] = set()
    flags: list[Flag] = []
    for raw in node.flags:
        body = raw[2:] if raw.startswith("--") else raw
        name, eq, value = body.partition("=")
        kind = spec.get(name)
        if kind is None:
            raise ValueError(f"unknown flag: {name}")
        if kind != LIST and name in seen:
            raise ValueError(f"Duplicate flag specified: {name}")
        seen.add(name)
        if kind == BOOL:
            if eq and value.lower() not in ("true", "false"):
                raise ValueError(f"expecting boolean value for flag {name}, not: {value}")
            flags.append(Flag(name, value if eq else None, raw))
        else:
            if not eq:
                raise ValueError(f"Missing a value on flag: {name}")
            flags.append(Flag(name, value, raw))
    return tuple(flags)


def parse_mount(value: str) -> Mount:
    """`--mount` is a CSV list of key=value fields, as the builder reads it."""
    try:
        fields = next(csv.reader([value]))
    except (csv.Error, StopIteration):
        raise ValueError(f"invalid mount: {value}") from None
    typ = "bind"
    target = source = from_ = None
    options: list[tuple[str, str]] = []
    for fld in fields:
        key, eq, val = fld.partition("=")
        key = key.strip().lower()
        if not eq:
            if key in ("readonly", "ro", "rw", "readwrite", "required"):
                options.append((key, "true"))
                continue
            raise ValueError(f"invalid field '{fld}' must be a key=value pair")
        if key == "type":
            if val not in _MOUNT_TYPES:
                raise ValueError(f"unsupported mount type {val!r}")
            typ = val
        elif key in ("target", "dst", "destination"):
            target = val
        elif key in ("source", "src"):
            source = val
        elif key == "from":
            from_ = val
        options.append((key, val))
    if target is None and typ not in ("secret", "ssh"):
        raise ValueError("mount target is required")
    return Mount(typ, target, source, from_, tuple(options))


class _Builder:
    def __init__(
        self,
        parsed: ParsedSource,
        path: str,
        source: str,
        build_args: Mapping[str, str],
        platform: str,
    ) -> None:
        self.parsed = parsed
        self.path = path
        self.source = source
        self.lines = source.lstrip("\ufeff").split("\n")
        self.build_args = dict(build_args)
        self.platform = platform
        self.lex = ShellLex(parsed.escape)
        self.builtins = platform_args(platform)

    def fail(self, message: str, line: int) -> DockerfileError:
        return DockerfileError(message, path=self.path, line=line)

    def word(self, text: str, env: Mapping[str, str], line: int) -> str:
        try:
            return self.lex.word(text, env)
        except ExpansionError as exc:
            raise self.fail(exc.message, line) from None

    def text_of(self, node: Node) -> str:
        return "\n".join(self.lines[node.start_line - 1 : node.end_line]).replace("\r", "")

    def build(self) -> Dockerfile:
        instructions: list[Instruction] = []
        stages: list[Stage] = []
        stage_members: list[list[int]] = []
        global_args: dict[str, str | None] = {}
        env: dict[str, str] = {}
        args: dict[str, str | None] = {}
        state: dict[str, str] = {}  # what expansions see: ENV and valued ARGs, last wins
        cur: dict | None = None

        def close_stage() -> None:
            if cur is None:
                return
            stages.append(
                Stage(
                    cur["index"], cur["name"], cur["base"], cur["base_stage"] is not None,
                    cur["base_stage"], cur["platform"], tuple(env.items()), tuple(args.items()),
                    tuple(stage_members[cur["index"]]),
                )
            )

        final_env: list[dict[str, str]] = []
        final_args: list[dict[str, str | None]] = []
        final_state: list[dict[str, str]] = []
        for node in self.parsed.nodes:
            line = node.start_line
            if node.keyword not in KNOWN_KEYWORDS:
                raise self.fail(f"unknown instruction: {node.keyword.upper()}", line)
            try:
                flags = parse_flags(node)
            except ValueError as exc:
                raise self.fail(str(exc), line) from None
            self._check_arity(node)
            idx = len(instructions)
            text = self.text_of(node)
            if node.keyword == "from":
                if cur is not None:
                    final_env.append(dict(env))
                    final_args.append(dict(args))
                    final_state.append(dict(state))
                close_stage()
                from_env = self._global_env(global_args)
                base = self.word(node.args[0], from_env, line)
                if not base:
                    raise self.fail("base name (" + node.args[0] + ") should not be blank", line)
                name = None
                if len(node.args) == 3:
                    name = node.args[2].lower()
                    if not _STAGE_NAME.match(name):
                        raise self.fail(
                            f"invalid name for build stage: {node.args[2]!r}, name can't start "
                            "with a number or contain symbols",
                            line,
                        )
                    if any(s.name == name for s in stages):
                        raise self.fail(f"duplicate stage name {name!r}", line)
                plat_flag = next((f for f in flags if f.name == "platform"), None)
                platform = self.word(plat_flag.value or "", from_env, line) if plat_flag else None
                base_stage = find_stage(stages, base) if not base.isdigit() else None
                if base_stage is not None:
                    env = dict(final_env[base_stage])
                    args = dict(final_args[base_stage])
                    state = dict(final_state[base_stage])
                else:
                    env, args, state = {}, {}, {}
                sidx = len(stages)
                cur = {
                    "index": sidx, "name": name, "base": base, "base_stage": base_stage,
                    "platform": platform,
                }
                stage_members.append([idx])
                instructions.append(
                    Instruction(
                        idx, "from", node.start_line, node.end_line, text, node.original, flags,
                        node.args, False, (), sidx, expanded=(base,),
                        from_stage=base_stage, from_image=None if base_stage is not None else base,
                    )
                )
                continue
            if cur is None:
                if node.keyword != "arg":
                    raise self.fail(
                        f"{node.keyword.upper()} instruction before the first FROM: no build "
                        "stage in current context",
                        line,
                    )
                genv = self._global_env(global_args)
                pairs = []
                for w in node.args:
                    key, eq, default = w.partition("=")
                    if key in self.build_args:
                        val: str | None = self.build_args[key]
                    elif eq:
                        val = self.word(default, genv, line)
                    else:
                        val = self.builtins.get(key)
                    global_args[key] = val
                    if val is not None:
                        genv[key] = val
                    pairs.append((key, val))
                instructions.append(
                    Instruction(
                        idx, "arg", node.start_line, node.end_line, text, node.original, flags,
                        node.args, False, (), -1, pairs=tuple(pairs),
                    )
                )
                continue
            sidx = cur["index"]
            stage_members[sidx].append(idx)
            scope = dict(state)
            ins = self._stage_instruction(node, idx, text, flags, sidx, scope, env, args,
                                          global_args, stages)
            if ins.keyword in ("env", "arg"):
                for key, value in ins.pairs:
                    if value is not None:
                        state[key] = value
                    elif key in state:
                        args[key] = state[key]  # redeclared without a value: still set
            instructions.append(ins)
        if cur is None:
            raise self.fail("dockerfile contains no stages to build", 1)
        final_env.append(dict(env))
        final_args.append(dict(args))
        final_state.append(dict(state))
        close_stage()
        # COPY --from may name any stage, so resolve after all stages are known.
        resolved = [self._resolve_from(ins, stages) for ins in instructions]
        df = Dockerfile(
            self.path, self.source, self.parsed.escape, self.parsed.directives, tuple(resolved),
            tuple(stages), tuple(global_args.items()), self.platform, self.parsed.warnings,
        )
        self._check_cycles(df)
        return df

    def _global_env(self, global_args: dict[str, str | None]) -> dict[str, str]:
        """What FROM lines and global ARG defaults see: built-ins, then set global ARGs."""
        return {**self.builtins, **{k: v for k, v in global_args.items() if v is not None}}

    def _check_arity(self, node: Node) -> None:
        kw, args, line = node.keyword, node.args, node.start_line
        upper = kw.upper()
        if kw == "from":
            if len(args) not in (1, 3) or (len(args) == 3 and args[1].lower() != "as"):
                raise self.fail("FROM requires either one or three arguments", line)
        elif kw in ("copy", "add"):
            if len(args) < 2:
                raise self.fail(
                    f"{upper} requires at least two arguments, but only one was provided. "
                    "Destination could not be determined.",
                    line,
                )
        elif kw in ("arg", "expose", "volume") or kw in ("env", "label"):
            if not args:
                raise self.fail(f"{upper} requires at least one argument", line)
        elif kw in ("workdir", "user", "stopsignal", "maintainer"):
            if not args:
                raise self.fail(f"{upper} requires exactly one argument", line)
        elif kw == "shell":
            if not node.exec_form:
                raise self.fail("SHELL requires the arguments to be in JSON form", line)
            if not args:
                raise self.fail("SHELL requires at least one argument", line)
        elif kw == "run":
            if not args and not node.exec_form:
                raise self.fail("RUN requires at least one argument", line)
        elif kw == "healthcheck":
            if not args:
                raise self.fail("HEALTHCHECK requires an argument", line)
            typ = args[0].upper()
            if typ == "NONE":
                if len(args) > 1:
                    raise self.fail("HEALTHCHECK NONE takes no arguments", line)
            elif typ == "CMD":
                if len(args) < 2:
                    raise self.fail("Missing command after HEALTHCHECK CMD", line)
            else:
                raise self.fail(f"Unknown type {typ!r} in HEALTHCHECK (try CMD)", line)
        elif kw == "onbuild":
            if not args or node.sub is None:
                raise self.fail("ONBUILD requires at least one argument", line)
            # BuildKit's parseOnBuild checks only these three; the trigger itself (its
            # keyword and its flags) is stored as text and parsed when a child image builds
            sub = node.sub.keyword
            if sub == "onbuild":
                raise self.fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", line)
            if sub in ("from", "maintainer"):
                raise self.fail(f"{sub.upper()} isn't allowed as an ONBUILD trigger", line)

    def _stage_instruction(
        self,
        node: Node,
        idx: int,
        text: str,
        flags: tuple[Flag, ...],
        sidx: int,
        scope: dict[str, str],
        env: dict[str, str],
        args: dict[str, str | None],
        global_args: dict[str, str | None],
        stages: list[Stage],
    ) -> Instruction:
        kw, line = node.keyword, node.start_line
        expanded: tuple[str, ...] = ()
        pairs: tuple[tuple[str, str | None], ...] = ()
        mounts: tuple[Mount, ...] = ()
        snapshot_env = tuple(env.items())
        snapshot_args = tuple((k, v) for k, v in args.items() if v is not None)
        eflags = tuple(
            Flag(f.name, self.word(f.value, scope, line), f.raw)
            if f.name in _EXPANDED_FLAGS and f.value is not None
            else f
            for f in flags
        )
        if kw == "env":
            out = []
            trip = node.args
            for i in range(0, len(trip), 3):
                key = self.word(trip[i], scope, line)
                value = self.word(trip[i + 1], scope, line)
                out.append((key, value))
            for key, value in out:
                env[key] = value  # a re-set keeps the key's place, as the image config does
            pairs = tuple(out)
        elif kw == "label":
            trip = node.args
            pairs = tuple(
                (self.word(trip[i], scope, line), self.word(trip[i + 1], scope, line))
                for i in range(0, len(trip), 3)
            )
        elif kw == "arg":
            out = []
            for w in node.args:
                key, eq, default = w.partition("=")
                if key in self.build_args:
                    val: str | None = self.build_args[key]
                elif eq:
                    val = self.word(default, scope, line)
                elif global_args.get(key) is not None:
                    val = global_args[key]
                elif key in self.builtins:
                    val = self.builtins[key]
                else:
                    val = None
                args[key] = val
                if val is not None:
                    scope[key] = val  # later pairs of this ARG see it, ENV or not
                out.append((key, val))
            pairs = tuple(out)
        elif kw in ("copy", "add", "volume"):
            expanded = tuple(self.word(a, scope, line) for a in node.args)
        elif kw == "expose":
            try:
                expanded = tuple(w for a in node.args for w in self.lex.words(a, scope))
            except ExpansionError as exc:
                raise self.fail(exc.message, line) from None
        elif kw in ("workdir", "user", "stopsignal"):
            expanded = (self.word(node.args[0], scope, line),)
        elif kw == "run":
            try:
                mounts = tuple(parse_mount(f.value or "") for f in eflags if f.name == "mount")
            except ValueError as exc:
                raise self.fail(str(exc), line) from None
        return Instruction(
            idx, kw, node.start_line, node.end_line, text, node.original, eflags, node.args,
            node.exec_form, node.heredocs, sidx, expanded=expanded, pairs=pairs, mounts=mounts,
            env=snapshot_env, build_args=snapshot_args,
            onbuild=node.args[0] if kw == "onbuild" else None,
        )

    def _resolve_from(self, ins: Instruction, stages: list[Stage]) -> Instruction:
        if ins.keyword not in ("copy", "add") or ins.flag("from") is None:
            return ins
        ref = ins.flag("from").value or ""  # type: ignore[union-attr]
        if not ref:
            raise self.fail("--from requires a value", ins.start_line)
        target = find_stage(stages, ref)
        if target is None and ref.isdigit():
            raise self.fail(f"invalid from flag value {ref}: stage index out of range",
                            ins.start_line)
        if target is not None:
            return _replace(ins, from_stage=target)
        return _replace(ins, from_image=ref)

    def _check_cycles(self, df: Dockerfile) -> None:
        deps: dict[int, set[int]] = {s.index: set() for s in df.stages}
        for st in df.stages:
            if st.base_stage is not None:
                deps[st.index].add(st.base_stage)
            for i in st.instructions:
                ins = df.instructions[i]
                if ins.keyword != "from" and ins.from_stage is not None:
                    deps[st.index].add(ins.from_stage)
                for m in ins.mounts:
                    if m.from_:
                        ref = find_stage(df.stages, m.from_)
                        if ref is not None:
                            deps[st.index].add(ref)
        state: dict[int, int] = {}
        for start in deps:
            if state.get(start):
                continue
            stack = [(start, iter(sorted(deps[start])))]
            state[start] = 1
            while stack:
                node, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    state[node] = 2
                    stack.pop()
                    continue
                if state.get(nxt) == 1:
                    st = df.stages[nxt]
                    line = df.instructions[st.instructions[0]].start_line
                    raise self.fail(f"circular dependency detected on stage: {st.label}", line)
                if not state.get(nxt):
                    state[nxt] = 1
                    stack.append((nxt, iter(sorted(deps[nxt]))))


def _replace(ins: Instruction, **changes) -> Instruction:
    from dataclasses import replace

    return replace(ins, **changes)


def build_dockerfile(
    parsed: ParsedSource,
    *,
    path: str,
    source: str,
    build_args: Mapping[str, str] | None = None,
    platform: str = "linux/amd64",
) -> Dockerfile:
    return _Builder(parsed, path, source, build_args or {}, platform).build()
