"""The one immutable analysis result that every front end reads.

Inputs (Dockerfile, build context, and later git history and image) flow in here once;
suggestions, reports, the CI gate and the TUI only read the `Analysis` this returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from layerlens.cache.timeline import HistoryAnalysis, HistoryOptions, analyze_history
from layerlens.context.inputs import CopyInputs, resolve_all
from layerlens.context.patterns import load_ignore
from layerlens.context.tree import Context, scan_context
from layerlens.dockerfile import Dockerfile, load
from layerlens.errors import LayerlensError
from layerlens.image.lines import LayerSource
from layerlens.image.model import Image

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class AnalyzeOptions:
    dockerfile: Path
    context: Path | None = None
    build_args: Mapping[str, str] = field(default_factory=dict)
    platform: str = "linux/amd64"
    target: str | None = None
    history: HistoryOptions = field(default_factory=HistoryOptions)
    image: str | None = None
    image_platform: str | None = None
    keep_image_files: bool = False

    @property
    def context_dir(self) -> Path:
        return self.context if self.context is not None else self.dockerfile.parent


@dataclass(frozen=True, slots=True)
class Analysis:
    options: AnalyzeOptions
    dockerfile: Dockerfile
    context: Context
    inputs: Mapping[int, CopyInputs]
    history: HistoryAnalysis | None = None
    image: Image | None = None
    layer_sources: tuple[LayerSource, ...] = ()
    notices: tuple[str, ...] = ()

    def source_of_layer(self, layer: int) -> LayerSource | None:
        for s in self.layer_sources:
            if s.layer == layer:
                return s
        return None

    def layers_of_instruction(self, index: int) -> list[int]:
        return [s.layer for s in self.layer_sources if s.instruction == index]

    def inputs_for(self, index: int) -> CopyInputs | None:
        return self.inputs.get(index)


def analyze(options: AnalyzeOptions, progress: Progress | None = None) -> Analysis:
    say = progress or (lambda _msg: None)
    df = load(options.dockerfile, build_args=options.build_args, platform=options.platform)
    ctx_dir = options.context_dir
    if not ctx_dir.exists():
        raise LayerlensError("build context does not exist", path=str(ctx_dir))
    if not ctx_dir.is_dir():
        raise LayerlensError("build context is not a directory", path=str(ctx_dir))
    matcher = load_ignore(ctx_dir, options.dockerfile)
    say(f"reading build context {ctx_dir}")
    ctx = scan_context(ctx_dir, matcher, progress=lambda n: say(f"context: {n} files"))
    inputs = resolve_all(df.instructions, ctx)
    notices = []
    for ins_index, inp in sorted(inputs.items()):
        ins = df.instructions[ins_index]
        for src in inp.sources:
            if src.missing:
                notices.append(
                    f"{df.path}:{ins.start_line}: {ins.upper} source {src.text!r} matches no "
                    "file in the build context (the build would fail)"
                )
    image = None
    sources: tuple[LayerSource, ...] = ()
    hist_opts = options.history
    if options.image:
        from layerlens.image.costs import image_op_costs
        from layerlens.image.lines import map_layers
        from layerlens.image.reader import read_image

        image = read_image(options.image, platform=options.image_platform,
                           keep_files=options.keep_image_files, progress=say)
        sources = tuple(map_layers(image, df))
        notices.extend(f"{options.image}: {w}" for w in image.warnings)
        known = image_op_costs(image, df, sources)
        hist_opts = replace(hist_opts, op_costs={**known, **hist_opts.op_costs})
    hist, hist_notices = analyze_history(
        df, options.dockerfile, ctx_dir, inputs, options.build_args, hist_opts, say)
    notices.extend(hist_notices)
    if hist is not None:
        notices.extend(hist.notices)
    return Analysis(options, df, ctx, MappingProxyType(inputs), hist, image, sources,
                    tuple(notices))
