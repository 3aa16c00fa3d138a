"""Suggestion reports: text for people, JSON (stable, documented), SARIF for code scanning."""

from __future__ import annotations

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
        "rewrite_failed_builds": s.after_failed,
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
        "not_applied": [{"rule": s.rule, "lines": list(s.lines), "fix": s.fix_class}
                        for s in rep.not_applied],
        "unsafe_fixes": rep.unsafe_fixes,
        "total_savings": savings_json(rep.total_savings),
        "headline": headline_json(rep),
    }


def _saving_text(s: Savings | None, why_none: str = "no git history") -> str:
    from layerlens.units import duration, plural, size

    if s is None:
        return f"saving: not measured ({why_none})"
    parts = []
    over = plural(s.commits, "commit")
    sec = s.seconds_per_commit
    # duration() shows what it can: under 0.005 s it would print "0.0s", a "saving" that
    # reads as a bug (shiori: "saves 0.0s (0.0s over 61 commits)") and a loss it would hide
    if s.commits and sec >= 0.005:
        parts.append(f"saves {duration(sec)} of rebuild per commit "
                     f"({duration(s.seconds_window)} over {over})")
    elif s.commits and sec <= -0.005:
        parts.append(f"adds {duration(-sec)} of rebuild per commit "
                     f"({duration(-s.seconds_window)} over {over})")
    elif s.commits and s.seconds_window >= 0.05:
        parts.append(f"saves under 0.01s of rebuild per commit "
                     f"({duration(s.seconds_window)} over {over})")
    if s.commits:
        if s.push_bytes_per_commit is not None and s.push_bytes_per_commit > 0:
            parts.append(f"push {size(int(s.push_bytes_per_commit))}/commit")
        if s.rebuilds_avoided:
            parts.append(f"{plural(s.rebuilds_avoided, 'rebuild')} avoided")
    if s.after_failed:
        parts.append(f"not counting {plural(s.after_failed, 'commit')} at which the rewrite "
                     "fails to build and today's file builds (a file it copies is absent "
                     "there)")
    if s.image_bytes:
        parts.append(f"{size(s.image_bytes)} less in the image")
    text = ", ".join(parts) or (f"no measurable saving over {plural(s.commits, 'replayed commit')}"
                                if s.commits else "no measurable saving")
    return text + (" (estimated costs)" if s.estimated and s.commits else "")


def line_ranges(lines: tuple[int, ...] | list[int]) -> str:
    """Line numbers as the shortest list: runs of three or more as ranges,
    (4, 5, 6, 7, 19, 20) -> "4-7,19,20"; none -> "-"."""
    if not lines:
        return "-"
    nums = sorted(set(lines))
    out, start, prev = [], nums[0], nums[0]
    for n in [*nums[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        if prev - start >= 2:
            out.append(f"{start}-{prev}")
        else:
            out += [str(k) for k in range(start, prev + 1)]
        if n is not None:
            start = prev = n
    return ",".join(out)


# the indent of a finding's detail lines, under its title
_DETAIL = " " * 7


def _finding_block(rep: SuggestReport, s: Suggestion, dockerfile: str, width: int,
                   why: bool = True) -> list[str]:
    """One suggestion: `LLnnn  FILE:LINES  [class]  title`, then its message, saving, reason
    (unless WHY is false: the rule's reason was given above), why it is unsafe and its note,
    each wrapped under the title."""
    from layerlens.jsonout import safe_text
    from layerlens.textfit import elide_middle, wrap

    where = line_ranges(s.lines)
    shown = elide_middle(safe_text(dockerfile), max(12, width // 2 - len(where)))
    out = wrap(f"{shown}:{where}  [{FIX_LABEL[s.fix_class]}]  {s.title}", width,
               first=f"{s.rule}  ", indent=_DETAIL)
    details = [("", s.message), ("", _saving_text(s.savings, unmeasured_reason(rep, s)))]
    if why:
        details.append(("why: ", s.reason))
    if s.unsafe_reason:
        details.append(("unsafe: ", s.unsafe_reason))
    if s.note:
        details.append(("note: ", s.note))
    for label, text in details:
        out += wrap(safe_text(text), width, first=_DETAIL + label, indent=_DETAIL + "  ")
    return out


def _plan_block(rep: SuggestReport, width: int) -> list[str]:
    """What `--write` applies, step by step, and the total."""
    from layerlens.textfit import wrap

    if not rep.steps:
        return []
    which = "safe and unsafe fixes" if rep.unsafe_fixes else "safe fixes"
    out = wrap(f"`--write` applies these {which}, in order (each measured after the ones "
               "before it, so they add up):", width, indent="  ")
    first = {(x.rule, x.lines): x for x in rep.suggestions}
    for k, s in enumerate(rep.steps):
        out += wrap(f"[{FIX_LABEL[s.fix_class]}]  "
                    f"{_saving_text(s.savings, unmeasured_reason(rep, s))}", width,
                    first=f"  {s.rule}  ", indent=" " * 9)
        listed = first.get((s.rule, s.lines))
        if k and (listed is None or not listed.fixable):
            # measured on the text the earlier fixes made, it now saves enough to be a
            # fix, though the list above (measured on today's file) shows it as a hint
            out += wrap(f"offered after {', '.join(x.rule for x in rep.steps[:k])}: on "
                        "today's file alone it is not a fix", width, first=" " * 9,
                        indent=" " * 11)
    out += wrap(f"all together: {_saving_text(rep.total_savings, 'see above')}", width,
                first="  ", indent="    ")
    if rep.not_applied:
        out += wrap("listed as fixes but not applied (measured after the fixes before them, "
                    "they save less than the threshold or no longer apply): " + ", ".join(
                        f"{s.rule} at line {line_ranges(s.lines)}" for s in rep.not_applied),
                    width, first="  ", indent="    ")
    return out


def _held_block(rep: SuggestReport, width: int) -> list[str]:
    """The unsafe fixes `--write` leaves alone unless told."""
    from layerlens.textfit import wrap
    from layerlens.units import plural

    held = [s for s in rep.suggestions if s.fix_class == "unsafe"]
    if not held or rep.unsafe_fixes:
        return []
    return wrap(f"{plural(len(held), 'unsafe fix', 'unsafe fixes')} not applied: "
                f"{'it' if len(held) == 1 else 'they'} may change the image (add "
                "--unsafe-fixes to apply; --verify proves a rewrite by building)", width,
                indent="  ")


def report_text(rep: SuggestReport, dockerfile: str, diff: str | None,
                width: int = 80) -> str:
    """The `layerlens suggest` report for people: each suggestion (a rule's reason with its
    first finding only; JSON has it on each), then what `--write` applies, then the unsafe
    fixes held back, then DIFF (a unified diff, printed whole).
    Every line but the diff's fits WIDTH cells. The report is a list of blocks separated
    by blank lines, so a block (a headline, say) is added in one place."""
    from layerlens.jsonout import safe_text
    from layerlens.textfit import wrap

    blocks = [headline_block(rep, dockerfile, width)]
    # a rule's reason is the same for each of its findings: it is given once, with the first
    blocks += [_finding_block(rep, s, dockerfile, width,
                              why=all(x.rule != s.rule for x in rep.suggestions[:k]))
               for k, s in enumerate(rep.suggestions)] or [
        wrap(f"{safe_text(dockerfile)}: nothing to suggest", width, indent="  ")]
    blocks += [_plan_block(rep, width), _held_block(rep, width)]
    text = "\n\n".join("\n".join(b) for b in blocks if b) + "\n"
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
    nothing = h.by("current").builds == 0
    return {
        "builds": h.by("current").builds,
        "upper_bounds_from_line": h.upper_bound_lines[0] if h.upper_bound_lines else None,
        # today's file built at no replayed commit: nothing to compare the rewrites with
        "no_build_replayed": nothing,
        "current_failed_builds": _failed_commits(rep),
        "variants": {f.variant: {
            "fixes": list(f.rules),
            "rebuild_seconds_per_commit": f.seconds_per_commit,
            "push_bytes_per_commit": f.push_bytes_per_commit,
            "unknown_size_layers": f.unknown_push_layers,
            "estimated": f.estimated,
            "builds": f.builds,
            "current_rebuild_seconds_per_commit": f.base_seconds_per_commit,
            "failed_builds": None if nothing else f.failed_builds,
        } for f in h.figures},
        "layers": [{"stage": r.stage, "instruction": r.text,
                    **{f"line_{v}": r.lines[k] for k, v in enumerate(VARIANTS)},
                    **{f"rebuild_share_{v}": r.shares[k] for k, v in enumerate(VARIANTS)}}
                   for r in h.layers],
    }


def _failed_commits(rep: SuggestReport) -> int:
    """Replayed commits at which today's file fails to build (a COPY source absent)."""
    costs = rep.variants[0].costs if rep.variants else None
    return sum(1 for c in costs.commits if c.failed) if costs is not None else 0


def headline_block(rep: SuggestReport, dockerfile: str, width: int = 80) -> list[str]:
    """The lines that lead `suggest`'s text: per-commit rebuild time and push bytes now,
    with the safe fixes and with --unsafe-fixes too, then the share of commits that rebuild
    each layer in each, every line fitting WIDTH cells. Sizes and durations through
    layerlens/units.py."""
    from layerlens.jsonout import safe_text
    from layerlens.suggest.headline import headline
    from layerlens.textfit import elide_middle, fit_lines, truncate
    from layerlens.textreport import push_text
    from layerlens.units import duration, plural

    dockerfile = elide_middle(safe_text(dockerfile), max(12, width // 2))

    h = headline(rep)
    if h is None:
        why = "no git history" if not rep.replayed else "no build was replayed"
        return fit_lines([f"{dockerfile}: per-commit rebuild time unknown ({why})"], width)
    cur, safe, unsafe = h.figures
    if cur.seconds_per_commit is None:
        failed = _failed_commits(rep)
        why = (f"no build replayed: today's file fails to build at all "
               f"{plural(failed, 'replayed commit')}, a file it copies is absent"
               if cur.builds == 0 and failed else "no build replayed")
        return fit_lines([f"{dockerfile}: per-commit rebuild time unknown ({why})"], width)

    def change(f) -> str:
        if f.seconds_per_commit is None:
            return "unknown"
        base = f.base_seconds_per_commit
        d = f.seconds_per_commit - (base or 0.0)
        pct = f" ({d / base:+.0%})" if base else ""
        return f"{duration(f.seconds_per_commit)}{pct}"

    est = "; seconds partly estimated" if any(f.estimated for f in h.figures) else ""
    pushes = [push_text(f.push_bytes_per_commit, f.unknown_push_layers).split(" (")[0]
              for f in h.figures]
    same = unsafe.rules == safe.rules
    out = [f"{dockerfile}: per commit, over {plural(cur.builds, 'replayed build')}{est}",
           f"  now                  rebuild {duration(cur.seconds_per_commit)}, push {pushes[0]}",
           f"  with the safe fixes  rebuild {change(safe)}, push {pushes[1]}"
           f"  [{', '.join(safe.rules) or 'none apply'}]"]
    if same:
        out.append("  with --unsafe-fixes  the same: no unsafe fix applies beyond them")
    else:
        out.append(f"  with --unsafe-fixes  rebuild {change(unsafe)}, push {pushes[2]}"
                   f"  [+{', '.join(unsafe.rules[len(safe.rules):])}]")
    for f in (safe, unsafe):
        if f.failed_builds and not (f is unsafe and same):
            what = "safe" if f is safe else "--unsafe-fixes"
            out.append(f"  (the {what} rewrite fails to build at "
                       f"{plural(f.failed_builds, 'commit')} where today's file builds: a "
                       f"file it copies is absent there; its figures and change are over the "
                       f"{plural(f.builds, 'build')} both make)")
    if any(f.unknown_push_layers for f in h.figures):
        out.append("  (push: the known part; some layer sizes are unknown without --image)")
    if h.upper_bound_lines:
        lines = ",".join(map(str, h.upper_bound_lines))
        out.append(f"  (upper bounds from line {h.upper_bound_lines[0]} on: the COPY --from at "
                   f"line{'s' if len(h.upper_bound_lines) > 1 else ''} {lines} counts as "
                   "rebuilt whenever its stage rebuilds; BuildKit reuses it when the files "
                   "it takes are unchanged)")
    rows = [r for r in h.layers if any(s for s in r.shares if s)]
    if rows:
        out.append("  share of builds that rebuild each layer: now -> safe"
                   + ("" if same else " -> --unsafe-fixes"))
        shown = rows[:15]
        for r in shown:
            where = f"L{r.lines[0]}" if r.lines[0] is not None else "new"
            cells = " -> ".join("-" if x is None else f"{x:.0%}"
                                for x in (r.shares[:2] if same else r.shares))
            room = max(8, width - 4 - 7 - 1 - len(cells))
            out.append(f"    {where:<6} {truncate(safe_text(r.text), room):<{room}} {cells}")
        if len(rows) > len(shown):
            out.append(f"    ... and {len(rows) - len(shown)} more layers (--format json "
                       "lists them all)")
    return fit_lines(out, width)


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
    import difflib  # only a --diff run (or the TUI's patch) shows one

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


def verify_text(v, width: int | None = None) -> str:
    """One paragraph on a `Verification` (layerlens/suggest/proof.py); with WIDTH, wrapped
    to it, the lists of paths cut with a count."""
    from layerlens.textfit import cut_list, wrap

    def listed(paths) -> str:
        return ", ".join(cut_list(list(paths), 12))

    if v.error:
        head = f"verify: not proven: {v.error}"
    else:
        head = (f"verify ({v.builder}): the final images are identical" if v.identical else
                f"verify ({v.builder}): the images differ in {len(v.differences)} "
                f"place{'s' if len(v.differences) != 1 else ''}: "
                + listed(v.differences))
        if v.intended:
            head += (f"; {len(v.intended)} path{'s' if len(v.intended) != 1 else ''} dropped "
                     "on purpose by .dockerignore: " + listed(v.intended))
    return head if width is None else "\n".join(wrap(head, width, indent="  "))
