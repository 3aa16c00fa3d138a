"""What a rule reads and what it declares: `Subject` and `Rule`.

In a module of their own so that rules import them without importing the engine, and the
engine imports the rules without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from layerlens.analysis import Analysis
from layerlens.cache.costs import CostSummary, paired
from layerlens.context.inputs import CopyInputs, resolve_all
from layerlens.context.tree import Context
from layerlens.dockerfile import Dockerfile
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
        return self.analysis.parse_text(self.text)

    @property
    def df_build_args(self) -> Mapping[str, str]:
        return self.analysis.options.build_args

    @cached_property
    def context(self) -> Context:
        # derived from the analysis's one scan (nothing is read again)
        return self.analysis.context_for_ignore(self.ignore_text)

    @cached_property
    def analysis_ignore_text(self) -> str | None:
        return self.analysis.ignore_text

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
        from layerlens.dockerfile.model import find_stage

        out = set()
        target = self.analysis.options.target
        cur: int | None = (find_stage(self.df.stages, target) if target is not None
                           else len(self.df.stages) - 1)
        while cur is not None:
            out.add(cur)
            cur = self.df.stages[cur].base_stage
        return frozenset(out)

    def shipped(self, stage: int, pushed: str, built: str) -> str:
        """`pushed` for a stage in the final image, `built` for a builder stage."""
        return pushed if stage in self.pushed_stages else built

    def summary(self, text: str, extra_ignore: tuple[str, ...] = ()) -> CostSummary | None:
        """The replayed cost of `text` with this subject's ignore file plus `extra_ignore`
        patterns: `Analysis.replay_text` over the analysis's one mined history, with its
        image costs and build-log seconds."""
        if self.history is None:
            return None
        key = (text, extra_ignore)
        if key not in self._measure_cache:
            ignore = self.ignore_text
            if extra_ignore:
                ignore = (ignore or "").rstrip("\n") + "\n" + "\n".join(extra_ignore) + "\n"
            self._measure_cache[key] = self.analysis.replay_text(text, ignore)
        return self._measure_cache[key]

    def measure(self, new_text: str, extra_ignore: tuple[str, ...] = (),
                image_bytes: int | None = None) -> Savings | None:
        """Savings of `new_text` (and extra ignore patterns) over this subject's text."""
        before = self.summary(self.text)
        after = self.summary(new_text, extra_ignore)
        if before is None or after is None or before.mean_seconds is None \
                or after.mean_seconds is None:
            if image_bytes:
                return Savings(0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0.0, 0.0, True, 0, image_bytes)
            return None
        # Commit by commit, over the commits at which both texts build (cache/costs.py
        # paired): a rewrite that fails where today's file builds is not a saving there.
        p = paired(before, after)
        if p.before_seconds is None or p.after_seconds is None:
            if image_bytes:
                return Savings(0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0.0, 0.0, True, 0, image_bytes,
                               p.after_failed)
            return None
        n = p.builds
        # A push saving is a difference of exact sums only when every pushed layer's size is
        # known on both sides; otherwise it is unknown, not the difference of known parts.
        exact = p.push_exact
        push = _diff(p.before_push_bytes, p.after_push_bytes, exact)
        return Savings(
            n,
            p.before_seconds - p.after_seconds,
            push,
            None if push is None else push * p.pullers,
            (p.before_seconds - p.after_seconds) * n,
            None if push is None else round(push * n),
            None if push is None else round(push * n) * p.pullers,
            p.before_seconds, p.after_seconds,
            before.estimated or after.estimated, p.rebuilds_avoided, image_bytes,
            p.after_failed,
        )


def _diff(before, after, exact: bool):
    if not exact or before is None or after is None:
        return None
    return before - after


def sum_known(values):
    """The sum, or None when any part is unknown."""
    vals = list(values)
    return None if any(v is None for v in vals) else sum(vals)


def read_ignore_text(analysis: Analysis) -> str | None:
    """The ignore file in force, as the analysis read it (None when there is none)."""
    return analysis.ignore_text


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
