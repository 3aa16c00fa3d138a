"""The one immutable analysis result that every front end reads.

Inputs (Dockerfile, build context, and later git history and image) flow in here once;
suggestions, reports, the CI gate and the TUI only read the `Analysis` this returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from layerlens.cache.timeline import HistoryAnalysis, HistoryOptions, analyze_history
from layerlens.context.inputs import CopyInputs, resolve_all
from layerlens.context.patterns import load_ignore
from layerlens.context.tree import Context, scan_context
from layerlens.dockerfile import Dockerfile, load

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class AnalyzeOptions:
    dockerfile: Path
    context: Path | None = None
    build_args: Mapping[str, str] = field(default_factory=dict)
    platform: str = "linux/amd64"
    target: str | None = None
    history: HistoryOptions = field(default_factory=HistoryOptions)

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
    notices: tuple[str, ...] = ()

    def inputs_for(self, index: int) -> CopyInputs | None:
        return self.inputs.get(index)


def analyze(options: AnalyzeOptions, progress: Progress | None = None) -> Analysis:
    say = progress or (lambda _msg: None)
    df = load(options.dockerfile, build_args=options.build_args, platform=options.platform)
    ctx_dir = options.context_dir
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
    hist, hist_notices = analyze_history(
        df, options.dockerfile, ctx_dir, inputs, options.build_args, options.history, say)
    notices.extend(hist_notices)
    if hist is not None:
        notices.extend(hist.notices)
    return Analysis(options, df, ctx, MappingProxyType(inputs), hist, tuple(notices))
