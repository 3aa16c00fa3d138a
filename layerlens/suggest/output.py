"""Suggestion reports: text for people, JSON (stable, documented), SARIF for code scanning."""

from __future__ import annotations

import difflib
from typing import Any

from layerlens.suggest.engine import SuggestReport
from layerlens.suggest.model import Savings, Suggestion


def savings_json(s: Savings | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "commits": s.commits,
        "rebuild_seconds_per_commit": round(s.seconds_per_commit, 3),
        "push_bytes_per_commit": _round(s.push_bytes_per_commit),
        "pull_bytes_per_commit": _round(s.pull_bytes_per_commit),
        "rebuild_seconds_window": round(s.seconds_window, 3),
        "push_bytes_window": s.push_bytes_window,
        "pull_bytes_window": s.pull_bytes_window,
        "rebuild_seconds_per_commit_before": round(s.before_seconds_per_commit, 3),
        "rebuild_seconds_per_commit_after": round(s.after_seconds_per_commit, 3),
        "rebuilds_avoided": s.rebuilds_avoided,
        "image_bytes": s.image_bytes,
        "estimated": s.estimated,
    }


def _round(v: float | None) -> int | None:
    return None if v is None else round(v)


def report_json(rep: SuggestReport) -> dict[str, Any]:
    return {
        "suggestions": [
            {"rule": s.rule, "title": s.title, "message": s.message, "reason": s.reason,
             "lines": list(s.lines), "fixable": s.fixable, "fix": s.fix_class,
             "unsafe_reason": s.unsafe_reason, "note": s.note,
             "savings": savings_json(s.savings)}
            for s in rep.suggestions
        ],
        "rewritten": rep.rewritten,
        "rewritten_dockerignore": rep.rewritten_ignore,
        "applied": [{"rule": s.rule, "lines": list(s.lines), "fix": s.fix_class,
                     "unsafe_reason": s.unsafe_reason, "savings": savings_json(s.savings)}
                    for s in rep.steps],
        "unsafe_fixes": rep.unsafe_fixes,
        "total_savings": savings_json(rep.total_savings),
    }


def _saving_text(s: Savings | None, why_none: str = "no git history") -> str:
    from layerlens.textreport import duration, size

    if s is None:
        return f"saving: not measured ({why_none})"
    parts = []
    if s.commits:
        parts.append(f"saves {duration(max(s.seconds_per_commit, 0))} of rebuild per commit "
                     f"({duration(max(s.seconds_window, 0))} over {s.commits} commits)")
        if s.push_bytes_per_commit is not None and s.push_bytes_per_commit > 0:
            parts.append(f"push {size(int(s.push_bytes_per_commit))}/commit")
        if s.rebuilds_avoided:
            parts.append(f"{s.rebuilds_avoided} rebuilds avoided")
    if s.image_bytes:
        parts.append(f"{size(s.image_bytes)} less in the image")
    text = ", ".join(parts) or "no measurable saving"
    return text + (" (estimated costs)" if s.estimated and s.commits else "")


def report_text(rep: SuggestReport, dockerfile: str, diff: str | None) -> str:
    out = []
    if not rep.suggestions:
        out.append(f"{dockerfile}: nothing to suggest")
    for s in rep.suggestions:
        where = ",".join(str(n) for n in s.lines) if s.lines else "-"
        out.append(f"{s.rule}  {dockerfile}:{where}  [{FIX_LABEL[s.fix_class]}]  {s.title}")
        out.append(f"       {s.message}")
        out.append(f"       {_saving_text(s.savings, unmeasured_reason(rep, s))}")
        out.append(f"       why: {s.reason}")
        if s.unsafe_reason:
            out.append(f"       unsafe: {s.unsafe_reason}")
        if s.note:
            out.append(f"       note: {s.note}")
    if rep.steps:
        out.append("")
        which = "safe and unsafe fixes" if rep.unsafe_fixes else "safe fixes"
        out.append(f"`--write` applies these {which}, in order (each measured after the ones "
                   "before it, so they add up):")
        for s in rep.steps:
            out.append(f"  {s.rule}  [{FIX_LABEL[s.fix_class]}]  "
                       f"{_saving_text(s.savings, unmeasured_reason(rep, s))}")
        out.append(f"  all together: {_saving_text(rep.total_savings, 'see above')}")
    held = [s for s in rep.suggestions if s.fix_class == "unsafe"]
    if held and not rep.unsafe_fixes:
        out.append("")
        out.append(f"{len(held)} unsafe fix(es) not applied: they may change the image "
                   "(add --unsafe-fixes to apply them; --verify proves a rewrite by building)")
    text = "\n".join(out) + "\n"
    if diff:
        text += "\n" + diff
    return text


FIX_LABEL = {"safe": "safe fix", "unsafe": "unsafe fix", "hint": "hint"}


def unmeasured_reason(rep: SuggestReport, s: Suggestion) -> str:
    """The true reason a suggestion carries no replayed saving."""
    if not rep.replayed:
        return "no git history"
    if not s.fixable:
        return "a hint has no rewrite to replay"
    return "the replay could not cost this change"


def diff_label(path) -> str:
    """The path as `git apply` wants it: relative to the repository root holding it (the
    nearest directory with a .git), else just the file name."""
    from pathlib import Path

    p = Path(path).resolve()
    for d in p.parents:
        if (d / ".git").exists():
            return p.relative_to(d).as_posix()
    return p.name


def unified_diff(old: str, new: str, name: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                        new.splitlines(keepends=True),
                                        fromfile=f"a/{name}", tofile=f"b/{name}"))


def report_sarif(rep: SuggestReport, dockerfile: str) -> dict[str, Any]:
    from layerlens import __version__
    from layerlens.suggest.rules import RULES

    def result(s: Suggestion) -> dict[str, Any]:
        loc = {"physicalLocation": {"artifactLocation": {"uri": dockerfile}}}
        if s.lines:
            loc["physicalLocation"]["region"] = {"startLine": s.lines[0]}
        msg = s.message + ". " + _saving_text(s.savings, unmeasured_reason(rep, s))
        return {"ruleId": s.rule, "level": "warning" if s.fixable else "note",
                "message": {"text": msg}, "locations": [loc],
                "properties": {"fixable": s.fixable, "fix": s.fix_class,
                               "unsafe_reason": s.unsafe_reason,
                               "savings": savings_json(s.savings)}}

    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "layerlens", "version": __version__,
                "rules": [{"id": r.id, "name": r.name,
                           "shortDescription": {"text": r.summary}} for r in RULES],
            }},
            "results": [result(s) for s in rep.suggestions],
        }],
    }


def verify_text(v) -> str:
    """One paragraph on a `Verification` (layerlens/suggest/proof.py)."""
    if v.error:
        return f"verify: not proven: {v.error}"
    head = (f"verify ({v.builder}): the final images are identical" if v.identical else
            f"verify ({v.builder}): the images differ in {len(v.differences)} place(s): "
            + ", ".join(v.differences[:12]) + (" ..." if len(v.differences) > 12 else ""))
    if v.intended:
        head += (f"; {len(v.intended)} path(s) dropped on purpose by .dockerignore: "
                 + ", ".join(v.intended[:12]) + (" ..." if len(v.intended) > 12 else ""))
    return head
