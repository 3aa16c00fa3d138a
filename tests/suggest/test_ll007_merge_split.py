from __future__ import annotations

import pytest

from .helpers import by_rule, fixture_cases, run_fixture, with_history


def test_merge_runs_that_always_rebuild_together(tmp_path) -> None:
    df = "FROM a\nCOPY src /src\nRUN make -C /src\nRUN make -C /src install\n"
    edits = [("src/a.c", f"{i + 1}") for i in range(3)]
    rep = with_history(tmp_path, df, {".dockerignore": ".git\n", "src/a.c": "0"}, edits,
                       select={"LL007"})
    [s] = by_rule(rep, "LL007")
    assert s.lines == (3, 4) and not s.fixable and "3 commits" in s.message


def test_one_hint_for_a_run_of_mergeable_runs(tmp_path) -> None:
    df = ("FROM a\nCOPY src /src\nRUN make -C /src\nRUN make -C /src test\n"
          "RUN make -C /src install\nRUN make -C /src clean\n")
    edits = [("src/a.c", f"{i + 1}") for i in range(2)]
    rep = with_history(tmp_path, df, {".dockerignore": ".git\n", "src/a.c": "0"}, edits,
                       select={"LL007"})
    [s] = by_rule(rep, "LL007")
    assert s.lines == (3, 4, 5, 6) and "3 layers fewer" in s.message


def test_split_a_run_with_a_volatile_part(tmp_path) -> None:
    df = ("FROM a\nARG GIT_SHA\nRUN apt-get install -y curl && echo $GIT_SHA > /rev\n"
          "COPY x /x\n")
    rep = with_history(tmp_path, df, {"x": "1"}, [("x", "2")], select={"LL007"})
    msgs = [s.message for s in by_rule(rep, "LL007")]
    assert any("1 of 2 commands read a per-build arg (GIT_SHA)" in m for m in msgs)


@pytest.mark.parametrize("case", fixture_cases("LL007"))
def test_fixtures(case: str, tmp_path) -> None:
    run_fixture(tmp_path, "LL007", case)
