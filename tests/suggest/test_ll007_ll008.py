from __future__ import annotations

from .helpers import by_rule, static, with_history


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
