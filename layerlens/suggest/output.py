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
             "lines": list(s.lines), "fixable": s.fixable, "note": s.note,
             "savings": savings_json(s.savings)}
            for s in rep.suggestions
        ],
        "rewritten": rep.rewritten,
        "rewritten_dockerignore": rep.rewritten_ignore,
        "applied": [{"rule": s.rule, "lines": list(s.lines), "savings": savings_json(s.savings)}
                    for s in rep.steps],
        "total_savings": savings_json(rep.total_savings),
    }


def _saving_text(s: Savings | None) -> str:
    from layerlens.textreport import duration, size

    if s is None:
        return "saving: not measured (no git history)"
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
        fix = "fixable" if s.fixable else "hint"
        out.append(f"{s.rule}  {dockerfile}:{where}  [{fix}]  {s.title}")
        out.append(f"       {s.message}")
        out.append(f"       {_saving_text(s.savings)}")
        out.append(f"       why: {s.reason}")
        if s.note:
            out.append(f"       note: {s.note}")
    if rep.steps:
        out.append("")
        out.append("`--write` applies, in order (each measured after the ones before it):")
        for s in rep.steps:
            out.append(f"  {s.rule}  {_saving_text(s.savings)}")
        out.append(f"  all together: {_saving_text(rep.total_savings)}")
    text = "\n".join(out) + "\n"
    if diff:
        text += "\n" + diff
    return text


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
        msg = s.message + ". " + _saving_text(s.savings)
        return {"ruleId": s.rule, "level": "warning" if s.fixable else "note",
                "message": {"text": msg}, "locations": [loc],
                "properties": {"fixable": s.fixable, "savings": savings_json(s.savings)}}

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
