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
    from layerlens.units import duration, size

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
        first = {(x.rule, x.lines): x for x in rep.suggestions}
        for k, s in enumerate(rep.steps):
            out.append(f"  {s.rule}  [{FIX_LABEL[s.fix_class]}]  "
                       f"{_saving_text(s.savings, unmeasured_reason(rep, s))}")
            listed = first.get((s.rule, s.lines))
            if k and (listed is None or not listed.fixable):
                # measured on the text the earlier fixes made, it now saves enough to be a
                # fix, though the list above (measured on today's file) shows it as a hint
                out.append(f"         offered after {', '.join(x.rule for x in rep.steps[:k])}:"
                           " on today's file alone it is not a fix")
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
                           s.message + ". " + _saving_text(s.savings,
                                                           unmeasured_reason(rep, s)),
                           line, text,
                           {"fixable": s.fixable, "fix": s.fix_class,
                            "unsafe_reason": s.unsafe_reason,
                            "savings": savings_json(s.savings)})

    rules = [SarifRule(r.id, r.name, r.summary,
                       f"{r.id} ({r.name}): {r.summary}. `layerlens suggest --diff` shows the "
                       f"rewrite; `--select {r.id}` runs this rule alone, `--ignore {r.id}` "
                       "skips it.") for r in RULES]
    return sarif_log(rules, [result(s) for s in rep.suggestions], Path(dockerfile), first_line)


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
