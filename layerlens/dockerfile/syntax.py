"""From bytes to instruction nodes: directives, line joining, heredoc bodies, flags, arguments.

This is the first of two passes, and follows BuildKit's parser: the first line of an
instruction loses its leading whitespace, continuation lines keep theirs; comment and
blank lines inside a continuation are skipped; the escape character (`\\` or a backtick
from `# escape=`) continues a line when it is the last non-blank character and is not
itself escaped; a file may end inside a continuation; heredoc bodies of RUN/COPY/ADD
follow the instruction line and are never read as instructions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from layerlens.dockerfile.model import Heredoc
from layerlens.dockerfile.shell import ShellLex
from layerlens.errors import DockerfileError, ExpansionError

MAX_LINE_BYTES = 64 * 1024  # bufio.Scanner's default token limit in the builder
_BOM = "\ufeff"
_DIRECTIVE = re.compile(r"^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*\Z")
_VALID_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_HEREDOC = re.compile(r"^(\d*)<<(-?)([^<]*)\Z")
_TOKEN_WS = re.compile(r"[\t\v\f\r ]+")
_GO_SPACE = " \t\n\v\f\r\x85\xa0"
HEREDOC_KEYWORDS = frozenset({"run", "copy", "add"})


@dataclass(frozen=True, slots=True)
class Node:
    """One instruction as the parser sees it, before any semantic check."""

    keyword: str
    original: str
    flags: tuple[str, ...]
    args: tuple[str, ...]
    exec_form: bool
    start_line: int
    end_line: int
    heredocs: tuple[Heredoc, ...]
    sub: Node | None  # ONBUILD's inner instruction


@dataclass(frozen=True, slots=True)
class ParsedSource:
    nodes: tuple[Node, ...]
    escape: str
    directives: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]


def _lstrip_go(s: str) -> str:
    i = 0
    n = len(s)
    while i < n and (s[i] in _GO_SPACE or (ord(s[i]) > 255 and s[i].isspace())):
        i += 1
    return s[i:]


def _is_comment(line: str) -> bool:
    return _lstrip_go(line).startswith("#")


def split_lines(text: str) -> list[str]:
    """Split after each newline, keeping endings; unlike str.splitlines, only on \\n."""
    parts = text.split("\n")
    out = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


class _Directives:
    def __init__(self) -> None:
        self.escape = "\\"
        self.done = False
        self.seen: dict[str, str] = {}
        self._set_regex()

    def _set_regex(self) -> None:
        e = re.escape(self.escape)
        self.continuation = re.compile(rf"([^{e}]){e}[ \t]*\Z|^{e}[ \t]*\Z")

    def feed(self, line: str) -> None:
        if self.done:
            return
        if not line.startswith("#"):
            self.done = True
            return
        m = _DIRECTIVE.match(_lstrip_go(line[1:]))
        if not m or m.group(1).lower() not in _VALID_DIRECTIVES:
            self.done = True
            return
        key = m.group(1).lower()
        if key in self.seen:
            raise ValueError(f"only one {key} parser directive can be used")
        self.seen[key] = m.group(2)
        if key == "escape":
            value = m.group(2)
            if value not in ("`", "\\"):
                raise ValueError(f"invalid escape token '{value}' does not match ` or \\")
            self.escape = value
            self._set_regex()

    def trim_continuation(self, line: str) -> tuple[str, bool]:
        new, count = self.continuation.subn(r"\1", line, count=1)
        return (new, False) if count else (line, True)


def parse_source(text: str, path: str = "Dockerfile") -> ParsedSource:
    """Read Dockerfile text into nodes. Raises DockerfileError naming path and line."""
    if text.startswith(_BOM):
        text = text[1:]
    lines = split_lines(text)
    d = _Directives()
    nodes: list[Node] = []
    warnings: list[str] = []
    i = 0
    n = len(lines)
    current = 0

    def fail(message: str, line: int) -> DockerfileError:
        return DockerfileError(message, path=path, line=line)

    def check_length(raw: str, lineno: int) -> None:
        if len(raw) > MAX_LINE_BYTES and len(raw.encode("utf-8", "surrogateescape")) > (
            MAX_LINE_BYTES
        ):
            raise fail(
                f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES - 1}", lineno
            )

    while i < n:
        raw = lines[i]
        i += 1
        check_length(raw, current + 1)
        token = _lstrip_go(raw.rstrip("\r\n"))
        try:
            d.feed(token)
        except ValueError as exc:
            raise fail(str(exc), current + 1) from None
        current += 1
        start = current
        body = "" if token.startswith("#") else token
        body, end_of_line = d.trim_continuation(body)
        if end_of_line and not body:
            continue
        parts = [body]
        empty_continuation = False
        while not end_of_line and i < n:
            raw = lines[i]
            i += 1
            check_length(raw, current + 1)
            cont = raw.rstrip("\r\n")
            try:
                d.feed(cont)
            except ValueError as exc:
                raise fail(str(exc), current + 1) from None
            current += 1
            if _is_comment(raw):
                continue
            if not _lstrip_go(cont):
                empty_continuation = True
                continue
            cont, end_of_line = d.trim_continuation(cont)
            parts.append(cont)
        line = "".join(parts)
        if empty_continuation:
            warnings.append(f"line {start}: empty continuation line")
        try:
            node = _node_from_line(line, d.escape, start, current)
        except (ValueError, ExpansionError) as exc:
            raise fail(str(getattr(exc, "message", exc)), start) from None
        target = node.sub if node.keyword == "onbuild" and node.sub else node
        heredocs: list[Heredoc] = []
        if target.keyword in HEREDOC_KEYWORDS and not target.exec_form and "<<" in line:
            try:
                specs = _heredocs_from_line(line)
            except ExpansionError as exc:
                raise fail(exc.message, start) from None
            for name, chomp, expand, fd in specs:
                content: list[str] = []
                terminated = False
                while i < n:
                    raw = lines[i]
                    i += 1
                    current += 1
                    check_length(raw, current)
                    candidate = raw.rstrip("\r\n")
                    if chomp:
                        candidate = candidate.lstrip("\t")
                    if candidate == name:
                        terminated = True
                        break
                    content.append(raw)
                if not terminated:
                    raise fail("unterminated heredoc", start)
                heredocs.append(Heredoc(name, "".join(content), expand, chomp, fd))
        node = Node(
            node.keyword,
            node.original,
            node.flags,
            node.args,
            node.exec_form,
            start,
            current,
            tuple(heredocs),
            node.sub,
        )
        nodes.append(node)
    if not nodes:
        raise fail("file with no instructions", max(current, 1))
    return ParsedSource(tuple(nodes), d.escape, tuple(d.seen.items()), tuple(warnings))


def _node_from_line(line: str, escape: str, start: int, end: int) -> Node:
    cmdline = _TOKEN_WS.split(line.strip(_GO_SPACE), maxsplit=1)
    keyword = cmdline[0].lower()
    rest, flags = ("", [])
    if len(cmdline) == 2:
        rest, flags = extract_flags(cmdline[1], escape)
    rest = rest.strip(_GO_SPACE)
    args, exec_form, sub = _dispatch(keyword, rest, escape, start, end)
    return Node(keyword, line, tuple(flags), tuple(args), exec_form, start, end, (), sub)


def extract_flags(line: str, escape: str = "\\") -> tuple[str, list[str]]:
    """Split leading `--flag[=value]` words off an instruction's arguments.

    ESCAPE is the file's escape character: BuildKit's extractBuilderFlags honours the
    `# escape=` directive since 2025 (moby/buildkit 877d8a771, parser/split_command.go), so
    under `# escape=` + backtick a backslash in a flag value (`source=C:\\x`) is literal.
    """
    words: list[str] = []
    in_spaces, in_word, in_quote = 0, 1, 2
    phase = in_spaces
    word: list[str] = []
    quote = ""
    blank_ok = False
    pos = 0
    n = len(line)
    while pos <= n:
        ch = line[pos] if pos < n else ""
        if phase == in_spaces:
            if pos == n:
                break
            if ch in _GO_SPACE:
                pos += 1
                continue
            if ch != "-" or pos + 1 == n or line[pos + 1] != "-":
                return line[pos:], words
            phase = in_word
        if pos == n:
            w = "".join(word)
            if w != "--" and (blank_ok or w):
                words.append(w)
            break
        if phase == in_word:
            if ch in _GO_SPACE:
                phase = in_spaces
                w = "".join(word)
                if w == "--":
                    return line[pos:], words
                if blank_ok or w:
                    words.append(w)
                word = []
                blank_ok = False
                pos += 1
                continue
            if ch in ("'", '"'):
                quote = ch
                blank_ok = True
                phase = in_quote
                pos += 1
                continue
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            word.append(ch)
            pos += 1
            continue
        # in a quote
        if ch == quote:
            phase = in_word
            pos += 1
            continue
        if ch == escape:
            if pos + 1 == n:
                phase = in_word
                pos += 1
                continue
            pos += 1
            ch = line[pos]
        word.append(ch)
        pos += 1
    return "", words


def parse_words(rest: str, escape: str) -> list[str]:
    """Split on blanks, keeping quotes and escapes for the later expansion pass."""
    words: list[str] = []
    phase = 0  # 0 spaces, 1 word, 2 quote
    quote = ""
    blank_ok = False
    buf: list[str] = []
    pos = 0
    n = len(rest)
    while pos <= n:
        ch = rest[pos] if pos < n else ""
        if phase == 0:
            if pos == n:
                break
            if ch in _GO_SPACE or ch.isspace():
                pos += 1
                continue
            phase = 1
        if pos == n:
            if blank_ok or buf:
                words.append("".join(buf))
            break
        if phase == 1:
            if ch in _GO_SPACE or ch.isspace():
                phase = 0
                if blank_ok or buf:
                    words.append("".join(buf))
                buf = []
                blank_ok = False
                pos += 1
                continue
            if ch in ("'", '"'):
                quote = ch
                blank_ok = True
                phase = 2
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue
                buf.append(ch)
                pos += 1
                ch = rest[pos]
            buf.append(ch)
            pos += 1
            continue
        if ch == quote:
            phase = 1
        if ch == escape and quote != "'":
            if pos + 1 == n:
                phase = 1
                pos += 1
                continue
            pos += 1
            buf.append(ch)
            ch = rest[pos]
        buf.append(ch)
        pos += 1
    return words


class _NotJSON(Exception):
    pass


def _reject_constant(name: str) -> float:
    raise _NotJSON(name)


def _parse_json(rest: str) -> list[str] | None:
    """A JSON array of strings, or None when the text is not a JSON array at all."""
    rest = _lstrip_go(rest)
    if not rest.startswith("["):
        return None
    try:
        value = json.loads(rest, parse_constant=_reject_constant)
    except (ValueError, _NotJSON, RecursionError):
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise ValueError("when using JSON array syntax, arrays must be comprised of strings only")
    return value


def _dispatch(
    keyword: str, rest: str, escape: str, start: int, end: int
) -> tuple[list[str], bool, Node | None]:
    if keyword in ("run", "cmd", "entrypoint", "shell"):
        if not rest:
            return [], False, None
        js = _parse_json(rest)
        return (js, True, None) if js is not None else ([rest], False, None)
    if keyword in ("add", "copy", "volume"):
        js = _parse_json(rest)
        if js is not None:
            return js, True, None
        return ([w for w in _TOKEN_WS.split(rest)] if rest else []), False, None
    if keyword in ("from", "expose"):
        return (_TOKEN_WS.split(rest) if rest else []), False, None
    if keyword in ("env", "label"):
        return _parse_name_val(rest, keyword.upper(), escape), False, None
    if keyword == "arg":
        return parse_words(rest, escape), False, None
    if keyword in ("maintainer", "stopsignal", "user", "workdir"):
        return ([rest] if rest else []), False, None
    if keyword == "healthcheck":
        if not rest:
            return [], False, None
        parts = re.split(r"\s+", rest, maxsplit=1)
        typ = parts[0]
        tail = parts[1] if len(parts) > 1 else ""
        if not tail:
            return [typ], False, None
        js = _parse_json(tail)
        return ([typ, *js], True, None) if js is not None else ([typ, tail], False, None)
    if keyword == "onbuild":
        if not rest:
            return [], False, None
        sub = _node_from_line(rest, escape, start, end)
        return [rest], False, sub
    return ([rest] if rest else []), False, None


def _parse_name_val(rest: str, key: str, escape: str) -> list[str]:
    """ENV/LABEL pairs, flattened as [name, value, sep, ...]; sep is '=' or '' (legacy)."""
    words = parse_words(rest, escape)
    if not words:
        return []
    if "=" not in words[0]:
        parts = _TOKEN_WS.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise ValueError(f"{key} must have two arguments")
        return [parts[0], parts[1], ""]
    out: list[str] = []
    for word in words:
        if "=" not in word:
            raise ValueError(
                f"Syntax error - can't find = in {json.dumps(word)}. Must be of the form: "
                "name=value"
            )
        name, value = word.split("=", 1)
        out += [name, value, "="]
    return out


_HEREDOC_WORD_LEX = ShellLex("\\", raw_quotes=True, raw_escapes=True, skip_unset_env=True)
_HEREDOC_NAME_LEX = ShellLex("\\", skip_unset_env=True)
_HEREDOC_NAME_RAW_LEX = ShellLex("\\", raw_quotes=True, skip_unset_env=True)


def _heredocs_from_line(line: str) -> list[tuple[str, bool, bool, int]]:
    try:
        words = _HEREDOC_WORD_LEX.words(line, {})
    except ExpansionError:
        return []  # the builder ignores lexing errors here
    found = []
    for word in words:
        m = _HEREDOC.match(word)
        if not m or not m.group(3):
            continue
        rest = m.group(3)
        names = _HEREDOC_NAME_LEX.words(rest, {})
        if len(names) != 1:
            continue
        raw = _HEREDOC_NAME_RAW_LEX.words(rest, {})
        if len(raw) != len(names):
            raise ExpansionError(f"inconsistent lexing of heredoc word: {rest}")
        name = names[0]
        expand = (name.count("'") + name.count('"')) == (raw[0].count("'") + raw[0].count('"'))
        found.append((name, m.group(2) == "-", expand, int(m.group(1) or 0)))
    return found
