"""A RUN that runs a project script or `make`, followed one level into the file it runs.

`RUN build/build.sh`, `RUN ./scripts/x.sh`, `RUN sh x.sh`, `RUN bash x` and `RUN make
[-C dir] [-f file] [target...]` hide the `go build`, `cargo build` or `mvn package` that
decide what the step costs and which dependency prefetch would help. When the file is in
the build context (brought to the path the RUN names by a COPY/ADD of the same stage, from
the context), its commands are read with the same RUN model (`shell.py`):

* a script: its simple commands, as one shell program (tree-sitter-bash);
* a Makefile (GNU make's lookup order GNUmakefile, makefile, Makefile, or `-f`), read
  with tree-sitter-make (the `tree-sitter-make` grammar, the same parser library as the
  shell model): the recipe lines of the target (the first ordinary target when none is
  named), after those of its prerequisite targets, depth first, at most `MAX_DEPTH`
  levels deep and `MAX_LINES` lines. Each recipe line runs in a shell of its own (GNU make
  manual, "Recipe Execution"). A make variable is substituted only when the Makefile
  assigns it once, outside any conditional, a value without a reference (`X = text`, `X :=
  text`) or the command line sets it (`make X=y`); any other reference becomes an unknown
  shell word. Recipe lines inside `ifeq`/`ifdef` blocks are left out, and that is kept as a
  doubt for a proof.

Only one level is followed: a script the script runs is not read. A file that is absent,
too big, does not parse, or a `make` target without a rule leaves the RUN as it was (a
command of unknown cost). Context files are read only through the `read` function the
caller passes (`Analysis.context_file`): nothing is opened here.

The file is the one in today's build context. The replay prices today's Dockerfile at every
commit of its window, and prices it with today's version of the script or Makefile too: an
older commit's script may have built differently, which no figure here claims to know.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from layerlens.context.patterns import go_clean
from layerlens.runmodel.effects import scripts_of
from layerlens.runmodel.shell import Command, RunScript, parse_script

if TYPE_CHECKING:
    from layerlens.context.inputs import CopyInputs
    from layerlens.dockerfile.model import Dockerfile, Instruction

Reader = Callable[[str], "bytes | None"]

MAX_DEPTH = 4  # prerequisite levels of a make target followed
MAX_LINES = 200  # recipe lines of one make run followed
MAX_COMMANDS = 200  # simple commands of one script followed
MAX_BYTES = 256 << 10  # a bigger file is not read as a build script
SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
MAKES = frozenset({"make", "gmake"})
MAKEFILES = ("GNUmakefile", "makefile", "Makefile")
# make options that take a value in the next word (GNU make's -C, -f, -I, -o, -W, -l)
_MAKE_VALUE_OPTS = frozenset({"-C", "-f", "-I", "-o", "-W", "-l", "--file", "--directory",
                              "--include-dir", "--old-file", "--what-if", "--makefile"})
# shell options a script file may follow (`bash -e x.sh`); `-c` means inline text
_SHELL_OPTS = re.compile(r"^-[euxvo]+$")


@dataclass(frozen=True, slots=True)
class Followed:
    """The commands a RUN's command runs from a file of the build context."""

    command: int  # index of the RUN's command (over scripts_of(ins), in order) that runs it
    path: str  # the file's context path (slash-separated)
    label: str  # for people: "build/build.sh", "make build-linux (Makefile)"
    scripts: tuple[RunScript, ...]  # the followed shell programs, in order
    directory: str | None = None  # `make -C dir`: the commands run in another directory
    env: tuple[str, ...] = ()  # variables set on the command that runs it (`A=b make`)
    # why a proof cannot rely on the followed commands being all it runs
    doubts: tuple[str, ...] = ()



def context_path(df: Dockerfile, ins: Instruction, path: str,
                 inputs: Mapping[int, CopyInputs]) -> str | None:
    """The context path of the file a command of RUN `ins` names as `path` (relative to the
    RUN's working directory or absolute), when the latest COPY/ADD of the same stage from
    the context that brings a file there brings it from the context; else None."""
    wd = df.workdir_at(ins)
    want = go_clean(path if path.startswith("/") else wd.rstrip("/") + "/" + path)
    for i in reversed(df.stages[ins.stage].instructions[1:]):
        cp = df.instructions[i]
        if cp.index >= ins.index or cp.keyword not in ("copy", "add"):
            continue
        if cp.from_stage is not None or cp.heredocs or len(cp.expanded) < 2 or \
                cp.flag("from") is not None:
            continue
        inp = inputs.get(cp.index)
        if inp is None:
            continue
        have = set(inp.paths)
        dest = cp.expanded[-1]
        dest_abs = go_clean(dest if dest.startswith("/")
                            else df.workdir_at(cp).rstrip("/") + "/" + dest)
        srcs = cp.expanded[:-1]
        for src in srcs:
            s = go_clean("/" + src)[1:]
            if s in have:  # a file source
                into = dest.endswith("/") or len(srcs) > 1
                at = go_clean(dest_abs + "/" + s.rsplit("/", 1)[-1]) if into else dest_abs
                if at == want:
                    return s
                continue
            under = dest_abs.rstrip("/") + "/"
            if want.startswith(under):  # a directory source: its contents land in dest
                rel = want[len(under):]
                got = go_clean("/" + (s + "/" if s else "") + rel)[1:]
                if got in have:
                    return got
    return None


def follow_run(df: Dockerfile, ins: Instruction, read: Reader | None,
               inputs: Mapping[int, CopyInputs]) -> tuple[Followed, ...]:
    """The files RUN `ins` runs (scripts, Makefiles) that are in the build context, read
    through `read` (the Analysis' context reader; None: nothing is followed), one level deep.
    Commands after a `cd` of the RUN's own shell are not followed (the path would be
    relative to a directory layerlens does not track)."""
    if read is None or ins.keyword != "run":
        return ()
    out: list[Followed] = []
    n = 0
    moved = False
    for script in scripts_of(ins):
        for cmd in script.commands:
            idx = n
            n += 1
            if not cmd.words:
                continue
            name = cmd.name
            if name in ("cd", "pushd", "popd") and cmd.subshell is None:
                moved = True
                continue
            if moved or cmd.subshell is not None:
                continue
            got = _follow(df, ins, read, inputs, cmd, idx)
            if got is not None:
                out.append(replace(got, env=tuple(k for k, _ in cmd.assignments)))
    return tuple(out)


def _literal_args(cmd: Command) -> list[str] | None:
    vals = [w.value for w in cmd.args]
    return None if any(v is None for v in vals) else vals  # type: ignore[return-value]


def _follow(df: Dockerfile, ins: Instruction, read: Reader, inputs: Mapping[int, CopyInputs],
            cmd: Command, idx: int) -> Followed | None:
    name = cmd.name
    if name is None:
        return None
    base = name.rsplit("/", 1)[-1]
    args = _literal_args(cmd)
    if base in MAKES:
        if args is None:
            return None
        return _follow_make(df, ins, read, inputs, args, idx)
    if base in SHELLS:
        if args is None:
            return None
        rest = list(args)
        while rest and _SHELL_OPTS.match(rest[0]):
            rest.pop(0)
        if not rest or rest[0].startswith("-"):
            return None  # `sh -c '...'` (inline text) or an option layerlens does not read
        path = rest[0]
    elif "/" in name and base not in ("mvnw", "gradlew"):
        path = name  # `build/build.sh`, `./x.sh`, `/src/x.sh`
    else:
        return None
    rel = context_path(df, ins, path, inputs)
    if rel is None:
        return None
    data = read(rel)
    if data is None or len(data) >= MAX_BYTES:
        return None
    text = data.decode("utf-8", errors="replace")
    if text.startswith("#!") and not re.match(r"#!\s*(/usr)?/bin/(env\s+)?(ba|da|a|z)?sh\b",
                                              text):
        return None  # a Python or Perl script: not a shell program
    try:
        sc = parse_script(text)
    except RecursionError:  # nesting deeper than Python's stack: not a build script
        return None
    if sc.errors or len(sc.commands) > MAX_COMMANDS:
        return None
    return Followed(idx, rel, rel, (sc,))


def _follow_make(df: Dockerfile, ins: Instruction, read: Reader,
                 inputs: Mapping[int, CopyInputs], args: list[str], idx: int
                 ) -> Followed | None:
    directory = None
    makefile = None
    targets: list[str] = []
    overrides: dict[str, str] = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a in _MAKE_VALUE_OPTS:
            if i + 1 >= len(args):
                return None
            val = args[i + 1]
            i += 2
        elif a.startswith("--") and "=" in a:
            a, val = a.split("=", 1)
            i += 1
        elif a[:2] in ("-C", "-f") and len(a) > 2:
            a, val = a[:2], a[2:]
            i += 1
        elif a.startswith("-"):
            i += 1
            if a == "-j" and i < len(args) and args[i].isdigit():
                i += 1
            continue
        elif "=" in a:
            k, v = a.split("=", 1)
            overrides[k.strip()] = v
            i += 1
            continue
        else:
            targets.append(a)
            i += 1
            continue
        if a in ("-C", "--directory"):
            directory = go_clean((directory + "/" if directory else "") + val) \
                if not val.startswith("/") else go_clean(val)
        elif a in ("-f", "--file", "--makefile"):
            makefile = val
    base = (directory.rstrip("/") + "/") if directory else ""
    names = [makefile if makefile.startswith("/") else base + makefile] if makefile else \
        [base + m for m in MAKEFILES]
    for cand in names:
        rel = context_path(df, ins, cand, inputs)
        if rel is None:
            continue
        data = read(rel)
        if data is None or len(data) >= MAX_BYTES:
            return None
        try:
            got = make_recipes(data, tuple(targets), tuple(sorted(overrides.items())))
        except RecursionError:  # conditionals nested deeper than Python's stack
            return None
        if got is None:
            return None
        scripts, doubts, first = got
        label = f"make {' '.join(targets) or first} ({rel})"
        return Followed(idx, rel, label, scripts,
                        directory=directory if directory not in (None, ".") else None,
                        doubts=doubts)
    return None


@lru_cache(maxsize=1)
def _make_parser():
    import tree_sitter_make
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_make.language()))


def _text(node) -> str:
    return node.text.decode("utf-8", errors="replace")


@lru_cache(maxsize=32)  # keyed by the file's bytes (at most MAX_BYTES each)
def make_recipes(data: bytes, targets: tuple[str, ...],
                 overrides: tuple[tuple[str, str], ...] = ()
                 ) -> tuple[tuple[RunScript, ...], tuple[str, ...], str] | None:
    """(recipe lines of `targets` and their prerequisite targets, each as a shell program;
    doubts; the target followed first) for the Makefile `data`, or None when it does not
    parse, names no such target, or a target has two recipes (module docstring)."""
    tree = _make_parser().parse(data)
    root = tree.root_node
    if root.has_error:
        return None
    assigned: dict[str, list[str | None]] = {}  # name -> values (None: not trivial)
    rules: dict[str, tuple[list[str], list[tuple[str, bool]]]] = {}
    first: str | None = None

    def visit(n, cond: bool) -> bool:
        nonlocal first
        for c in n.children:
            t = c.type
            if t == "variable_assignment":
                name_node = c.child_by_field_name("name") or (c.children[0] if c.children
                                                              else None)
                if name_node is None:
                    continue
                op = next((_text(x) for x in c.children if not x.is_named), "=")
                val_node = c.child_by_field_name("value")
                val = _text(val_node).strip() if val_node is not None else ""
                trivial = not cond and op in ("=", ":=", "::=") and "$" not in val
                assigned.setdefault(_text(name_node).strip(), []).append(
                    val if trivial else None)
            elif t == "conditional":
                visit(c, True)
            elif t == "rule":
                tnode = next((x for x in c.children if x.type == "targets"), None)
                if tnode is None:
                    continue
                names = _text(tnode).split()
                prereqs: list[str] = []
                for x in c.children:
                    if x.type == "prerequisites":
                        prereqs += _text(x).split()
                recipe: list[tuple[str, bool]] = []
                for x in c.children:
                    if x.type == "recipe":
                        _recipe_lines(x, False, recipe)
                for nm in names:
                    if cond:
                        rules.setdefault(nm, ([], []))  # a rule layerlens cannot be sure of
                        rules[nm] = (rules[nm][0], rules[nm][1] + [("", True)])
                        continue
                    old = rules.get(nm)
                    if old is not None and old[1] and recipe:
                        rules[nm] = ([], [("\0", False)])  # two recipes: make's warning
                        continue
                    rules[nm] = ((old[0] if old else []) + prereqs,
                                 (old[1] if old else []) + recipe)
                    if first is None and not nm.startswith(".") and "%" not in nm and not cond:
                        first = nm
        return True

    visit(root, False)
    over = dict(overrides)
    values = {k: v[0] for k, v in assigned.items() if len(v) == 1 and v[0] is not None}
    values.update(over)
    wanted = list(targets) or ([first] if first else [])
    if not wanted:
        return None
    scripts: list[RunScript] = []
    doubts: list[str] = []
    seen: set[str] = set()
    lines = 0

    def walk(target: str, depth: int, top: bool) -> bool:
        nonlocal lines
        if target in seen:
            return True
        seen.add(target)
        rule = rules.get(target)
        if rule is None:
            return not top  # a prerequisite without a rule is a file
        prereqs, recipe = rule
        if any(t == "\0" for t, _ in recipe):
            return False
        if depth >= MAX_DEPTH and prereqs:
            doubts.append(f"prerequisites of {target} deeper than {MAX_DEPTH} levels are not "
                          "followed")
        else:
            for p in prereqs:
                if p == "|":
                    continue
                if "$" in p:
                    doubts.append(f"prerequisite {p} of {target} is not expanded")
                    continue
                if not walk(p, depth + 1, False):
                    return False
        for line, conditional in recipe:
            if conditional:
                doubts.append(f"the recipe of {target} has conditional lines (ifeq, ifdef) "
                              "layerlens does not evaluate")
                continue
            lines += 1
            if lines > MAX_LINES:
                return False
            sc = parse_script(_expand(line, values, target))
            if sc.errors:
                return False
            scripts.append(sc)
        return True

    for t in wanted:
        if not walk(t, 0, True):
            return None
    return tuple(scripts), tuple(dict.fromkeys(doubts)), wanted[0]


def _recipe_lines(node, cond: bool, out: list[tuple[str, bool]]) -> None:
    for x in node.children:
        if x.type == "recipe_line":
            text = _text(x).lstrip("@-+ \t")
            # backslash-newline stays for the shell; make drops one tab after it
            out.append((re.sub(r"\\\n\t", "\\\n", text), cond))
        elif x.type == "conditional":
            _recipe_lines(x, True, out)


_REF = re.compile(r"\$(\$|\(|\{|[@<^?*%+|])")


def _expand(line: str, values: Mapping[str, str], target: str) -> str:
    """`line` with make's references replaced: `$$` by `$`, `$@` by the target, a trivially
    known variable by its value, anything else by an unknown shell word."""
    out: list[str] = []
    i = 0
    while i < len(line):
        m = _REF.search(line, i)
        if m is None:
            out.append(line[i:])
            break
        out.append(line[i:m.start()])
        g = m.group(1)
        if g == "$":
            out.append("$")
            i = m.end()
            continue
        if g in "({":
            close = ")" if g == "(" else "}"
            depth, j = 1, m.end()
            while j < len(line) and depth:
                if line[j] == g:
                    depth += 1
                elif line[j] == close:
                    depth -= 1
                j += 1
            inner = line[m.end():j - 1]
            if inner in values:
                out.append(values[inner])
            elif inner == "@":
                out.append(target)
            else:
                out.append("${MAKE_" + re.sub(r"\W", "_", inner.split()[0] if inner.split()
                                               else "REF")[:40] + "}")
            i = j
            continue
        out.append(target if g == "@" else "${MAKE_AUTO}")
        i = m.end()
    return "".join(out)


def assigned_names(scripts: tuple[RunScript, ...]) -> list[str]:
    """Variables the scripts set for the commands after them: `A=b` statements and
    command prefixes, `export`/`declare`/`readonly` arguments, and `go env -w A=b`."""
    out: list[str] = []
    for sc in scripts:
        for c in sc.commands:
            out += [k for k, _ in c.assignments]
            name = c.name
            if name in ("export", "declare", "typeset", "readonly", "local", "setenv") or (
                    name == "go" and [w.value for w in c.args[:2]] == ["env", "-w"]):
                out += [w.raw.split("=", 1)[0] for w in c.args
                        if w.raw and not w.raw.startswith("-") and "=" in w.raw]
    return list(dict.fromkeys(out))
