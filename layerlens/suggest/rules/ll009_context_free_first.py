"""LL009: move work that reads nothing of the broad COPY above it.

After a `COPY . /dest`, every instruction rebuilds whenever any source file changes. Work
that reads nothing the COPY brings in (a toolchain download, a global install, a clone and
build of another repository, a variable) can run before it and stay cached. Where the RUN
model proves a RUN ignores the COPY, LL001 moves it safely; this rule handles the RUNs it
cannot prove (`curl ... | sh`, `sh /installer.sh`, `git clone`, `npm install -g $PKG`) by a
stated heuristic, as an unsafe fix:

* a RUN is taken to read nothing of the destination when it names no path inside it, climbs
  no `..`, runs no command that builds the project in its working directory (make, npm
  without -g, pip -r, go build, cargo, mvn, gradle, composer, bundle, ...), and, when its
  working directory is inside the destination, passes no relative path at all;
* an `ADD <url>` or `COPY --from` to an absolute path outside the destination moves too;
* an ENV/ARG moves with them unless an instruction it would newly precede names it;
* USER, SHELL and ONBUILD end the search (what runs after them runs differently).

The rewrite keeps every instruction's working directory: moved instructions get explicit
`WORKDIR` lines, the stage's own WORKDIRs stay in order, and the COPY runs in the directory
it ran in before, so the final config is unchanged. The unsafe reason names the RUNs taken
on trust. Replay measures the saving.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from layerlens.context.patterns import go_clean
from layerlens.dockerfile.model import Dockerfile, Instruction
from layerlens.runmodel import effects, scripts_of
from layerlens.suggest.graph import uses
from layerlens.suggest.model import Suggestion
from layerlens.suggest.rewrite import block_range
from layerlens.suggest.rule import Rule, Subject

# Commands that work on the project in their working directory (or on named sources).
PROJECT_TOOLS = frozenset({
    "make", "cmake", "ninja", "just", "task", "bazel", "meson", "./configure", "configure",
    "npm", "npx", "yarn", "pnpm", "bun", "node", "deno",
    "pip", "pip3", "python", "python3", "uv", "poetry", "pipenv", "hatch", "pdm",
    "go", "cargo", "rustc", "mvn", "./mvnw", "gradle", "./gradlew", "ant", "sbt",
    "composer", "php", "bundle", "rake", "rails", "ruby", "gem", "dotnet", "msbuild",
})
# Global-mode installers: with these options a PROJECT_TOOLS command installs registry
# packages and ignores the working directory's project.
GLOBAL = {"npm": ("-g", "--global"), "pnpm": ("-g", "--global"), "yarn": ("global",)}
_STOP = frozenset({"user", "shell", "onbuild"})
_MOVABLE_CONFIG = frozenset({"env", "arg"})


@dataclass(frozen=True)
class _Plan:
    copy: Instruction
    dest: str
    moved: tuple[Instruction, ...]  # in original order
    trusted: tuple[Instruction, ...]  # unbounded RUNs taken on the heuristic
    cwd: dict[int, str]  # working directory of each instruction after the COPY


def _abs(path: str, cwd: str) -> str:
    return go_clean(path if path.startswith("/") else cwd.rstrip("/") + "/" + path)


def _inside(path: str, dest: str) -> bool:
    d = dest.rstrip("/") + "/"
    p = path.rstrip("/") + "/"
    return p.startswith(d) or (d.startswith(p) and p != "/")


def workdirs(df: Dockerfile, stage: int) -> dict[int, str]:
    """The working directory each instruction of the stage runs in (absolute)."""
    cwd = "/"
    out: dict[int, str] = {}
    for i in df.stages[stage].instructions[1:]:
        ins = df.instructions[i]
        out[i] = cwd
        if ins.keyword == "workdir" and ins.expanded:
            cwd = _abs(ins.expanded[0], cwd)
            out[i] = cwd
    return out


def broad_copy(ins: Instruction) -> bool:
    """A COPY/ADD of the whole build context."""
    if ins.keyword not in ("copy", "add") or ins.from_stage is not None or \
            ins.from_image is not None or ins.heredocs or len(ins.expanded) != 2:
        return False
    return go_clean("/" + ins.expanded[0]) == "/"


def _words(ins: Instruction) -> list[list[str]]:
    return [[w.value if w.value is not None else w.raw for w in c.words]
            for sc in scripts_of(ins) for c in sc.commands]


def _path_like(w: str) -> bool:
    return w in (".", "..") or w.startswith(("./", "../")) or ("/" in w and "://" not in w
                                                              and not w.startswith(("/", "$", "@")))


def _run_free(ins: Instruction, cwd: str, dest: str) -> bool:
    """Is the RUN taken to read nothing of `dest` (see the module docstring)?"""
    eff = effects(ins)
    if eff.bounded:
        return not (eff.may_read(dest) or eff.may_write(dest))
    if ins.mounts:
        return False
    text = ins.original + "".join(h.content for h in ins.heredocs)
    root = dest.rstrip("/")
    if not root or re.search(re.escape(root) + r"(?![A-Za-z0-9_.-])", text):
        return False  # names the destination (in a word, a redirect, a string)
    in_dest = _inside(cwd, dest)
    for cmd in _words(ins):
        if not cmd:
            continue
        name = cmd[0]
        base = posixpath.basename(name) if name.startswith("/") else name
        args = cmd[1:]
        if any(w == ".." or w.startswith("../") or "/../" in w for w in cmd):
            return False
        if not in_dest:
            continue  # it works elsewhere; it names nothing in the destination (above)
        if _path_like(name):
            return False
        if base in _LISTS and not (base == "tar" and _tar_elsewhere(args)):
            return False
        if base in PROJECT_TOOLS:
            flags = GLOBAL.get(base)
            if not flags or not any(a in flags for a in args):
                return False
            if any(a.startswith((".", "/", "~", "file:")) or _path_like(a) for a in args):
                return False
            continue
        for w in args:
            if _path_like(w) or (not w.startswith(("-", "/", "$")) and "://" not in w and
                                 _bare_path(base, w) and not (base == "tar" and
                                                              w in ("-C", "--directory"))):
                return False
    return True


# Commands a RUN confined to the destination runs on the project (besides PROJECT_TOOLS).
_LOCAL = frozenset({"cp", "mv", "rm", "ls", "mkdir", "chmod", "chown", "chgrp", "ln", "touch",
                    "cat", "echo", "test", "[", "true", "find", "sed", "tar", "pwd", "cd"})


def confined(ins: Instruction, cwd: str, dest: str) -> bool:
    """Does a RUN that stays below the COPY plausibly touch only the destination (so that a
    RUN moved above it cannot depend on what it does)? Its working directory is inside the
    destination, it runs only project tools and file utilities, and every absolute path it
    names is inside the destination or /tmp, /dev."""
    if not _inside(cwd, dest) or ins.mounts:
        return False
    for cmd in _words(ins):
        if not cmd:
            continue
        name = cmd[0]
        if name not in PROJECT_TOOLS and name not in _LOCAL:
            return False
        if name in GLOBAL and any(a in GLOBAL[name] for a in cmd[1:]):
            return False
        for w in cmd[1:]:
            if w.startswith("/") and not _inside(w, dest) and \
                    not w.startswith(("/tmp/", "/dev/")):
                return False
    return True


# Commands that read their working directory with no argument at all.
_LISTS = frozenset({"ls", "find", "du", "tree", "tar", "zip", "git"})

def _tar_elsewhere(args: list[str]) -> bool:
    """`tar -x... -C /abs`: extracts into a named absolute directory, not the cwd."""
    for k, a in enumerate(args[:-1]):
        if a in ("-C", "--directory") and args[k + 1].startswith("/"):
            return True
    return any(a.startswith("--directory=/") for a in args)


# Commands whose bare-word arguments are not paths (names, text, URLs, modes, owners).
_NON_PATH_ARGS = frozenset({"echo", "printf", "apt-get", "apt", "apk", "yum", "dnf", "true",
                            "set", "export", "curl", "wget", "useradd", "groupadd",
                            "adduser", "addgroup", "rustup", "corepack"})


def _bare_path(command: str, word: str) -> bool:
    """In a working directory inside the destination, may this bare word be a path there?"""
    return command not in _NON_PATH_ARGS


def plan(df: Dockerfile, stage: int, copy: Instruction) -> _Plan | None:
    members = [df.instructions[i] for i in df.stages[stage].instructions[1:]]
    cwd = workdirs(df, stage)
    dest = _abs(copy.expanded[-1], cwd[copy.index])
    after = members[members.index(copy) + 1:]
    moved: list[Instruction] = []
    trusted: list[Instruction] = []
    stayed: list[Instruction] = []  # instructions after the COPY that stay below it
    pending_env: set[str] = set()  # variables defined by ENV/ARG that stayed
    barrier = False  # a RUN stayed that may do more than work on the destination
    for ins in after:
        k = ins.keyword
        if k in _STOP:
            break
        if broad_copy(ins) or (k in ("copy", "add") and ins.from_stage is None and
                               ins.from_image is None and not _url_add(ins)):
            stayed.append(ins)  # reads the context
            continue
        if k in _MOVABLE_CONFIG:
            names = {n for n, _ in ins.pairs}
            if any(names & uses(s) for s in stayed) or uses(ins) & pending_env or \
                    names & uses(copy):
                stayed.append(ins)
                pending_env |= names
            else:
                moved.append(ins)
            continue
        if k in ("copy", "add"):
            d = ins.expanded[-1] if ins.expanded else ""
            if d.startswith("/") and not _inside(d, dest) and not any(
                    _inside(_dest_of(s, cwd), d) for s in stayed if s.keyword in ("copy", "add")):
                moved.append(ins)
            else:
                stayed.append(ins)
            continue
        if k == "run":
            if barrier or uses(ins) & pending_env or not _run_free(ins, cwd[ins.index], dest):
                stayed.append(ins)
                barrier |= not confined(ins, cwd[ins.index], dest)
                continue
            moved.append(ins)
            if not effects(ins).bounded:
                trusted.append(ins)
            continue
        stayed.append(ins)  # WORKDIR and config stay (WORKDIRs are re-issued as needed)
    runs = [m for m in moved if m.keyword == "run"]
    if not trusted or not runs:
        return None
    return _Plan(copy, dest, tuple(moved), tuple(trusted), cwd)


def _url_add(ins: Instruction) -> bool:
    return ins.keyword == "add" and len(ins.expanded) >= 2 and all(
        "://" in s for s in ins.expanded[:-1])


def _dest_of(ins: Instruction, cwd: dict[int, str]) -> str:
    d = ins.expanded[-1] if ins.expanded else "/"
    return _abs(d, cwd[ins.index])


def rewrite(df: Dockerfile, stage: int, p: _Plan) -> str:
    """The stage with `p.moved` above the COPY, each in its own working directory."""
    lines = df.source.splitlines(keepends=True)
    members = [df.instructions[i] for i in df.stages[stage].instructions[1:]]
    start = members.index(p.copy)
    tail = members[start:]
    moved_ids = {m.index for m in p.moved}

    def block(ins: Instruction) -> list[str]:
        s, e = block_range(df, ins, lines)
        out = lines[s:e]
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        return out

    at_copy = p.cwd[p.copy.index]
    out: list[str] = []
    cur = at_copy
    for ins in p.moved:
        want = p.cwd[ins.index]
        bounded = ins.keyword == "run" and effects(ins).bounded  # names absolute paths only
        if ins.keyword == "run" and want != cur and not bounded:
            out.append(f"WORKDIR {want}\n")
            cur = want
        out += block(ins)
    if cur != at_copy:
        out.append(f"WORKDIR {at_copy}\n")
    out += block(p.copy)
    for ins in tail[1:]:
        if ins.index not in moved_ids:
            out += block(ins)
    first, _ = block_range(df, p.copy, lines)
    last_end = tail[-1].end_line
    return "".join(lines[:first] + out + lines[last_end:])


def check(subject: Subject) -> list[Suggestion]:
    if subject.history is None:
        return []
    df = subject.df
    out: list[Suggestion] = []
    for stage in sorted(df.needed_stages()):
        for i in df.stages[stage].instructions[1:]:
            copy = df.instructions[i]
            if not broad_copy(copy):
                continue
            p = plan(df, stage, copy)
            if p is None:
                continue
            new_text = rewrite(df, stage, p)
            savings = subject.measure(new_text)
            if savings is None or savings.seconds_per_commit <= 0:
                continue
            lines = tuple(sorted({copy.start_line, *(m.start_line for m in p.moved)}))
            trusted = ", ".join(f"line {t.start_line}" for t in p.trusted)
            out.append(Suggestion(
                "LL009", RULE.title,
                f"{df.stages[stage].title}: {len(p.moved)} instructions after "
                f"{copy.upper} at line {copy.start_line} read nothing it brings in; run them "
                "before it", RULE.reason, lines, True, savings, dockerfile=new_text,
                safety="unsafe",
                unsafe_reason=f"the RUN model cannot bound the RUN at {trusted}: it is taken "
                f"to read nothing under {p.dest} because it names no path there and builds "
                "no project in its working directory; a script or tool that reads the "
                "source another way would change the image"))
            break  # one broad COPY per stage per round; the engine re-runs after a fix
    return out


RULE = Rule(
    "LL009", "context-free-first",
    "Run work that reads nothing of the broad COPY before it",
    "Everything after a broad COPY rebuilds on every source change; downloads, global "
    "installs and other work that reads no source belong above it.", ("unsafe",),
    "move RUNs the RUN model cannot bound but that name nothing of the broad COPY's "
    "destination (toolchain downloads, `git clone`, global installs) above it; unsafe, "
    "taken on a stated heuristic (provable moves are LL001's)", check)

