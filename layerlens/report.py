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
    return {
        "schema": 1,
        "dockerfile": df,
        "context": {
            "root": ctx.root,
            "files": len(ctx.files),
            "bytes": ctx.total_bytes,
            "excluded_files": len(ctx.excluded),
            "ignore_file": ctx.ignore_source or None,
        },
        "notices": list(result.notices),
    }
