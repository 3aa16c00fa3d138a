"""Text edits on a Dockerfile that keep comments, blank lines and untouched formatting.

An instruction's block is its own lines plus the comment lines directly above it (no blank
line between), so a comment travels with the instruction it explains. Everything between
blocks stays where it was.
"""

from __future__ import annotations

from collections.abc import Sequence

from layerlens.dockerfile.model import Dockerfile, Instruction


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def block_range(df: Dockerfile, ins: Instruction, lines: list[str]) -> tuple[int, int]:
    """0-based [start, end) line range of the instruction with its leading comments."""
    start = ins.start_line - 1
    prev_end = 0
    for other in df.instructions:
        if other.end_line < ins.start_line:
            prev_end = max(prev_end, other.end_line)
    while start - 1 >= prev_end:
        cand = lines[start - 1].strip()
        if cand.startswith("#") and not _is_directive_zone(df, start - 1):
            start -= 1
        else:
            break
    return start, ins.end_line


def _is_directive_zone(df: Dockerfile, line0: int) -> bool:
    first = min(i.start_line for i in df.instructions) - 1
    return bool(df.directives) and line0 < first and line0 < len(df.directives)


def reorder(df: Dockerfile, stage: int, order: Sequence[int]) -> str:
    """The stage's instructions (FROM excluded) in `order`, each moved with its block."""
    lines = _lines(df.source)
    members = [df.instructions[i] for i in df.stages[stage].instructions[1:]]
    ranges = [block_range(df, ins, lines) for ins in members]
    by_index = {ins.index: block_range(df, ins, lines) for ins in members}
    out: list[str] = []
    pos = 0
    for slot, (s, e) in enumerate(ranges):
        out += lines[pos:s]
        bs, be = by_index[order[slot]]
        block = lines[bs:be]
        if block and not block[-1].endswith("\n"):
            block[-1] += "\n"
        out += block
        pos = e
    out += lines[pos:]
    text = "".join(out)
    if not df.source.endswith("\n") and text.endswith("\n"):
        text = text[:-1]
    return text


def insert_before(df: Dockerfile, ins: Instruction, new_lines: Sequence[str]) -> str:
    lines = _lines(df.source)
    s, _ = block_range(df, ins, lines)
    indent = ""
    raw = lines[ins.start_line - 1]
    indent = raw[: len(raw) - len(raw.lstrip(" \t"))]
    add = [indent + ln.rstrip("\n") + "\n" for ln in new_lines]
    return "".join(lines[:s] + add + lines[s:])


def replace_instruction(df: Dockerfile, ins: Instruction, new_text: str | None) -> str:
    """Replace (or with None, delete) the instruction's own lines; comments above stay."""
    lines = _lines(df.source)
    s, e = ins.start_line - 1, ins.end_line
    repl = [] if new_text is None else [new_text.rstrip("\n") + "\n"]
    return "".join(lines[:s] + repl + lines[e:])


def move_before(df: Dockerfile, ins: Instruction, target: Instruction) -> str:
    """Move `ins` (with its block) to just before `target`'s block."""
    lines = _lines(df.source)
    s, e = block_range(df, ins, lines)
    ts, _ = block_range(df, target, lines)
    block = lines[s:e]
    if block and not block[-1].endswith("\n"):
        block[-1] += "\n"
    rest = lines[:s] + lines[e:]
    if ts > s:
        ts -= e - s
    return "".join(rest[:ts] + block + rest[ts:])


def move_after(df: Dockerfile, ins: Instruction, anchor: Instruction) -> str:
    """Move `ins` (with its block) to just after `anchor`'s lines."""
    lines = _lines(df.source)
    s, e = block_range(df, ins, lines)
    block = lines[s:e]
    if block and not block[-1].endswith("\n"):
        block[-1] += "\n"
    at = anchor.end_line
    rest = lines[:s] + lines[e:]
    if at > s:
        at -= e - s
    if at > 0 and not rest[at - 1].endswith("\n"):
        rest[at - 1] += "\n"
    return "".join(rest[:at] + block + rest[at:])
