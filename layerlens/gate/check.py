"""Compare an analysis with its baseline and budgets.

A growth budget given both absolutely and relatively fails only when the growth exceeds
both: a few KiB on a tiny image does not trip a 5% budget, and a few MiB on a huge one does
not trip a 1 MiB budget unless it is also more than the percentage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from layerlens.analysis import Analysis
from layerlens.gate.baseline import context_bytes, current_layers, step_prices
from layerlens.gate.config import METRICS, Budget, GateConfig
from layerlens.jsonout import quoted
from layerlens.textfit import truncate
from layerlens.units import plural


@dataclass(frozen=True, slots=True)
class Finding:
    metric: str
    subject: str  # "image", or the layer key
    line: int | None
    baseline: float | None
    current: float | None
    budget: str
    message: str
    key: str = ""  # line-free identity (the layer key, "the image"): for SARIF fingerprints

    @property
    def growth(self) -> float | None:
        if self.baseline is None or self.current is None:
            return None
        return self.current - self.baseline


@dataclass(frozen=True, slots=True)
class Unmeasured:
    """A budget that applies but could not be evaluated, and why."""

    metric: str
    subject: str
    line: int | None
    budget: str
    reason: str
    key: str = ""  # line-free identity, as Finding.key

    @property
    def message(self) -> str:
        return f"{self.subject}: {METRICS[self.metric][2]} not measured: {self.reason}"


@dataclass(frozen=True, slots=True)
class CheckResult:
    violations: tuple[Finding, ...]
    improvements: tuple[Finding, ...]  # shrank: the baseline can be tightened
    checked: tuple[Finding, ...]  # every comparison made (for JUnit)
    notices: tuple[str, ...]
    unmeasured: tuple[Unmeasured, ...] = ()  # budgets that apply but could not be evaluated
    allow_unmeasured: bool = False  # --allow-unmeasured / allow_unmeasured = true
    first_line: int = 1  # the Dockerfile's first instruction: where file-wide findings point

    @property
    def failing_unmeasured(self) -> tuple[Unmeasured, ...]:
        return () if self.allow_unmeasured else self.unmeasured

    @property
    def ok(self) -> bool:
        """No budget broken, and every budget that applies was measured (or the gate was told
        to accept unmeasured ones): a gate that could not measure does not pass."""
        return not self.violations and not self.failing_unmeasured


def _fmt(metric: str, v: float | None) -> str:
    from layerlens.units import duration, size

    if v is None:
        return "unknown"
    kind = METRICS[metric][0]
    if kind == "bytes":
        return size(int(v))
    if kind == "seconds":
        return duration(v)
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


# how much of an instruction's text names it in a finding ("RUN set -ex && apt-get …")
_SUBJECT_CELLS = 48

REAL_SOURCES = frozenset({"log", "measured", "image"})


def _baseline_price(baseline: dict[str, Any], base_layers: dict[str, Any],
                    key: str) -> tuple[float | None, str | None]:
    """(seconds per rebuild, source) of step `key` in the baseline: as recorded, or, for a
    baseline older than `step_prices`, its expected seconds per commit over its rebuild
    rate (source unknown); (None, None) when neither tells."""
    got = (baseline.get("step_prices") or {}).get(key)
    if isinstance(got, dict) and _number(got.get("build_seconds")) is not None:
        src = got.get("source")
        return float(got["build_seconds"]), src if isinstance(src, str) else None
    old = base_layers.get(key) or {}
    secs, rate = _number(old.get("rebuild_seconds_per_commit")), _number(old.get("change_rate"))
    if secs is None or not rate:
        return None, None
    return secs / rate, None


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
        if not base:  # from nothing: the growth is the new figure, said once
            return f"grew from {_fmt(metric, base)} to {_fmt(metric, cur)}"
        return (f"grew by {_fmt(metric, growth)} ({pct:.1f}%), from {_fmt(metric, base)} to "
                f"{_fmt(metric, cur)}")
    return None


def history_gap(a: Analysis, git_error: str | None = None) -> str | None:
    """Why the replay rates of this analysis cannot be compared with a baseline's, or None.

    Rates (rebuild seconds and push bytes per commit) need the history window the baseline
    saw: no repository, git refusing it, a shallow clone (CI's default `fetch-depth: 1`) or a
    window with nothing to replay all leave them unknown, never 0.
    """
    if git_error:
        return git_error
    if not a.options.history.enabled:
        return "history is off (--no-history)"
    h = a.history
    if h is None:
        why = next((n for n in a.notices if "static analysis only" in n), None)
        return why or "no git history"
    if h.history.shallow:
        n = len(h.history.commits)
        return (f"shallow clone: only {n} commit{'' if n == 1 else 's'} of history; fetch it all "
                "(actions/checkout `fetch-depth: 0`, or `git fetch --unshallow`)")
    c = h.costs
    if not c.commits:
        return "fewer than two commits in the history window: nothing to replay"
    if c.builds == 0:
        return ("the build fails at every commit of the window (a COPY source is absent; "
                "see `layerlens analyze` for which, and whether --context is needed)")
    return None


def run_check(a: Analysis, baseline: dict[str, Any], cfg: GateConfig,
              suggestions: list[tuple[str, str, int | None, str]],
              skip: frozenset[str] = frozenset(), *, git_error: str | None = None,
              allow_unmeasured: bool = False) -> CheckResult:
    """Compare `a` with `baseline` under `cfg`.

    `suggestions`: (rule, key, line, message) of the current analysis. `git_error`: git's
    one-line refusal or failure when history had to be skipped. A budget that applies (the
    baseline has the figure, or the budget sets an absolute max/min) but cannot be evaluated
    now is listed in `unmeasured`, and fails the check unless `allow_unmeasured` (or the
    configuration's `allow_unmeasured`) says otherwise.
    """
    violations: list[Finding] = []
    improvements: list[Finding] = []
    checked: list[Finding] = []
    unmeasured: list[Unmeasured] = []
    notices: list[str] = []
    totals = baseline.get("totals") or {}
    img = a.image
    base_img = bool(baseline.get("image"))
    if img is None and not base_img:
        notices.append("no image: sizes are the bytes COPY/ADD bring in from the context")
    if img is not None and not base_img:
        notices.append("the baseline was made without an image: image figures are held to "
                       "absolute limits only; run `layerlens baseline --image ...` to compare")

    def desc_of(metric: str) -> str:
        budget = cfg.budgets.get(metric)
        return budget.describe(METRICS[metric][0]) if budget else "no budget"

    def applies(metric: str, base: Any) -> bool:
        budget = cfg.budgets.get(metric)
        if budget is None:
            return False
        return _number(base) is not None or budget.max is not None or budget.min is not None

    def missing(metric: str, subject: str, line: int | None, base: Any, reason: str,
                key: str | None = None) -> None:
        if applies(metric, base):
            unmeasured.append(Unmeasured(metric, subject, line, desc_of(metric), reason,
                                         key or subject))

    def compare(metric: str, subject: str, line: int | None, base: Any, cur: Any,
                why: str, may_improve: bool = True, key: str | None = None) -> None:
        budget = cfg.budgets.get(metric)
        b, c = _rounded(metric, _number(base)), _rounded(metric, _number(cur))
        if c is None:
            missing(metric, subject, line, b, "no figure for it in this analysis", key)
            return
        if b is None and (budget is None or (budget.max is None and budget.min is None)):
            return  # nothing to compare with and no absolute limit: not checked
        desc = desc_of(metric)
        verdict = _judge(metric, budget, b, c) if budget else None
        f = Finding(metric, subject, line, b, c, desc,
                    f"{subject}: {METRICS[metric][2]} {verdict}{why}" if verdict else "",
                    key or subject)
        checked.append(f)
        if verdict:
            violations.append(f)
        elif may_improve and b is not None and _fmt(metric, b) != _fmt(metric, c) and (
                (metric != "efficiency" and c < b) or (metric == "efficiency" and c > b)):
            # only what shows: "improved from 17.2s to 17.2s" is noise, not a reason to
            # tighten the baseline
            improvements.append(Finding(metric, subject, line, b, c, desc,
                                        f"{subject}: {METRICS[metric][2]} improved from "
                                        f"{_fmt(metric, b)} to {_fmt(metric, c)}",
                                        key or subject))

    image_metrics = (("total_size", "size_bytes", "", lambda i: i.size_bytes),
                     ("compressed_size", "compressed_bytes", "", lambda i: i.compressed_bytes),
                     ("shadowed", "shadowed_bytes", ": files written in one layer and deleted "
                      "or overwritten in a later one", lambda i: i.shadowed_bytes),
                     ("efficiency", "efficiency", "", lambda i: i.efficiency),
                     ("wasted", "wasted_bytes", "", lambda i: i.wasted_bytes),
                     ("user_wasted_percent", "user_wasted_percent", "",
                      lambda i: i.user_wasted_percent))
    no_image = ("no image to measure (the baseline was made with one); pass --image with the "
                "image this build produced")
    for metric, field, why, get in image_metrics:
        base = totals.get(field) if base_img else None
        if img is not None:
            compare(metric, "the image", None, base, get(img), why)
        elif base_img:
            missing(metric, "the image", None, base, no_image)
    absent_layers = [lay for lay in current_layers(a, skip) if lay.absent] \
        if img is None else []
    build_first = ("build the artifacts first, or run the check in CI after the build step "
                   "that makes them")
    if img is None:
        ctx_now = context_bytes(a, skip)
        if ctx_now is None and absent_layers:
            missing("total_size", "the build context copied", None,
                    totals.get("context_bytes"), "COPY sources are absent from the build "
                    f"context (see the note): {build_first}")
        else:
            compare("total_size", "the build context copied", None,
                    totals.get("context_bytes"), ctx_now, "")
    if absent_layers:
        srcs = [f"{quoted(x)} (line {lay.line})" for lay in absent_layers for x in lay.absent]
        shown = ", ".join(srcs[:3]) + (f" and {len(srcs) - 3} more" if len(srcs) > 3 else "")
        notices.append(f"{plural(len(srcs), 'COPY source')} "
                       f"{'matches' if len(srcs) == 1 else 'match'} no file in the build "
                       f"context ({shown}), as when CI builds "
                       f"{'it' if len(srcs) == 1 else 'them'} before `docker build`: the size "
                       f"copied is unknown, not 0, and not checked; {build_first}")
    base_layers = {x["key"]: x for x in baseline.get("layers") or []}
    replay = baseline.get("replay") or {}
    gap = history_gap(a, git_error)
    # --no-history is an explicit opt-out of the history budgets: listed, not failed
    opted_out = gap is not None and git_error is None and not a.options.history.enabled
    shorter = False
    if gap is None:
        n_now, n_base = len(a.history.costs.commits), replay.get("commits")  # type: ignore
        shorter = isinstance(n_base, int) and n_now < n_base
        if shorter:
            notices.append(f"rates were measured over {n_now} commits, the baseline's over "
                           f"{n_base}: a shorter history is no reason to tighten the baseline")

    def history_missing(metric: str, subject: str, base: Any) -> None:
        if opted_out:
            if applies(metric, base):
                notices.append(f"{subject}: {METRICS[metric][2]} not checked: {gap}")
        else:
            missing(metric, subject, None, base, gap or "")

    # Seconds per rebuild that changed only because they now come from elsewhere (a newer
    # estimate model, `layerlens measure`, a build log) are no change of the Dockerfile:
    # such steps are priced at the baseline's seconds, so the budgets judge churn.
    prices_now = step_prices(a) if gap is None else {}
    repriced: dict[str, float] = {}
    for key, now in prices_now.items():
        old_unit, old_src = _baseline_price(baseline, base_layers, key)
        if old_unit is None or abs(old_unit - now.seconds) <= max(0.0005, 0.01 * old_unit):
            continue
        if old_src == now.source and (old_src in REAL_SOURCES or now.keyword in ("copy", "add")):
            # both real timings of the same kind, or a COPY estimated from the bytes it copies
            # both times: a slower step is a real change (more bytes, a slower build), not a
            # new way of figuring it
            continue
        repriced[key] = old_unit
    if repriced:
        srcs = sorted({prices_now[k].source for k in repriced})
        notices.append(f"{plural(len(repriced), 'step')} "
                       f"{'is' if len(repriced) == 1 else 'are'} priced at the baseline's "
                       "seconds per rebuild: their seconds are now figured another way (now: "
                       f"{', '.join(srcs)}; a newer estimate model, `layerlens measure` or a "
                       "build log), so the rebuild budgets judge how often they rebuild; "
                       "`layerlens baseline` records the new prices")

    sizes_comparable = not (img is None and base_img)
    if not sizes_comparable and any(_number(x.get("size_bytes")) is not None
                                    for x in base_layers.values()):
        # the baseline's layer figures are image layers; context bytes are not comparable
        missing("layer_size", "each layer", None, 0, no_image)
    same_kind = (img is not None) == base_img
    layer_rates_missing: Any = None
    unknown_before: list[int | None] = []
    for lay in current_layers(a, skip):
        old = base_layers.get(lay.key)
        # a long RUN is named by its start: the line number says which, and a finding,
        # an annotation or a test case name stays one readable line
        short = truncate(" ".join(lay.instruction.split()), _SUBJECT_CELLS)
        where = f"{short} (line {lay.line})" if lay.line else short
        if sizes_comparable:
            old_size = old if same_kind else None
            reason = ""
            if same_kind and lay.key != "(base image)" and old is None:
                reason = " (a layer the baseline does not have)"
            base = (old_size or {}).get("size_bytes", 0 if old is None and same_kind else None)
            if lay.size_bytes is not None:
                if old_size is not None and _number(base) is None and not img:
                    # unknown when the baseline was made (its sources were absent): there is
                    # nothing to compare with, which is no growth from 0
                    unknown_before.append(lay.line)
                else:
                    compare("layer_size", where, lay.line, base, lay.size_bytes, reason,
                            key=lay.key)
            elif old_size is not None and _number(old_size.get("size_bytes")) is not None:
                missing("layer_size", where, lay.line, old_size.get("size_bytes"),
                        f"its COPY source {quoted(lay.absent[0])} is absent from the build "
                        f"context: {build_first}" if lay.absent else
                        "no size for this layer in this analysis", lay.key)
            if lay.shadowed_bytes is not None:
                budget = cfg.budgets.get("shadowed")
                if budget and budget.max_growth is not None:
                    compare("shadowed", where, lay.line,
                            (old_size or {}).get("shadowed_bytes", 0 if same_kind else None),
                            lay.shadowed_bytes,
                            ": a later layer deletes or overwrites what it adds", key=lay.key)
        # per-layer rebuild time, from the replay of the current Dockerfile
        old_secs = (old or {}).get("rebuild_seconds_per_commit")
        if _number(old_secs) is None:
            continue
        if gap is not None:
            layer_rates_missing = old_secs
        elif lay.rebuild_seconds is not None:
            cur_secs, priced = lay.rebuild_seconds, ""
            if lay.key in repriced and lay.change_rate is not None:
                cur_secs = lay.change_rate * repriced[lay.key]
                priced = (f"; priced at the baseline's {repriced[lay.key]:.1f}s per rebuild, "
                          f"now {prices_now[lay.key].seconds:.1f}s "
                          f"({prices_now[lay.key].source})")
            compare("layer_rebuild_seconds", where, lay.line, old_secs, cur_secs,
                    f" (it now rebuilds at {_rate(lay.change_rate)} of commits, was "
                    f"{_rate(old.get('change_rate'))}{priced})", may_improve=not shorter,
                    key=lay.key)
        else:
            missing("layer_rebuild_seconds", where, lay.line, old_secs,
                    "no replay figure for this layer", lay.key)
    if unknown_before:
        notices.append(f"layer sizes unknown in the baseline (COPY sources absent when it "
                       f"was made), not compared: line{'s' if len(unknown_before) > 1 else ''} "
                       f"{', '.join(str(n) for n in unknown_before)}; run `layerlens baseline` "
                       "again after the build that makes them")
    if layer_rates_missing is not None:
        history_missing("layer_rebuild_seconds", "each layer", layer_rates_missing)
    if gap is not None:
        history_missing("rebuild_seconds", "per commit", replay.get("rebuild_seconds_per_commit"))
        if not replay.get("unknown_size_layers"):
            history_missing("push_bytes", "per commit", replay.get("push_bytes_per_commit"))
    else:
        c = a.history.costs  # type: ignore[union-attr]
        total = c.mean_seconds
        if total is not None and repriced:
            total += sum((prices_now[k].change_rate or 0.0) * (u - prices_now[k].seconds)
                         for k, u in repriced.items())
        compare("rebuild_seconds", "per commit", None, replay.get("rebuild_seconds_per_commit"),
                total, " (steps whose seconds changed source priced at the baseline's)"
                if repriced else "", may_improve=not shorter)
        if replay.get("unknown_size_layers"):
            # the baseline's figure is the known part of a sum: nothing exact to compare with
            pass
        elif c.push_complete:
            compare("push_bytes", "per commit", None, replay.get("push_bytes_per_commit"),
                    c.mean_push_bytes, "", may_improve=not shorter)
        else:
            missing("push_bytes", "per commit", None, replay.get("push_bytes_per_commit"),
                    f"the size of {plural(c.unknown_push_layers, 'pushed layer')} is unknown; "
                    "pass --image with the image this build produced")
    before = set(baseline.get("suggestions") or [])
    for rule, key, line, message in suggestions:
        if rule in cfg.fail_on_new and f"{rule} {key}" not in before:
            f = Finding("suggestion", key, line, None, None, f"no new {rule}",
                        f"new {rule}: {message}", f"{rule} {key}")
            checked.append(f)
            violations.append(f)
    allow = allow_unmeasured or cfg.allow_unmeasured
    if improvements and not violations and not (unmeasured and not allow):
        notices.append("some figures improved on the baseline: run `layerlens baseline` to "
                       "tighten it")
    first = next((i.start_line for i in a.dockerfile.instructions if i.start_line), 1)
    return CheckResult(tuple(violations), tuple(improvements), tuple(checked), tuple(notices),
                       tuple(unmeasured), allow, max(1, first))


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
