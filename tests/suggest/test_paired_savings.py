"""Savings compare today's file and a rewrite commit by commit, over the commits at which
both build (cache/costs.py `paired`). A rewrite that copies a file by name fails where older
commits lack it; before this, the rewrite's mean was over its own few builds, compared with
today's over all of them, and each failed build (which rebuilds nothing) counted as a
rebuild avoided (sonic: 815 "avoided" over 853 commits)."""

from __future__ import annotations

from pathlib import Path

from layerlens.analysis import AnalyzeOptions, analyze
from layerlens.suggest.rule import Subject

from ..integration.harness import Repo

DF = "FROM a\nWORKDIR /app\nCOPY . .\nRUN make\n"
# copies go.sum by name, which only the last three commits have
REWRITE = "FROM a\nWORKDIR /app\nCOPY go.sum ./\nRUN make\nCOPY . .\n"


def _repo(tmp_path: Path) -> Subject:
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", DF)
    r.write("a.c", "0")
    r.commit()
    for k in range(1, 5):  # four source edits, no go.sum
        r.write("a.c", str(k))
        r.commit()
    r.write("go.sum", "x")
    r.commit()
    for k in range(5, 7):
        r.write("a.c", str(k))
        r.commit()
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    return Subject(a, a.dockerfile.source, a.ignore_text)


def test_failed_rewrite_builds_are_left_out_not_counted_as_avoided(tmp_path: Path) -> None:
    subject = _repo(tmp_path)
    before = subject.summary(DF)
    after = subject.summary(REWRITE)
    assert before.builds == 7  # the seven commits after the first; today's file builds at all
    failing = sum(1 for c in after.commits if c.failed)
    assert failing >= 4
    s = subject.measure(REWRITE)
    assert s.after_failed == failing
    assert s.commits == before.builds - failing
    # the commits both build are the go.sum commit and the two source edits after it: the
    # rewrite rebuilds `RUN make` once (go.sum added), today's file at every one
    assert s.rebuilds_avoided == 0  # every paired commit rebuilds something on both sides
    both = [(b, a) for b, a in zip(before.commits, after.commits, strict=True)
            if not b.failed and not a.failed]
    assert s.before_seconds_per_commit == sum(b.rebuild_seconds for b, _ in both) / len(both)
    assert s.after_seconds_per_commit == sum(a.rebuild_seconds for _, a in both) / len(both)
    assert s.seconds_per_commit > 0


def test_the_text_and_json_say_so(tmp_path: Path) -> None:
    from layerlens.suggest.output import _saving_text, savings_json

    s = _repo(tmp_path).measure(REWRITE)
    assert savings_json(s)["rewrite_failed_builds"] == s.after_failed
    text = _saving_text(s)
    assert f"over {s.commits} commits" in text
    assert f"not counting {s.after_failed} commits at which the rewrite fails to build" in text


def test_paired_refuses_different_windows(tmp_path: Path) -> None:
    import pytest

    from layerlens.cache.costs import paired

    subject = _repo(tmp_path)
    before = subject.summary(DF)
    shorter = type(before)(**{**{f: getattr(before, f) for f in before.__slots__},
                              "commits": before.commits[1:]})
    with pytest.raises(ValueError):
        paired(before, shorter)
