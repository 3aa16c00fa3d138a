from __future__ import annotations

import pytest

from layerlens.dockerfile import parse

from .helpers import by_rule, fixture_cases, run_fixture, static


def test_volatile_arg_moves_with_its_label(tmp_path) -> None:
    df = ("FROM a\nARG GIT_SHA\nLABEL rev=$GIT_SHA\nRUN make deps\nCOPY . .\nRUN make\n"
          "CMD [\"x\"]\n")
    rep = static(tmp_path, df, select={"LL003"})
    [s] = by_rule(rep, "LL003")
    assert s.fixable
    order = [i.original for i in parse(s.dockerfile).instructions]
    assert order[-2:] == ["ARG GIT_SHA", "LABEL rev=$GIT_SHA"]


def test_volatile_arg_used_by_a_run_stops_there(tmp_path) -> None:
    df = "FROM a\nARG VERSION=1\nRUN make deps\nRUN echo $VERSION > /v\n"
    rep = static(tmp_path, df, select={"LL003"})
    [s] = by_rule(rep, "LL003")
    order = [i.original for i in parse(s.dockerfile).instructions]
    assert order == ["FROM a", "RUN make deps", "ARG VERSION=1", "RUN echo $VERSION > /v"]


@pytest.mark.parametrize("case", fixture_cases("LL003"))
def test_fixtures(case: str, tmp_path) -> None:
    run_fixture(tmp_path, "LL003", case)
