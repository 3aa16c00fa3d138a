"""The baseline: a small, deterministic, reviewable record of one analysis.

Layers are keyed by stage and instruction text (not line numbers), so moving lines or
adding unrelated ones does not break the comparison. No timestamps, no absolute paths:
the same inputs always write the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layerlens.analysis import Analysis
from layerlens.errors import LayerlensError
from layerlens.fsutil import atomic_write_text

SCHEMA = 1
DEFAULT_NAME = ".layerlens-baseline.json"


def default_path(dockerfile: Path) -> Path:
    """The baseline file beside a Dockerfile, as the README's gate section names it.

    `Dockerfile` -> `.layerlens-baseline.json`; `Dockerfile.<name>` ->
    `.layerlens-baseline.<name>.json`; any other name (`Containerfile`, `api.dockerfile`)
    -> `.layerlens-baseline.<file name>.json`, so Dockerfiles side by side never share one.
    """
    name = dockerfile.name
    if name == "Dockerfile":
        return dockerfile.parent / DEFAULT_NAME
    variant = name.removeprefix("Dockerfile.") if name.startswith("Dockerfile.") else name
    return dockerfile.parent / f".layerlens-baseline.{variant or name}.json"


@dataclass(frozen=True, slots=True)
class LayerFigures:
    key: str
    stage: str
    instruction: str
    line: int | None
    size_bytes: int | None
    compressed_bytes: int | None
    shadowed_bytes: int | None
    # from the current Dockerfile's replay; None without a history
    change_rate: float | None = None
    rebuild_seconds: float | None = None  # expected, per commit
    # without an image: the context sources of this COPY/ADD that match no file (a build
    # output CI makes first): its size is then unknown, never 0
    absent: tuple[str, ...] = ()


def layer_key(stage_label: str, text: str) -> str:
    return f"{stage_label}: {' '.join(text.split())}"


def context_bytes(a: Analysis, skip: frozenset[str] = frozenset()) -> int | None:
    """Bytes COPY/ADD bring in from the context, the baseline file itself not counted; None
    (unknown) when a COPY/ADD source of a stage the build runs matches no file: the build
    copies files that are not there yet (CI builds them first), whose size is unknown."""
    needed = a.needed_stages()
    total = 0
    for idx, inp in a.inputs.items():
        if not inp.from_context:
            continue
        if a.dockerfile.instructions[idx].stage in needed and absent_sources(inp):
            return None
        total += _inputs_bytes(a, inp, skip)
    return total


def absent_sources(inp) -> tuple[str, ...]:
    """The context sources of one `CopyInputs` that match no file in the context."""
    return tuple(s.text for s in inp.sources if s.kind == "context" and s.missing)


def _inputs_bytes(a: Analysis, inp, skip: frozenset[str]) -> int:
    if not skip or not any(p in skip for p in inp.paths):
        return inp.bytes
    sizes = a.context.by_path()
    return sum(sizes[p].size for p in inp.paths if p not in skip and p in sizes)


def skip_paths(a: Analysis, baseline_path: Path) -> frozenset[str]:
    """The baseline file as a context path, when it lies in the context."""
    import os

    rel = os.path.relpath(os.path.realpath(baseline_path), os.path.realpath(a.context.root))
    return frozenset() if rel.startswith("..") else frozenset({rel.replace(os.sep, "/")})


def current_layers(a: Analysis, skip: frozenset[str] = frozenset()) -> list[LayerFigures]:
    """One record per layer-making instruction of the final image's chain (and, without an
    image, the context bytes each COPY/ADD brings in)."""
    df = a.dockerfile
    out: list[LayerFigures] = []
    seen: dict[str, int] = {}
    by_ins: dict[int, list[int]] = {}
    for s in a.layer_sources:
        if s.instruction is not None:
            by_ins.setdefault(s.instruction, []).append(s.layer)
    if a.image is not None:
        base = [s.layer for s in a.layer_sources if s.instruction is None]
        if base:
            imgl = [a.image.layers[i] for i in base]
            out.append(LayerFigures("(base image)", "", "(base image)", None,
                                    sum(x.size_bytes for x in imgl),
                                    _sum_or_none([x.compressed_bytes for x in imgl]),
                                    sum(x.shadowed_bytes for x in imgl)))
    from layerlens.image.lines import chain_instructions

    if a.image is not None:
        instructions = chain_instructions(df)
    else:
        # without an image, every stage the build runs: its COPYs are what grows
        needed = a.needed_stages()
        instructions = [df.instructions[i] for st in df.stages if st.index in needed
                        for i in st.instructions[1:]]
    for ins in instructions:
        if ins.keyword not in ("run", "copy", "add", "workdir"):
            continue
        st = df.stages[ins.stage]
        key = layer_key(st.label, ins.original)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key += f" #{seen[key]}"
        absent: tuple[str, ...] = ()
        if a.image is not None:
            layers = [a.image.layers[i] for i in by_ins.get(ins.index, [])]
            if not layers and ins.keyword == "workdir":
                continue
            size = sum(x.size_bytes for x in layers) if layers else None
            comp = _sum_or_none([x.compressed_bytes for x in layers]) if layers else None
            shadow = sum(x.shadowed_bytes for x in layers) if layers else None
        else:
            inp = a.inputs.get(ins.index)
            absent = absent_sources(inp) if inp is not None else ()
            size = _inputs_bytes(a, inp, skip) if inp is not None and inp.from_context \
                and not absent else None
            comp = shadow = None
            if ins.keyword == "workdir":
                continue
        stats = a.history.costs.instructions.get(ins.index) if a.history is not None else None
        out.append(LayerFigures(key, st.label, " ".join(ins.original.split()), ins.start_line,
                                size, comp, shadow,
                                stats.change_rate if stats is not None else None,
                                stats.expected_seconds if stats is not None else None,
                                absent))
    return out


@dataclass(frozen=True, slots=True)
class StepPrice:
    """What one rebuild of a step costs in the replay, and where that figure came from."""

    seconds: float
    source: str  # "log", "measured", "image" or "estimate" (OpCost.seconds_source)
    change_rate: float | None  # share of replayed builds that rebuild it
    keyword: str = "run"  # the instruction: a COPY/ADD is priced by the bytes it copies


def step_prices(a: Analysis) -> dict[str, StepPrice]:
    """Per layer key (as `current_layers` names them, every stage the build runs): the
    seconds one rebuild of the step costs and their source. Empty without a history."""
    if a.history is None:
        return {}
    df = a.dockerfile
    needed = a.needed_stages()
    out: dict[str, StepPrice] = {}
    seen: dict[str, int] = {}
    for st in df.stages:
        if st.index not in needed:
            continue
        for i in st.instructions[1:]:
            ins = df.instructions[i]
            if ins.keyword not in ("run", "copy", "add", "workdir"):
                continue
            key = layer_key(st.label, ins.original)
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > 1:
                key += f" #{seen[key]}"
            stats = a.history.costs.instructions.get(ins.index)
            if stats is not None:
                out[key] = StepPrice(stats.cost.seconds, stats.cost.seconds_source,
                                     stats.change_rate, ins.keyword)
    return out


def _round(v: float | None, digits: int | None = None) -> float | int | None:
    return None if v is None else round(v, digits)


def _sum_or_none(values: list[int | None]) -> int | None:
    if any(v is None for v in values):
        return None
    return sum(v or 0 for v in values)


def build_baseline(a: Analysis, suggestions: list[tuple[str, str]],
                   skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    layers = current_layers(a, skip)
    img = a.image
    totals: dict[str, Any] = {
        "context_bytes": context_bytes(a, skip),
        "size_bytes": img.size_bytes if img else None,
        "compressed_bytes": img.compressed_bytes if img else None,
        "shadowed_bytes": img.shadowed_bytes if img else None,
        "efficiency": round(img.efficiency, 6) if img else None,
        "wasted_bytes": img.wasted_bytes if img else None,
        "user_wasted_percent": round(img.user_wasted_percent, 6) if img else None,
    }
    replay = None
    # A shallow clone's rates describe a truncated window: recording them would let a full
    # history look like a regression (or a later shallow one like an improvement).
    shallow = a.history is not None and a.history.history.shallow
    if a.history is not None and a.history.costs.mean_seconds is not None and not shallow:
        c = a.history.costs
        replay = {"commits": len(c.commits), "rebuild_seconds_per_commit": round(c.mean_seconds, 3),
                  "push_bytes_per_commit": _round(c.mean_push_bytes),
                  "pull_bytes_per_commit": _round(c.mean_pull_bytes),
                  "unknown_size_layers": c.unknown_push_layers, "estimated": c.estimated}
    return {
        "schema": SCHEMA,
        "dockerfile": a.options.dockerfile.name,
        "image": img is not None,
        "layers": [{"key": x.key, "line": x.line, "size_bytes": x.size_bytes,
                    "compressed_bytes": x.compressed_bytes, "shadowed_bytes": x.shadowed_bytes,
                    "change_rate": None if shallow else _round(x.change_rate, 6),
                    "rebuild_seconds_per_commit": None if shallow
                    else _round(x.rebuild_seconds, 3)}
                   for x in layers],
        "totals": totals,
        "replay": replay,
        # seconds per rebuild of each step and their source, so that `check` judges a
        # change of churn at the baseline's prices when the prices changed only because
        # they come from elsewhere (an estimate model, `measure`, a build log)
        "step_prices": None if replay is None else {
            k: {"build_seconds": round(p.seconds, 3), "source": p.source}
            for k, p in sorted(step_prices(a).items())},
        "inputs": recorded_inputs(a),
        "suggestions": sorted({f"{rule} {key}" for rule, key in suggestions}),
    }


def recorded_inputs(a: Analysis) -> dict[str, Any]:
    """What `check` must measure the same way: the context (relative to the Dockerfile's
    directory, so the file stays free of absolute paths), target, platform and window.
    Build args are not recorded: they may carry secrets, and the baseline is committed."""
    import os

    o = a.options
    ctx = os.path.relpath(os.path.realpath(o.context_dir),
                          os.path.realpath(o.dockerfile.parent)).replace(os.sep, "/")
    h = o.history
    return {"context": ctx, "target": o.target, "platform": o.platform, "since": h.since,
            # None: the default window; 0: the whole history (as --max-commits 0)
            "max_commits": 0 if h.max_commits is None else (
                None if h.max_commits == 1000 else h.max_commits)}


def write_baseline(path: Path, doc: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def read_baseline(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LayerlensError("baseline not found; create it with `layerlens baseline`",
                             path=str(path)) from None
    except OSError as exc:
        raise LayerlensError(f"cannot read baseline: {exc.strerror or exc}",
                             path=str(path)) from None
    if len(raw) > 32 << 20:
        raise LayerlensError("baseline is larger than 32 MiB; not a layerlens baseline",
                             path=str(path))
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", None)
        raise LayerlensError(f"baseline is not valid JSON ({getattr(exc, 'msg', exc)})",
                             path=str(path), line=line) from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or not isinstance(
            doc.get("layers"), list) or not isinstance(doc.get("totals"), dict):
        raise LayerlensError(f"not a layerlens baseline (schema {SCHEMA} expected); recreate "
                             "it with `layerlens baseline`", path=str(path))
    for i, layer in enumerate(doc["layers"]):
        if not isinstance(layer, dict) or not isinstance(layer.get("key"), str):
            raise LayerlensError(f"baseline layer {i} has no key", path=str(path))
        for f in ("size_bytes", "compressed_bytes", "shadowed_bytes"):
            v = layer.get(f)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise LayerlensError(f"baseline layer {i}: {f} must be a byte count",
                                     path=str(path))
    return doc
