"""The Dockerfile model: frozen values that every later pass reads and none mutates."""

from __future__ import annotations

from dataclasses import dataclass, field

# Keywords whose instruction produces a filesystem layer (the rest only change config).
LAYER_KEYWORDS = frozenset({"run", "copy", "add"})
# Instructions that change only the image config.
CONFIG_KEYWORDS = frozenset(
    {
        "env", "label", "cmd", "entrypoint", "expose", "volume", "healthcheck",
        "stopsignal", "user", "workdir", "shell", "onbuild", "maintainer", "arg",
    }
)


@dataclass(frozen=True, slots=True)
class Heredoc:
    name: str
    content: str
    expand: bool
    chomp: bool
    fd: int = 0

    @property
    def body(self) -> str:
        """Content as the builder uses it: leading tabs removed for `<<-`."""
        if not self.chomp:
            return self.content
        return "".join(line.lstrip("\t") for line in self.content.splitlines(keepends=True))


@dataclass(frozen=True, slots=True)
class Flag:
    """A builder flag. `raw` is as written (after line joining and quote removal)."""

    name: str
    value: str | None
    raw: str


@dataclass(frozen=True, slots=True)
class Mount:
    """One `RUN --mount=...` option, keyed as the builder reads it."""

    type: str
    target: str | None
    source: str | None
    from_: str | None
    options: tuple[tuple[str, str], ...]

    def get(self, key: str) -> str | None:
        for k, v in self.options:
            if k == key:
                return v
        return None


@dataclass(frozen=True, slots=True)
class Instruction:
    """One instruction. `args` are as parsed (not expanded); `expanded` after ARG/ENV."""

    index: int
    keyword: str
    start_line: int
    end_line: int
    text: str
    original: str
    flags: tuple[Flag, ...]
    args: tuple[str, ...]
    exec_form: bool
    heredocs: tuple[Heredoc, ...]
    stage: int  # -1 for ARGs before the first FROM
    expanded: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str | None], ...] = ()
    mounts: tuple[Mount, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    build_args: tuple[tuple[str, str], ...] = ()
    from_stage: int | None = None
    from_image: str | None = None
    onbuild: str | None = None

    @property
    def upper(self) -> str:
        return self.keyword.upper()

    def flag(self, name: str) -> Flag | None:
        for f in self.flags:
            if f.name == name:
                return f
        return None

    def flag_values(self, name: str) -> tuple[str, ...]:
        return tuple(f.value or "" for f in self.flags if f.name == name)

    @property
    def makes_layer(self) -> bool:
        return self.keyword in LAYER_KEYWORDS

    @property
    def summary(self) -> str:
        """The instruction on one line, shortened for tables."""
        one = " ".join(self.original.split())
        return one if len(one) <= 120 else one[:117] + "..."


@dataclass(frozen=True, slots=True)
class Stage:
    index: int
    name: str | None
    base: str
    base_is_stage: bool
    base_stage: int | None
    platform: str | None
    env: tuple[tuple[str, str], ...]
    args: tuple[tuple[str, str | None], ...]
    instructions: tuple[int, ...]  # indices into Dockerfile.instructions, FROM first

    @property
    def label(self) -> str:
        return self.name if self.name is not None else f"stage {self.index}"

    @property
    def title(self) -> str:
        """The stage in words: "stage build" for a named one, "stage 0" otherwise."""
        return f"stage {self.name}" if self.name is not None else f"stage {self.index}"


@dataclass(frozen=True, slots=True)
class Dockerfile:
    path: str
    source: str
    escape: str
    directives: tuple[tuple[str, str], ...]
    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    global_args: tuple[tuple[str, str | None], ...]
    platform: str
    warnings: tuple[str, ...] = field(default=())

    @property
    def target(self) -> Stage:
        return self.stages[-1]

    def stage_of(self, instruction: Instruction) -> Stage | None:
        return self.stages[instruction.stage] if instruction.stage >= 0 else None

    def needed_stages(self, target: int | None = None) -> frozenset[int]:
        """Stages the builder runs for the target: its base chain and every `--from`."""
        start = len(self.stages) - 1 if target is None else target
        seen: set[int] = set()
        todo = [start]
        while todo:
            idx = todo.pop()
            if idx in seen:
                continue
            seen.add(idx)
            st = self.stages[idx]
            if st.base_stage is not None:
                todo.append(st.base_stage)
            for i in st.instructions:
                ins = self.instructions[i]
                if ins.from_stage is not None:
                    todo.append(ins.from_stage)
                for m in ins.mounts:
                    ref = _mount_stage(self, m)
                    if ref is not None:
                        todo.append(ref)
        return frozenset(seen)

    def workdir_at(self, ins: Instruction) -> str:
        """The working directory (absolute, cleaned) that WORKDIRs of `ins`'s own stage set
        before it; "/" when none does (a base stage's or image's WORKDIR is not followed)."""
        from layerlens.context.patterns import go_clean

        wd = "/"
        for i in self.stages[ins.stage].instructions[1:]:
            other = self.instructions[i]
            if other.index >= ins.index:
                break
            if other.keyword == "workdir" and other.expanded:
                w = other.expanded[0]
                wd = go_clean(w if w.startswith("/") else wd.rstrip("/") + "/" + w)
        return wd


def _mount_stage(df: Dockerfile, mount: Mount) -> int | None:
    if not mount.from_:
        return None
    return find_stage(df.stages, mount.from_)


def find_stage(stages: tuple[Stage, ...] | list[Stage], ref: str) -> int | None:
    low = ref.lower()
    for st in stages:
        if st.name is not None and st.name == low:
            return st.index
    if ref.isdigit():
        idx = int(ref)
        if idx < len(stages):
            return idx
    return None
