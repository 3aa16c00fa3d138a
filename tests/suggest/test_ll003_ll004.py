from __future__ import annotations

from layerlens.dockerfile import parse

from .helpers import by_rule, static


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


def test_cleanup_folded_into_its_run(tmp_path) -> None:
    df = ("FROM debian\nRUN apt-get update && apt-get install -y curl\nCOPY x /x\n"
          "RUN rm -rf /var/lib/apt/lists/*\n")
    rep = static(tmp_path, df, {"x": "1"}, select={"LL004"})
    [s] = by_rule(rep, "LL004")
    assert s.fixable
    ins = parse(s.dockerfile).instructions
    assert [i.keyword for i in ins] == ["from", "run", "copy"]
    assert ins[1].args[0].rstrip().endswith("&& rm -rf /var/lib/apt/lists/*")


def test_cleanup_not_folded_past_another_use(tmp_path) -> None:
    df = ("FROM debian\nRUN apt-get update && apt-get install -y curl\n"
          "RUN apt-get install -y git\nRUN rm -rf /var/lib/apt/lists/*\n")
    [s] = by_rule(static(tmp_path, df, select={"LL004"}), "LL004")
    assert not s.fixable and "in between" in s.note


def test_copied_then_removed_and_cache_hints(tmp_path) -> None:
    df = ("FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt "
          "&& rm -rf tests docs\n")
    rep = static(tmp_path, df, {"requirements.txt": "x\n", "tests/t.py": "1"},
                 select={"LL004"})
    msgs = [s.message for s in by_rule(rep, "LL004")]
    assert any("removes tests, which COPY at line 3 brought in" in m for m in msgs)
    assert any("--no-cache-dir" in m for m in msgs)
    assert all(not s.fixable for s in by_rule(rep, "LL004"))
