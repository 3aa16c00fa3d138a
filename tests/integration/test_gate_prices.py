"""The gate judges churn, not a change of how seconds are figured: a baseline whose steps
were priced another way (an older estimate model, a `layerlens measure` build, a build log)
is compared at its own seconds per rebuild, and a real change of churn still fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .harness import Repo

pytestmark = pytest.mark.integration

LL = [sys.executable, "-m", "layerlens"]
DF = "FROM a\nCOPY dep /dep\nRUN make\nCOPY app /app\nRUN echo ok > /ok\n"
MAKE = "stage 0: RUN make"


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LL, *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ))


def _project(root: Path) -> Repo:
    r = Repo(root)
    r.write(".dockerignore", ".git\n.layerlens-baseline.json\n")
    r.write("Dockerfile", DF)
    r.write("dep", "1")
    for i in range(6):
        r.write("app", str(i))
        if i == 3:
            r.write("dep", "2")
        r.commit()
    return r


def _as_older_baseline(path: Path, run_seconds: float) -> None:
    """Rewrite the baseline as an older layerlens wrote it: no step prices, every RUN
    priced at `run_seconds` per rebuild (the flat default of old)."""
    doc = json.loads(path.read_text())
    prices = doc.pop("step_prices")
    total = doc["replay"]["rebuild_seconds_per_commit"]
    for lay in doc["layers"]:
        if ": RUN " in lay["key"] and lay["change_rate"]:
            now = prices[lay["key"]]["build_seconds"]
            lay["rebuild_seconds_per_commit"] = round(lay["change_rate"] * run_seconds, 3)
            total += lay["change_rate"] * (run_seconds - now)
    doc["replay"]["rebuild_seconds_per_commit"] = round(total, 3)
    path.write_text(json.dumps(doc))


def test_old_prices_are_kept_and_churn_is_judged(tmp_path: Path) -> None:
    repo = _project(tmp_path / "p")
    assert _run("baseline", repo.root).returncode == 0
    base = repo.root / ".layerlens-baseline.json"
    doc = json.loads(base.read_text())
    assert doc["step_prices"][MAKE]["source"] == "estimate"
    make_now = doc["step_prices"][MAKE]["build_seconds"]
    assert make_now > 20  # the RUN model prices a compile above the old flat 20 s
    _as_older_baseline(base, 20.0)

    res = _run("check", repo.root, "--format", "json")
    out = json.loads(res.stdout)
    assert res.returncode == 0, res.stdout
    assert any("priced at the baseline's seconds per rebuild" in n for n in out["notices"])
    checked = {f"{f['metric']} {f['subject']}": f["current"] for f in out["checked"]}
    rate = next(x["change_rate"] for x in doc["layers"] if x["key"] == MAKE)
    assert checked["layer_rebuild_seconds RUN make (line 3)"] == pytest.approx(rate * 20,
                                                                               abs=0.002)

    # A real change of churn: RUN make now after the COPY of app, which changes every commit
    repo.write("Dockerfile", "FROM a\nCOPY dep /dep\nCOPY app /app\nRUN make\n"
               "RUN echo ok > /ok\n")
    repo.commit()
    res = _run("check", repo.root, "--format", "json")
    assert res.returncode == 1, res.stdout
    out = json.loads(res.stdout)
    assert any(v["metric"] == "layer_rebuild_seconds" and "RUN make" in v["subject"]
               for v in out["violations"])
