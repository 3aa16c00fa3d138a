"""Shell-style word processing and variable expansion, as the Dockerfile frontend does it.

This follows the documented behaviour of BuildKit's `shell` lexer: single quotes are
literal, double quotes allow `$` expansion and escape only `"`, `$` and the escape token,
and `${...}` supports `:-`, `-`, `:+`, `+`, `:?`, `?`, `#`, `##`, `%`, `%%`, `/` and `//`.
Word splitting happens after expansion; quoted text never splits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from layerlens.errors import ExpansionError

_SPECIAL_PARAMS = frozenset("@*#?-$!0")
# What makes `ShellLex.process` more than the identity: a variable, a quote, or a space
# (Python's \s: every character Go's unicode.IsSpace takes, and a few more); the escape
# token is tested apart, as it is configurable
_SPECIAL = re.compile(r"[\s$'\"]")
_NONE: frozenset[str] = frozenset()


def _is_space(ch: str) -> bool:
    # Go's unicode.IsSpace: the ASCII whitespace set plus U+0085, U+00A0 and Z* spaces.
    return ch in " \t\n\v\f\r\x85\xa0" or (ord(ch) > 255 and ch.isspace())


def _is_name_char(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or unicodedata.category(ch) == "Nd"


@dataclass(frozen=True, slots=True)
class Expansion:
    """Result of processing one word: the joined text and the split words."""

    text: str
    words: tuple[str, ...]
    used: frozenset[str]
    unset: frozenset[str]


class _Words:
    __slots__ = ("in_word", "word", "words")

    def __init__(self) -> None:
        self.word = ""
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if _is_space(ch):
            if self.in_word and self.word:
                self.words.append(self.word)
                self.word = ""
                self.in_word = False
        else:
            self.add_raw_char(ch)

    def add_raw_char(self, ch: str) -> None:
        self.word += ch
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def add_raw_string(self, text: str) -> None:
        self.word += text
        self.in_word = True

    def finish(self) -> list[str]:
        if self.word:
            self.words.append(self.word)
            self.word = ""
            self.in_word = False
        return self.words


class ShellLex:
    """One configured lexer. Options mirror the ones the frontend uses internally.

    raw_quotes keeps quote characters in the output, raw_escapes keeps escape tokens,
    skip_unset_env leaves references to unset variables as written (used for heredoc
    detection, where nothing is expanded yet).
    """

    __slots__ = ("escape", "raw_escapes", "raw_quotes", "skip_unset_env")

    def __init__(
        self,
        escape: str = "\\",
        *,
        raw_quotes: bool = False,
        raw_escapes: bool = False,
        skip_unset_env: bool = False,
    ) -> None:
        self.escape = escape
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.skip_unset_env = skip_unset_env

    def process(self, word: str, env: Mapping[str, str]) -> Expansion:
        if self.escape not in word and _SPECIAL.search(word) is None:
            # nothing to expand, unquote, unescape or split (a path, a name: most words of
            # a Dockerfile): the word as written, as the walk below gives it
            return Expansion(word, (word,) if word else (), _NONE, _NONE)
        return self._process(word, env)

    def _process(self, word: str, env: Mapping[str, str]) -> Expansion:
        """`process`, character by character."""
        state = _State(self, word, env)
        try:
            text, words = state.stop_on("", self.raw_escapes)
        except ExpansionError as exc:
            raise ExpansionError(f"failed to process {word!r}: {exc}") from None
        return Expansion(text, tuple(words), frozenset(state.used), frozenset(state.unset))

    def word(self, word: str, env: Mapping[str, str]) -> str:
        return self.process(word, env).text

    def words(self, word: str, env: Mapping[str, str]) -> list[str]:
        return list(self.process(word, env).words)


class _State:
    __slots__ = ("env", "lex", "pos", "raw_escapes", "src", "unset", "used")

    def __init__(self, lex: ShellLex, src: str, env: Mapping[str, str]) -> None:
        self.lex = lex
        self.src = src
        self.pos = 0
        self.env = env
        self.raw_escapes = lex.raw_escapes
        self.used: set[str] = set()
        self.unset: set[str] = set()

    def peek(self) -> str:
        return self.src[self.pos] if self.pos < len(self.src) else ""

    def next(self) -> str:
        if self.pos < len(self.src):
            ch = self.src[self.pos]
            self.pos += 1
            return ch
        return ""

    def getenv(self, name: str) -> tuple[str, bool]:
        if name in self.env:
            self.used.add(name)
            return self.env[name], True
        self.unset.add(name)
        return "", False

    def stop_on(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        saved = self.raw_escapes
        self.raw_escapes = raw_escapes
        try:
            return self._stop_on(stop)
        finally:
            self.raw_escapes = saved

    def _stop_on(self, stop: str) -> tuple[str, list[str]]:
        out: list[str] = []
        words = _Words()
        esc = self.lex.escape
        while self.pos < len(self.src):
            ch = self.src[self.pos]
            if stop and ch == stop:
                self.pos += 1
                return "".join(out), words.finish()
            if ch == "$":
                tmp = self.dollar()
                out.append(tmp)
                words.add_string(tmp)
            elif ch == "'":
                tmp = self.single_quote()
                out.append(tmp)
                words.add_raw_string(tmp)
            elif ch == '"':
                tmp = self.double_quote()
                out.append(tmp)
                words.add_raw_string(tmp)
            else:
                self.pos += 1
                if ch == esc:
                    if self.raw_escapes:
                        words.add_raw_char(ch)
                        out.append(ch)
                    ch = self.next()
                    if not ch:
                        break
                    words.add_raw_char(ch)
                else:
                    words.add_char(ch)
                out.append(ch)
        if stop:
            raise ExpansionError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(out), words.finish()

    def single_quote(self) -> str:
        out = []
        ch = self.next()
        if self.lex.raw_quotes:
            out.append(ch)
        while True:
            ch = self.next()
            if not ch:
                raise ExpansionError(
                    "unexpected end of statement while looking for matching single-quote"
                )
            if ch == "'":
                if self.lex.raw_quotes:
                    out.append(ch)
                return "".join(out)
            out.append(ch)

    def double_quote(self) -> str:
        out = []
        ch = self.next()
        if self.lex.raw_quotes:
            out.append(ch)
        esc = self.lex.escape
        while True:
            ch = self.peek()
            if not ch:
                raise ExpansionError(
                    "unexpected end of statement while looking for matching double-quote"
                )
            if ch == '"':
                self.pos += 1
                if self.lex.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            self.pos += 1
            if ch == esc:
                if self.raw_escapes:
                    out.append(ch)
                nxt = self.peek()
                if not nxt:
                    continue
                if nxt in ('"', "$", esc):
                    ch = self.next()
            out.append(ch)

    def name(self) -> str:
        start = self.pos
        src = self.src
        if self.pos < len(src):
            ch = src[self.pos]
            if unicodedata.category(ch) == "Nd":
                while self.pos < len(src) and unicodedata.category(src[self.pos]) == "Nd":
                    self.pos += 1
                return src[start : self.pos]
            if ch in _SPECIAL_PARAMS:
                self.pos += 1
                return ch
        while self.pos < len(src) and _is_name_char(src[self.pos]):
            self.pos += 1
        return src[start : self.pos]

    def dollar(self) -> str:
        self.pos += 1  # the '$'
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            value, found = self.getenv(name)
            if not found and self.lex.skip_unset_env:
                return "$" + name
            return value
        self.pos += 1  # the '{'
        nxt = self.peek()
        if not nxt:
            raise ExpansionError("syntax error: missing '}'")
        if nxt in "{}:":
            raise ExpansionError("syntax error: bad substitution")
        name = self.name()
        ch = self.next()
        modifier = ch
        if ch == "}":
            value, found = self.getenv(name)
            if not found and self.lex.skip_unset_env:
                return "${" + name + "}"
            return value
        null_is_unset = False
        if ch == ":":
            null_is_unset = True
            ch = self.next()
            modifier += ch
            if not ch or ch not in "+-?#%":
                # BuildKit still reads the word before rejecting the modifier.
                self._read_word_or_raise(ch == "#" or ch == "%")
                raise ExpansionError(f"unsupported modifier ({modifier}) in substitution")
        if ch and ch in "+-?#%":
            word = self._read_word_or_raise(ch in "#%")
            value, found = self.getenv(name)
            if self.lex.skip_unset_env and not found:
                return "${" + name + modifier + word + "}"
            empty = not found or (null_is_unset and value == "")
            if ch == "-":
                return word if empty else value
            if ch == "+":
                return "" if empty else word
            if ch == "?":
                if not found:
                    raise ExpansionError(f"{name}: {word or 'is not allowed to be unset'}")
                if null_is_unset and value == "":
                    raise ExpansionError(f"{name}: {word or 'is not allowed to be empty'}")
                return value
            greedy = bool(word) and word[0] == ch
            if greedy:
                word = word[1:]
            if ch == "%":
                return _trim_suffix(word, value, greedy)
            return _trim_prefix(word, value, greedy)
        if ch == "/":
            replace_all = self.peek() == "/"
            if replace_all:
                self.pos += 1
            try:
                pattern, _ = self.stop_on("/", True)
            except ExpansionError:
                if not self.peek():
                    raise ExpansionError("syntax error: missing '/' in ${}") from None
                raise
            replacement = self._read_word_or_raise(True)
            value, found = self.getenv(name)
            if self.lex.skip_unset_env and not found:
                return "${" + name + "/" + pattern + "/" + replacement + "}"
            rx = _shell_pattern_regex(pattern, greedy=True, anchored=False)
            if replace_all:
                return rx.sub(lambda m: _go_expand(replacement, m), value)
            m = rx.search(value)
            if m:
                value = value[: m.start()] + _go_expand(replacement, m) + value[m.end() :]
            return value
        raise ExpansionError(f"unsupported modifier ({modifier}) in substitution")

    def _read_word_or_raise(self, raw_escapes: bool) -> str:
        try:
            word, _ = self.stop_on("}", raw_escapes)
        except ExpansionError:
            if not self.peek():
                raise ExpansionError("syntax error: missing '}'") from None
            raise
        return word


_REGEX_SPECIAL = frozenset("[]{}.+()|^$")


def _shell_pattern_regex(pattern: str, *, greedy: bool, anchored: bool) -> re.Pattern[str]:
    """Translate a `${var#pattern}` style pattern: `?` one char, `*` shortest or longest."""
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append(star)
            continue
        if ch == "?":
            out.append(".")
            continue
        if ch == "\\":
            if i < n and pattern[i] in "}/":
                continue
            nxt = pattern[i] if i < n else ""
            i += 1
            if nxt not in ("*", "?", "\\") or not nxt:
                raise ExpansionError(f"invalid pattern ({pattern}) in substitution")
            out.append("\\" + nxt)
            continue
        out.append("\\" + ch if ch in _REGEX_SPECIAL else ch)
    try:
        return re.compile("".join(out))
    except re.error as exc:
        raise ExpansionError(f"invalid pattern ({pattern}) in substitution: {exc}") from None


def _go_expand(template: str, m: re.Match[str]) -> str:
    # Go's Regexp.ReplaceAllString treats `$` in the replacement as a group reference.
    out = []
    i = 0
    n = len(template)
    while i < n:
        ch = template[i]
        if ch != "$" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = template[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        if nxt == "{":
            end = template.find("}", i + 2)
            if end < 0:
                out.append(ch)
                i += 1
                continue
            name = template[i + 2 : end]
            i = end + 1
        else:
            j = i + 1
            while j < n and (template[j].isalnum() or template[j] == "_"):
                j += 1
            if j == i + 1:
                out.append(ch)
                i += 1
                continue
            name = template[i + 1 : j]
            i = j
        if name == "0":
            out.append(m.group(0))
    return "".join(out)


def _reverse_pattern(pattern: str) -> str:
    # Reverse, but keep each escape in front of the character it escapes.
    units: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            units.append(pattern[i : i + 2])
            i += 2
        else:
            units.append(pattern[i])
            i += 1
    return "".join(reversed(units))


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    m = _shell_pattern_regex(pattern, greedy=greedy, anchored=True).search(value)
    return value[m.end() :] if m else value


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    # Regular expressions find leftmost matches, so trim the prefix of the reversed text.
    return _trim_prefix(_reverse_pattern(pattern), value[::-1], greedy)[::-1]
