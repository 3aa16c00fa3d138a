"""`.dockerignore` patterns with the builder's semantics (moby/patternmatcher), not gitignore's.

Patterns are cleaned like Go's filepath.Clean and anchored at the context root; `*` and `?`
never cross `/`; `**` crosses any number of directories; the last pattern that matches wins;
`!` re-includes, even below an excluded directory; a pattern also matches everything below a
directory it matches. Malformed patterns are errors, as they are for the builder.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from layerlens.errors import IgnoreFileError
from layerlens.fsutil import special_kind

_EXACT, _PREFIX, _SUFFIX, _REGEX = range(4)
_ESCAPE_CHARS = frozenset(".+()|{}$")


def go_clean(path: str) -> str:
    """Go's path.Clean: the shortest equivalent slash path, '.' for empty."""
    if not path:
        return "."
    rooted = path.startswith("/")
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(part)
    cleaned = "/".join(out)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def validate_glob(pattern: str) -> None:
    """Raise ValueError where Go's filepath.Match would report ErrBadPattern."""
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n:
                raise ValueError("syntax error in pattern")
            i += 2
            continue
        if ch != "[":
            i += 1
            continue
        i += 1
        if i < n and pattern[i] == "^":
            i += 1
        nrange = 0
        while True:
            if i < n and pattern[i] == "]" and nrange > 0:
                i += 1
                break
            i = _get_esc(pattern, i)
            if i < n and pattern[i] == "-":
                i = _get_esc(pattern, i + 1)
            nrange += 1


def _get_esc(pattern: str, i: int) -> int:
    n = len(pattern)
    if i >= n or pattern[i] in "-]":
        raise ValueError("syntax error in pattern")
    if pattern[i] == "\\":
        i += 1
        if i >= n:
            raise ValueError("syntax error in pattern")
    i += 1
    if i >= n:
        raise ValueError("syntax error in pattern")
    return i


@dataclass(frozen=True, slots=True)
class Pattern:
    text: str  # cleaned, without the leading '!'
    exclusion: bool
    kind: int
    regex: re.Pattern[str] | None
    line: int

    def match(self, path: str) -> bool:
        if self.kind == _EXACT:
            return path == self.text
        if self.kind == _PREFIX:
            return path.startswith(self.text[:-2])
        if self.kind == _SUFFIX:
            suffix = self.text[2:]
            if path.endswith(suffix):
                return True
            return suffix.startswith("/") and path == suffix[1:]
        assert self.regex is not None
        return self.regex.match(path) is not None


def _compile(text: str) -> tuple[int, re.Pattern[str] | None]:
    out = ["^"]
    kind = _EXACT
    i, n = 0, len(text)
    step = 0
    while i < n:
        ch = text[i]
        i += 1
        if ch == "*":
            if i < n and text[i] == "*":
                i += 1
                if i < n and text[i] == "/":
                    i += 1
                if i >= n:
                    if kind == _EXACT:
                        kind = _PREFIX
                    else:
                        out.append(".*")
                        kind = _REGEX
                else:
                    out.append("(.*/)?")
                    kind = _REGEX
                if step == 0:
                    kind = _SUFFIX
            else:
                out.append("[^/]*")
                kind = _REGEX
        elif ch == "?":
            out.append("[^/]")
            kind = _REGEX
        elif ch in _ESCAPE_CHARS:
            out.append("\\" + ch)
        elif ch == "\\":
            if i < n:
                out.append("\\" + text[i])
                i += 1
                kind = _REGEX
            else:
                out.append("\\\\")
        elif ch in "[]":
            out.append(ch)
            kind = _REGEX
        else:
            out.append(ch)  # raw, as the builder does: a '^' here can never match
        step += 1
    if kind != _REGEX:
        return kind, None
    out.append(r"\Z")
    try:
        with warnings.catch_warnings():
            # "possible nested set" warns about syntax the builder's Go regexp reads plainly
            warnings.simplefilter("ignore", FutureWarning)
            return kind, re.compile("".join(out))
    except re.error as exc:
        raise ValueError(f"syntax error in pattern: {exc}") from None


def _tester(p: Pattern) -> Callable[[str], object]:
    """A callable whose truth is `p.match(path)`: C methods where the kind allows."""
    if p.kind == _EXACT:
        return p.text.__eq__
    if p.kind == _REGEX and p.regex is not None:
        return p.regex.match
    return p.match


def compile_pattern(raw: str, line: int = 0) -> Pattern | None:
    """One pattern line (already read from the file). None for blank lines."""
    p = raw.strip()
    if not p:
        return None
    p = go_clean(p)
    exclusion = False
    if p[0] == "!":
        if len(p) == 1:
            raise ValueError('illegal exclusion pattern: "!"')
        exclusion = True
        p = p[1:]
    validate_glob(p)
    kind, regex = _compile(p)
    return Pattern(p, exclusion, kind, regex, line)


class Matcher:
    """An ordered set of patterns; `match_with_parent` is the walker's incremental test."""

    __slots__ = ("_dirs", "_tests", "exclusions", "patterns", "source")

    def __init__(self, patterns: Sequence[Pattern], source: str = ".dockerignore") -> None:
        self.patterns = tuple(patterns)
        self.exclusions = any(p.exclusion for p in patterns)
        self.source = source
        # per pattern: (exclusion, a callable giving Pattern.match's answer), bound once so
        # the walk over every context file calls C directly (str.__eq__, re match)
        self._tests = tuple((p.exclusion, _tester(p)) for p in self.patterns)
        # directory -> its match_with_parent answer; files of one directory share the walk
        self._dirs: dict[str, tuple[bool, tuple[bool, ...]]] = {}

    @classmethod
    def from_lines(cls, lines: Iterable[str], source: str = ".dockerignore") -> Matcher:
        pats: list[Pattern] = []
        for lineno, raw in enumerate(lines, 1):
            try:
                pat = compile_pattern(raw, lineno)
            except ValueError as exc:
                raise IgnoreFileError(
                    f"invalid pattern {raw.strip()!r}: {exc}", path=source, line=lineno
                ) from None
            if pat is not None:
                pats.append(pat)
        return cls(pats, source)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    @property
    def literal(self) -> str | None:
        """The path this matcher excludes, with everything below it, when it holds a single
        literal pattern (no wildcard, no `!`), else None: then `excludes(p)` is
        `p == literal or p.startswith(literal + "/")`, the pattern matching the path or one
        of its parent directories."""
        if len(self.patterns) != 1:
            return None
        pat = self.patterns[0]
        return pat.text if pat.kind == _EXACT and not pat.exclusion else None

    def match_with_parent(
        self, path: str, parent: tuple[bool, ...] | None
    ) -> tuple[bool, tuple[bool, ...]]:
        """Is `path` excluded, given the per-pattern results of its parent directory?"""
        matched = False
        info: list[bool] = []
        for i, (exclusion, test) in enumerate(self._tests):
            hit = bool(parent) and parent[i]  # type: ignore[index]
            if not hit:
                if exclusion != matched:
                    info.append(False)
                    continue
                hit = bool(test(path))
                if not hit and not parent:
                    head = path.rsplit("/", 1)[0] if "/" in path else "."
                    if head != ".":
                        dirs = head.split("/")
                        for j in range(len(dirs)):
                            if test("/".join(dirs[: j + 1])):
                                hit = True
                                break
            info.append(hit)
            if hit:
                matched = not exclusion
        return matched, tuple(info)

    def excludes(self, path: str) -> bool:
        """Standalone test of one slash path (parents checked as the walker would)."""
        head, sep, _name = path.rpartition("/")
        info = self._dir_info(head)[1] if sep else None
        return self.match_with_parent(path, info)[0]

    def _dir_info(self, directory: str) -> tuple[bool, tuple[bool, ...]]:
        got = self._dirs.get(directory)
        if got is not None:
            return got
        # walk up to the deepest directory already known, then down (no recursion: paths
        # may be thousands of segments deep)
        todo = [directory]
        head = directory
        parent: tuple[bool, ...] | None = None
        while True:
            head, sep, _name = head.rpartition("/")
            if not sep:
                break
            known = self._dirs.get(head)
            if known is not None:
                parent = known[1]
                break
            todo.append(head)
        for d in reversed(todo):
            got = self._dirs[d] = self.match_with_parent(d, parent)
            parent = got[1]
        return got


def read_ignore_lines(data: str) -> list[str]:
    """The builder's ignore-file reader: comments, BOM, `!` spacing, leading '/' dropped."""
    out: list[str] = []
    for n, raw in enumerate(data.split("\n")):
        line = raw[1:] if n == 0 and raw.startswith("\ufeff") else raw
        line = line.rstrip("\r")
        if line.startswith("#"):
            out.append("")
            continue
        p = line.strip()
        if not p:
            out.append("")
            continue
        invert = p[0] == "!"
        if invert:
            p = p[1:].strip()
        if p:
            p = go_clean(p)
            if len(p) > 1 and p[0] == "/":
                p = p[1:]
        out.append("!" + p if invert else p)
    return out


def read_ignore_file(context: Path, dockerfile: Path | None) -> tuple[str | None, str]:
    """The ignore file in force, as (text, path), or (None, "") when there is none.

    `<Dockerfile>.dockerignore` beside the Dockerfile wins over `<context>/.dockerignore`
    (BuildKit's dockerui rule). Raises `IgnoreFileError` for a directory, an unreadable file
    or binary data.
    """
    candidates = []
    if dockerfile is not None:
        candidates.append(dockerfile.parent / (dockerfile.name + ".dockerignore"))
    candidates.append(context / ".dockerignore")
    for cand in candidates:
        try:
            kind = special_kind(cand.stat().st_mode)
            if kind is not None:
                # a FIFO would block the read forever, a device could fill memory
                raise IgnoreFileError(f"is a {kind}, not a regular file", path=str(cand))
            data = cand.read_bytes()
        except FileNotFoundError:
            continue
        except IsADirectoryError:
            raise IgnoreFileError("is a directory", path=str(cand)) from None
        except OSError as exc:
            raise IgnoreFileError(f"cannot read: {exc.strerror or exc}", path=str(cand)) from None
        if b"\x00" in data[:8192]:
            raise IgnoreFileError("binary data, not a list of patterns", path=str(cand))
        return data.decode("utf-8", "surrogateescape"), str(cand)
    return None, ""

