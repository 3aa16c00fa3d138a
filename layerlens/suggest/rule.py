"""What a rule reads and what it declares: `Subject` and `Rule`.

In a module of their own so that rules import them without importing the engine, and the
engine imports the rules without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from layerlens.analysis import Analysis
from layerlens.cache.costs import CostSummary, OpCost
from layerlens.cache.timeline import replay_text
from layerlens.context.inputs import CopyInputs, resolve_all
from layerlens.context.patterns import Matcher, read_ignore_lines
from layerlens.context.tree import Context, scan_context
from layerlens.dockerfile import Dockerfile, parse
from layerlens.suggest.model import Savings, Suggestion


@dataclass
class Subject:
    """A Dockerfile text under consideration, with what rules need to judge it."""

    analysis: Analysis
    text: str
    ignore_text: str | None  # the .dockerignore in force (None: there is none)
    _measure_cache: dict = field(default_factory=dict)

    @cached_property
    def df(self) -> Dockerfile:
        a = self.analysis
        return parse(self.text, str(a.options.dockerfile), build_args=a.options.build_args,
                     platform=a.options.platform)

    @property
    def df_build_args(self) -> Mapping[str, str]:
        return self.analysis.options.build_args

    @cached_property
    def context(self) -> Context:
        if self.ignore_text == self.analysis_ignore_text:
            return self.analysis.context
        matcher = Matcher.from_lines(read_ignore_lines(self.ignore_text or ""), ".dockerignore")
        return scan_context(Path(self.analysis.context.root), matcher, record_excluded=True)

    @cached_property
    def analysis_ignore_text(self) -> str | None:
        return read_ignore_text(self.analysis)

    @cached_property
    def inputs(self) -> Mapping[int, CopyInputs]:
        if self.text == self.analysis.dockerfile.source and self.context is self.analysis.context:
            return self.analysis.inputs
        return resolve_all(self.df.instructions, self.context)

    @property
    def history(self):
        return self.analysis.history

    @cached_property
    def pushed_stages(self) -> frozenset[int]:
        """Stages whose layers are in the final image (the target and its bases); a builder
        stage's layers are never pushed or pulled, only built."""
        out = set()
        cur: int | None = len(self.df.stages) - 1
        while cur is not None:
            out.add(cur)
            cur = self.df.stages[cur].base_stage
        return frozenset(out)

    def shipped(self, stage: int, pushed: str, built: str) -> str:
        """`pushed` for a stage in the final image, `built` for a builder stage."""
        return pushed if stage in self.pushed_stages else built

    def image_costs(self) -> Mapping[str, OpCost]:
        a = self.analysis
        if a.image is None:
            return {}
        from layerlens.image.costs import image_op_costs

        return image_op_costs(a.image, a.dockerfile, a.layer_sources)

    def summary(self, text: str, extra_ignore: tuple[str, ...] = ()) -> CostSummary | None:
        if self.history is None:
            return None
        key = (text, extra_ignore)
        if key not in self._measure_cache:
            ctx = self.context

            def inputs_for(df: Dockerfile) -> Mapping[int, CopyInputs]:
                return resolve_all(df.instructions, ctx)

            self._measure_cache[key] = replay_text(
                self.history, text, context_inputs=inputs_for, known=self.image_costs(),
                pullers=self.history.costs.pullers, label=str(self.analysis.options.dockerfile),
                extra_ignore=extra_ignore,
            )
        return self._measure_cache[key]

    def measure(self, new_text: str, extra_ignore: tuple[str, ...] = (),
                image_bytes: int | None = None) -> Savings | None:
        """Savings of `new_text` (and extra ignore patterns) over this subject's text."""
        before = self.summary(self.text)
        after = self.summary(new_text, extra_ignore)
        if before is None or after is None:
            if image_bytes:
                return Savings(0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0.0, 0.0, True, 0, image_bytes)
            return None
        n = len(before.commits)
        avoided = sum(1 for b, a in zip(before.commits, after.commits, strict=True)
                      if b.rebuilt and not a.rebuilt)
        return Savings(
            n,
            before.mean_seconds - after.mean_seconds,
            before.mean_push_bytes - after.mean_push_bytes,
            before.mean_pull_bytes - after.mean_pull_bytes,
            before.total_seconds - after.total_seconds,
            before.total_push_bytes - after.total_push_bytes,
            before.total_pull_bytes - after.total_pull_bytes,
            before.mean_seconds, after.mean_seconds,
            before.estimated or after.estimated, avoided, image_bytes,
        )


def read_ignore_text(analysis: Analysis) -> str | None:
    src = analysis.context.ignore_source
    if not src:
        return None
    try:
        return Path(src).read_text("utf-8", errors="surrogateescape")
    except OSError:
        return None


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule's metadata, declared once, and its check.

    `title` heads its suggestions, `reason` says why the problem costs, `fixes` lists the fix
    classes its suggestions can carry ("safe", "unsafe", "hint"), and `docs` is its line in
    the README's rules table (generated: python -m layerlens.suggest.rules)."""

    id: str
    name: str
    title: str
    reason: str
    fixes: tuple[str, ...]
    docs: str
    check: Callable[[Subject], list[Suggestion]]

    @property
    def summary(self) -> str:
        return self.title
