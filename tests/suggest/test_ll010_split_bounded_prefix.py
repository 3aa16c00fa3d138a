from __future__ import annotations

import pytest

from layerlens.cache.runcost import RUN_OVERHEAD_SECONDS, estimate_run
from layerlens.dockerfile import parse
from layerlens.suggest.rules.ll010_split_bounded_prefix import _rewrite, split_point

from .helpers import by_rule, with_history

DF = ("FROM python:3.12\nWORKDIR /app\nCOPY . .\n# deps\nRUN apt-get update && "
      "apt-get install -y gcc && pip install -r requirements.txt && rm -rf /var/lib/apt/lists/*\n"
      "CMD [\"python\", \"app.py\"]\n")


def test_bounded_head_splits_off_and_moves_above_the_copy() -> None:
    df = parse(DF)
    run = df.instructions[3]
    assert split_point(run) == ("apt-get update && apt-get install -y gcc",
                                "pip install -r requirements.txt && rm -rf /var/lib/apt/lists/*")
    text, _ = _rewrite(df, run, *split_point(run))
    assert [i.original for i in parse(text).instructions] == [
        "FROM python:3.12", "RUN apt-get update && apt-get install -y gcc", "WORKDIR /app",
        "COPY . .", "RUN pip install -r requirements.txt && rm -rf /var/lib/apt/lists/*",
        'CMD ["python", "app.py"]']
    assert "# deps\nRUN apt-get update" in text  # the comment travels with the head


@pytest.mark.parametrize("body", [
    "apt-get install -y gcc; make",  # `;` runs the rest after a failure too
    "apt-get install -y gcc || make",
    "cd /tmp && apt-get install -y gcc && make",  # shell state: no bounded head first
    "export X=1 && make",
    "X=1 apt-get install -y gcc && make",  # an assignment
    "make && apt-get install -y gcc",  # the head is not bounded
    "apt-get install -y gcc && apt-get install -y g++",  # all bounded: LL001 moves it whole
    "if true; then apt-get install -y gcc; fi && make",
])
def test_no_split(body: str) -> None:
    assert split_point(parse(f"FROM a\nRUN {body}\n").instructions[1]) is None


def test_head_that_reads_the_copy_does_not_move() -> None:
    # the head writes /app/data, inside the COPY's destination: it cannot pass the COPY
    df = parse("FROM a\nCOPY . /app\nRUN mkdir -p /app/data && make\n")
    run = df.instructions[2]
    assert split_point(run) is not None
    assert _rewrite(df, run, *split_point(run)) is None


def test_measured_over_history(tmp_path) -> None:
    edits = [("app.py", f"v = {i + 1}\n") for i in range(4)]
    rep = with_history(tmp_path, DF, {"app.py": "v = 0\n", "requirements.txt": "flask\n"},
                       edits, select={"LL010"})
    [s] = by_rule(rep, "LL010")
    # The head (apt-get update && install) no longer rebuilds when app.py changes: the
    # saving is that half's RUN-model estimate less the per-RUN overhead (the tail is now
    # a RUN of its own), once per edited commit, and it is marked as an estimate. Computed
    # from the estimator, so a change of its table moves both.
    head = parse("FROM a\nRUN apt-get update && apt-get install -y gcc\n").instructions[1]
    expected = estimate_run(head).seconds - RUN_OVERHEAD_SECONDS
    assert expected > 1.0
    assert s.savings is not None and s.savings.estimated
    assert s.savings.seconds_per_commit == pytest.approx(expected)
    assert s.fix_class == "safe"
