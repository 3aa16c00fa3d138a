"""Run the rules over an analysis, measure each suggestion, and build the combined rewrite.

Every rule reads a `Subject` (a Dockerfile text with its context, derived from the one
immutable `Analysis`) and returns suggestions. Savings are measured, not guessed: the same
mined history is replayed with the current text and with the rewrite. The combined rewrite
applies the best fixable suggestion, re-reads the result, and repeats until nothing fixable
is left, so `--write` is idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from layerlens.analysis import Analysis
from layerlens.cache.costs import CostSummary
from layerlens.context.inputs import CopyInputs, resolve_all
from layerlens.context.tree import Context
from layerlens.dockerfile import Dockerfile, parse
from layerlens.errors import LayerlensError
from layerlens.suggest.model import Savings, Suggestion

_PRAGMA = re.compile(r"^\s*#\s*layerlens\s+ignore\s*=\s*([A-Za-z0-9_, ]+)\s*$")


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

    def summary(self, text: str, extra_ignore: tuple[str, ...] = ()) -> CostSummary | None:
        """The replayed cost of `text` with this subject's ignore file plus `extra_ignore`
        patterns (the analysis's one mined history, image costs and build-log seconds)."""
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
        n = len(before.commits)
        avoided = sum(1 for b, a in zip(before.commits, after.commits, strict=True)
                      if b.rebuilt and not a.rebuilt)
        # A push saving is a difference of exact sums only when every pushed layer's size is
        # known on both sides; otherwise it is unknown, not the difference of known parts.
        exact = before.push_complete and after.push_complete
        return Savings(
            n,
            before.mean_seconds - after.mean_seconds,
            _diff(before.mean_push_bytes, after.mean_push_bytes, exact),
            _diff(before.mean_pull_bytes, after.mean_pull_bytes, exact),
            before.total_seconds - after.total_seconds,
            _diff(before.total_push_bytes, after.total_push_bytes, exact),
            _diff(before.total_pull_bytes, after.total_pull_bytes, exact),
            before.mean_seconds, after.mean_seconds,
            before.estimated or after.estimated, avoided, image_bytes,
        )


def _diff(before, after, exact: bool):
    if not exact or before is None or after is None:
        return None
    return before - after


def _sum_known(values):
    """The sum, or None when any part is unknown."""
    vals = list(values)
    return None if any(v is None for v in vals) else sum(vals)


def read_ignore_text(analysis: Analysis) -> str | None:
    """The ignore file in force, as the analysis read it (None when there is none)."""
    return analysis.ignore_text


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    summary: str
    check: Callable[[Subject], list[Suggestion]]


@dataclass(frozen=True, slots=True)
class SuggestReport:
    suggestions: tuple[Suggestion, ...]
    rewritten: str | None  # the combined Dockerfile rewrite, None when nothing is fixable
    rewritten_ignore: str | None
    ignore_path: Path
    applied: tuple[str, ...]  # rule ids applied to build the rewrite, in order
    steps: tuple[Suggestion, ...] = ()  # each applied fix, measured on the text before it

    @property
    def total_savings(self) -> Savings | None:
        """Savings of the whole rewrite: the steps telescope, so their sum is exact."""
        got = [s.savings for s in self.steps if s.savings is not None]
        if not got or len(got) != len(self.steps):
            return None
        first, last = got[0], got[-1]
        return Savings(
            first.commits, sum(g.seconds_per_commit for g in got),
            _sum_known(g.push_bytes_per_commit for g in got),
            _sum_known(g.pull_bytes_per_commit for g in got),
            sum(g.seconds_window for g in got), _sum_known(g.push_bytes_window for g in got),
            _sum_known(g.pull_bytes_window for g in got), first.before_seconds_per_commit,
            last.after_seconds_per_commit, any(g.estimated for g in got),
            sum(g.rebuilds_avoided for g in got),
            sum(g.image_bytes or 0 for g in got) or None,
        )


def _pragmas(df: Dockerfile) -> tuple[set[str], dict[int, set[str]]]:
    """File-wide ignores (before the first instruction) and per-instruction ones."""
    lines = df.source.splitlines()
    first = min(i.start_line for i in df.instructions)
    starts = sorted(i.start_line for i in df.instructions)
    file_wide: set[str] = set()
    per: dict[int, set[str]] = {}
    for n, line in enumerate(lines, 1):
        m = _PRAGMA.match(line)
        if not m:
            continue
        ids = {x.strip().upper() for x in m.group(1).split(",") if x.strip()}
        if n < first:
            file_wide |= ids
            continue
        nxt = next((s for s in starts if s > n), None)
        if nxt is not None:
            per.setdefault(nxt, set()).update(ids)
    return file_wide, per


def _filter(sugs: Iterable[Suggestion], df: Dockerfile, select: set[str] | None,
            ignore: set[str]) -> list[Suggestion]:
    file_wide, per = _pragmas(df)
    out = []
    for s in sugs:
        if select is not None and s.rule not in select:
            continue
        if s.rule in ignore or s.rule in file_wide:
            continue
        if any(s.rule in per.get(line, ()) for line in s.lines):
            continue
        out.append(s)
    return out


def run_rules(subject: Subject, rules: Iterable[Rule], select: set[str] | None,
              ignore: set[str]) -> list[Suggestion]:
    found: list[Suggestion] = []
    for rule in rules:
        if select is not None and rule.id not in select:
            continue
        if rule.id in ignore:
            continue
        found += [_verified(subject, s) for s in rule.check(subject)]
    return sorted(_filter(found, subject.df, select, ignore), key=lambda s: s.rank_key)


def _verified(subject: Subject, sug: Suggestion) -> Suggestion:
    """Demote a fix whose rewrite would change the image config (a rule bug, never ok)."""
    if not sug.fixable or sug.dockerfile is None:
        return sug
    from dataclasses import replace

    from layerlens.suggest.verify import config_changes

    try:
        after = parse(sug.dockerfile, subject.df.path, build_args=subject.df_build_args,
                      platform=subject.df.platform)
    except LayerlensError as exc:
        return replace(sug, fixable=False, dockerfile=None, note=f"rewrite rejected: {exc}")
    changed = config_changes(subject.df, after)
    if changed:
        return replace(sug, fixable=False, dockerfile=None,
                       note=f"rewrite rejected: it would change the image's {', '.join(changed)}")
    return sug


def suggest(analysis: Analysis, *, select: set[str] | None = None,
            ignore: set[str] | None = None, max_rounds: int = 12) -> SuggestReport:
    from layerlens.suggest.rules import RULES

    ignore = ignore or set()
    ignore_text = read_ignore_text(analysis)
    subject = Subject(analysis, analysis.dockerfile.source, ignore_text)
    first = run_rules(subject, RULES, select, ignore)
    # Build the combined rewrite: best fixable suggestion first, then re-read and repeat.
    text, itext = subject.text, ignore_text
    applied: list[str] = []
    steps: list[Suggestion] = []
    cur, cur_sugs = subject, first
    for _ in range(max_rounds):
        fix = next((s for s in cur_sugs if s.fixable and (s.savings is None or
                                                          s.savings.seconds_per_commit >= 0)),
                   None)
        if fix is None:
            break
        if fix.dockerfile is not None:
            text = fix.dockerfile
        if fix.dockerignore is not None:
            itext = fix.dockerignore
        applied.append(fix.rule)
        steps.append(fix)
        try:
            cur = Subject(analysis, text, itext)
            cur.df  # noqa: B018 - the rewrite must parse; a rule bug must not slip through
        except LayerlensError as exc:
            raise LayerlensError(
                f"internal error: rewrite by {fix.rule} does not parse: {exc}") from None
        cur_sugs = run_rules(cur, RULES, select, ignore)
    changed_df = text != subject.text
    changed_ig = itext != ignore_text
    ignore_path = Path(analysis.context.ignore_source) if analysis.context.ignore_source \
        else Path(analysis.context.root) / ".dockerignore"
    return SuggestReport(tuple(first), text if changed_df else None,
                         itext if changed_ig else None, ignore_path, tuple(applied),
                         tuple(steps))
