"""Run the rules over an analysis, measure each suggestion, and build the combined rewrite.

Every rule reads a `Subject` (a Dockerfile text with its context, derived from the one
immutable `Analysis`) and returns suggestions. Savings are measured, not guessed: the same
mined history is replayed with the current text and with the rewrite. The combined rewrite
applies the best fix of the classes asked for (safe; with --unsafe-fixes unsafe too), re-reads
the result, and repeats until none is left, so `--write` is idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from layerlens.analysis import Analysis
from layerlens.cache.costs import CostSummary
from layerlens.dockerfile import Dockerfile
from layerlens.errors import LayerlensError
from layerlens.gcpause import paused
from layerlens.suggest.model import Savings, Suggestion
from layerlens.suggest.rule import Rule, Subject, read_ignore_text, sum_known

__all__ = ["Rule", "Subject", "SuggestReport", "Variant", "read_ignore_text", "suggest",
           "verify_report"]

_PRAGMA = re.compile(r"^\s*#\s*layerlens\s+ignore\s*=\s*([A-Za-z0-9_, ]+)\s*$")


@dataclass(frozen=True, slots=True)
class Variant:
    """One Dockerfile text the report speaks of, with the fixes that made it."""

    name: str  # "current", "safe" or "unsafe"
    subject: Subject  # its text, ignore text and replay (Subject.summary, cached)
    steps: tuple[Suggestion, ...]  # fixes applied to today's file to make it, in order

    @property
    def costs(self) -> CostSummary | None:
        """Its replay over the analysis's mined history (the one the fixes were measured
        against; replayed once more only when no rule measured it), or None without one."""
        return self.subject.summary(self.subject.text)


@dataclass(frozen=True, slots=True)
class SuggestReport:
    suggestions: tuple[Suggestion, ...]
    rewritten: str | None  # the combined Dockerfile rewrite, None when nothing is fixable
    rewritten_ignore: str | None
    ignore_path: Path
    applied: tuple[str, ...]  # rule ids applied to build the rewrite, in order
    steps: tuple[Suggestion, ...] = ()  # each applied fix, measured on the text before it
    unsafe_fixes: bool = False  # were unsafe fixes applied too
    replayed: bool = False  # was a git history replayed to measure savings
    # today's file, the safe rewrite, and the rewrite with unsafe fixes too (made and
    # measured whether or not --unsafe-fixes applies it); the headline reads their replays
    variants: tuple[Variant, ...] = ()
    # listed fixes of the classes applied that `--write` does not apply: measured after the
    # fixes before them, they save less than the threshold or no longer apply
    not_applied: tuple[Suggestion, ...] = ()

    @property
    def total_savings(self) -> Savings | None:
        """Savings of the whole rewrite: the steps telescope, so their sum is exact when
        every step is measured over the same commits; None when a step's rewrite fails to
        build at some of them (each step then says so)."""
        got = [s.savings for s in self.steps if s.savings is not None]
        if not got or len(got) != len(self.steps) or any(g.after_failed for g in got):
            return None
        first, last = got[0], got[-1]
        return Savings(
            first.commits, sum(g.seconds_per_commit for g in got),
            sum_known(g.push_bytes_per_commit for g in got),
            sum_known(g.pull_bytes_per_commit for g in got),
            sum(g.seconds_window for g in got), sum_known(g.push_bytes_window for g in got),
            sum_known(g.pull_bytes_window for g in got), first.before_seconds_per_commit,
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
    """The rules' suggestions on `subject`, verified, thresholded and ranked."""
    return _run_rules(subject, rules, select, ignore)[0]


def _run_rules(subject: Subject, rules: Iterable[Rule], select: set[str] | None,
               ignore: set[str]) -> tuple[list[Suggestion], dict[int, Suggestion]]:
    """`run_rules`, and for each suggestion the threshold made a hint (by its index in
    the list) the fix it was."""
    found: list[tuple[Suggestion, Suggestion]] = []
    for rule in rules:
        if select is not None and rule.id not in select:
            continue
        if rule.id in ignore:
            continue
        for s in rule.check(subject):
            fix = _verified(subject, s)
            found.append((_worth_it(fix), fix))
    kept = {id(s) for s in _filter([s for s, _ in found], subject.df, select, ignore)}
    ranked = sorted((p for p in found if id(p[0]) in kept), key=lambda p: p[0].rank_key)
    return ([s for s, _ in ranked],
            {k: fix for k, (s, fix) in enumerate(ranked) if s is not fix})


def _offered_after(fix: Suggestion, before: list[Suggestion], hint: bool = False,
                   ) -> Suggestion:
    """The fix a listed hint was, noted: below the threshold on today's file alone, it is
    applied after the fixes `before` it, measured after which it clears the threshold.
    With `hint`, it stays the hint (only --unsafe-fixes applies it, and this run does not)."""
    from dataclasses import replace

    after = ", ".join(x.rule for x in before)
    if hint:
        why = (f"{_below()} on today's file; with --unsafe-fixes it is applied after {after}, "
               "measured after which it clears the threshold")
        return replace(fix, fixable=False, dockerfile=None, dockerignore=None,
                       note=f"{why}; {fix.note}" if fix.note else why)
    why = (f"offered after {after}: on today's file alone its replayed saving is below the "
           "threshold, measured after them it clears it")
    return replace(fix, note=f"{why}; {fix.note}" if fix.note else why)


def _verified(subject: Subject, sug: Suggestion) -> Suggestion:
    """Demote a fix whose rewrite would change the image config (a rule bug, never ok)."""
    if not sug.fixable or sug.dockerfile is None:
        return sug
    from dataclasses import replace

    from layerlens.suggest.verify import config_changes

    try:
        # as the analysis reads its Dockerfile (path, build args, platform); parsed once
        # there, when the rule measured the rewrite
        after = subject.analysis.parse_text(sug.dockerfile)
    except LayerlensError as exc:
        return replace(sug, fixable=False, dockerfile=None, note=f"rewrite rejected: {exc}")
    changed = config_changes(subject.df, after)
    if changed:
        return replace(sug, fixable=False, dockerfile=None,
                       note=f"rewrite rejected: it would change the image's {', '.join(changed)}")
    return sug


# A fix whose replayed saving is below all of these is not offered: reshuffling a file for
# nothing costs the reader's trust and review time (issue 12, "honest savings").
MIN_SECONDS_PER_COMMIT = 0.1
MIN_BYTES_PER_COMMIT = 1 << 20  # pushed per commit
MIN_IMAGE_BYTES = 1 << 20
# Rules whose fixes save mainly image bytes: without an image those are unknown, not zero,
# so a small replayed time saving does not make the fix worthless.
IMAGE_SAVING_RULES = frozenset({"LL004"})


def _worth_it(sug: Suggestion) -> Suggestion:
    """Demote a fix whose measured saving is below the thresholds to a hint."""
    from dataclasses import replace

    s = sug.savings
    if not sug.fixable or s is None or not s.commits:
        return sug
    if sug.rule in IMAGE_SAVING_RULES and s.image_bytes is None:
        return sug
    if s.seconds_per_commit >= MIN_SECONDS_PER_COMMIT or \
            (s.push_bytes_per_commit or 0) >= MIN_BYTES_PER_COMMIT or \
            (s.image_bytes or 0) >= MIN_IMAGE_BYTES:
        return sug
    why = _below()
    return replace(sug, fixable=False, dockerfile=None, dockerignore=None,
                   note=f"{why}; {sug.note}" if sug.note else why)


def _below() -> str:
    """Why a fix under the threshold is a hint, with the threshold (README, "Suggestions")."""
    from layerlens.units import duration, size

    return (f"not offered as a fix: the replayed saving is below the threshold "
            f"({duration(MIN_SECONDS_PER_COMMIT)} of rebuild and {size(MIN_BYTES_PER_COMMIT)} "
            f"pushed per commit, and {size(MIN_IMAGE_BYTES)} of image)")


@dataclass
class _Combined:
    """Where a run of the combined rewrite ended: the subject, its rules' findings, the
    texts and the fixes applied on the way."""

    subject: Subject
    sugs: list[Suggestion]  # today's: every rule's; after a fix: the fixing rules' only
    text: str
    itext: str | None
    applied: list[str]
    steps: list[Suggestion]
    ids: list[tuple] = field(default_factory=list)  # each step's `identity`


def identity(subject: Subject, sug: Suggestion) -> tuple[str, tuple[str, ...]]:
    """What a suggestion is about, the same across rounds of the combined rewrite: its rule
    and the text of the instructions at its lines (lines move when an earlier fix reorders;
    the instructions' text does not)."""
    at = set(sug.lines)
    return sug.rule, tuple(sorted(" ".join(ins.original.split())
                                  for ins in subject.df.instructions if ins.start_line in at))


def fixing(rules: Iterable[Rule]) -> list[Rule]:
    """The rules that can make a fix `--write` applies (a safe or unsafe one): a later round
    of the combined rewrite looks only for the next fix, and a rule that declares only hints
    (`Rule.fixes`) never gives one (tests/suggest/conftest.py holds every rule to what it
    declares)."""
    return [r for r in rules if "safe" in r.fixes or "unsafe" in r.fixes]


def _combine(analysis: Analysis, start: _Combined, select: set[str] | None, ignore: set[str],
             max_rounds: int, unsafe: bool) -> _Combined:
    """Apply the best fix of the classes asked for, re-read, repeat until none is left.
    The later rounds' findings are only the fixes (`fixing`): the report lists today's."""
    from layerlens.suggest.rules import RULES

    rules = fixing(RULES)
    text, itext = start.text, start.itext
    applied, steps, ids = list(start.applied), list(start.steps), list(start.ids)
    cur, cur_sugs = start.subject, start.sugs
    for _ in range(max_rounds):
        fix = next((s for s in cur_sugs if s.applies(unsafe) and (
            s.savings is None or s.savings.seconds_per_commit >= 0)), None)
        if fix is None:
            break
        if fix.dockerfile is not None:
            text = fix.dockerfile
        if fix.dockerignore is not None:
            itext = fix.dockerignore
        applied.append(fix.rule)
        steps.append(fix)
        ids.append(identity(cur, fix))
        try:
            cur = Subject(analysis, text, itext)
            cur.df  # noqa: B018 - the rewrite must parse; a rule bug must not slip through
        except LayerlensError as exc:
            raise LayerlensError(
                f"internal error: rewrite by {fix.rule} does not parse: {exc}") from None
        cur_sugs = run_rules(cur, rules, select, ignore)
    return _Combined(cur, cur_sugs, text, itext, applied, steps, ids)


@paused()  # rules and replays build many acyclic records: see layerlens/gcpause.py
def suggest(analysis: Analysis, *, select: set[str] | None = None,
            ignore: set[str] | None = None, max_rounds: int = 12,
            unsafe_fixes: bool = False, headline: bool = True) -> SuggestReport:
    """Run the rules, then build the combined rewrite from the fixes `--write` applies:
    the safe ones, and with `unsafe_fixes` the unsafe ones too (never hints).

    Safe fixes are applied first (best first, re-reading after each), then unsafe ones on
    top, so the rewrite `--unsafe-fixes` writes starts with exactly the safe rewrite. The
    unsafe run is made (and measured, never applied) without `unsafe_fixes` too, when an
    unsafe fix is left: the report's headline gives both figures (`SuggestReport.variants`).
    `headline=False` skips that extra run for callers that show no headline (the gate);
    the report then has no variants.
    """
    from layerlens.suggest.rules import RULES

    ignore = ignore or set()
    ignore_text = read_ignore_text(analysis)
    subject = Subject(analysis, analysis.dockerfile.source, ignore_text)
    first, below = _run_rules(subject, RULES, select, ignore)
    start = _Combined(subject, first, subject.text, ignore_text, [], [])
    safe = _combine(analysis, start, select, ignore, max_rounds, unsafe=False)
    unsafe = safe
    if (headline or unsafe_fixes) and any(s.applies(True) and not s.applies(False)
                                          for s in safe.sugs):
        unsafe = _combine(analysis, safe, select, ignore, max_rounds, unsafe=True)
    done = unsafe if unsafe_fixes else safe
    # A listed hint the combined rewrite applies after other fixes (below the threshold on
    # today's file, above it measured after them: an ARG that rebuilds every RUN hides what
    # an ignore entry saves) is listed as the fix it is, with today's rewrite and a note, so
    # that the list, the headline and `--write` agree (FreshRSS: a "not offered" LL005 that
    # --write applied).
    now = {key: i for i, key in enumerate(done.ids)}
    fullest = {key: i for i, key in enumerate(unsafe.ids)}
    for k in below:
        key = identity(subject, first[k])
        if key in now:
            first[k] = _offered_after(below[k], done.steps[:now[key]])
        elif key in fullest:  # the headline's --unsafe-fixes line applies it
            first[k] = _offered_after(below[k], unsafe.steps[:fullest[key]], hint=True)
    not_applied = tuple(s for s in first if s.applies(unsafe_fixes)
                        and identity(subject, s) not in done.ids)
    text, itext = done.text, done.itext
    changed_df = text != subject.text
    changed_ig = itext != ignore_text
    ignore_path = Path(analysis.context.ignore_source) if analysis.context.ignore_source \
        else Path(analysis.context.root) / ".dockerignore"
    variants = (Variant("current", subject, ()),
                Variant("safe", safe.subject, tuple(safe.steps)),
                Variant("unsafe", unsafe.subject, tuple(unsafe.steps))) if headline else ()
    return SuggestReport(tuple(first), text if changed_df else None,
                         itext if changed_ig else None, ignore_path, tuple(done.applied),
                         tuple(done.steps), unsafe_fixes, analysis.history is not None,
                         variants, not_applied)


def verify_report(analysis: Analysis, rep: SuggestReport, builder=None):
    """Prove `rep`'s rewrite by building it and the original (layerlens/suggest/proof.py).

    Returns a `Verification`; the files a new .dockerignore drops on purpose are passed as
    intended, so they are listed rather than counted as differences."""
    from layerlens.suggest.proof import find_builder, storage_from_env, verify_rewrite

    old_ignore = read_ignore_text(analysis)
    dropped: tuple[str, ...] = ()
    if rep.rewritten_ignore is not None:
        new_ctx = Subject(analysis, analysis.dockerfile.source, rep.rewritten_ignore).context
        before = {f.path for f in analysis.context.files} | set(analysis.context.dirs)
        after = {f.path for f in new_ctx.files} | set(new_ctx.dirs)
        dropped = tuple(sorted(before - after))  # files and (empty) directories
    opts = analysis.options
    return verify_rewrite(
        Path(analysis.context.root), Path(opts.dockerfile), analysis.dockerfile.source,
        rep.rewritten, old_ignore, rep.rewritten_ignore, dropped,
        build_args=verify_build_args(analysis), target=opts.target, platform=opts.platform,
        builder=builder or find_builder(storage_from_env()))


def verify_build_args(analysis: Analysis) -> dict[str, str]:
    """The build args for `--verify`: the user's, plus a value for every per-build ARG
    (GIT_SHA, BUILD_DATE, ...) the user did not set. Built empty on both sides, an ARG a fix
    moved past a RUN that stamps it would compare equal and prove nothing (a new-user trial
    found exactly that)."""
    from layerlens.cache.ops import detect_volatile

    args = dict(analysis.options.build_args)
    hist = analysis.history
    volatile = set(detect_volatile(analysis.dockerfile))
    if hist is not None:
        volatile |= set(hist.volatile_args)
    for name in sorted(volatile - set(args)):
        args[name] = f"layerlens-verify-{name.lower()}"
    return args
