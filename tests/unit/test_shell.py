"""Variable expansion: every `${...}` form, quoting, and the escape directive."""

from __future__ import annotations

import pytest

from layerlens.dockerfile.shell import ShellLex
from layerlens.errors import ExpansionError

ENV = {"A": "hello", "EMPTY": "", "P": "/usr/local/bin/python3.12", "X": "a.b.c"}


@pytest.mark.parametrize(
    ("word", "want"),
    [
        ("$A", "hello"),
        ("${A}", "hello"),
        ("$UNSET", ""),
        ("${UNSET:-dflt}", "dflt"),
        ("${EMPTY:-dflt}", "dflt"),
        ("${EMPTY-dflt}", ""),
        ("${UNSET-dflt}", "dflt"),
        ("${A:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("${UNSET+alt}", ""),
        ("${P#*/}", "usr/local/bin/python3.12"),
        ("${P##*/}", "python3.12"),
        ("${X%.*}", "a.b"),
        ("${X%%.*}", "a"),
        ("${X/./-}", "a-b.c"),
        ("${X//./-}", "a-b-c"),
        ("${A:-${X}}", "hello"),
        ("${UNSET:-${X}}", "a.b.c"),
        ("'$A'", "$A"),
        ('"$A"', "hello"),
        ('"a\\"b"', 'a"b'),
        ('"tab\\there"', "tab\\there"),
        ("\\$A", "$A"),
        ("pre${A}post", "prehellopost"),
        ("$", "$"),
        ("a$", "a$"),
        ("$1", ""),
    ],
)
def test_expansion(word: str, want: str) -> None:
    assert ShellLex().word(word, ENV) == want


def test_backtick_escape() -> None:
    lex = ShellLex("`")
    assert lex.word("x`$y", {"y": "no"}) == "x$y"
    assert lex.word('"C:\\path"', {}) == "C:\\path"


def test_words_split_after_expansion() -> None:
    lex = ShellLex()
    assert lex.words('a "b c" $V', {"V": "d e"}) == ["a", "b c", "d", "e"]


@pytest.mark.parametrize(
    "word", ["${A", "${}", "${:x}", "${A:x}", "${UNSET?}", "${EMPTY:?must be set}", "'open",
             '"open', "${A/x"],
)
def test_rejected(word: str) -> None:
    with pytest.raises(ExpansionError):
        ShellLex().word(word, ENV)


def test_question_message() -> None:
    with pytest.raises(ExpansionError, match="must be set"):
        ShellLex().word("${EMPTY:?must be set}", ENV)
