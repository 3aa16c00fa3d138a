"""`Matcher.literal`: the shortcut LL005 takes for a one-pattern matcher must give exactly
`excludes`' answers."""

from __future__ import annotations

from layerlens.context.patterns import Matcher

PATHS = [".git", ".git/HEAD", ".gitignore", ".github/workflows/ci.yml", "docs", "docs/a.md",
         "docsx/a", "a/docs/b", "README.md", "README.md.bak", "src/README.md", "a.b",
         "a.b/c", "ab", "Dockerfile", "Dockerfile.dev", "x/Dockerfile", "test/t.py",
         "tests/t.py", "caf\u00e9/docs"]


def test_literal_equals_excludes() -> None:
    for pat in [".git", "docs", "README.md", "a.b", "Dockerfile", "test", "caf\u00e9",
                "/docs", "./docs/"]:
        m = Matcher.from_lines([pat])
        lit = m.literal
        assert lit is not None, pat
        for p in PATHS:
            assert (p == lit or p.startswith(lit + "/")) == m.excludes(p), (pat, p)


def test_no_literal_for_wildcards_exclusions_or_several_patterns() -> None:
    for lines in (["*.md"], ["doc?"], ["**/docs"], ["docs/**"], ["!docs"], ["docs", "a.b"],
                  ["[d]ocs"]):
        assert Matcher.from_lines(lines).literal is None, lines
