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
        "headline": headline_json(rep),
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
    out = headline_block(rep, dockerfile)
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


def headline_json(rep: SuggestReport) -> dict[str, Any] | None:
    """The headline with exact numbers (seconds and bytes per commit unrounded, shares as
    fractions of the replayed builds); null without a replayed history. `variants` holds
    `current` (today's file), `safe` (the safe fixes applied) and `unsafe` (the unsafe
    fixes on top: what `--unsafe-fixes` writes); push bytes are the known part, complete
    when `unknown_size_layers` is 0; null when nothing pushed was of known size."""
    from layerlens.suggest.headline import VARIANTS, headline

    h = headline(rep)
    if h is None:
        return None
    return {
        "builds": h.by("current").builds,
        "variants": {f.variant: {
            "fixes": list(f.rules),
            "rebuild_seconds_per_commit": f.seconds_per_commit,
            "push_bytes_per_commit": f.push_bytes_per_commit,
            "unknown_size_layers": f.unknown_push_layers,
            "estimated": f.estimated,
        } for f in h.figures},
        "layers": [{"stage": r.stage, "instruction": r.text,
                    **{f"line_{v}": r.lines[k] for k, v in enumerate(VARIANTS)},
                    **{f"rebuild_share_{v}": r.shares[k] for k, v in enumerate(VARIANTS)}}
                   for r in h.layers],
    }


def headline_block(rep: SuggestReport, dockerfile: str) -> list[str]:
    """The lines that lead `suggest`'s text: per-commit rebuild time and push bytes now,
    with the safe fixes and with --unsafe-fixes too, then the share of commits that rebuild
    each layer in each. Sizes and durations through layerlens/units.py."""
    from layerlens.suggest.headline import headline
    from layerlens.textreport import push_text
    from layerlens.units import duration

    h = headline(rep)
    if h is None:
        why = "no git history" if not rep.replayed else "no build was replayed"
        return [f"{dockerfile}: per-commit rebuild time unknown ({why})", ""]
    cur, safe, unsafe = h.figures
    if cur.seconds_per_commit is None:
        return [f"{dockerfile}: per-commit rebuild time unknown (no build replayed)", ""]

    def change(f) -> str:
        if f.seconds_per_commit is None:
            return "unknown"
        d = f.seconds_per_commit - cur.seconds_per_commit
        pct = f" ({d / cur.seconds_per_commit:+.0%})" if cur.seconds_per_commit else ""
        return f"{duration(f.seconds_per_commit)}{pct}"

    est = "; seconds partly estimated" if any(f.estimated for f in h.figures) else ""
    pushes = [push_text(f.push_bytes_per_commit, f.unknown_push_layers).split(" (")[0]
              for f in h.figures]
    same = unsafe.rules == safe.rules
    out = [f"{dockerfile}: per commit, over {cur.builds} replayed build(s){est}",
           f"  now                  rebuild {duration(cur.seconds_per_commit)}, push {pushes[0]}",
           f"  with the safe fixes  rebuild {change(safe)}, push {pushes[1]}"
           f"  [{', '.join(safe.rules) or 'none apply'}]"]
    if same:
        out.append("  with --unsafe-fixes  the same: no unsafe fix applies beyond them")
    else:
        out.append(f"  with --unsafe-fixes  rebuild {change(unsafe)}, push {pushes[2]}"
                   f"  [+{', '.join(unsafe.rules[len(safe.rules):])}]")
    if any(f.unknown_push_layers for f in h.figures):
        out.append("  (push: the known part; some layer sizes are unknown without --image)")
    rows = [r for r in h.layers if any(s for s in r.shares if s)]
    if rows:
        out.append("  share of builds that rebuild each layer: now -> safe"
                   + ("" if same else " -> --unsafe-fixes"))
        shown = rows[:15]
        for r in shown:
            where = f"L{r.lines[0]}" if r.lines[0] is not None else "new"
            text = r.text if len(r.text) <= 48 else r.text[:47] + "…"
            cells = " -> ".join("-" if x is None else f"{x:.0%}"
                                for x in (r.shares[:2] if same else r.shares))
            out.append(f"    {where:<6} {text:<48} {cells}")
        if len(rows) > len(shown):
            out.append(f"    ... {len(rows) - len(shown)} more layers (--format json lists "
                       "them all)")
    out.append("")
    return out


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
