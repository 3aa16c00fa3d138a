"""textfit.py: the width, elision, cut lists, wrapping and colour switches (issue 15)."""

from __future__ import annotations

import io

import pytest

from layerlens.textfit import (
    MIN_WIDTH,
    cells,
    colorize,
    cut_list,
    diff_start,
    elide_middle,
    fit_list,
    truncate,
    use_color,
    width,
    wrap,
)


def test_width_from_columns_else_80(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "132")
    assert width(io.StringIO()) == 132
    monkeypatch.setenv("COLUMNS", "10")
    assert width(io.StringIO()) == MIN_WIDTH
    for bad in ("", "wide", "0", "-5"):
        monkeypatch.setenv("COLUMNS", bad)
        assert width(io.StringIO()) == 80  # not a terminal, no usable COLUMNS
    monkeypatch.delenv("COLUMNS")
    assert width(io.StringIO()) == 80


def test_elide_middle_keeps_both_ends() -> None:
    path = "frontend/src/app/search/search.component.ts"
    got = elide_middle(path, 24)
    assert cells(got) == 24 and got.startswith("frontend/s") and got.endswith("component.ts")
    assert "…" in got
    assert elide_middle(path, len(path)) == path  # fits: unchanged
    assert elide_middle(path, 1) == "…" and elide_middle(path, 0) == ""


def test_elide_middle_counts_cells_not_characters() -> None:
    wide = "データ/" * 10 + "ファイル.txt"  # each kana takes two cells
    got = elide_middle(wide, 21)
    assert cells(got) <= 21 and got.endswith(".txt")


def test_truncate() -> None:
    assert truncate("RUN npm install -g typescript", 12) == "RUN npm ins…"
    assert truncate("short", 12) == "short"


def test_cut_list_counts_what_it_leaves_out() -> None:
    items = [f"f{k}" for k in range(17)]
    assert cut_list(items, 4) == ["f0", "f1", "f2", "and 14 more"]
    assert cut_list(items[:4], 4) == items[:4]
    assert cut_list(items, 0) == ["and 17 more"]


def test_fit_list_keeps_whole_items_then_a_count() -> None:
    items = ["package.json (129)", "frontend/package.json (79)", ".github/ci.yml (70)"]
    assert fit_list(items, 200) == ", ".join(items)
    assert fit_list(items, 58) == "package.json (129), frontend/package.json (79), and 1 more"
    assert fit_list(items, 57) == "package.json (129), and 2 more"
    # one item too long for the room alone is elided in the middle
    long = ["a/" * 40 + "file.txt"]
    assert cells(fit_list(long, 30)) == 30 and fit_list(long, 30).endswith("file.txt")
    assert fit_list([], 10) == ""


def test_wrap_hangs_the_indent_and_keeps_words() -> None:
    text = "add to .dockerignore: " + "; ".join(f"item{k} (docs, caused {k} rebuilds)"
                                               for k in range(8))
    lines = wrap(text, 40, first="       ", indent="         ")
    assert all(cells(x) <= 40 for x in lines)
    assert lines[0].startswith("       add to") and all(x.startswith("         ")
                                                        for x in lines[1:])
    # nothing lost, nothing reordered
    assert " ".join(x.strip() for x in lines) == text
    # a word longer than the line is folded, not left sticking out
    assert all(cells(x) <= 20 for x in wrap("x" * 50, 20, indent="  "))
    assert wrap("", 20, first="note: ") == ["note:"]


def test_diff_start() -> None:
    lines = ["LL001 ...", "  - not a diff", "--- a/Dockerfile", "+++ b/Dockerfile", "@@ -1 +1 @@"]
    assert diff_start(lines) == 2
    assert diff_start(lines[:2]) == 2


def test_use_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    assert use_color("auto", Tty()) and not use_color("auto", io.StringIO())
    assert use_color("always", io.StringIO()) and not use_color("never", Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color("auto", Tty())
    assert use_color("always", Tty())  # the flag overrides the variable (no-color.org)
    monkeypatch.setenv("NO_COLOR", "")
    assert use_color("auto", Tty())  # set but empty does not count
    monkeypatch.setenv("TERM", "dumb")
    assert not use_color("auto", Tty())


def test_colorize_adds_escapes_only() -> None:
    import re

    text = ("LL005  Dockerfile:2  [unsafe fix]  Keep files out\n"
            "  FAIL Dockerfile: too big\n--- a/Dockerfile\n+++ b/Dockerfile\n-old\n+new")
    got = colorize(text)
    assert "\x1b[" in got
    assert re.sub(r"\x1b\[[0-9;]*m", "", got) == text
    assert "\x1b[32m+new" in got and "\x1b[31m-old" in got


def test_fit_lines_wraps_only_what_is_too_wide_under_its_own_indent() -> None:
    from layerlens.textfit import cells, fit_lines

    lines = ["short", "  " + "word " * 30, ""]
    out = fit_lines(lines, 40)
    assert out[0] == "short" and out[-1] == ""
    assert all(cells(x) <= 40 for x in out)
    # continuation lines sit past the wrapped line's own two leading spaces
    assert out[1].startswith("  word") and all(x.startswith("      word") for x in out[2:-1])
    assert " ".join(" ".join(out[1:-1]).split()) == " ".join(("word " * 30).split())
