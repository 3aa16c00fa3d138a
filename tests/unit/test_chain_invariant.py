"""A property of the current-file replay: within a stage, along its cache chain, an operation
never rebuilds less often than the one before it (a miss rebuilds everything after it).
A `COPY --link` is keyed on its own inputs (BuildKit merges it onto what came before), so it
stands outside the chain: it may be reused while the layers around it rebuild.

Histories and Dockerfiles are generated; the replay runs on in-memory commits (no git), the
same code path `analyze` takes after mining.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerlens.cache.costs import summarize
from layerlens.cache.ops import build_plan
from layerlens.cache.replay import Version, replay
from layerlens.context.patterns import Matcher
from layerlens.dockerfile import parse
from layerlens.history.model import Change, Commit, History, TreeEntry

PATHS = ["a.txt", "b.txt", "src/x.py", "src/y.py", "docs/r.md", "go.mod", "pkg/z.go"]
SOURCES = [".", "a.txt", "src", "src/*.py", "go.mod", "pkg", "missing.txt", "*.txt"]

instruction = st.one_of(
    st.builds(lambda s: f"COPY {s} /dst/", st.sampled_from(SOURCES)),
    st.builds(lambda s: f"COPY --link {s} /lnk/", st.sampled_from(SOURCES)),
    st.builds(lambda n: f"RUN step{n}", st.integers(0, 3)),
    st.builds(lambda n: f"ENV E{n}=1", st.integers(0, 2)),
    st.just("WORKDIR /w"),
)
stage = st.lists(instruction, min_size=1, max_size=6)
dockerfile = st.lists(stage, min_size=1, max_size=3)
change = st.tuples(st.sampled_from(PATHS), st.booleans(), st.integers(0, 3))
history = st.lists(st.lists(change, max_size=4), min_size=1, max_size=12)


def _text(stages: list[list[str]]) -> str:
    out = []
    for i, body in enumerate(stages):
        base = "alpine" if i == 0 else f"s{i - 1}"
        out.append(f"FROM {base} AS s{i}")
        out += body
    return "\n".join(out) + "\n"


def _history(commits: list[list[tuple[str, bool, int]]]) -> History:
    base = {p: TreeEntry(0o100644, f"{p}@0") for p in PATHS[:3]}
    out = [Commit("c0", 0, (), ())]
    for n, changes in enumerate(commits, 1):
        chs = tuple(Change(p, p, 0 if deleted else 0o100644, "" if deleted else f"{p}@{v}",
                           "D" if deleted else "M") for p, deleted, v in changes)
        out.append(Commit(f"c{n}", n * 60, (f"c{n - 1}",), chs))
    return History(Path("/r"), "", tuple(out), base, False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dockerfile, history, st.booleans())
def test_rates_never_fall_along_a_stage_chain(stages, commits, ignore_docs) -> None:
    df = parse(_text(stages), "Dockerfile")
    plan = build_plan(df)
    matcher = Matcher.from_lines(["docs"]) if ignore_docs else Matcher([], "")
    version = Version(plan, matcher)
    result = replay(_history(commits), lambda _c, _b: version)
    summary = summarize(result, {}, plan=plan)
    for sp in plan.stages:
        chain = [op for op in sp.ops if not op.link]
        rates = [summary.instructions[op.instruction].change_rate for op in chain]
        if summary.builds == 0:  # every build failed: nothing is known, nothing is 0
            assert all(r is None for r in rates)
            continue
        assert rates == sorted(rates), (sp.index, rates)
    for c in result.commits:
        if c.failed:  # a failed build rebuilds nothing that counts
            assert c.rebuilt_ops == ()
            continue
        # every rebuilt op after a stage's first miss is rebuilt too
        by_stage: dict[int, list[int]] = {}
        for op in c.rebuilt_ops:
            if not op.link:
                by_stage.setdefault(op.stage, []).append(op.instruction)
        for sp in plan.stages:
            got = by_stage.get(sp.index, [])
            ops = [op.instruction for op in sp.ops if not op.link]
            assert got == ops[len(ops) - len(got):]
