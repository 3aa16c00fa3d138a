"""What a RUN may read, write and see: a conservative answer from its shell model.

A RUN is bounded when every simple command in it is in the allowlist
(layerlens/runmodel/allowlist.py) with arguments of the meaning the entry states, and it has
no command substitution, input redirection, `source`/`.`, compound statement or parse
error. Then its reads are the allowlisted system locations plus literal paths it names, its
writes are the entries' locations plus literal paths and redirect targets, and its
environment reads are the variables it references plus the entries' documented ones.

An unbounded RUN may read every file and every environment variable (`reads_all`), and may
write anywhere. `why` says which command made it so, for notes and fix reasons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from layerlens.dockerfile.model import Instruction
from layerlens.runmodel.allowlist import BY_NAME, COMMON_ENV, PACKAGE_SUFFIXES, Known
from layerlens.runmodel.shell import Command, RunScript, Word, exec_script, parse_script


@dataclass(frozen=True, slots=True)
class Effects:
    bounded: bool
    why: tuple[str, ...]  # reasons it is unbounded (empty when bounded)
    reads: tuple[str, ...]  # absolute paths; a trailing '/' means everything below
    writes: tuple[str, ...]
    env: frozenset[str]  # variables it reads (when bounded)
    commands: tuple[str, ...]  # command names, in order ('?' where unknown)
    env_prefixes: tuple[str, ...] = ()  # and every variable whose name starts so
    reads_home: bool = False  # reads per-user settings under $HOME (assumed /root, /home)

    @property
    def reads_all(self) -> bool:
        return not self.bounded

    def may_read(self, path: str) -> bool:
        """May this RUN read `path` (absolute) or anything below it?"""
        return not self.bounded or _hits(self.reads, path)

    def may_write(self, path: str) -> bool:
        return not self.bounded or _hits(self.writes, path)

    def reads_env(self, name: str) -> bool:
        return not self.bounded or name in self.env or name.startswith(self.env_prefixes)


def _hits(prefixes: tuple[str, ...], path: str) -> bool:
    p = path.rstrip("/") + "/"
    for x in prefixes:
        x2 = x if x.endswith("/") else x + "/"
        if p.startswith(x2) or x2.startswith(p):
            return True
    return False


def scripts_of(ins: Instruction) -> tuple[RunScript, ...]:
    """The shell programs a RUN runs: its shell-form body, or the heredocs it feeds a shell.

    `RUN <<EOF` runs the heredoc as the script; `RUN cmd <<EOF` feeds it to cmd, and only
    when cmd is a shell (sh, bash, ash, dash) is the heredoc a program."""
    if ins.keyword != "run":
        return ()
    if ins.exec_form:
        argv = tuple(ins.args)
        if len(argv) >= 3 and argv[0].rsplit("/", 1)[-1] in _SHELLS and argv[1] == "-c":
            inner = parse_script(argv[2])  # `["sh", "-c", "..."]`: the string is a program
            return (RunScript(inner.source, inner.commands, inner.comments, inner.operators,
                              inner.compound, inner.errors, True),)
        return (exec_script(argv),)
    body = ins.args[0] if ins.args else ""
    if not ins.heredocs:
        return (parse_script(body),)
    if _BARE_HEREDOCS.match(body):
        return tuple(parse_script(h.body) for h in ins.heredocs)  # `RUN <<EOF`: the script
    # the shell sees the heredoc bodies after the command line, each ended by its name
    head = parse_script(body + "\n" + "".join(
        h.content + ("" if h.content.endswith("\n") or not h.content else "\n") + h.name + "\n"
        for h in ins.heredocs))
    if head.commands and _is_shell(head.commands[0]):
        return (head, *(parse_script(h.body) for h in ins.heredocs))
    return (head,)


_BARE_HEREDOCS = re.compile(r"^\s*(?:<<-?\s*(?:'[^']*'|\"[^\"]*\"|[A-Za-z0-9_]+)\s*)+$")
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})


def _is_shell(cmd: Command) -> bool:
    """`sh`, `bash -ex` ...: a shell reading its program from stdin (a heredoc)."""
    name = (cmd.name or "").rsplit("/", 1)[-1]
    return name in _SHELLS and all((w.value or "").startswith("-") and w.value not in (
        "-c",) for w in cmd.args)


@lru_cache(maxsize=4096)
def effects(ins: Instruction) -> Effects:
    """The conservative effects of one RUN (see the module docstring)."""
    why: list[str] = []
    reads: list[str] = []
    writes: list[str] = []
    env: set[str] = set(COMMON_ENV)
    names: list[str] = []
    prefixes: list[str] = []
    home = False
    if ins.mounts:
        for m in ins.mounts:
            if m.type in ("bind", "cache") or m.from_:
                why.append(f"--mount=type={m.type} reads files outside the layer")
    scripts = scripts_of(ins)
    for script in scripts:
        if script.errors:
            why.append("the shell parser could not read all of it")
        if script.compound:
            why.append(f"it has a {script.compound[0].replace('_', ' ')}")
        if not script.commands and not script.errors:
            continue
        for cmd in script.commands:
            if script is not scripts[0] or len(scripts) == 1 or not _is_shell(cmd):
                names.append(cmd.name or "?")
            else:
                continue  # the shell that runs the heredoc program modelled next
            known = _command(cmd, why, reads, writes, env)
            if known is not None:
                prefixes += known.env_prefixes
                home |= known.reads_home
    bounded = not why
    return Effects(bounded, tuple(dict.fromkeys(why)), tuple(dict.fromkeys(reads)),
                   tuple(dict.fromkeys(writes)), frozenset(env), tuple(names),
                   tuple(dict.fromkeys(prefixes)), home)


def _literal_abs(w: Word) -> str | None:
    v = w.value
    if v is None or not v.startswith("/"):
        return None
    if w.glob:
        # a glob (`/var/lib/apt/lists/*`) stands for anything below its literal directory
        cut = min((v.find(ch) for ch in "*?[" if ch in v), default=len(v))
        v = v[:cut].rsplit("/", 1)[0] + "/"
    return v


def _command(cmd: Command, why: list[str], reads: list[str], writes: list[str],
             env: set[str]) -> Known | None:
    """Add one simple command's effects; the allowlist entry it matched, if any."""
    for _, val in cmd.assignments:
        if val is not None:
            env.update(val.variables)
            if val.substitution:
                why.append("a command substitution runs a command")
    for r in cmd.redirects:
        if r.op in ("<", "<&", "<>"):
            why.append("an input redirection reads a file")
        elif r.target is not None and r.op not in (">&", "<&") and r.target.value not in (
                "/dev/null", "1", "2"):
            p = _literal_abs(r.target)
            if p is None:
                why.append(f"it writes to {r.target.raw}, not a literal absolute path")
            else:
                writes.append(p)
        elif r.op == "<<<" and r.target is not None:
            env.update(r.target.variables)
    for w in cmd.words:
        env.update(w.variables)
        if w.substitution:
            why.append("a command substitution runs a command")
    if not cmd.words:
        return None
    name = cmd.name
    if name is None:
        why.append(f"the command name {cmd.words[0].raw} is not literal")
        return None
    base = name.rsplit("/", 1)[-1] if name.startswith("/") else name
    known = BY_NAME.get(base)
    if known is None:
        if base in (".", "source"):
            why.append(f"`{name}` runs another script")
        else:
            why.append(f"`{name}` is not a command layerlens knows the effects of")
        return None
    reads.extend(known.reads)
    writes.extend(known.writes)
    env.update(known.env)
    _arguments(known, cmd.args, why, reads, writes)
    return known


def _arguments(known: Known, args: tuple[Word, ...], why: list[str], reads: list[str],
               writes: list[str]) -> None:
    positional: list[Word] = []
    skip = False
    given: set[str] = set()
    for k, w in enumerate(args):
        if skip:
            skip = False
            continue
        v = w.value
        if v is None:
            if known.kind == "print":
                continue  # `echo $X` prints a value; variables are counted in env
            why.append(f"`{known.name}` has an argument with a variable or substitution "
                       f"({w.raw})")
            return
        if v.startswith("-") and v != "-":
            opt = v.split("=", 1)[0]
            given.update((opt, v))
            if opt in known.file_options:
                why.append(f"`{known.name} {opt}` reads a file")
                return
            if opt in known.value_options and "=" not in v and k + 1 < len(args):
                skip = True
            continue
        positional.append(w)
    if known.requires and not given & known.requires:
        why.append(f"`{known.name}` without {' or '.join(sorted(known.requires))} works on "
                   "the project in the working directory")
        return
    if known.kind == "packages":
        sub = positional[0].value if positional else None
        if known.subcommands is not None and positional and sub not in known.subcommands:
            why.append(f"`{known.name} {sub}` is not a subcommand layerlens knows")
            return
        for w in positional[1:] if known.subcommands is not None else positional:
            v = w.value or ""
            name = v[1:].split("/", 1)[1] if known.scoped and v.startswith("@") and \
                v.count("/") == 1 else v  # `@scope/name` is a registry name
            if "/" in name or (known.scoped and ":" in name) or v.startswith((".", "~")) or \
                    v.endswith(PACKAGE_SUFFIXES):
                why.append(f"`{known.name}` installs from a local file ({v})")
                return
            if w.glob:
                why.append(f"`{known.name}` has a glob argument ({w.raw})")
                return
    elif known.kind in ("paths", "reads"):
        targets = positional
        if known.name in ("chmod", "chown", "chgrp") and targets:
            targets = targets[1:]  # the mode or owner
        for w in targets:
            p = _literal_abs(w)
            if p is None:
                why.append(f"`{known.name}` has a relative or non-literal path ({w.raw})")
                return
            (reads if known.kind == "reads" else writes).append(p)
            if known.name == "ln":
                reads.append(p)
    elif known.name == "cd" and positional and _literal_abs(positional[0]) is None:
        why.append(f"`cd {positional[0].raw}`: not a literal absolute path")
