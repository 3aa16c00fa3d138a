"""Real layer sizes and step times from an image, as costs of the matching operations."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from layerlens.cache.costs import COMPRESSION_RATIO, OpCost, estimate
from layerlens.cache.ops import build_plan
from layerlens.context.inputs import CopyInputs
from layerlens.dockerfile.model import Dockerfile
from layerlens.image.lines import LayerSource, step_seconds
from layerlens.image.model import Image


def image_op_costs(image: Image, df: Dockerfile, sources: Sequence[LayerSource],
                   read: Callable[[str], bytes | None] | None = None,
                   inputs: Mapping[int, CopyInputs] | None = None) -> dict[str, OpCost]:
    """OpCost per operation identity for every operation an image layer was mapped to. A
    layer without step seconds is estimated by the RUN model, through the project scripts
    and Makefiles it runs when `read` (the Analysis' context reader) and `inputs` are
    given (runmodel/follow.py)."""
    plan = build_plan(df)
    ops = {op.instruction: op for sp in plan.stages for op in sp.ops}
    seconds = step_seconds(image)
    out: dict[str, OpCost] = {}
    for src in sources:
        if src.instruction is None or src.instruction not in ops:
            continue
        op = ops[src.instruction]
        layer = image.layers[src.layer]
        ins = df.instructions[op.instruction] if op.instruction >= 0 else None
        followed = ()
        if ins is not None and read is not None and inputs is not None:
            from layerlens.runmodel.follow import follow_run

            followed = follow_run(df, ins, read, inputs)
        fallback = estimate(op, layer.size_bytes, ins, followed)
        secs = seconds.get(src.layer)
        if layer.compressed_bytes is not None:
            push, push_src = layer.compressed_bytes, "image"
        else:
            push, push_src = int(layer.tar_bytes * COMPRESSION_RATIO), "ratio"
        out[op.identity] = OpCost(
            secs if secs is not None else fallback.seconds,
            "image" if secs is not None else fallback.seconds_source,
            layer.size_bytes, push, push_src,
            "image history timestamps" if secs is not None else fallback.seconds_basis,
            *((fallback.download, fallback.prefetches) if secs is None else ()),
        )
    return out
