"""JSON shapes of the analysis. Field names here are a public contract (see README)."""

from __future__ import annotations

from typing import Any

from layerlens.dockerfile.model import Dockerfile, Instruction


def instruction_json(ins: Instruction) -> dict[str, Any]:
    return {
        "keyword": ins.keyword,
        "start_line": ins.start_line,
        "end_line": ins.end_line,
        "flags": [f.raw for f in ins.flags],
        "exec_form": ins.exec_form,
        "heredocs": [
            {"name": h.name, "content": h.content, "expand": h.expand, "chomp": h.chomp}
            for h in ins.heredocs
        ],
        "stage": ins.stage,
        "text": ins.text,
    }


def dockerfile_json(df: Dockerfile) -> dict[str, Any]:
    return {
        "path": df.path,
        "escape": df.escape,
        "directives": {k: v for k, v in df.directives},
        "platform": df.platform,
        "global_args": [[k, v] for k, v in df.global_args],
        "instructions": [instruction_json(i) for i in df.instructions],
        "stages": [
            {
                "index": s.index,
                "name": s.name,
                "base": s.base,
                "base_is_stage": s.base_is_stage,
                "platform": s.platform,
                "env": [[k, v] for k, v in s.env],
                "args": [[k, v] for k, v in s.args],
                "first_line": df.instructions[s.instructions[0]].start_line,
            }
            for s in df.stages
        ],
        "warnings": list(df.warnings),
    }


def inputs_json(inp) -> dict[str, Any]:
    return {
        "paths": list(inp.paths),
        "files": inp.files,
        "bytes": inp.bytes,
        "sources": [
            {"text": s.text, "kind": s.kind, "files": s.matched, "missing": s.missing}
            for s in inp.sources
        ],
    }


def analysis_json(result) -> dict[str, Any]:
    """The `layerlens analyze --format json` document (schema version 1)."""
    df = dockerfile_json(result.dockerfile)
    for ins, entry in zip(result.dockerfile.instructions, df["instructions"], strict=True):
        inp = result.inputs.get(ins.index)
        if inp is not None:
            entry["inputs"] = inputs_json(inp)
    ctx = result.context
    hist = result.history
    if hist is not None:
        for ins, entry in zip(result.dockerfile.instructions, df["instructions"], strict=True):
            st = hist.costs.instructions.get(ins.index)
            entry["change_rate"] = None if st is None else _r(st.change_rate, 6)
            if st is not None:
                entry["cost"] = op_cost_json(st)
    else:
        for entry in df["instructions"]:
            entry["change_rate"] = None
    return {
        "schema": 1,
        "dockerfile": df,
        "replay": replay_json(hist) if hist is not None else None,
        "context": {
            "root": ctx.root,
            "files": len(ctx.files),
            "bytes": ctx.total_bytes,
            "excluded_files": len(ctx.excluded),
            "ignore_file": ctx.ignore_source or None,
        },
        "image": image_json(result.image, result.layer_sources) if result.image else None,
        "notices": list(result.notices),
    }


def _r(v: float | None, digits: int = 3) -> float | None:
    return None if v is None else round(v, digits)


def _ri(v: float | None) -> int | None:
    return None if v is None else round(v)


def op_cost_json(st) -> dict[str, Any]:
    c = st.cost
    return {
        "rebuilds": st.rebuilds,
        "build_seconds": round(c.seconds, 3),
        # "log", "measured", "image" or "estimate"; the basis says how (cache/runcost.py)
        "build_seconds_source": c.seconds_source,
        "build_seconds_basis": c.seconds_basis,
        "size_bytes": c.size_bytes,
        # a builder stage's layers are never pushed: 0 is exact for them
        "push_bytes": c.push_bytes if st.pushed else 0,
        "push_bytes_source": c.push_source if st.pushed else "not_in_final_image",
        "expected_seconds_per_commit": _r(st.expected_seconds),
        "expected_push_bytes_per_commit": _ri(st.expected_push_bytes),
        "share_of_expected_seconds": _r(st.share, 6),
        "in_final_image": st.pushed,
        "top_changed_files": [{"path": p, "commits": n} for p, n in st.top_files],
    }


def _not_built(c) -> bool:
    """Whether a replayed commit's build did not run: a COPY source was absent there, or
    the Dockerfile did not parse."""
    return bool(c.failed) or c.error is not None


def costs_json(costs) -> dict[str, Any]:
    """Totals, per-commit means and the commits of one `CostSummary`. Push and pull bytes
    are the known part; `unknown_size_layers` counts pushed layers of unknown size, and a
    mean is null when nothing pushed was of known size."""
    return {
        "estimated": costs.estimated,
        "push_bytes_complete": costs.push_complete,
        "unknown_size_layers": costs.unknown_push_layers,
        "totals": {
            # no build replayed (each failed, or the window is empty): unknown, not 0
            "rebuild_seconds": round(costs.total_seconds, 3) if costs.builds else None,
            "push_bytes": costs.total_push_bytes if costs.mean_push_bytes is not None
            else None,
            "pull_bytes": costs.total_pull_bytes if costs.mean_pull_bytes is not None
            else None,
        },
        "per_commit": {
            "rebuild_seconds": _r(costs.mean_seconds),
            "push_bytes": _ri(costs.mean_push_bytes),
            "pull_bytes": _ri(costs.mean_pull_bytes),
        },
        "commits": [
            {
                "sha": c.sha,
                "time": c.time,
                "rebuilt": [{"stage": s, "first_line": line} for s, line in c.rebuilt],
                # a build that did not run (a COPY source absent, the file unparsable)
                # has unknown costs, never 0
                "rebuild_seconds": None if _not_built(c) else round(c.rebuild_seconds, 3),
                "push_bytes": None if _not_built(c) else c.push_bytes
                if c.push_bytes or not c.unknown_push_layers else None,
                "pull_bytes": None if _not_built(c) else c.pull_bytes
                if c.push_bytes or not c.unknown_push_layers else None,
                "unknown_size_layers": c.unknown_push_layers,
                "failed_instructions": list(c.failed),  # indices into dockerfile.instructions
                "error": c.error,
            }
            for c in costs.commits
        ],
    }


def replay_json(hist) -> dict[str, Any]:
    """The `replay` object: the current Dockerfile replayed over the window, and (with
    `--as-built`) each commit built with the Dockerfile it had then."""
    costs = hist.costs
    setup = hist.setup
    commits = setup.history.commits
    doc = {
        "repository": hist.toplevel,
        "context_prefix": hist.prefix,
        "subject": "current_dockerfile",
        "window_commits": hist.window,
        "mined_commits": len(commits),
        "skipped_commits": setup.start,
        "shallow": hist.history.shallow,
        "pullers": costs.pullers,
        "volatile_build_args": sorted(hist.volatile_args),
        "base_refresh_seconds": hist.base_refresh_seconds,
        "target": setup.target,
        "baseline_commit": hist.replay.first,
    }
    doc.update(costs_json(costs))
    doc["as_built"] = None
    if hist.as_built is not None:
        ab = hist.as_built
        doc["as_built"] = {"window_commits": len(ab.replay.commits),
                           "notices": list(ab.notices), **costs_json(ab.costs)}
    return doc


def image_json(img, sources=None, df=None) -> dict[str, Any]:
    """`layerlens image --format json` and the `image` object of `analyze --image`."""
    by_layer = {s.layer: s for s in (sources or ())}
    layers = []
    for lay in img.layers:
        src = by_layer.get(lay.index)
        layers.append({
            "index": lay.index,
            "digest": lay.digest,
            "diff_id": lay.diff_id,
            "size_bytes": lay.size_bytes,
            "compressed_bytes": lay.compressed_bytes,
            "tar_bytes": lay.tar_bytes,
            "shadowed_bytes": lay.shadowed_bytes,
            "created_by": lay.created_by,
            "line": src.line if src is not None else None,
            "stage": src.stage if src is not None else None,
            "base_image": src.base if src is not None else None,
            "files": lay.files,
            "added": lay.added,
            "modified": lay.modified,
            "removed": lay.removed,
            "compression": lay.compression,
        })
    return {
        "source": img.source,
        "format": img.format,
        "platform": img.platform,
        "tags": list(img.tags),
        "layers": layers,
        "size_bytes": img.size_bytes,
        "visible_bytes": img.visible_bytes,
        "compressed_bytes": img.compressed_bytes,
        "shadowed_bytes": img.shadowed_bytes,
        "efficiency": img.efficiency,
        "wasted_bytes": img.wasted_bytes,
        "user_wasted_percent": img.user_wasted_percent,
        "inefficient_files": [{"path": "/" + p, "bytes": b, "count": c}
                              for p, b, c in img.inefficient_files],
        "secrets": [{"where": f.where, "layer": f.layer, "path": f.path, "kind": f.kind,
                     "deleted_later": f.deleted_later} for f in img.secrets],
        "warnings": list(img.warnings),
    }
