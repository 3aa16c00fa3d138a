"""The one immutable analysis result that every front end reads, and the pipeline that
builds it.

Inputs are read here once: the Dockerfile, the `.dockerignore` text, the build context
index, the git history (mined once), build-log seconds and image costs. Suggestions, reports,
the CI gate and the TUI only read the `Analysis`; when they need a counterfactual (a rewrite's
cost), they ask it (`Analysis.replay_text`), and it replays over what was already read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

from layerlens.cache.costs import CostSummary
from layerlens.cache.timeline import HistoryAnalysis, HistoryOptions, analyze_history
from layerlens.context.inputs import CopyInputs, glob_base, resolve_all
from layerlens.context.patterns import Matcher, go_clean, read_ignore_file, read_ignore_lines
from layerlens.context.tree import Context, scan_context
from layerlens.dockerfile import Dockerfile, load, parse
from layerlens.errors import LayerlensError
from layerlens.jsonout import quoted

if TYPE_CHECKING:  # the image readers load only when an image is read (--image)
    from layerlens.image.lines import LayerSource
    from layerlens.image.model import Image

Progress = Callable[[str], None]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AnalyzeOptions:
    dockerfile: Path
    context: Path | None = None
    build_args: Mapping[str, str] = field(default_factory=dict)
    platform: str = "linux/amd64"
    target: str | None = None
    history: HistoryOptions = field(default_factory=HistoryOptions)
    image: str | None = None
    image_platform: str | None = None
    keep_image_files: bool = False
    # Where the context, build args and target came from when not given on the command line
    # (a compose or bake file); shown as a notice.
    build_source: str | None = None

    @property
    def context_dir(self) -> Path:
        return self.context if self.context is not None else self.dockerfile.parent


@dataclass(frozen=True, slots=True)
class Analysis:
    options: AnalyzeOptions
    dockerfile: Dockerfile
    context: Context
    inputs: Mapping[int, CopyInputs]
    history: HistoryAnalysis | None = None
    image: Image | None = None
    layer_sources: tuple[LayerSource, ...] = ()
    notices: tuple[str, ...] = ()
    ignore_text: str | None = None  # the .dockerignore in force, as read (None: none)
    matcher: Matcher = field(default_factory=lambda: Matcher([], ""))
    # Context files whose content a rule needs (manifests, secret candidates), read once.
    _file_cache: dict[str, bytes | None] = field(default_factory=dict, compare=False,
                                                 repr=False)
    # Candidate ignore texts (suggest's .dockerignore fixes) -> (matcher, narrowed context):
    # a subject and each replay of it ask for the same one
    _ignore_cache: dict[str | None, tuple[Matcher, Context]] = field(
        default_factory=dict, compare=False, repr=False)
    # Dockerfile text -> its parse (or the error it raised), bounded (REPLAY_MEMO)
    _parse_cache: dict[str, Dockerfile | LayerlensError] = field(
        default_factory=dict, compare=False, repr=False)
    # (Dockerfile text, ignore text) -> its replay: `suggest` measures a rewrite as one
    # rule's "after" and again as the next round's "before"; bounded (REPLAY_MEMO)
    _replay_cache: dict[tuple[str, str | None],
                        tuple[HistoryAnalysis, CostSummary | None]] = field(
        default_factory=dict, compare=False, repr=False)
    # What a rule derives from this analysis alone, by key (`derived`): the same in every
    # round of suggest's combined rewrite
    _derived: dict[tuple, tuple[HistoryAnalysis | None, object]] = field(
        default_factory=dict, compare=False, repr=False)

    def context_file(self, rel: str, limit: int = 1 << 20) -> bytes | None:
        """The first `limit` bytes of the context file at slash path `rel`, or None when it
        cannot be read (absent, a directory, unreadable). Read once per analysis: every
        reader of file contents goes through here."""
        key = f"{limit}:{rel}"
        if key not in self._file_cache:
            path = Path(self.context.root) / rel
            try:
                with open(path, "rb") as fh:
                    self._file_cache[key] = fh.read(limit)
            except OSError:
                self._file_cache[key] = None
        return self._file_cache[key]

    @property
    def target_index(self) -> int | None:
        """The stage the build targets (`--target`, or a compose/bake target), or None for
        the last stage."""
        from layerlens.dockerfile.model import find_stage

        t = self.options.target
        return None if t is None else find_stage(self.dockerfile.stages, t)

    def needed_stages(self) -> frozenset[int]:
        """The stages the builder runs for the target."""
        return self.dockerfile.needed_stages(self.target_index)

    def source_of_layer(self, layer: int) -> LayerSource | None:
        for s in self.layer_sources:
            if s.layer == layer:
                return s
        return None

    def layers_of_instruction(self, index: int) -> list[int]:
        return [s.layer for s in self.layer_sources if s.instruction == index]

    def inputs_for(self, index: int) -> CopyInputs | None:
        return self.inputs.get(index)

    def parse_text(self, text: str) -> Dockerfile:
        """`text` read as this analysis's Dockerfile (same path, build args, platform).
        Raises `LayerlensError` when it does not parse. Each text is parsed once (a rule's
        subject and the replay of that text ask for the same one; the result is immutable)."""
        got = self._parse_cache.get(text)
        if got is None:
            o = self.options
            try:
                got = parse(text, str(o.dockerfile), build_args=o.build_args,
                            platform=o.platform)
            except LayerlensError as exc:
                got = exc
            if len(self._parse_cache) >= REPLAY_MEMO:
                del self._parse_cache[next(iter(self._parse_cache))]  # the oldest
            self._parse_cache[text] = got
        if isinstance(got, LayerlensError):
            raise got.with_traceback(None)
        return got

    def derived(self, key: tuple, make: Callable[[], T]) -> T:
        """`make()`, computed once per analysis and `key` (a hashable naming what is derived
        and from what, led by the asker's name: `("LL005 caused", patterns)`). For facts
        that depend on this analysis alone (its history, context and Dockerfile), never on
        a rewrite's text: a rule asks again in every round of the combined rewrite. Kept
        with the history it was made from, as `replay_text`'s memo (`replace` shares the
        dict)."""
        got = self._derived.get(key)
        if got is not None and got[0] is self.history:
            return got[1]  # type: ignore[return-value]
        value = make()
        self._derived[key] = (self.history, value)
        return value

    def context_for_ignore(self, ignore_text: str | None) -> Context:
        """The context the builder would be sent with `ignore_text` as the ignore file,
        derived from this analysis's scan (see `Context.narrowed`)."""
        return self._for_ignore(ignore_text)[1]

    def _for_ignore(self, ignore_text: str | None) -> tuple[Matcher, Context]:
        if ignore_text == self.ignore_text:
            return self.matcher, self.context
        got = self._ignore_cache.get(ignore_text)
        if got is None:
            matcher = _matcher(ignore_text, self.context.ignore_source)
            got = self._ignore_cache[ignore_text] = (
                matcher, self.context.narrowed(added_patterns(self.matcher, matcher)))
        return got

    def replay_text(self, text: str, ignore_text: str | None = None) -> CostSummary | None:
        """Counterfactual: the mined history replayed with Dockerfile `text` (and, when
        given, `ignore_text` as the ignore file) at every commit, priced with the same known
        costs (image, build log). `None` without a history or when `text` does not parse.
        With `text` equal to the current file this is exactly `history.costs`."""
        hist = self.history
        if hist is None:
            return None
        if text == self.dockerfile.source and ignore_text in (None, self.ignore_text):
            return hist.costs
        it = self.ignore_text if ignore_text is None else ignore_text
        key = (text, it)
        memo = self._replay_cache.get(key)
        if memo is not None and memo[0] is hist:  # `replace` shares the dict: same history
            return memo[1]
        got = self._replay_text(text, it)
        if len(self._replay_cache) >= REPLAY_MEMO:
            del self._replay_cache[next(iter(self._replay_cache))]  # the oldest
        self._replay_cache[key] = (hist, got)
        return got

    def _replay_text(self, text: str, it: str | None) -> CostSummary | None:
        hist = self.history
        assert hist is not None
        from layerlens.cache.timeline import replay_text

        try:
            df = self.parse_text(text)
        except LayerlensError:
            return None
        matcher, ctx = self._for_ignore(it)
        inputs = self.inputs if text == self.dockerfile.source and ctx is self.context \
            else resolve_all(df.instructions, ctx)
        if ctx is not self.context:
            # the narrowed context tested today's files against `matcher`: it kept its
            # files, and dropped those it excludes that the first scan had kept
            first = set(self.context.excluded)
            hist.setup.matching.seed(matcher, (f.path for f in ctx.files),
                                     (p for p in ctx.excluded if p not in first))
        try:
            return replay_text(hist.setup, df, matcher, inputs)
        except LayerlensError:
            return None


REPLAY_MEMO = 16  # counterfactual replays kept per analysis (each holds a window's commits)


def added_patterns(old: Matcher, new: Matcher) -> Matcher:
    """A matcher that excludes exactly what `new` does of the paths `old` keeps: `new`'s
    patterns after `old`'s when `new` is `old` with patterns added and neither holds an
    exception (`!`), else `new`. Without exceptions every matching pattern excludes (the
    last one decides, moby's rule), so a path `old` keeps (no pattern of it matches the
    path or a directory above it) is excluded by `new` exactly when an added one matches.
    `suggest`'s .dockerignore candidates are today's file plus entries (LL005): the
    narrowed context then tests those few patterns, not the whole file again."""
    k = len(old.patterns)
    if new.exclusions or len(new.patterns) <= k or new.patterns[:k] != old.patterns:
        return new
    return Matcher(new.patterns[k:], new.source)


def _matcher(text: str | None, source: str) -> Matcher:
    if not text:
        return Matcher([], source if text is not None else "")
    return Matcher.from_lines(read_ignore_lines(text), source or ".dockerignore")


def analyze(options: AnalyzeOptions, progress: Progress | None = None) -> Analysis:
    """Read every input once and build the `Analysis`: `analyze_static`, then
    `with_history`.

    Raises `LayerlensError` (one line naming the input) for a missing or malformed
    Dockerfile, ignore file, context, build log, image or target, and when git fails.
    """
    return with_history(analyze_static(options, progress), progress)


def analyze_static(options: AnalyzeOptions, progress: Progress | None = None) -> Analysis:
    """The `Analysis` without its git history (`history` is None): the Dockerfile, the
    context, what each COPY/ADD brings in and the image. The TUI shows this first, while
    `with_history` mines and replays. Raises `LayerlensError` as `analyze` does."""
    say = progress or (lambda _msg: None)
    df = load(options.dockerfile, build_args=options.build_args, platform=options.platform)
    ctx_dir = options.context_dir
    if not ctx_dir.exists():
        raise LayerlensError("build context does not exist", path=str(ctx_dir))
    if not ctx_dir.is_dir():
        raise LayerlensError("build context is not a directory", path=str(ctx_dir))
    ignore_text, ignore_path = read_ignore_file(ctx_dir, options.dockerfile)
    matcher = _matcher(ignore_text, ignore_path)
    say(f"reading build context {ctx_dir}")
    ctx = scan_context(ctx_dir, matcher, progress=lambda n: say(f"context: {n} files"))
    inputs = resolve_all(df.instructions, ctx)
    notices = []
    if options.build_source:
        notices.append(options.build_source)
    notices += _missing_source_notices(df, inputs, ctx_dir, options)
    image = None
    sources: tuple[LayerSource, ...] = ()
    if options.image:
        from layerlens.image.lines import map_layers_checked
        from layerlens.image.reader import read_image

        image = read_image(options.image, platform=options.image_platform,
                           keep_files=options.keep_image_files, progress=say)
        mapped, note = map_layers_checked(image, df)
        sources = tuple(mapped)
        notices.extend(f"{options.image}: {w}" for w in image.warnings)
        if note:
            notices.append(f"{options.image}: {note}")
    return Analysis(options, df, ctx, MappingProxyType(inputs), None, image, sources,
                    tuple(notices), ignore_text, matcher)


def with_history(a: Analysis, progress: Progress | None = None) -> Analysis:
    """`a` (from `analyze_static`) with its git history mined and replayed, the image's
    measured step costs and the build log's seconds applied; notices appended. Raises
    `LayerlensError` for a bad build log and when git fails."""
    say = progress or (lambda _msg: None)
    options, df = a.options, a.dockerfile
    hist_opts = options.history
    notices = list(a.notices)
    if a.image is not None:
        from layerlens.image.costs import image_op_costs

        known = image_op_costs(a.image, df, a.layer_sources, a.context_file, a.inputs)
        hist_opts = replace(hist_opts, op_costs={**known, **hist_opts.op_costs})
    log_seconds = None
    if hist_opts.enabled and hist_opts.build_log is not None:
        log_seconds, note = _log_seconds(df, hist_opts, options.target)
        notices.append(note)
    measured: dict[str, tuple[float, str]] = {}
    if hist_opts.enabled:
        measured, note = _measured_seconds(df, options, a.context)
        if note:
            notices.append(note)
    hist, hist_notices = analyze_history(
        df, options.dockerfile, options.context_dir, a.inputs, a.matcher, hist_opts,
        build_args=options.build_args, target=options.target, log_seconds=log_seconds,
        measured=measured, progress=say, scanned=a.context, read=a.context_file)
    notices.extend(hist_notices)
    if hist is not None:
        notices.extend(hist.notices)
        if hist.as_built is not None:
            notices.extend(f"as built: {n}" for n in hist.as_built.notices)
    return replace(a, history=hist, notices=tuple(notices))


def _log_seconds(df: Dockerfile, hist_opts: HistoryOptions,
                 target: str | None) -> tuple[dict[str, float], str]:
    from layerlens.cache.buildlog import match_steps, read_build_log
    from layerlens.cache.ops import build_plan
    from layerlens.cache.timeline import _target_index

    assert hist_opts.build_log is not None
    plan = build_plan(df, target=_target_index(df, target))
    steps = read_build_log(hist_opts.build_log)
    seconds = match_steps(steps, plan)
    timed = sum(1 for sp in plan.stages for _ in sp.ops)
    return seconds, (f"build log {hist_opts.build_log}: timed {len(seconds)} of {timed} steps "
                     "(cached or unmatched steps keep estimates)")


def _measured_seconds(df: Dockerfile, options: AnalyzeOptions, ctx: Context
                      ) -> tuple[dict[str, tuple[float, str]], str | None]:
    """Step seconds `layerlens measure` recorded that still hold for today's instructions
    and inputs (cache/measured.py), by operation identity, with a notice saying how many."""
    from layerlens.cache.measured import lookup, store_path
    from layerlens.cache.ops import build_plan, detect_volatile
    from layerlens.dockerfile.model import find_stage

    if not store_path(options.dockerfile).is_file():
        return {}, None
    target = None if options.target is None else find_stage(df.stages, options.target)
    plan = build_plan(df, volatile_args=detect_volatile(df), target=target)
    got = lookup(options.dockerfile, plan, ctx)
    steps = sum(1 for sp in plan.stages for _ in sp.ops)
    if not got:
        return {}, ("`layerlens measure` timed this Dockerfile before, but no step is unchanged "
                    "since (its text or its inputs changed): seconds are estimates; run it "
                    "again to measure")
    when = max(m.measured_at for m in got.values())
    return ({ident: (m.seconds, m.basis) for ident, m in got.items()},
            f"{len(got)} of {steps} steps timed by `layerlens measure` (last {when}); "
            "the others keep estimates")


def _missing_source_notices(df: Dockerfile, inputs: Mapping[int, CopyInputs], ctx_dir: Path,
                            options: AnalyzeOptions) -> list[str]:
    """A notice per COPY/ADD source missing from the context and, when every missing source
    exists under one directory above the context, one notice naming that `--context`."""
    out = []
    missing: list[str] = []
    for ins_index, inp in sorted(inputs.items()):
        ins = df.instructions[ins_index]
        for src in inp.sources:
            if src.missing and src.wildcard:
                missing.append(src.text)
                base = glob_base(go_clean("/" + src.text)[1:])
                out.append(f"{df.path}:{ins.start_line}: {ins.upper} source {quoted(src.text)} "
                           f"matches no file, and its directory {quoted(base)} is not in the "
                           "build context (the build would fail: BuildKit walks that "
                           "directory to match the wildcard)")
            elif src.missing:
                missing.append(src.text)
                out.append(f"{df.path}:{ins.start_line}: {ins.upper} source {quoted(src.text)} "
                           "matches no file in the build context (the build would fail)")
            elif src.wildcard and src.kind == "context" and not src.matched:
                out.append(f"{df.path}:{ins.start_line}: {ins.upper} source {quoted(src.text)} "
                           "matches no file in the build context: BuildKit copies nothing "
                           "for it")
    if missing and options.context is None:
        above = _context_above(ctx_dir, missing)
        if above is not None:
            out.append(f"{len(missing)} missing COPY/ADD source"
                       f"{'s all exist' if len(missing) != 1 else ' exists'} under {above}: "
                       f"the build context is probably that directory; pass --context {above}")
    return out


def _context_above(ctx_dir: Path, sources: list[str]) -> Path | None:
    """The nearest directory above `ctx_dir` (up to the repository root) under which every
    source path (Go-style globs allowed) matches something."""
    here = ctx_dir.resolve()
    for parent in here.parents:
        if all(_exists_under(parent, s) for s in sources):
            return parent
        if (parent / ".git").exists():
            break
    return None


def _exists_under(root: Path, src: str) -> bool:
    rel = src.lstrip("/")
    while rel.startswith("./"):
        rel = rel[2:]
    if not rel or rel == ".":
        return True
    if any(ch in rel for ch in "*?["):
        return next(iter(root.glob(rel)), None) is not None
    return (root / rel).exists()
