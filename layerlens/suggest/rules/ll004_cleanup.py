"""LL004: cleanup in a later layer frees nothing.

Files deleted by a later RUN stay in the earlier layer, pushed and pulled with every image.
Package-manager caches are removed in the same RUN that created them; a RUN made only of
such cleanup (`rm` of the manager's cache paths, `apt-get clean`, `autoremove`, `yum clean
all` ..., in any mix) is folded into the RUN it cleans up after. Commands are read from the
RUN model (layerlens/runmodel), and the fold is an edit through its syntax tree.
"""

from __future__ import annotations

from dataclasses import dataclass

from layerlens.dockerfile.model import Instruction
from layerlens.runmodel import Command, effects, parse_script, scripts_of
from layerlens.suggest.model import Savings, Suggestion
from layerlens.suggest.rule import Rule, Subject


@dataclass(frozen=True, slots=True)
class Cleanup:
    """A kind of cleanup: the package manager, the commands that make the mess, and the
    paths the cleanup removes (so nothing in between may still read them)."""

    what: str
    manager: frozenset[str]  # command names of the package manager
    creators: frozenset[tuple[str, str]]  # (command, subcommand) that create the files
    paths: tuple[str, ...]


_APT = frozenset({"apt-get", "apt", "apt-cache", "apt-mark", "dpkg"})
CLEANUPS = (
    Cleanup("apt lists", _APT, frozenset({("apt-get", "update"), ("apt", "update")}),
            ("/var/lib/apt/lists/",)),
    Cleanup("apt cache", _APT, frozenset({("apt-get", "install"), ("apt", "install"),
                                         ("apt-get", "upgrade"), ("apt", "upgrade"),
                                         ("apt-get", "dist-upgrade")}),
            ("/var/cache/apt/", "/var/cache/debconf/", "/var/log/")),
    Cleanup("apk cache", frozenset({"apk"}), frozenset({("apk", "add"), ("apk", "update")}),
            ("/var/cache/apk/",)),
    Cleanup("yum/dnf cache", frozenset({"yum", "dnf", "microdnf", "rpm"}),
            frozenset({("yum", "install"), ("dnf", "install"), ("microdnf", "install")}),
            ("/var/cache/yum/", "/var/cache/dnf/")),
    Cleanup("pip cache", frozenset({"pip", "pip3"}),
            frozenset({("pip", "install"), ("pip3", "install")}), ("/root/.cache/",)),
    Cleanup("npm cache", frozenset({"npm"}), frozenset({("npm", "ci"), ("npm", "install"),
                                                       ("npm", "i")}), ("/root/.npm/",)),
)
_HARMLESS = frozenset({"set", "true", ":"})


def _words(cmd: Command) -> list[str]:
    return [w.value for w in cmd.words if w.value is not None]


def _cleanup_of(cmd: Command) -> tuple[Cleanup, ...] | None:
    """Which cleanups one simple command does, if it only cleans up."""
    w = _words(cmd)
    if len(w) != len(cmd.words) or not w or cmd.assignments:
        return None
    if cmd.redirects and not all(r.target is not None and r.target.value == "/dev/null"
                                 for r in cmd.redirects):
        return None
    name, rest = w[0], [x for x in w[1:] if not x.startswith("-")]
    if name == "rm":
        if not rest:
            return None
        kinds = []
        for x in rest:
            c = next((c for c in CLEANUPS if any((x.rstrip("*").rstrip("/") + "/").startswith(p)
                                                 for p in c.paths)), None)
            if c is None:
                return None
            kinds.append(c)
        return tuple(dict.fromkeys(kinds))
    for c in CLEANUPS:
        if name not in c.manager:
            continue
        if name in ("apt-get", "apt") and c.what == "apt cache" and rest[:1] in (
                ["clean"], ["autoclean"], ["autoremove"]):
            return (c,)
        if name in ("yum", "dnf", "microdnf") and rest[:2] == ["clean", "all"]:
            return (c,)
        if name == "npm" and rest[:2] == ["cache", "clean"]:
            return (c,)
        if name in ("pip", "pip3") and rest[:2] == ["cache", "purge"]:
            return (c,)
    return None


def _cleanup_parts(ins: Instruction) -> list[tuple[Command, tuple[Cleanup, ...]]] | None:
    """A RUN made only of cleanup commands (and `set`/`true`): its commands and kinds."""
    if ins.keyword != "run" or ins.exec_form or ins.heredocs or ins.mounts or not ins.args:
        return None
    script = parse_script(ins.args[0])
    if script.errors or script.compound or {"|", "&", "||"} & set(script.operators):
        return None
    found = []
    for cmd in script.commands:
        if cmd.name in _HARMLESS and not cmd.redirects:
            continue
        c = _cleanup_of(cmd)
        if c is None:
            return None
        found.append((cmd, c))
    return found or None


def _creates(ins: Instruction, c: Cleanup) -> bool:
    for sc in scripts_of(ins):
        for cmd in sc.commands:
            w = _words(cmd)
            sub = next((x for x in w[1:] if not x.startswith("-")), None)
            if w and (w[0], sub) in c.creators:
                return True
    return False


def _uses_manager(ins: Instruction, c: Cleanup) -> bool:
    return any(cmd.name in c.manager for sc in scripts_of(ins) for cmd in sc.commands)


def check(subject: Subject) -> list[Suggestion]:
    df = subject.df
    out: list[Suggestion] = []
    for stage in sorted(df.needed_stages()):
        members = [df.instructions[i] for i in df.stages[stage].instructions[1:]]
        for k, ins in enumerate(members):
            parts = _cleanup_parts(ins)
            if not parts:
                continue
            kinds = list(dict.fromkeys(c for _, cs in parts for c in cs))
            source = None
            blocked = None
            for prev in reversed(members[:k]):
                if prev.keyword == "run" and all(_creates(prev, c) for c in kinds):
                    source = prev
                    break
                why = _blocks(prev, kinds)
                if why and blocked is None:
                    blocked = why
            if source is None:
                continue
            whats = ", ".join(c.what for c in kinds)
            title = RULE.title
            reason = ("A file deleted by a later instruction stays in the earlier layer: it is "
                      + subject.shipped(stage, "still stored, pushed and pulled. ",
                                        "still written and stored by every build of this "
                                        "builder stage (which is never pushed). ")
                      + "Remove caches in the RUN that creates them, or use "
                      "RUN --mount=type=cache.")
            image_bytes = _shadowed_bytes(subject, source)
            lines = (source.start_line, ins.start_line)
            msg = (f"fold the {whats} cleanup at line {ins.start_line} into the RUN at line "
                   f"{source.start_line}")
            if blocked or source.exec_form:
                note = (f"{blocked}; fold the cleanup in by hand" if blocked else
                        "an exec-form RUN has no shell to chain the cleanup onto: rewrite it "
                        "in shell form, then fold the cleanup in")
                out.append(Suggestion("LL004", title, msg, reason, lines, False, note=note))
                continue
            cleanup = " && ".join(_as_written(ins, cmd) for cmd, _ in parts)
            text = fold(subject.df, source, ins, cleanup)
            if text is None:
                out.append(Suggestion("LL004", title, msg, reason, lines, False,
                                      note="the RUN's form leaves no place to chain the "
                                      "cleanup onto; fold it in by hand"))
                continue
            savings = subject.measure(text, image_bytes=image_bytes)
            eff = effects(source)
            out.append(Suggestion(
                "LL004", title, msg, reason, lines, True, savings, dockerfile=text,
                safety="safe" if eff.bounded else "unsafe",
                unsafe_reason=None if eff.bounded else (
                    f"the RUN at line {source.start_line} has commands whose effects layerlens "
                    f"does not know ({eff.why[0]}): the chained cleanup may not run as the "
                    "separate RUN did")))
    return out


def _as_written(ins: Instruction, cmd: Command) -> str:
    """A command's source text in the RUN, on one line."""
    body = ins.args[0].encode("utf-8", errors="surrogateescape")
    return " ".join(body[cmd.start:cmd.end].decode("utf-8", errors="surrogateescape").split())


def _blocks(prev: Instruction, kinds: list[Cleanup]) -> str | None:
    """Why an instruction between the mess and its cleanup stops the fold, if it does:
    it may read or write the files the cleanup removes."""
    paths = [p for c in kinds for p in c.paths]
    if prev.keyword == "run":
        if any(_uses_manager(prev, c) for c in kinds):
            return f"the RUN at line {prev.start_line} in between uses the same package manager"
        eff = effects(prev)
        if not eff.bounded:
            return (f"the RUN at line {prev.start_line} in between may read those files "
                    f"({eff.why[0]})")
        if any(eff.may_read(p) or eff.may_write(p) for p in paths):
            return f"the RUN at line {prev.start_line} in between touches those files"
    if prev.keyword in ("copy", "add"):
        dest = (prev.expanded or prev.args or ("/",))[-1]
        d = dest.rstrip("/") + "/"
        if not dest.startswith("/") or any(d.startswith(p) or p.startswith(d) for p in paths):
            return f"{prev.upper} at line {prev.start_line} in between may write there"
    return None


def fold(df, source: Instruction, cleanup_ins: Instruction, cleanup: str) -> str | None:
    """Delete the cleanup RUN and chain `cleanup` onto the last command of `source`, through
    its syntax tree: before a trailing shell comment, with the file's escape character, and
    inside the heredoc program of a heredoc RUN. None when there is no place to put it."""
    from layerlens.dockerfile import parse
    from layerlens.suggest.rewrite import replace_instruction

    text = replace_instruction(df, cleanup_ins, None)
    df2 = parse(text, df.path)
    src = next(i for i in df2.instructions if i.start_line == source.start_line)
    lines = text.splitlines(keepends=True)
    if src.heredocs:
        return _fold_heredoc(src, lines, cleanup)
    script = parse_script(src.args[0])
    if script.errors or not script.commands or script.operators[-1:] == ("&",):
        return None
    last = src.end_line - 1
    line = lines[last]
    body = line.rstrip("\r\n")
    nl = line[len(body):]
    tc = script.trailing_comment
    if tc is not None:
        cpos = body.rfind(tc.text)
        if cpos < 0:
            return None
        lines[last] = f"{body[:cpos].rstrip()} && {cleanup} {body[cpos:]}{nl}"
    else:
        lines[last] = f"{body.rstrip()} {df2.escape}\n    && {cleanup}{nl}"
    return "".join(lines)


def _fold_heredoc(src: Instruction, lines: list[str], cleanup: str) -> str | None:
    """Chain onto the last command of the heredoc program (`RUN <<EOF` or `RUN sh <<EOF`)."""
    from layerlens.runmodel.effects import _BARE_HEREDOCS, _is_shell

    if len(src.heredocs) != 1:
        return None
    if not _BARE_HEREDOCS.match(src.args[0]):
        head = parse_script(src.args[0])
        if not head.commands or not _is_shell(head.commands[0]):
            return None
    h = src.heredocs[0]
    script = parse_script(h.content)
    top = [c for c in script.commands if not c.nested]
    if script.errors or not top or script.compound:
        return None
    # the heredoc content is verbatim in the source, after the instruction's first line
    start = sum(len(x) for x in lines[: src.start_line])
    block = "".join(lines[src.start_line: src.end_line])
    at = block.find(h.content)
    if at < 0:
        return None
    end = max(c.end for c in top)
    chars = len(h.content.encode("utf-8", "surrogateescape")[:end].decode("utf-8",
                                                                          "surrogateescape"))
    pos = start + at + chars
    text = "".join(lines)
    return text[:pos] + f" && {cleanup}" + text[pos:]




def _copied_paths(subject: Subject, copy: Instruction, dest: str) -> list[str]:
    """Where the files a COPY really brought in land (absolute), from its resolved inputs."""
    from layerlens.context.patterns import go_clean

    inputs = subject.inputs.get(copy.index)
    if inputs is None:
        return []
    srcs = [go_clean("/" + x)[1:] for x in copy.expanded[:-1]]
    into_dir = copy.expanded[-1].endswith("/") or len(srcs) > 1
    out = []
    for p in inputs.paths:
        for src in srcs:
            if src == "" or p.startswith(src + "/"):
                out.append(go_clean(dest + "/" + (p[len(src) + 1:] if src else p)))
                break
            if p == src:
                out.append(go_clean(dest + "/" + p.rsplit("/", 1)[-1]) if into_dir
                           or len(inputs.paths) > 1 else dest)
                break
    return out


def copied_then_removed(subject: Subject) -> list[Suggestion]:
    """`rm` of files an earlier COPY really brought in: they stay in the COPY's layer.

    Only literal `rm` targets of the RUN model count, and only when a file the COPY took from
    the context lands at or below the target (a directory an install creates is not one)."""
    from layerlens.context.patterns import go_clean

    df = subject.df
    out: list[Suggestion] = []
    for stage in sorted(subject.pushed_stages):  # a builder stage's layers never ship
        members = [df.instructions[i] for i in df.stages[stage].instructions[1:]]
        workdir = "/"
        dests: list[tuple[Instruction, list[str]]] = []
        for ins in members:
            if ins.keyword == "workdir" and ins.expanded:
                w = ins.expanded[0]
                workdir = go_clean(w if w.startswith("/") else workdir + "/" + w)
            if ins.keyword in ("copy", "add") and ins.expanded and ins.from_stage is None:
                d = ins.expanded[-1]
                d = go_clean(d if d.startswith("/") else workdir + "/" + d)
                dests.append((ins, _copied_paths(subject, ins, d)))
            if ins.keyword != "run":
                continue
            for sc in scripts_of(ins):
                for cmd in sc.commands:
                    if cmd.name != "rm":
                        continue
                    for w in cmd.args:
                        target = w.value
                        if target is None or target.startswith("-") or w.glob:
                            continue
                        t = go_clean(target if target.startswith("/") else workdir + "/" + target)
                        for copy, landed in dests:
                            if any(x == t or x.startswith(t.rstrip("/") + "/") for x in landed):
                                out.append(Suggestion(
                                    "LL004", "Files copied only to be deleted stay in the image",
                                    f"RUN at line {ins.start_line} removes {target}, which "
                                    f"{copy.upper} at line {copy.start_line} brought in",
                                    "A file deleted by a later instruction is still stored, "
                                    "pushed and pulled with the COPY's layer.",
                                    (copy.start_line, ins.start_line), False,
                                    note="leave it out with .dockerignore, or read it through "
                                    "RUN --mount=type=bind,source=... without copying it"))
                                break
    return out


# (tool, subcommands, flag or command that keeps the cache out, what, fix). Sources: pip's
# --no-cache-dir (pip install --help), apk's --no-cache (apk(8)), npm's cache in ~/.npm
# (npm-cache(1)), removed by `npm cache clean --force`.
_NO_CACHE = (
    ("pip", ("install",), "--no-cache-dir", "pip install without --no-cache-dir keeps its "
     "download cache in the layer", "add --no-cache-dir, or RUN "
     "--mount=type=cache,target=/root/.cache/pip"),
    ("apk", ("add",), "--no-cache", "apk add without --no-cache keeps the package index in "
     "the layer", "add --no-cache"),
    ("npm", ("ci", "install", "i"), "cache clean", "npm keeps its cache in /root/.npm",
     "RUN --mount=type=cache,target=/root/.npm npm ci"),
)


def cache_hints(subject: Subject) -> list[Suggestion]:
    """Package-manager caches a RUN keeps in its layer (from the RUN model's commands)."""
    df = subject.df
    out: list[Suggestion] = []
    for ins in df.instructions:
        if ins.keyword != "run" or ins.stage not in subject.pushed_stages:
            continue  # a builder stage's caches never ship
        if any(m.type == "cache" for m in ins.mounts):
            continue
        cmds = [[w.value or "" for w in c.words] for sc in scripts_of(ins) for c in sc.commands]
        cmds = [(["pip", *w[3:]] if w[:3] in (["python", "-m", "pip"], ["python3", "-m", "pip"])
                 else w) for w in cmds]
        env = {k for sc in scripts_of(ins) for c in sc.commands for k, _ in c.assignments}
        env |= {k for k, _ in ins.env}
        for tool, subs, keeper, what, fix in _NO_CACHE:
            uses = [w for w in cmds if w and w[0] in (tool, tool + "3")
                    and next((x for x in w[1:] if not x.startswith("-")), None) in subs]
            if not uses:
                continue
            if tool == "npm":
                kept = any(w[:3] == ["npm", "cache", "clean"] for w in cmds)
            else:
                kept = all(keeper in w for w in uses)
            if tool == "pip" and "PIP_NO_CACHE_DIR" in env:
                kept = True
            if not kept:
                out.append(Suggestion("LL004", "Keep package-manager caches out of layers",
                                      f"RUN at line {ins.start_line}: {what}",
                                      "Caches written during a RUN are stored in its layer and "
                                      "pushed and pulled with every image.",
                                      (ins.start_line,), False, note=fix))
                break
    return out


def _shadowed_bytes(subject: Subject, source: Instruction) -> int | None:
    a = subject.analysis
    if a.image is None or subject.text != a.dockerfile.source:
        return None
    layers = a.layers_of_instruction(source.index)
    return sum(a.image.layers[i].shadowed_bytes for i in layers) or None


def written_then_removed(subject: Subject) -> list[Suggestion]:
    """A RUN that removes what an earlier RUN wrote (a build cache, a download): the files
    stay in the earlier layer. Needs the image: its layers say what the earlier RUN really
    wrote and what the later one hides (shadowed files and bytes). Pure cleanup RUNs are
    `check`'s fold and are left to it."""
    from layerlens.context.patterns import go_clean

    a = subject.analysis
    img = a.image
    if img is None or subject.text != a.dockerfile.source:
        return []
    df = subject.df
    sizes: dict[tuple[int, str], int] = {(r.layer, r.path): r.size for r in img.files}
    out: list[Suggestion] = []
    for stage in sorted(subject.pushed_stages):
        members = [df.instructions[i] for i in df.stages[stage].instructions[1:]]
        workdir = "/"
        for k, ins in enumerate(members):
            if ins.keyword == "workdir" and ins.expanded:
                w = ins.expanded[0]
                workdir = go_clean(w if w.startswith("/") else workdir + "/" + w)
            if ins.keyword != "run" or _cleanup_parts(ins):
                continue
            targets = []
            for sc in scripts_of(ins):
                for cmd in sc.commands:
                    if cmd.name == "rm":
                        for w in cmd.args:
                            v = w.value
                            if v and not v.startswith("-"):
                                base = v.split("*", 1)[0] if w.glob else v
                                targets.append(go_clean(base if base.startswith("/")
                                                        else workdir + "/" + base))
            for prev in members[:k]:
                if prev.keyword != "run" or not targets:
                    continue
                layers = set(a.layers_of_instruction(prev.index))
                hidden = sorted(p for (layer, p) in img.hidden if layer in layers and any(
                    "/" + p.strip("/") == t.rstrip("/") or
                    ("/" + p.strip("/")).startswith(t.rstrip("/") + "/") for t in targets))
                if not hidden:
                    continue
                got = [sizes[(layer, p)] for layer in layers for p in hidden
                       if (layer, p) in sizes]
                nbytes = sum(got) if got else None
                from layerlens.units import plural
                from layerlens.units import size as fmt

                what = plural(len(hidden), "file") + (f", {fmt(nbytes)}" if nbytes else "")
                out.append(Suggestion(
                    "LL004", "Merge a RUN with the later RUN that removes what it wrote",
                    f"RUN at line {ins.start_line} removes what the RUN at line "
                    f"{prev.start_line} wrote ({what} still in that layer, e.g. /{hidden[0]})",
                    "A file deleted by a later instruction stays in the earlier layer, stored, "
                    "pushed and pulled with it.", (prev.start_line, ins.start_line), False,
                    Savings(0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0.0, 0.0, False, 0, nbytes)
                    if nbytes else None,
                    note="do the work and the removal in one RUN, or keep the cache out of "
                    "the layer with RUN --mount=type=cache"))
    return out


def check_all(subject: Subject) -> list[Suggestion]:
    return (check(subject) + copied_then_removed(subject) + written_then_removed(subject)
            + cache_hints(subject))


RULE = Rule(
    "LL004", "cleanup-later-layer", "Clean up in the same layer that made the mess",
    "A file deleted by a later instruction stays in the earlier layer.", ("safe", "unsafe", "hint"),
    "cleanup in a later layer frees nothing (apt lists and cache, apk/yum/pip/npm caches, in "
    "any mix): fold it into the RUN that made the mess, through its syntax tree; files a COPY "
    "brought in only to be deleted; with an image, what one RUN wrote and a later RUN removes "
    "(merge them; the image's shadowed bytes); caches kept by `pip` without `--no-cache-dir`, "
    "`apk add` "
    "without `--no-cache`, npm. Safe when the RUN is bounded; a hint when a RUN in between may "
    "read the files", check_all)
