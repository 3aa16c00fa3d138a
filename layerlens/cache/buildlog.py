"""Build seconds per step from the BuildKit logs CI already keeps.

Reads `docker buildx build --progress=plain` output (`#7 [build 4/4] RUN ...`, `#7 DONE
12.4s`, `#7 CACHED`) and `--progress=rawjson` (one JSON status per line with vertexes that
carry `name`, `started`, `completed`, `cached`). A step is matched to its instruction by
stage (name or `stage-N`) and the instruction text; cached steps say nothing about time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from layerlens.errors import LayerlensError
from layerlens.timeutil import parse_time

_VERTEX = re.compile(r"^#(\d+) \[([^\]]+?)\s+(\d+)/(\d+)\] (.*)$")
_DONE = re.compile(r"^#(\d+) DONE (\d+(?:\.\d+)?)s\s*$")
_CACHED = re.compile(r"^#(\d+) CACHED\s*$")
_NAME = re.compile(r"^\[([^\]]+?)\s+(\d+)/(\d+)\] (.*)$")
MAX_LOG_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class StepTime:
    stage: str  # stage name as the log prints it ("build", "stage-1")
    step: int
    text: str  # instruction text as printed
    seconds: float | None  # None when cached or unfinished
    cached: bool


def _norm(text: str) -> str:
    return " ".join(text.split())


def parse_plain(lines: Iterable[str]) -> list[StepTime]:
    meta: dict[str, tuple[str, int, str]] = {}
    secs: dict[str, float] = {}
    cached: set[str] = set()
    for raw in lines:
        line = raw.rstrip("\n")
        m = _VERTEX.match(line)
        if m:
            meta[m.group(1)] = (m.group(2), int(m.group(3)), m.group(5))
            continue
        m = _DONE.match(line)
        if m:
            secs[m.group(1)] = float(m.group(2))
            continue
        m = _CACHED.match(line)
        if m:
            cached.add(m.group(1))
    return [StepTime(stage, step, text, None if vid in cached else secs.get(vid),
                     vid in cached) for vid, (stage, step, text) in meta.items()]


def parse_rawjson(lines: Iterable[str]) -> list[StepTime]:
    seen: dict[str, dict] = {}
    for raw in lines:
        raw = raw.strip()
        if not raw:
            continue
        try:
            doc = json.loads(raw)
        except ValueError:
            continue
        for v in doc.get("vertexes") or ():
            if isinstance(v, dict) and v.get("digest"):
                seen.setdefault(v["digest"], {}).update({k: x for k, x in v.items() if x})
    out: list[StepTime] = []
    for v in seen.values():
        m = _NAME.match(v.get("name") or "")
        if not m:
            continue
        start, end = parse_time(v.get("started")), parse_time(v.get("completed"))
        seconds = (end - start).total_seconds() if start and end and not v.get("cached") \
            else None
        out.append(StepTime(m.group(1), int(m.group(2)), m.group(4), seconds,
                            bool(v.get("cached"))))
    return out


def read_build_log(path: Path) -> list[StepTime]:
    try:
        if path.stat().st_size > MAX_LOG_BYTES:
            raise LayerlensError("build log is larger than 512 MiB", path=str(path))
        text = path.read_text("utf-8", errors="replace")
    except OSError as exc:
        raise LayerlensError(f"cannot read build log: {exc.strerror or exc}",
                             path=str(path)) from None
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), "")
    steps = parse_rawjson(lines) if first.lstrip().startswith("{") else parse_plain(lines)
    if not steps:
        raise LayerlensError("no BuildKit steps found (expected --progress=plain or rawjson "
                             "output)", path=str(path))
    return steps


def match_steps(steps: list[StepTime], plan) -> dict[str, float]:
    """Seconds per operation identity, for steps that ran (not cached)."""
    from layerlens.cache.ops import BuildPlan

    assert isinstance(plan, BuildPlan)
    out: dict[str, float] = {}
    by_stage: dict[str, list] = {}
    for sp in plan.stages:
        for op in sp.ops:
            name, _, text = op.identity.partition("\0")
            text = text.partition("\x01")[0]  # a repeated instruction's occurrence mark
            keys = {name.lower(), f"stage-{sp.index}"}
            for k in keys:
                by_stage.setdefault(k, []).append((op, _norm(text)))
    for st in steps:
        if st.seconds is None:
            continue
        cands = by_stage.get(st.stage.lower(), [])
        want = _norm(st.text)
        for op, text in cands:
            if text == want:
                out[op.identity] = out.get(op.identity, 0.0) + st.seconds
                break
    return out
