"""Map image history entries (and so layers) back to Dockerfile instructions.

History texts differ by builder: classic Docker and buildah write `/bin/sh -c #(nop) ENV X=1`
and `COPY file:<hash> in /dst`, BuildKit writes `RUN /bin/sh -c make # buildkit` and
`COPY . /app # buildkit`, kaniko writes `RUN make` and `COPY . /app`. The entries of the
image's own build are the newest ones; they are aligned with the instructions of the final
stage's chain by an order-preserving best match (a small dynamic programme), so a missing
or extra entry cannot shift every later layer. Entries before the first match belong to the
base image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from layerlens.dockerfile.model import Dockerfile, Instruction
from layerlens.image.model import HistoryEntry, Image
from layerlens.timeutil import parse_time

_NOP = re.compile(r"^/bin/sh -c #\(nop\)\s*")
_SH = re.compile(r"^/bin/sh -c\s+")
_ARGS = re.compile(r"^\|\d+(?:\s+\S+=\S*)*\s+")
_FILE_HASH = re.compile(r"\b(file|dir|multi):[0-9a-f]{16,}\b")
_BUILDKIT = re.compile(r"\s*# buildkit$")
_TOKEN = re.compile(r"[A-Za-z0-9_./$:=-]+")
LAYER_KINDS = frozenset({"run", "copy", "add", "workdir"})
# tokens every entry of a kind shares, which say nothing about which instruction it is
_NOISE = frozenset({"run", "copy", "add", "workdir", "/bin/sh", "-c", "&&", "sh"})
# least token overlap (Jaccard, noise removed) for a history text to be an instruction's:
# below it the texts are different commands, and a guess would put a layer on a wrong line
MIN_SIMILARITY = 0.5


@dataclass(frozen=True, slots=True)
class LayerSource:
    layer: int
    instruction: int | None  # index into Dockerfile.instructions; None for base layers
    stage: int | None
    line: int | None
    base: str | None  # the base image reference, for base-image layers


def normalize(created_by: str) -> tuple[str, str]:
    """(keyword, text) of a history entry, whatever builder wrote it."""
    t = _BUILDKIT.sub("", created_by.strip())
    t = _ARGS.sub("", t)
    nop = _NOP.match(t)
    if nop:
        t = t[nop.end():]
    else:
        m = _SH.match(t)
        if m:
            t = "RUN " + t[m.end():]
    t = _ARGS.sub("", t) if t.startswith("|") else t
    if t.startswith("RUN "):
        rest = _SH.sub("", _ARGS.sub("", t[4:].lstrip()))
        t = "RUN " + rest
    t = _FILE_HASH.sub("", t).replace(" in ", " ")
    kw = t.split(None, 1)[0].lower() if t.strip() else ""
    return kw, t


def _tokens(text: str) -> set[str]:
    return set(_TOKEN.findall(text.lower()))


def _instruction_text(ins: Instruction) -> str:
    if ins.keyword == "run":
        return "RUN " + " ".join(ins.args)
    if ins.keyword in ("copy", "add"):
        # builders print the destination reliably, sources not (file:<hash>)
        return f"{ins.keyword.upper()} {' '.join(ins.expanded or ins.args)}"
    return ins.original


def _score(entry: HistoryEntry, ins: Instruction) -> float:
    """How well ENTRY's text matches INS: > 0 for a match (higher is better), else -1."""
    kw, text = normalize(entry.created_by)
    if not entry.empty_layer and ins.keyword not in LAYER_KINDS:
        return -1.0
    if entry.empty_layer and ins.keyword in ("copy", "add"):
        return -1.0
    if not kw or kw != ins.keyword:
        return -1.0  # no text (nothing to check) or another instruction
    a = _tokens(text) - _NOISE
    b = _tokens(_instruction_text(ins)) - _NOISE
    dest = (ins.keyword in ("copy", "add") and bool(ins.expanded)
            and ins.expanded[-1].lower() in a)
    if not a and not b:
        return 0.1  # `RUN` alone, `WORKDIR` alone: the keyword is all there is
    j = len(a & b) / len(a | b) if a | b else 0.0
    if j < MIN_SIMILARITY and not dest:
        return -1.0
    return 0.1 + j + (0.5 if dest else 0.0)


def chain_instructions(df: Dockerfile, target: int | None = None) -> list[Instruction]:
    """Instructions of the final image's stage chain, oldest stage first (FROMs excluded)."""
    idx = len(df.stages) - 1 if target is None else target
    chain = []
    cur: int | None = idx
    while cur is not None:
        chain.append(cur)
        cur = df.stages[cur].base_stage
    out: list[Instruction] = []
    for s in reversed(chain):
        out += [df.instructions[i] for i in df.stages[s].instructions[1:]]
    return out


def map_layers(image: Image, df: Dockerfile, target: int | None = None) -> list[LayerSource]:
    """One LayerSource per layer of IMAGE, oldest first (see `map_layers_checked`)."""
    return map_layers_checked(image, df, target)[0]


def map_layers_checked(image: Image, df: Dockerfile, target: int | None = None
                       ) -> tuple[list[LayerSource], str | None]:
    """Layers of IMAGE mapped to DF's instructions, and a warning when the history does not
    match the Dockerfile: a layer whose created_by matches no instruction is left unmapped
    (line None) rather than guessed, and when nothing matches no layer is called the base's.
    """
    inss = chain_instructions(df, target)
    hist = list(image.history)
    n, m = len(hist), len(inss)
    # best[i][j]: best total score aligning hist[:i] with inss[:j]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    move = [[0] * (m + 1) for _ in range(n + 1)]  # 0 skip hist, 1 skip ins, 2 match
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cands = [(best[i - 1][j], 0), (best[i][j - 1], 1)]
            s = _score(hist[i - 1], inss[j - 1])
            if s > 0:
                cands.append((best[i - 1][j - 1] + s, 2))
            best[i][j], move[i][j] = max(cands, key=lambda c: (c[0], c[1]))
    matched: dict[int, Instruction] = {}
    i, j = n, m
    while i > 0 and j > 0:
        mv = move[i][j]
        if mv == 2:
            matched[i - 1] = inss[j - 1]
            i, j = i - 1, j - 1
        elif mv == 1:
            j -= 1
        else:
            i -= 1
    first = min(matched) if matched else n
    root_stage = df.stages[inss[0].stage] if inss else df.stages[-1]
    base = root_stage.base
    out: list[LayerSource] = []
    for h in hist:
        if h.layer is None:
            continue
        ins = matched.get(h.index)
        if ins is not None:
            out.append(LayerSource(h.layer, ins.index, ins.stage, ins.start_line, None))
        elif h.index < first:
            out.append(LayerSource(h.layer, None, None, None, base))
        else:
            out.append(LayerSource(h.layer, None, None, None, None))
    known = {s.layer for s in out}
    for lay in image.layers:
        if lay.index not in known:
            out.append(LayerSource(lay.index, None, None, None, base if not matched else None))
    out.sort(key=lambda s: s.layer)
    own = [h for h in hist if h.layer is not None and h.index >= first]
    unmapped = [h.layer for h in own if h.index not in matched]
    layer_ins = [ins for ins in inss if ins.keyword in LAYER_KINDS]
    note = None
    if not matched and layer_ins and image.layers:
        out = [LayerSource(s.layer, None, None, None, None) for s in out]
        note = ("the image's history matches none of the Dockerfile's instructions (another "
                "Dockerfile, or another target?): layers are not mapped to lines")
    elif unmapped:
        note = (f"the history of layer{'s' if len(unmapped) > 1 else ''} "
                f"{', '.join(map(str, unmapped))} matches no instruction of the Dockerfile: "
                "left unmapped (the Dockerfile may not be the one the image was built from)")
    return out, note


def step_seconds(image: Image) -> dict[int, float]:
    """Seconds per layer from history timestamps, where they mean build time.

    Builders that commit step by step (classic Docker, buildah) stamp each entry when its
    step ends, so the gap to the previous entry is the step's duration. BuildKit stamps all
    entries of a build alike (or with SOURCE_DATE_EPOCH), which says nothing: then none.
    """
    times = [(h, parse_time(h.created)) for h in image.history]
    stamps = {t for _, t in times if t is not None}
    if len(stamps) < max(2, len(times) // 2):
        return {}
    out: dict[int, float] = {}
    prev: datetime | None = None
    for h, t in times:
        if t is not None and prev is not None and h.layer is not None:
            delta = (t - prev).total_seconds()
            if 0 <= delta < 86400:
                out[h.layer] = delta
        if t is not None:
            prev = t
    return out
