"""analysis.added_patterns: narrowing by the added patterns alone excludes what the whole
new ignore file does, for every path the old one keeps (moby's rule without exceptions)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from layerlens.analysis import added_patterns
from layerlens.context.patterns import Matcher, read_ignore_lines

PATTERNS = ["a", "b", "a/b", "*", "**", "a*", "?", "b/*", "**/b", "a/**", "*.md", "docs",
            "docs/", "/a", "a/*/c", "[ab]", "docs/**/*.md", "c", "."]
PATHS = ["a", "b", "c", "a/b", "a/b/c", "a/c", "b/a", "docs", "docs/x.md", "docs/a/y.md",
         "x.md", "ab", "ba/c", "c/a/b", "a.md", "docs/b", "z/docs/q.md"]
LINE = st.tuples(st.sampled_from(["", "", "", "!"]), st.sampled_from(PATTERNS)).map("".join)


def _m(lines: list[str]) -> Matcher:
    return Matcher.from_lines(read_ignore_lines("\n".join(lines)))


@settings(max_examples=2000, deadline=None)
@given(st.lists(LINE, max_size=4), st.lists(LINE, min_size=1, max_size=3))
def test_added_patterns_decide_what_the_old_file_keeps(old: list[str],
                                                       extra: list[str]) -> None:
    before, after = _m(old), _m(old + extra)
    narrow = added_patterns(before, after)
    if any(x.startswith("!") for x in old + extra):
        assert narrow is after  # an exception: the whole new file decides
        return
    assert len(narrow.patterns) == len(extra)
    for p in PATHS:
        if not before.excludes(p):
            assert narrow.excludes(p) == after.excludes(p), (old, extra, p)


def test_an_exception_keeps_the_whole_file() -> None:
    # why: moby's matcher re-includes docs/keep.md, and the `docs` added after the exception
    # does not exclude it again, though `docs` alone would
    old, new = _m(["docs", "!docs/keep.md"]), _m(["docs", "!docs/keep.md", "docs"])
    assert not old.excludes("docs/keep.md") and not new.excludes("docs/keep.md")
    assert _m(["docs"]).excludes("docs/keep.md")
    assert added_patterns(old, new) is new
    for other in (_m(["*.md", "docs", "tests"]), _m(["docs"]), _m(["docs", "*.md"])):
        assert added_patterns(_m(["docs", "*.md"]), other) is other  # not the old plus more
    assert added_patterns(_m([]), _m(["tests"])).patterns == _m(["tests"]).patterns
