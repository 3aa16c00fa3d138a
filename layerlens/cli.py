"""Command line. Heavy modules are imported inside each command so `--help` stays instant."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_ERROR, f"layerlens: error: {message}\n")


class Progress:
    """One rewritten status line on a terminal; silent when stderr is not a terminal."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._width = 0
        self._room: int | None = None

    def __call__(self, message: str) -> None:
        if not self.enabled:
            return
        if self._room is None:
            from layerlens.textfit import width

            self._room = width(sys.stderr) - 1  # the last column would wrap on some terminals
        text = message if len(message) <= self._room else message[: self._room - 1] + "…"
        sys.stderr.write("\r" + text + " " * max(0, self._width - len(text)))
        sys.stderr.flush()
        self._width = len(text)

    def done(self) -> None:
        if self.enabled and self._width:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()
            self._width = 0


def _size(value: str) -> int:
    from layerlens.image.tarstream import parse_size

    try:
        return parse_size(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {value!r} (e.g. 64G)") from None


def _platform_of(flag: str):
    """An argparse type for FLAG: OS/ARCH[/VARIANT] as `docker build --platform` names one
    platform (layerlens/platforms.py), lower-cased. Light: argparse runs it on the
    default too, at every command."""
    def parse(value: str) -> str:
        from layerlens.platforms import normalize_platform

        try:
            return normalize_platform(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"invalid {flag} {value!r}: want OS/ARCH[/VARIANT], as in linux/amd64 or "
                "linux/arm64/v8") from None
    parse.__name__ = "platform"  # argparse names the type in its own messages
    return parse


_platform = _platform_of("--platform")


def _rule_ids(value: str) -> str:
    """A comma-separated list of known rule IDs (e.g. LL001,LL002), normalized."""
    from layerlens.suggest.rules import BY_ID

    ids = [x.strip().upper() for x in value.split(",") if x.strip()]
    unknown = [x for x in ids if x not in BY_ID]
    if unknown:  # a typo would otherwise select nothing, or ignore nothing, silently
        raise argparse.ArgumentTypeError(
            f"unknown rule ID{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(x) for x in unknown)} (known: {', '.join(sorted(BY_ID))})")
    return ",".join(ids)


def _bool(value: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {value!r}")


def _dockerfile_arg(value: str | None) -> Path:
    p = Path(value or "Dockerfile")
    if p.is_dir():
        p = p / "Dockerfile"
    return p


def _build_args(items: Sequence[str]) -> dict[str, str]:
    from layerlens.errors import LayerlensError

    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not key:
            raise LayerlensError(f"--build-arg {item!r}: expected NAME=VALUE")
        if not eq:
            import os

            if key not in os.environ:
                continue  # like the builder: a bare name passes the variable only if set
            value = os.environ[key]
        out[key] = value
    return out


def _add_build_options(p: argparse.ArgumentParser, platform_help: str) -> None:
    """What names one build, as `docker build` takes it: the Dockerfile, its context, build
    args, platform and target (shared by every command that reads a Dockerfile)."""
    p.add_argument("dockerfile", nargs="?", help="Dockerfile, or a directory holding one "
                   "(default: ./Dockerfile)")
    p.add_argument("--context", "-C", help="build context directory (default: the "
                   "Dockerfile's directory)")
    p.add_argument("--build-arg", action="append", default=[], metavar="NAME=VALUE",
                   help="set a build-time variable, as `docker build --build-arg`")
    p.add_argument("--platform", default="linux/amd64", type=_platform, help=platform_help)
    p.add_argument("--target", metavar="STAGE",
                   help="build this stage, as `docker build --target` (default: the last)")
    p.add_argument("--no-compose", action="store_true",
                   help="do not take context, build args and target from a compose or bake "
                        "file that builds this Dockerfile")


def _add_input_options(p: argparse.ArgumentParser) -> None:
    _add_build_options(p, "target platform for the built-in ARGs (default: linux/amd64)")
    p.add_argument("--image", metavar="REF",
                   help="an image to measure: an archive or OCI layout path, oci:DIR[:REF], "
                        "oci-archive:FILE[:REF], docker-archive:FILE[:REF], docker-daemon:NAME, "
                        "podman:NAME or docker://HOST/REPO:TAG")
    p.add_argument("--image-platform", metavar="OS/ARCH", type=_platform_of("--image-platform"),
                   help="platform to pick from a multi-platform image (default linux/amd64)")
    p.add_argument("--tls-verify", type=_bool, default=None, metavar="BOOL",
                   help="--image from a registry: verify TLS (default true); false also "
                        "allows plain http")
    h = p.add_argument_group("history (git)")
    h.add_argument("--no-history", action="store_true", help="static analysis only")
    h.add_argument("--since", help="only commits after this date (as `git log --since`)")
    h.add_argument("--max-commits", type=int, default=None, metavar="N",
                   help="newest N commits of the window (default: 1000; 0 for all)")
    h.add_argument("--pullers", type=int, default=1, metavar="N",
                   help="machines that pull every new image (pull bytes = push bytes x N)")
    h.add_argument("--base-refresh", metavar="DURATION",
                   help="base image tags move this often (e.g. 30d, 12h): rebuild from FROM then")
    h.add_argument("--build-log", metavar="FILE",
                   help="BuildKit --progress=plain or rawjson output: real seconds per step")
    h.add_argument("--volatile-arg", action="append", default=[], metavar="NAME",
                   help="a build arg that changes on every build (commit SHA, date, version)")
    h.add_argument("--stable-arg", action="append", default=[], metavar="NAME",
                   help="a build arg whose name looks volatile but is not")
    h.add_argument("--no-cache", action="store_true",
                   help="mine the history afresh and keep nothing under "
                        "$XDG_CACHE_HOME/layerlens")
    h.add_argument("--as-built", action="store_true",
                   help="also replay each commit with the Dockerfile it had then (what the "
                        "builds of this history actually cost)")


def parse_duration(text: str) -> int:
    """`30d`, `12h`, `2w`, `90m` or plain seconds, as seconds."""
    from layerlens.errors import LayerlensError

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    t = text.strip().lower()
    try:
        value = float(t[:-1]) * units[t[-1]] if t and t[-1] in units else float(t)
    except ValueError:
        raise LayerlensError(f"--base-refresh {text!r}: expected a duration like 30d") from None
    if value <= 0:
        raise LayerlensError(f"--base-refresh {text!r}: must be positive")
    return int(value)


def _options(ns: argparse.Namespace):
    from layerlens.analysis import AnalyzeOptions
    from layerlens.cache.timeline import HistoryOptions
    from layerlens.errors import LayerlensError

    df = _dockerfile_arg(ns.dockerfile)
    if ns.pullers < 0:
        raise LayerlensError("--pullers must be 0 or more")
    if ns.max_commits is None:
        ns.max_commits = 1000  # the default window: what CI builds, kept cheap
    if ns.max_commits < 0:
        raise LayerlensError("--max-commits must be 0 or more")
    if getattr(ns, "build_log", None) and not Path(ns.build_log).is_file():
        raise LayerlensError("build log not found", path=ns.build_log)
    hist = HistoryOptions(
        enabled=not ns.no_history,
        since=ns.since,
        max_commits=ns.max_commits or None,
        first_parent=True,
        pullers=ns.pullers,
        base_refresh_seconds=parse_duration(ns.base_refresh) if ns.base_refresh else None,
        volatile_args=frozenset(ns.volatile_arg),
        stable_args=frozenset(ns.stable_arg),
        build_log=Path(ns.build_log) if ns.build_log else None,
        as_built=getattr(ns, "as_built", False),
        mining=getattr(ns, "mining", None),
        cache=not getattr(ns, "no_cache", False),
    )
    context = Path(ns.context) if ns.context else None
    build_args = _build_args(ns.build_arg)
    target = getattr(ns, "target", None)
    source = None
    if not getattr(ns, "no_compose", False) and df.is_file():
        from layerlens.buildconfig import find_build_config

        found = find_build_config(df)
        if found is not None:
            # the command line wins over the file, key by key
            used = []
            if context is None and found.context is not None:
                context = found.context
                if found.context.resolve() != df.resolve().parent:
                    used.append(f"context {found.context}")
            if found.args:
                build_args = {**found.args, **build_args}
                used.append("build args")
            if target is None and found.target is not None:
                target = found.target
                used.append(f"target {target}")
            if used:
                source = (f"{found.source} builds this Dockerfile ({found.name}): "
                          f"{', '.join(used)} taken from there (--no-compose to ignore)")
    return AnalyzeOptions(
        dockerfile=df,
        context=context,
        build_args=build_args,
        platform=ns.platform,
        target=target,
        history=hist,
        image=ns.image,
        image_platform=ns.image_platform,
        build_source=source,
    )


def _write_output(text: str, out: str | None, *, utf8: bool = False) -> None:
    """Write a report atomically to OUT or to stdout; UTF8 for JSON (see jsonout.py)."""
    from layerlens.jsonout import write_stdout

    if out:
        from layerlens.fsutil import atomic_write_bytes
        from layerlens.jsonout import encode_text

        if utf8:
            atomic_write_bytes(Path(out), text.encode("utf-8", "backslashreplace"))
        else:  # valid UTF-8 too, escaped as on a terminal
            atomic_write_bytes(Path(out), encode_text(text))
    else:
        write_stdout(text, utf8=utf8)


def _width(ns: argparse.Namespace) -> int:
    """The width text reports are laid out for: COLUMNS, else the terminal's, else 80; a
    report written to a file (--output) is laid out for COLUMNS or 80."""
    from layerlens.textfit import DEFAULT_WIDTH, width

    if getattr(ns, "output", None):
        import os

        env = os.environ.get("COLUMNS", "")
        return width() if env.strip().isdigit() else DEFAULT_WIDTH
    return width()


def _color(ns: argparse.Namespace, stream=None) -> bool:
    """Whether to colour what goes to STREAM (stdout by default): never into a file."""
    from layerlens.textfit import use_color

    if stream is None and getattr(ns, "output", None):
        return False
    return use_color(getattr(ns, "color", None) or _COLOR_MODE, stream)


def _say(text: str, ns: argparse.Namespace | None = None, *, one_line: bool = False) -> None:
    """A message for people on stderr, made safe for a terminal (jsonout.safe_text),
    wrapped to the width with a hanging indent and coloured as `--color` says. ONE_LINE
    (errors): wrapped only on a terminal; in a log or a pipe an error stays the one line
    that names the input, for grep and for CI annotations."""
    from layerlens.jsonout import safe_text

    text = safe_text(text)
    if not one_line or _isatty(sys.stderr):
        from layerlens.textfit import width, wrap

        text = "\n".join(wrap(text, width(sys.stderr), indent="  "))
    if _color(ns, sys.stderr) if ns is not None else _color_default(sys.stderr):
        from layerlens.textfit import colorize

        text = colorize(text)
    print(text, file=sys.stderr)


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _color_default(stream) -> bool:
    from layerlens.textfit import use_color

    return use_color(_COLOR_MODE, stream)


# --color as given on the command line, for messages printed before or without a namespace
_COLOR_MODE = "auto"


def _write_text(ns: argparse.Namespace, text: str) -> None:
    """Write a laid-out text report to --output or stdout, coloured when `_color` says."""
    if _color(ns):
        from layerlens.textfit import colorize

        text = colorize(text)
    _write_output(text, getattr(ns, "output", None))


def cmd_analyze(ns: argparse.Namespace) -> int:
    from layerlens.analysis import analyze

    progress = Progress()
    try:
        result = analyze(_options(ns), progress)
    finally:
        progress.done()
    if ns.format == "json":
        from layerlens.jsonout import dumps
        from layerlens.report import analysis_json

        _write_output(dumps(analysis_json(result)), ns.output, utf8=True)
    else:
        from layerlens.textreport import analysis_text

        _write_text(ns, analysis_text(result, _width(ns)))
    return EXIT_OK


def cmd_image(ns: argparse.Namespace) -> int:
    from layerlens.image.reader import read_image
    from layerlens.image.tarstream import Limits

    progress = Progress()
    try:
        img = read_image(ns.ref, platform=ns.platform, progress=progress,
                         limits=Limits(max_layer_bytes=ns.max_layer_bytes),
                         tls_verify=ns.tls_verify)
        sources = ()
        if ns.dockerfile:
            from dataclasses import replace

            from layerlens.dockerfile import load
            from layerlens.image.lines import map_layers_checked

            mapped, note = map_layers_checked(img, load(_dockerfile_arg(ns.dockerfile)))
            sources = tuple(mapped)
            if note:
                img = replace(img, warnings=(*img.warnings, f"{ns.dockerfile}: {note}"))
    finally:
        progress.done()
    if ns.format == "json":
        from layerlens.jsonout import dumps
        from layerlens.report import image_json

        _write_output(dumps(image_json(img, sources)), ns.output, utf8=True)
    else:
        from layerlens.textreport import image_text

        _write_text(ns, image_text(img, sources, _width(ns)))
    return EXIT_OK


def cmd_suggest(ns: argparse.Namespace) -> int:
    from layerlens.analysis import analyze
    from layerlens.jsonout import dumps
    from layerlens.suggest.engine import suggest
    from layerlens.suggest.output import (
        diff_label,
        report_json,
        report_sarif,
        report_text,
        unified_diff,
        verify_text,
    )

    select = {x.strip().upper() for x in ns.select.split(",")} if ns.select else None
    ignore = {x.strip().upper() for x in ns.ignore.split(",")} if ns.ignore else set()
    progress = Progress()
    try:
        result = analyze(_options(ns), progress)
        progress("measuring suggestions")
        rep = suggest(result, select=select, ignore=ignore, unsafe_fixes=ns.unsafe_fixes)
    finally:
        progress.done()
    df_path = result.options.dockerfile
    diff = ""  # only the text report with --diff shows it
    if ns.diff and ns.format == "text" and rep.rewritten is not None:
        diff += unified_diff(result.dockerfile.source, rep.rewritten, diff_label(df_path))
    if ns.diff and ns.format == "text" and rep.rewritten_ignore is not None:
        from layerlens.suggest.engine import read_ignore_text

        diff += unified_diff(read_ignore_text(result) or "", rep.rewritten_ignore,
                             diff_label(rep.ignore_path))
    verification = None
    if ns.verify and (rep.rewritten is not None or rep.rewritten_ignore is not None):
        from layerlens.suggest.engine import verify_report

        progress2 = Progress()
        try:
            progress2("verifying: building the original and the rewrite")
            verification = verify_report(result, rep)
        finally:
            progress2.done()
    if ns.format == "json":
        doc = report_json(rep)
        if ns.verify:
            doc["verify"] = verification.as_json() if verification is not None else None
        _write_output(dumps(doc), ns.output, utf8=True)
    elif ns.format == "sarif":
        first = next((i.start_line for i in result.dockerfile.instructions), 1)
        _write_output(dumps(report_sarif(rep, str(df_path), result.dockerfile.source, first)),
                      ns.output, utf8=True)
    else:
        _write_text(ns, report_text(rep, str(df_path), diff if ns.diff else None, _width(ns)))
    if verification is not None:
        _say(verify_text(verification), ns)
    if ns.write and verification is not None and not verification.identical:
        _say("nothing written: the rewrite is not proven to build the same image", ns)
    elif ns.write:
        from layerlens.fsutil import write_sources

        files = [(Path(df_path), rep.rewritten)] if rep.rewritten is not None else []
        if rep.rewritten_ignore is not None:
            files.append((Path(rep.ignore_path), rep.rewritten_ignore))
        write_sources(files)
        for path, _text in files:
            _say(f"wrote {path}", ns)
        if not files:
            _say("nothing to write", ns)
    if ns.exit_zero or not rep.suggestions:
        return EXIT_OK
    return EXIT_FINDINGS


def _suggestion_keys(result, rep) -> list[tuple[str, str, int | None, str]]:
    from layerlens.gate.baseline import layer_key

    df = result.dockerfile
    out = []
    for s in rep.suggestions:
        key = "(file)"
        line = s.lines[0] if s.lines else None
        if line is not None:
            ins = next((i for i in df.instructions if i.start_line == line), None)
            if ins is not None and ins.stage >= 0:
                key = layer_key(df.stages[ins.stage].label, ins.original)
        out.append((s.rule, key, line, s.message))
    return out


def _gate_inputs(ns: argparse.Namespace, tolerate_git: bool = False):
    """(analysis, suggestion keys, git error). With `tolerate_git`, a repository git refuses
    or fails on is analyzed without history, and git's one line comes back as the reason the
    history budgets go unmeasured (the gate fails on it; other commands exit 2)."""
    from dataclasses import replace

    from layerlens.analysis import analyze
    from layerlens.history.mine import GitError
    from layerlens.suggest.engine import suggest

    progress = Progress()
    git_error = None
    options = _options(ns)
    no_history = replace(options, history=replace(options.history, enabled=False))
    if tolerate_git and options.history.enabled and options.context_dir.is_dir():
        from layerlens.history.mine import find_repo

        try:  # a refusal is known before the (maybe costly) image and context are read
            find_repo(options.context_dir)
        except GitError as exc:
            git_error = str(exc)
            options = no_history
    try:
        try:
            result = analyze(options, progress)
        except GitError as exc:
            if not tolerate_git:
                raise
            git_error = str(exc)
            result = analyze(no_history, progress)
        progress("checking suggestions")
        rep = suggest(result, headline=False)  # the gate needs the findings, not the headline
    finally:
        progress.done()
    return result, _suggestion_keys(result, rep), git_error


def cmd_baseline(ns: argparse.Namespace) -> int:
    from layerlens.gate.baseline import (
        build_baseline,
        default_path,
        skip_paths,
        write_baseline,
    )

    result, sugs, _ = _gate_inputs(ns)
    path = Path(ns.output) if ns.output else default_path(result.options.dockerfile)
    write_baseline(path, build_baseline(result, [(r, k) for r, k, _, _ in sugs],
                                        skip_paths(result, path)))
    _say(f"wrote {path}", ns)
    for note in _build_failures(result):
        _say(f"note: {note}", ns)
    if result.history is not None and result.history.history.shallow:
        _say("note: shallow clone: rebuild and push rates are not recorded (fetch the whole "
             "history, then run `layerlens baseline` again)", ns)
    return EXIT_OK


def _baseline_path(df: Path, cfg, explicit: str | None) -> Path:
    from layerlens.gate.baseline import default_path

    if explicit:
        return Path(explicit)
    if cfg.baseline:
        return (Path(cfg.source).parent if cfg.source else df.parent) / cfg.baseline
    return default_path(df)


def _check_one(ns: argparse.Namespace):
    """(exit code, CheckResult, the Dockerfile as shown)."""
    import os

    from layerlens.gate.baseline import read_baseline, skip_paths
    from layerlens.gate.check import run_check
    from layerlens.gate.config import apply_overrides, load_config

    df = _dockerfile_arg(ns.dockerfile)
    cfg = load_config(df.parent, Path(ns.config) if ns.config else None)
    cfg = apply_overrides(cfg, ns.budget, ns.fail_on)
    bpath = _baseline_path(df, cfg, ns.baseline)
    baseline = read_baseline(bpath)
    taken = _inputs_from_baseline(ns, df, baseline)
    result, sugs, git_error = _gate_inputs(ns, tolerate_git=True)
    res = run_check(result, baseline, cfg, sugs, skip_paths(result, bpath), git_error=git_error,
                    allow_unmeasured=ns.allow_unmeasured)
    from dataclasses import replace

    front = [f"as the baseline was made: {', '.join(taken)} (give them on the command line "
             "to override)"] if taken else []
    front += _build_failures(result)
    if front:
        res = replace(res, notices=(*front, *res.notices))
    shown = os.path.relpath(df) if not df.is_absolute() else str(df)
    return (EXIT_OK if res.ok else EXIT_FINDINGS), res, shown


def _build_failures(result) -> list[str]:
    """The analysis's notices that say the build as given cannot succeed (missing COPY
    sources, a context that is probably wrong): a gate that passes must not hide them."""
    return [n for n in result.notices
            if "the build would fail" in n or "pass --context" in n
            or "the build fails there" in n or "fails at every commit" in n]


def _inputs_from_baseline(ns: argparse.Namespace, df: Path, baseline: dict) -> list[str]:
    """Fill the inputs the command line leaves unset from the ones the baseline recorded
    (context, target, platform, window), so that `check` measures what `baseline` did.
    Returns the options taken, as flags."""
    rec = baseline.get("inputs")
    if not isinstance(rec, dict):
        return []
    taken = []
    ctx = rec.get("context")
    if ns.context is None and isinstance(ctx, str) and ctx != ".":
        ns.context = str(df.parent / ctx)
        taken.append(f"--context {ns.context}")
    for flag, attr, default in (("--target", "target", None), ("--since", "since", None),
                                ("--max-commits", "max_commits", None),
                                ("--platform", "platform", "linux/amd64")):
        value = rec.get(attr)
        if value is not None and getattr(ns, attr, default) == default and value != default:
            setattr(ns, attr, value)
            taken.append(f"{flag} {value}")
    return taken


def _write_summary(ns: argparse.Namespace, markdown: str) -> None:
    """Append the Markdown summary (`--summary`, or $GITHUB_STEP_SUMMARY with --format
    github). A summary that cannot be written is a warning: it must not turn the gate's
    verdict into a crash, nor hide the annotations."""
    import os

    from layerlens.jsonout import safe_text

    summary = ns.summary or (os.environ.get("GITHUB_STEP_SUMMARY") if ns.format == "github"
                             else None)
    if summary:
        try:
            with open(summary, "a", encoding="utf-8", errors="backslashreplace") as fh:
                fh.write(safe_text(markdown))
        except OSError as exc:
            _say(f"layerlens: warning: cannot write the summary {summary}: "
                 f"{exc.strerror or exc}", ns)


def _gate_output(fmt: str, text: str, out: str | None, color: bool = False) -> None:
    """Write a gate report: JSON and SARIF re-encoded so that undecodable bytes of file
    names are `\\xNN` escapes (never lone surrogates), the line formats made safe for
    terminals and logs (see jsonout.safe_text)."""
    if fmt in ("json", "sarif"):
        import json

        from layerlens.jsonout import dumps

        _write_output(dumps(json.loads(text)), out, utf8=True)
    else:
        from layerlens.jsonout import safe_text

        text = safe_text(text)
        if color and fmt == "text":  # after safe_text, which would escape the colours
            from layerlens.textfit import colorize

            text = colorize(text)
        _write_output(text, out, utf8=fmt in ("junit", "markdown"))


def cmd_check(ns: argparse.Namespace) -> int:
    from layerlens.gate.output import FORMATS, as_markdown, as_text

    code, res, shown = _check_one(ns)
    text = as_text(res, shown, _width(ns)) if ns.format == "text" else \
        FORMATS[ns.format](res, shown)
    _gate_output(ns.format, text, ns.output, _color(ns))
    _write_summary(ns, as_markdown(res, shown))
    return code


def cmd_scan(ns: argparse.Namespace) -> int:
    from layerlens.errors import LayerlensError
    from layerlens.gate.config import load_config
    from layerlens.gate.output import as_markdown, combine
    from layerlens.gate.scan import SKIP, find_dockerfiles

    root = Path(ns.root or ".")
    if not root.is_dir():
        raise LayerlensError("not a directory", path=str(root))
    cfg = load_config(root, Path(ns.config) if ns.config else None)
    if ns.skip_dirs is not None:
        skip = frozenset(x.strip() for x in ns.skip_dirs.split(",") if x.strip())
    else:
        skip = cfg.skip_dirs if cfg.skip_dirs is not None else SKIP

    def has_baseline(df: Path) -> bool:
        try:
            return _baseline_path(df, load_config(df.parent, Path(ns.config) if ns.config
                                                  else None), None).is_file()
        except LayerlensError:
            return True  # a broken configuration is reported when the file is checked

    found = find_dockerfiles(root, skip, has_baseline)
    if not found.dockerfiles:
        raise LayerlensError("no Dockerfiles found" + (
            f" ({len(found.skipped)} skipped: under {', '.join(sorted(skip))} without a "
            "baseline)" if found.skipped else ""), path=str(root))
    from layerlens.history.mine import MiningCache
    from layerlens.history.store import HistoryStore

    worst = EXIT_OK
    results = []
    summary = []
    # one git log pass for every Dockerfile of the tree
    mining = MiningCache(None if ns.no_cache else HistoryStore())
    for df in found.dockerfiles:
        args = argparse.Namespace(**{**vars(ns), "dockerfile": str(df), "context": None,
                                     "baseline": None, "mining": mining})
        try:
            code, res, shown = _check_one(args)
            results.append((shown, res))
            summary.append(as_markdown(res, shown))
        except LayerlensError as exc:
            code = EXIT_ERROR
            results.append((str(df), str(exc)))
        worst = max(worst, code)
    skipped = [str(p) for p in found.skipped]
    _gate_output(ns.format, combine(ns.format, results, skipped, _width(ns)), ns.output,
                 _color(ns))
    _write_summary(ns, "".join(summary) + ("".join(f"- skipped {p}: no baseline\n"
                                                   for p in skipped)))
    return worst


def cmd_measure(ns: argparse.Namespace) -> int:
    from dataclasses import replace

    from layerlens.analysis import analyze
    from layerlens.cache.timeline import HistoryOptions
    from layerlens.measure import measure
    from layerlens.units import duration

    options = replace(_options(ns), history=HistoryOptions(enabled=False))
    progress = Progress()
    try:
        result = analyze(options, progress)  # the Dockerfile, ignore file and context, once
        got = measure(result, progress=progress)
    finally:
        progress.done()
    if ns.format == "json":
        from layerlens.jsonout import dumps

        doc = {"builder": got.builder, "wall_seconds": round(got.wall_seconds, 3),
               "store": str(got.store), "untimed_steps": got.unmatched,
               "steps": [{"instruction": s.instruction, "line": s.line, "text": s.text,
                          "seconds": round(s.seconds, 3)} for s in got.steps]}
        _write_output(dumps(doc), ns.output, utf8=True)
        return EXIT_OK
    from layerlens.jsonout import escape_text
    from layerlens.textfit import fit_lines, truncate
    from layerlens.units import plural

    cols = _width(ns)
    out = [f"built {escape_text(str(result.options.dockerfile))} with {got.builder} (no cache) "
           f"in {duration(got.wall_seconds)}; step seconds:"]
    for s in got.steps:
        out.append(f"  L{s.line:<5} {duration(s.seconds):>8}  "
                   f"{truncate(escape_text(s.text), max(8, cols - 18))}")
    if got.unmatched:
        out.append(f"{plural(got.unmatched, 'layer step')} not timed (not printed by the "
                   "builder); they keep estimates")
    out.append(f"recorded in {escape_text(str(got.store))}: analyze, suggest, check and the "
               "TUI use these times while the instructions and their inputs are unchanged")
    _write_text(ns, "\n".join(fit_lines(out, cols)) + "\n")
    return EXIT_OK


def cmd_tui(ns: argparse.Namespace) -> int:
    from layerlens.errors import LayerlensError

    options = _options(ns)
    if not options.dockerfile.is_file():
        raise LayerlensError("no such file", path=str(options.dockerfile))
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # textual would write its escape codes into a pipe or file and wait for keys that
        # never come
        raise LayerlensError("layerlens tui needs a terminal (standard input and output are "
                             "not one here): use `layerlens analyze` or `layerlens suggest` "
                             "for text or --format json")
    from layerlens.tui.app import run_tui

    run_tui(options)
    return EXIT_OK


def cmd_demo(ns: argparse.Namespace) -> int:
    from layerlens.samples import SAMPLES, unpack

    if ns.list:
        from layerlens.textfit import wrap

        w = max(len(n) for n in SAMPLES) + 2
        _write_text(ns, "".join(x + "\n" for name, desc in SAMPLES.items()
                                for x in wrap(desc, _width(ns), first=f"{name:{w}}",
                                              indent=" " * w)))
        return EXIT_OK
    repo = unpack(ns.name, Path(ns.dir) if ns.dir else None)
    _say(f"sample {ns.name!r} unpacked to {repo}", ns)
    args = ["analyze", str(repo / "Dockerfile"), "--format", ns.format, "--color",
            getattr(ns, "color", None) or _COLOR_MODE]
    code = cmd_analyze(build_parser().parse_args(args))
    if ns.format == "text":
        _say(f"next: layerlens suggest {repo} --diff   (or: layerlens tui {repo})", ns)
    return code


def _add_color_option(p: argparse.ArgumentParser, default: str | None = None) -> None:
    """`--color=auto|always|never`, on the main parser (default auto) and on every
    subcommand (where it overrides the main one only when given)."""
    p.add_argument("--color", choices=("auto", "always", "never"),
                   default=default if default is not None else argparse.SUPPRESS,
                   help="colour text output: auto (default) only on a terminal and "
                        "without NO_COLOR; always; never")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="layerlens",
        description="Measure and fix Dockerfile layer order, cache churn and image bloat.",
    )
    from layerlens import __version__

    parser.add_argument("--version", action="version", version=f"layerlens {__version__}")
    _add_color_option(parser, default="auto")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("analyze", help="read a Dockerfile and its build context")
    _add_input_options(p)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--output", "-o", help="write the report to this file (atomically)")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("suggest", help="ranked rewrite hints with measured savings")
    _add_input_options(p)
    p.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    p.add_argument("--output", "-o", help="write the report to this file (atomically)")
    p.add_argument("--diff", action="store_true", help="show the rewrite as a unified diff")
    p.add_argument("--write", action="store_true",
                   help="apply the safe fixes to the Dockerfile and .dockerignore")
    p.add_argument("--unsafe-fixes", action="store_true",
                   help="with --write (or --diff), apply the unsafe fixes too: they may change "
                   "the image, and each says why")
    p.add_argument("--verify", action="store_true",
                   help="build the original and the rewrite (buildah, podman or docker buildx) "
                   "and write only when the final images are identical")
    p.add_argument("--select", metavar="IDS", type=_rule_ids,
                   help="only these rules, e.g. LL001,LL002")
    p.add_argument("--ignore", metavar="IDS", type=_rule_ids, help="skip these rules")
    p.add_argument("--exit-zero", action="store_true",
                   help="exit 0 even when there are suggestions")
    p.set_defaults(func=cmd_suggest)

    p = sub.add_parser("measure", help="build once (buildah, podman or docker buildx) and "
                       "record real step seconds for later runs")
    _add_build_options(p, "platform to build for (default: linux/amd64)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--output", "-o", help="write the report to this file (atomically)")
    p.set_defaults(func=cmd_measure, no_history=True, pullers=1, max_commits=None,
                   image=None, image_platform=None, since=None, base_refresh=None,
                   volatile_arg=[], stable_arg=[], build_log=None)

    p = sub.add_parser("tui", help="explore layers, costs, history and fixes interactively")
    _add_input_options(p)
    p.set_defaults(func=cmd_tui)

    p = sub.add_parser("baseline", help="record sizes and costs for `layerlens check`")
    _add_input_options(p)
    p.add_argument("--output", "-o", help="baseline file (default: .layerlens-baseline.json "
                   "beside the Dockerfile, .layerlens-baseline.NAME.json for Dockerfile.NAME)")
    p.set_defaults(func=cmd_baseline)

    def gate_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", help="a .layerlens.toml or pyproject.toml to read budgets "
                       "from (default: the nearest one)")
        p.add_argument("--budget", action="append", default=[], metavar="METRIC.LIMIT=VALUE",
                       help="override a budget, e.g. total_size.max_growth=10MiB")
        p.add_argument("--fail-on", metavar="IDS", type=_rule_ids,
                       help="fail on newly introduced suggestions of these rules")
        p.add_argument("--format", choices=("text", "json", "sarif", "github", "junit",
                                            "markdown"), default="text")
        p.add_argument("--summary", metavar="FILE",
                       help="append a Markdown summary (default with --format github: "
                            "$GITHUB_STEP_SUMMARY)")
        p.add_argument("--output", "-o", help="write the report to this file (atomically)")
        p.add_argument("--allow-unmeasured", action="store_true",
                       help="pass even when a budget cannot be evaluated (no image, no or "
                            "shallow history, git refused); it is still listed")

    p = sub.add_parser("check", help="fail when size or rebuild cost grows past budget")
    _add_input_options(p)
    p.add_argument("--baseline", help="baseline file (default: beside the Dockerfile)")
    gate_options(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("scan", help="check every Dockerfile under a directory (monorepos)")
    p.add_argument("root", nargs="?", help="directory to search (default: .)")
    p.add_argument("--build-arg", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--platform", default="linux/amd64", type=_platform)
    p.add_argument("--image", help=argparse.SUPPRESS)
    p.add_argument("--image-platform", type=_platform_of("--image-platform"),
                   help=argparse.SUPPRESS)
    for flag, kw in (("--no-history", {"action": "store_true"}), ("--since", {}),
                     ("--max-commits", {"type": int, "default": None}),
                     ("--pullers", {"type": int, "default": 1}), ("--base-refresh", {}),
                     ("--build-log", {}),
                     ("--no-cache", {"action": "store_true"}),
                     ("--volatile-arg", {"action": "append", "default": []}),
                     ("--stable-arg", {"action": "append", "default": []})):
        p.add_argument(flag, **kw)
    gate_options(p)
    p.add_argument("--skip-dirs", metavar="NAMES",
                   help="comma-separated directory names whose Dockerfiles are checked only "
                        "when they have a baseline (default: build, dist, target, vendor, "
                        "node_modules, venv, .venv, .tox, __pycache__; '' for none)")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("image", help="measure an image: layer sizes, shadowed bytes, secrets")
    p.add_argument("ref", help="an archive or OCI layout path, oci:DIR[:REF], "
                   "oci-archive:FILE[:REF], docker-archive:FILE[:REF], docker-daemon:NAME, "
                   "podman:NAME or docker://HOST/REPO:TAG (containers-transports(5))")
    p.add_argument("--platform", type=_platform,
                   help="platform to pick from a multi-platform image")
    p.add_argument("--max-layer-bytes", type=_size, default=64 << 30, metavar="SIZE",
                   help="refuse a layer that inflates past this (default 64G; e.g. 200G)")
    p.add_argument("--tls-verify", type=_bool, default=None, metavar="BOOL",
                   help="registries: verify TLS (default true); false also allows plain http")
    p.add_argument("--dockerfile", "-f", help="map layers to the lines of this Dockerfile")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--output", "-o", help="write the report to this file (atomically)")
    p.set_defaults(func=cmd_image)

    p = sub.add_parser("demo", help="unpack a bundled sample project and analyze it")
    p.add_argument("name", nargs="?", default="pyweb", help="sample name (see --list)")
    p.add_argument("--dir", help="where to unpack (default: a directory under the cache)")
    p.add_argument("--list", action="store_true", help="list the samples")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_demo)
    for name, p in sub.choices.items():
        if name != "tui":
            _add_color_option(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = list(sys.argv[1:] if argv is None else argv)
    if not args and Path("Dockerfile").is_file() and sys.stdin.isatty() and sys.stdout.isatty():
        args = ["tui"]  # `layerlens` alone, beside a Dockerfile, opens it
    ns = parser.parse_args(args)
    if not getattr(ns, "func", None):
        parser.print_help()
        return EXIT_ERROR
    from layerlens.errors import LayerlensError

    global _COLOR_MODE
    _COLOR_MODE = getattr(ns, "color", "auto")
    if getattr(ns, "tls_verify", None) is not None:
        from layerlens.image import registry

        registry.DEFAULT_TLS_VERIFY = ns.tls_verify  # --image reaches read_image via analyze
    if argv is None and ns.func is not cmd_tui:
        # run as the program (not called with arguments, as tests and scripts do): the
        # process ends after this command, see layerlens/gcpause.py
        from layerlens.gcpause import one_shot

        one_shot()
    try:
        return ns.func(ns)
    except LayerlensError as exc:
        _say(f"layerlens: error: {exc}", ns, one_line=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("layerlens: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
