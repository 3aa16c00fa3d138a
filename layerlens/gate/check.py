"""Compare an analysis with its baseline and budgets.

A growth budget given both absolutely and relatively fails only when the growth exceeds
both: a few KiB on a tiny image does not trip a 5% budget, and a few MiB on a huge one does
not trip a 1 MiB budget unless it is also more than the percentage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from layerlens.analysis import Analysis
from layerlens.gate.baseline import context_bytes, current_layers
from layerlens.gate.config import METRICS, Budget, GateConfig


@dataclass(frozen=True, slots=True)
class Finding:
    metric: str
    subject: str  # "image", or the layer key
    line: int | None
    baseline: float | None
    current: float | None
    budget: str
    message: str

    @property
    def growth(self) -> float | None:
        if self.baseline is None or self.current is None:
            return None
        return self.current - self.baseline


@dataclass(frozen=True, slots=True)
class CheckResult:
    violations: tuple[Finding, ...]
    improvements: tuple[Finding, ...]  # shrank: the baseline can be tightened
    checked: tuple[Finding, ...]  # every comparison made (for JUnit)
    notices: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.violations


def _fmt(metric: str, v: float | None) -> str:
    from layerlens.textreport import size

    if v is None:
        return "unknown"
    kind = METRICS[metric][0]
    if kind == "bytes":
        return size(int(v))
    if kind == "seconds":
        return f"{v:.1f}s"
    return f"{v:.4g}"


def _rounded(metric: str, v: float | None) -> float | None:
    """Round as the baseline stores values, so an unchanged figure compares equal."""
    if v is None:
        return None
    kind = METRICS[metric][0]
    if kind == "bytes":
        return float(round(v))
    if kind == "seconds":
        return round(v, 3)
    return round(v, 6)


def _rate(v: Any) -> str:
    return f"{v:.0%}" if isinstance(v, int | float) and not isinstance(v, bool) else "unknown"


def _judge(metric: str, budget: Budget, base: float | None, cur: float | None) -> str | None:
    """Why the value breaks the budget, or None."""
    if cur is None:
        return None
    if budget.max is not None and cur > budget.max:
        return f"{_fmt(metric, cur)} is over the maximum {_fmt(metric, budget.max)}"
    if budget.min is not None and cur < budget.min:
        return f"{_fmt(metric, cur)} is under the minimum {_fmt(metric, budget.min)}"
    if base is None:
        return None
    growth = cur - base
    if growth <= 0:
        return None
    pct = (growth / base * 100) if base else float("inf")
    over_abs = budget.max_growth is not None and growth > budget.max_growth
    over_pct = budget.max_growth_percent is not None and pct > budget.max_growth_percent
    both_set = budget.max_growth is not None and budget.max_growth_percent is not None
    if (both_set and over_abs and over_pct) or (not both_set and (over_abs or over_pct)):
        pct_text = f"{pct:.1f}%" if base else "new"
        return (f"grew by {_fmt(metric, growth)} ({pct_text}), from {_fmt(metric, base)} to "
                f"{_fmt(metric, cur)}")
    return None


def run_check(a: Analysis, baseline: dict[str, Any], cfg: GateConfig,
              suggestions: list[tuple[str, str, int | None, str]],
              skip: frozenset[str] = frozenset()) -> CheckResult:
    """`suggestions`: (rule, key, line, message) of the current analysis."""
    violations: list[Finding] = []
    improvements: list[Finding] = []
    checked: list[Finding] = []
    notices: list[str] = []
    totals = baseline.get("totals") or {}
    img = a.image
    if baseline.get("image") and img is None:
        notices.append("the baseline was made with an image and this check has none: image "
                       "figures are not compared")
    if img is None and not baseline.get("image"):
        notices.append("no image: sizes are the bytes COPY/ADD bring in from the context")

    def compare(metric: str, subject: str, line: int | None, base: Any, cur: Any,
                why: str) -> None:
        budget = cfg.budgets.get(metric)
        b = float(base) if isinstance(base, int | float) and not isinstance(base, bool) else None
        c = float(cur) if isinstance(cur, int | float) and not isinstance(cur, bool) else None
        b, c = _rounded(metric, b), _rounded(metric, c)
        desc = budget.describe(METRICS[metric][0]) if budget else "no budget"
        verdict = _judge(metric, budget, b, c) if budget else None
        f = Finding(metric, subject, line, b, c, desc,
                    f"{subject}: {METRICS[metric][2]} {verdict}{why}" if verdict else "")
        checked.append(f)
        if verdict:
            violations.append(f)
        elif b is not None and c is not None and (
                (metric != "efficiency" and c < b) or (metric == "efficiency" and c > b)):
            improvements.append(Finding(metric, subject, line, b, c, desc,
                                        f"{subject}: {METRICS[metric][2]} improved from "
                                        f"{_fmt(metric, b)} to {_fmt(metric, c)}"))

    if img is not None:
        compare("total_size", "the image", None, totals.get("size_bytes") if baseline.get(
            "image") else None, img.size_bytes, "")
        compare("compressed_size", "the image", None, totals.get("compressed_bytes"),
                img.compressed_bytes, "")
        compare("shadowed", "the image", None, totals.get("shadowed_bytes"), img.shadowed_bytes,
                ": files written in one layer and deleted or overwritten in a later one")
        compare("efficiency", "the image", None, totals.get("efficiency"), img.efficiency, "")
        compare("wasted", "the image", None, totals.get("wasted_bytes"), img.wasted_bytes, "")
        compare("user_wasted_percent", "the image", None, totals.get("user_wasted_percent"),
                img.user_wasted_percent, "")
    else:
        ctx_bytes = context_bytes(a, skip)
        compare("total_size", "the build context copied", None, totals.get("context_bytes"),
                ctx_bytes, "")
    base_layers = {x["key"]: x for x in baseline.get("layers") or []}
    for lay in current_layers(a, skip):
        old = base_layers.get(lay.key)
        where = f"{lay.instruction} (line {lay.line})" if lay.line else lay.instruction
        reason = ""
        if lay.key != "(base image)" and old is None:
            reason = " (a layer the baseline does not have)"
        compare("layer_size", where, lay.line, (old or {}).get("size_bytes", 0 if old is None
                                                                  else None),
                lay.size_bytes, reason)
        if lay.rebuild_seconds is not None and old is not None:
            compare("layer_rebuild_seconds", where, lay.line,
                    old.get("rebuild_seconds_per_commit"), lay.rebuild_seconds,
                    f" (it now rebuilds at {lay.change_rate:.0%} of commits, was "
                    f"{_rate(old.get('change_rate'))})")
        if lay.shadowed_bytes is not None:
            budget = cfg.budgets.get("shadowed")
            if budget and budget.max_growth is not None:
                compare("shadowed", where, lay.line, (old or {}).get("shadowed_bytes", 0),
                        lay.shadowed_bytes, ": a later layer deletes or overwrites what it adds")
    replay = baseline.get("replay")
    if a.history is not None and a.history.costs.mean_seconds is not None:
        c = a.history.costs
        compare("rebuild_seconds", "per commit", None, (replay or {}).get(
            "rebuild_seconds_per_commit"), c.mean_seconds, "")
        if c.push_complete and (replay or {}).get("unknown_size_layers", 0) == 0:
            # known parts of sums with unknown layers do not compare: only exact figures
            compare("push_bytes", "per commit", None,
                    (replay or {}).get("push_bytes_per_commit"), c.mean_push_bytes, "")
    before = set(baseline.get("suggestions") or [])
    for rule, key, line, message in suggestions:
        if rule in cfg.fail_on_new and f"{rule} {key}" not in before:
            f = Finding("suggestion", key, line, None, None, f"no new {rule}",
                        f"new {rule}: {message}")
            checked.append(f)
            violations.append(f)
    if improvements and not violations:
        notices.append("some figures improved on the baseline: run `layerlens baseline` to "
                       "tighten it")
    return CheckResult(tuple(violations), tuple(improvements), tuple(checked), tuple(notices))
