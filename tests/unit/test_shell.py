"""Variable expansion: every `${...}` form, quoting, and the escape directive."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# Characters that make a word more than itself (variables, quotes, escapes, Go's spaces
# and Python's extra ones), and plain ones
_CHARS = [*"$'\"\\`{}:-/ \t\n\x0b\x0c\r\x85\xa0\u2003\u2028\x1cab.A_0", "${A}", "$P"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_CHARS), max_size=8).map("".join), st.sampled_from("\\`"),
       st.booleans(), st.booleans(), st.booleans())
def test_plain_words_skip_the_walk_with_the_same_answer(word: str, escape: str,
                                                        raw_quotes: bool, raw_escapes: bool,
                                                        skip_unset: bool) -> None:
    lex = ShellLex(escape, raw_quotes=raw_quotes, raw_escapes=raw_escapes,
                   skip_unset_env=skip_unset)
    try:
        want = lex._process(word, ENV)
    except ExpansionError:
        with pytest.raises(ExpansionError):
            lex.process(word, ENV)
        return
    assert lex.process(word, ENV) == want
