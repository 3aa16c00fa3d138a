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


def report_sarif(rep: SuggestReport, dockerfile: str, source: str | None = None,
                 first_line: int | None = None) -> dict[str, Any]:
    """SARIF for code scanning, through the writer `check` shares (layerlens/sarif.py).

    `source`: the Dockerfile's text (read from `dockerfile` when not given); each alert's
    fingerprint uses the text of its first line, not the line number, so it survives edits
    above it. `first_line`: where findings without a line point (default: the first line
    holding an instruction)."""
    from pathlib import Path

    from layerlens.sarif import SarifResult, SarifRule, sarif_log
    from layerlens.suggest.rules import RULES

    if source is None:
        try:
            source = Path(dockerfile).read_text("utf-8", "surrogateescape")
        except OSError:
            source = ""
    lines = source.splitlines()
    if first_line is None:
        first_line = next((i + 1 for i, x in enumerate(lines)
                           if x.strip() and not x.lstrip().startswith("#")), 1)

    def result(s: Suggestion) -> SarifResult:
        line = s.lines[0] if s.lines else None
        text = lines[line - 1] if line and line <= len(lines) else "(file)"
        return SarifResult(s.rule, "warning" if s.fixable else "note",
                           s.message + ". " + _saving_text(s.savings), line, text,
                           {"fixable": s.fixable, "savings": savings_json(s.savings)})

    rules = [SarifRule(r.id, r.name, r.summary,
                       f"{r.id} ({r.name}): {r.summary}. `layerlens suggest --diff` shows the "
                       f"rewrite; `--select {r.id}` runs this rule alone, `--ignore {r.id}` "
                       "skips it.") for r in RULES]
    return sarif_log(rules, [result(s) for s in rep.suggestions], Path(dockerfile), first_line)
