"""The suggest text report: line ranges, wrapping to the width, a rule's reason once."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerlens.suggest.engine import SuggestReport
from layerlens.suggest.model import Savings, Suggestion
from layerlens.suggest.output import line_ranges, report_text
from layerlens.textfit import cells


@pytest.mark.parametrize(("lines", "text"), [
    ((), "-"), ((7,), "7"), ((19, 20), "19,20"), ((4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                                  "4-15"),
    ((3, 1, 2, 9, 10, 12, 13, 14), "1-3,9,10,12-14"), ((5, 5, 6), "5,6"),
])
def test_line_ranges(lines: tuple[int, ...], text: str) -> None:
    assert line_ranges(lines) == text


def _report(n: int) -> SuggestReport:
    saved = Savings(999, 29.2, None, None, 29170.8, None, None, 255, 226, True,
                    rebuilds_avoided=104)
    sugs = tuple(Suggestion("LL004", "Files copied only to be deleted stay in the image",
                            f"RUN at line 93 removes /var/www/html/storage/dir{k}, which COPY "
                            "at line 74 brought in", "A file deleted by a later instruction is "
                            "still stored, pushed and pulled with the COPY's layer.", (74, 93),
                            False) for k in range(n))
    fix = Suggestion("LL005", "Keep files no instruction needs out of the build context",
                     "add to .dockerignore: " + "; ".join(
                         f"dir{k} (documentation, 1 file, caused {k} rebuilds)"
                         for k in range(9)), "A broad COPY rebuilds.", (2,), True, saved,
                     dockerignore="x\n", safety="unsafe", unsafe_reason="removes files")
    return SuggestReport((fix, *sugs), None, "x\n", Path(".dockerignore"), ("LL005",),
                         (fix,), False, True)


@pytest.mark.parametrize("width", [60, 80, 132])
def test_report_fits_and_gives_a_reason_once(width: int) -> None:
    text = report_text(_report(3), "deploy/" * 12 + "Dockerfile", None, width)
    lines = text.splitlines()
    assert all(cells(x) <= width for x in lines), [x for x in lines if cells(x) > width]
    assert sum("why: A file deleted" in x for x in lines) == 1  # LL004's, once for three
    assert sum("why: A broad COPY" in x for x in lines) == 1
    assert sum(x.startswith("LL004  ") for x in lines) == 3
    # the figures in the one style, counts in the right number
    assert "saves 29s of rebuild per commit (8h 06m over 999 commits)" in " ".join(
        x.strip() for x in lines)
    assert "1 unsafe fix not applied: it may change the image" in " ".join(
        x.strip() for x in lines)
    # nothing of a message is lost to the wrapping
    flat = " ".join(x.strip() for x in lines)
    assert all(f"dir{k} (documentation, 1 file, caused {k} rebuilds)" in flat
               for k in range(9))


def test_the_diff_is_appended_whole() -> None:
    diff = "--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1 +1 @@\n-" + "x" * 200 + "\n+y\n"
    text = report_text(_report(0), "Dockerfile", diff, 60)
    assert text.endswith("\n" + diff)


@pytest.mark.parametrize(("seconds", "window", "text"), [
    # shiori: a hint printed "saves 0.0s of rebuild per commit (0.0s over 61 commits)"
    (0.0, 0.0, "no measurable saving over 61 replayed commits (estimated costs)"),
    (0.001, 0.061, "saves under 0.01s of rebuild per commit (0.06s over 61 commits) "
                   "(estimated costs)"),
    (0.05, 3.05, "saves 0.05s of rebuild per commit (3.0s over 61 commits) (estimated costs)"),
    (-0.2, -12.2, "adds 0.2s of rebuild per commit (12s over 61 commits) (estimated costs)"),
])
def test_a_saving_never_prints_as_zero_seconds(seconds, window, text) -> None:
    from layerlens.suggest.output import _saving_text

    s = Savings(61, seconds, None, None, window, None, None, 19.5, 19.5 - seconds, True)
    assert _saving_text(s) == text
    assert "0.0s" not in _saving_text(s)
