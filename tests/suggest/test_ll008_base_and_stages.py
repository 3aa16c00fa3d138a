"""LL008: build tools in the final image, a heavy base; fixtures in fixtures/LL008."""

from __future__ import annotations

import pytest

from .helpers import by_rule, fixture_cases, run_fixture, static


def test_build_tools_in_final_image_and_full_base(tmp_path) -> None:
    df = "FROM python:3.12\nRUN apt-get install -y build-essential\nCOPY . .\n"
    rep = static(tmp_path, df, {"a": "1"}, select={"LL008"})
    titles = {s.title for s in by_rule(rep, "LL008")}
    assert titles == {"Build in a separate stage and copy only the artifacts",
                      "Consider a smaller base image"}


def test_multistage_slim_is_quiet(tmp_path) -> None:
    df = ("FROM golang:1.22 AS build\nRUN go build -o /app .\nFROM alpine\n"
          "COPY --from=build /app /app\n")
    assert by_rule(static(tmp_path, df, select={"LL008"}), "LL008") == []


@pytest.mark.parametrize("case", fixture_cases("LL008"))
def test_fixtures(case: str, tmp_path) -> None:
    run_fixture(tmp_path, "LL008", case)
