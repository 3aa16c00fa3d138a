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


def _shadowed_bytes(subject: Subject, source: Instruction) -> int | None:
    a = subject.analysis
    if a.image is None or subject.text != a.dockerfile.source:
        return None
    layers = a.layers_of_instruction(source.index)
    return sum(a.image.layers[i].shadowed_bytes for i in layers) or None


RULE = Rule("LL004", "cleanup-later-layer", "cleanup in a later layer frees nothing", check)
