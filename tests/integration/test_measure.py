"""`layerlens measure` with buildah: a FROM-scratch project is built once, the step seconds
are recorded under $XDG_CACHE_HOME/layerlens, and `analyze` then prices those steps as
measured, until an instruction's inputs change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import requires_buildah
from .harness import PRELUDE, Repo

pytestmark = [pytest.mark.integration, requires_buildah]

DOCKERFILE = PRELUDE + ("RUN busybox sleep 1\n"
                        "COPY app /app\n"
                        "RUN echo built > /app/stamp\n")


def _run(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp / "xdg"),
           "LAYERLENS_VERIFY_STORAGE": str(tmp / "store")}
    return subprocess.run([sys.executable, "-m", "layerlens", *args], capture_output=True,
                          text=True, timeout=900, env=env)


def _costs(tmp: Path, repo: Repo) -> dict[int, dict]:
    res = _run(tmp, "analyze", str(repo.root), "--format", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    return {i["start_line"]: i["cost"] for i in doc["dockerfile"]["instructions"]
            if i.get("cost")}


def test_measured_seconds_are_recorded_and_used(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "p")
    repo.busybox()
    repo.write("Dockerfile", DOCKERFILE)
    repo.write("app/run", "echo hi\n")
    repo.commit("initial")
    repo.write("app/run", "echo hello\n")
    repo.commit("edit app")
    before = _costs(tmp_path, repo)
    assert {c["build_seconds_source"] for c in before.values()} == {"estimate"}

    res = _run(tmp_path, "measure", str(repo.root), "--format", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["builder"] == "buildah" and doc["untimed_steps"] == 0
    secs = {s["line"]: s["seconds"] for s in doc["steps"]}
    assert sorted(secs) == [2, 3, 4, 5, 6]
    # `busybox sleep 1` cannot take less than a second, whatever the load; nothing here
    # takes minutes. (No comparison between steps: on a loaded machine the layer commit
    # after an echo can outlast a one-second sleep.)
    assert 1.0 <= secs[4] < 120
    assert all(0 < s < 120 for s in secs.values())
    assert Path(doc["store"]).is_file()
    assert Path(doc["store"]).is_relative_to(tmp_path / "xdg" / "layerlens")

    after = _costs(tmp_path, repo)
    for line, s in secs.items():
        assert after[line]["build_seconds_source"] == "measured", after[line]
        assert after[line]["build_seconds"] == pytest.approx(s, abs=0.002)
        assert "buildah" in after[line]["build_seconds_basis"]

    # suggest's headline prices the replayed rebuild (app/ changed: its COPY and the RUN
    # after it) with the measured seconds, and says they are not estimated
    res = _run(tmp_path, "suggest", str(repo.root), "--format", "json", "--exit-zero")
    assert res.returncode == 0, res.stderr
    now = json.loads(res.stdout)["headline"]["variants"]["current"]
    assert now["estimated"] is False
    assert now["rebuild_seconds_per_commit"] == pytest.approx(secs[5] + secs[6], abs=0.002)

    # A changed input: the COPY of app/ and the RUN after it are estimated again; the steps
    # above it keep their measured seconds.
    repo.write("app/run", "echo changed\n")
    changed = _costs(tmp_path, repo)
    assert [changed[n]["build_seconds_source"] for n in (2, 3, 4)] == ["measured"] * 3
    assert [changed[n]["build_seconds_source"] for n in (5, 6)] == ["estimate"] * 2
    assert changed[6]["build_seconds_basis"].startswith("RUN model")


def test_a_failing_build_is_one_line_and_records_nothing(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "p")
    repo.busybox()
    repo.write("Dockerfile", PRELUDE + "RUN busybox false\n")
    repo.commit("initial")
    res = _run(tmp_path, "measure", str(repo.root))
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "buildah build failed" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "xdg" / "layerlens" / "measured").exists()
