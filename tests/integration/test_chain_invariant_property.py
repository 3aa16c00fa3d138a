"""Property: along a cache chain, change_rate never decreases (issue 11, item 8).

BuildKit keys every operation on its parent's key, so a miss at one operation of a stage is
a miss at every later one: over any history, a later operation of a stage rebuilds at least
as often as an earlier one. Histories are generated (files changed per commit, sometimes a
new Dockerfile), written with one `git fast-import`, and analyzed through the command line.
Both properties hold since the current-file replay landed (issue 11).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from layerlens.cli import main

pytestmark = pytest.mark.integration

# Each example is a git repository and a replay: few examples, no shrinking (a failure
# prints its history as generated; shrinking one costs minutes).
PROPERTY = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow])
FILES = ("req.txt", "src/app.py", "src/util.py", "docs/readme.md", "static/site.css")
# Operations a Dockerfile is built from; distinct texts (repeated texts are fault 4 of
# test_real_history_faults.py), so that each line is its own operation.
OPS = (
    "WORKDIR /app", "COPY req.txt /app/", "RUN pip install -r /app/req.txt",
    "COPY src /app/src", "RUN python -m compileall /app/src", "COPY . /app",
    "COPY static /app/static", "ENV MODE=prod", "RUN echo build", "COPY docs/ /app/docs/",
)

dockerfiles = st.lists(st.sampled_from(OPS), min_size=1, max_size=6, unique=True).map(
    lambda ops: "FROM alpine\n" + "".join(op + "\n" for op in ops))
commit_changes = st.lists(st.sampled_from(FILES), min_size=1, max_size=3, unique=True)


def write_history(root: Path, first: str, commits: list[tuple[list[str], str | None]]) -> None:
    """A repository whose first commit has every file and `first` as its Dockerfile; each
    later commit rewrites the listed files and, when given, the Dockerfile."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    stream: list[bytes] = []

    def blob(path: str, text: str) -> None:
        data = text.encode()
        stream.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")

    for n, (files, df) in enumerate([(list(FILES), first), *commits]):
        stream.append(f"commit refs/heads/main\nmark :{n + 1}\n".encode())
        stream.append(f"committer t <t@example.com> {1_700_000_000 + 3600 * n} +0000\n"
                      f"data 2\nc\n".encode())
        if n:
            stream.append(f"from :{n}\n".encode())
        for f in files:
            blob(f, f"{f} {n}\n")
        if n == 0:
            blob(".dockerignore", ".git\n")
        if df is not None:
            blob("Dockerfile", df)
        stream.append(b"\n")
    subprocess.run(["git", "-C", str(root), "fast-import", "--quiet"],
                   input=b"".join(stream), check=True)
    subprocess.run(["git", "-C", str(root), "checkout", "-q", "-f", "main"], check=True)


def assert_chain_invariant(root: Path) -> None:
    out = root.parent / "analyze.json"
    assert main(["analyze", str(root / "Dockerfile"), "--format", "json",
                 "--output", str(out)]) == 0
    doc = json.loads(out.read_text())
    chains: dict[int, list[tuple[int, float]]] = {}
    for ins in doc["dockerfile"]["instructions"]:
        if ins["change_rate"] is not None:
            chains.setdefault(ins["stage"], []).append((ins["start_line"], ins["change_rate"]))
    for stage, ops in chains.items():
        for (la, ra), (lb, rb) in itertools.pairwise(ops):
            assert rb >= ra, f"stage {stage}: line {la} rate {ra} > line {lb} rate {rb}"


@PROPERTY
@given(dockerfiles, st.lists(commit_changes, min_size=1, max_size=8))
def test_chain_invariant_fixed_dockerfile(df: str, changes: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        write_history(root, df, [(files, None) for files in changes])
        assert_chain_invariant(root)


@PROPERTY
@given(dockerfiles, st.lists(st.tuples(commit_changes, st.one_of(st.none(), dockerfiles)),
                             min_size=1, max_size=8))
def test_chain_invariant_dockerfile_changes(
        df: str, commits: list[tuple[list[str], str | None]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        write_history(root, df, commits)
        assert_chain_invariant(root)
