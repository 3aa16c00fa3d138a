"""LL004: cleanup in a later layer frees nothing.

Files deleted by a later RUN stay in the earlier layer, pushed and pulled with every image.
Package-manager caches are removed in the same RUN that created them; a RUN made only of
such cleanup is folded into the RUN it cleans up after.
"""

from __future__ import annotations

import re

from layerlens.dockerfile.model import Instruction
from layerlens.suggest.engine import Rule, Subject
from layerlens.suggest.model import Suggestion
from layerlens.suggest.rewrite import replace_instruction

# cleanup command -> what creates the mess it removes
CLEANUPS: list[tuple[re.Pattern[str], re.Pattern[str], str]] = [
    (re.compile(r"^rm\s+-r?f?r?\s+/var/lib/apt/lists/\*?$"), re.compile(r"apt(-get)?\s+update"),
     "apt lists"),
    (re.compile(r"^(apt-get|apt)\s+clean$"), re.compile(r"apt(-get)?\s+install"), "apt cache"),
    (re.compile(r"^rm\s+-r?f?r?\s+/var/cache/apk/\*?$"), re.compile(r"apk\s+(add|update)"),
     "apk cache"),
    (re.compile(r"^(yum|dnf)\s+clean\s+all$"), re.compile(r"(yum|dnf)\s+install"), "yum cache"),
    (re.compile(r"^rm\s+-r?f?r?\s+/root/\.cache(/pip)?/?\*?$"), re.compile(r"pip3?\s+install"),
     "pip cache"),
    (re.compile(r"^npm\s+cache\s+clean(\s+--force)?$"), re.compile(r"npm\s+(ci|install|i)\b"),
     "npm cache"),
]
_SPLIT = re.compile(r"\s*(?:&&|;)\s*")
_MANAGERS = (("apt", re.compile(r"\bapt(-get|-cache|-mark)?\b|\bdpkg\b")),
             ("apk", re.compile(r"\bapk\b")), ("yum", re.compile(r"\b(yum|dnf|rpm)\b")),
             ("pip", re.compile(r"\bpip3?\b")), ("npm", re.compile(r"\bnpm\b")))


def _same_manager(creator: re.Pattern[str], body: str) -> bool:
    """Does a RUN use the package manager whose files the cleanup removes?"""
    return any(name in creator.pattern and rx.search(body) for name, rx in _MANAGERS)


def _cleanup_parts(ins: Instruction) -> list[tuple[str, re.Pattern[str], str]] | None:
    if ins.keyword != "run" or ins.exec_form or ins.heredocs or ins.mounts or not ins.args:
        return None
    parts = [p.strip() for p in _SPLIT.split(ins.args[0].replace("\\\n", " ")) if p.strip()]
    found = []
    for p in parts:
        p1 = " ".join(p.split())
        for rx, creator, what in CLEANUPS:
            if rx.match(p1):
                found.append((p1, creator, what))
                break
        else:
            return None
    return found or None


def check(subject: Subject) -> list[Suggestion]:
    df = subject.df
    out: list[Suggestion] = []
    for stage in sorted(df.needed_stages()):
        members = [df.instructions[i] for i in df.stages[stage].instructions[1:]]
        for k, ins in enumerate(members):
            parts = _cleanup_parts(ins)
            if not parts:
                continue
            creator_rx = parts[0][1]
            source = None
            blocked = False
            for prev in reversed(members[:k]):
                if prev.keyword == "run":
                    body = prev.args[0] if prev.args and not prev.exec_form else ""
                    if creator_rx.search(body):
                        source = prev
                        break
                    if _same_manager(creator_rx, body):
                        blocked = True  # a RUN in between may still use what is cleaned
            if source is None:
                continue
            whats = ", ".join(sorted({w for _, _, w in parts}))
            title = "Clean up in the same layer that made the mess"
            reason = ("A file deleted by a later instruction stays in the earlier layer: it is "
                      "still stored, pushed and pulled. Remove caches in the RUN that creates "
                      "them, or use RUN --mount=type=cache.")
            image_bytes = _shadowed_bytes(subject, source)
            if blocked or source.exec_form or source.heredocs:
                out.append(Suggestion("LL004", title, f"line {ins.start_line} removes {whats} "
                                      f"created at line {source.start_line}", reason,
                                      (source.start_line, ins.start_line), False,
                                      note="another RUN in between may use those files; fold "
                                      "the cleanup in by hand"))
                continue
            cleanup = " && ".join(p for p, _, _ in parts)
            first_line = source.text.rstrip()
            new_source = f"{first_line} \\\n    && {cleanup}"
            text = replace_instruction(df, ins, None)
            from layerlens.dockerfile import parse

            df2 = parse(text, df.path)
            src2 = next(i for i in df2.instructions if i.start_line == source.start_line)
            text = replace_instruction(df2, src2, new_source)
            savings = subject.measure(text, image_bytes=image_bytes)
            out.append(Suggestion(
                "LL004", title,
                f"fold the {whats} cleanup at line {ins.start_line} into the RUN at line "
                f"{source.start_line}", reason, (source.start_line, ins.start_line), True,
                savings, dockerfile=text,
            ))
    return out


_RM = re.compile(r"(?:^|&&|;)\s*rm\s+(?:-[a-zA-Z]+\s+)*([^\s;&|]+(?:\s+[^\s;&|-][^\s;&|]*)*)")
_NO_CACHE = (
    (re.compile(r"\bpip3?\s+install\b(?!.*--no-cache-dir)"), "pip install without "
     "--no-cache-dir keeps its download cache in the layer",
     "add --no-cache-dir, or RUN --mount=type=cache,target=/root/.cache/pip"),
    (re.compile(r"\bapk\s+add\b(?!.*--no-cache)"), "apk add without --no-cache keeps the "
     "package index in the layer", "add --no-cache"),
    (re.compile(r"\bnpm\s+(ci|install)\b(?!.*cache clean)"), "npm keeps its cache in "
     "/root/.npm", "RUN --mount=type=cache,target=/root/.npm npm ci"),
)


def copied_then_removed(subject: Subject) -> list[Suggestion]:
    """`rm` of files an earlier COPY brought in: they stay in the COPY's layer."""
    from layerlens.context.patterns import go_clean

    df = subject.df
    out: list[Suggestion] = []
    for stage in sorted(df.needed_stages()):
        members = [df.instructions[i] for i in df.stages[stage].instructions[1:]]
        workdir = "/"
        dests: list[tuple[Instruction, str]] = []
        for ins in members:
            if ins.keyword == "workdir" and ins.expanded:
                w = ins.expanded[0]
                workdir = go_clean(w if w.startswith("/") else workdir + "/" + w)
            if ins.keyword in ("copy", "add") and ins.expanded and ins.from_stage is None:
                d = ins.expanded[-1]
                dests.append((ins, go_clean(d if d.startswith("/") else workdir + "/" + d)))
            if ins.keyword != "run" or ins.exec_form or not ins.args:
                continue
            for m in _RM.finditer(ins.args[0]):
                for target in m.group(1).split():
                    t = go_clean(target if target.startswith("/") else workdir + "/" + target)
                    for copy, dest in dests:
                        if t == dest or t.startswith(dest.rstrip("/") + "/"):
                            out.append(Suggestion(
                                "LL004", "Files copied only to be deleted stay in the image",
                                f"RUN at line {ins.start_line} removes {target}, which "
                                f"{copy.upper} at line {copy.start_line} brought in",
                                "A file deleted by a later instruction is still stored, pushed "
                                "and pulled with the COPY's layer.",
                                (copy.start_line, ins.start_line), False,
                                note="leave it out with .dockerignore, or read it through "
                                "RUN --mount=type=bind,source=... without copying it"))
                            break
    return out


def cache_hints(subject: Subject) -> list[Suggestion]:
    df = subject.df
    out: list[Suggestion] = []
    for ins in df.instructions:
        if ins.keyword != "run" or ins.exec_form or not ins.args:
            continue
        if any(m.type == "cache" for m in ins.mounts):
            continue
        body = " ".join(ins.args[0].split())
        for rx, what, fix in _NO_CACHE:
            if rx.search(body):
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


def check_all(subject: Subject) -> list[Suggestion]:
    return check(subject) + copied_then_removed(subject) + cache_hints(subject)


RULE = Rule("LL004", "cleanup-later-layer", "cleanup in a later layer frees nothing",
            check_all)
