"""`suggest --write --verify`: the rewrite is built and compared with the original.

FROM-scratch projects (a static busybox and the stand-in tools of fake_tools), built with
buildah in a private store. A safe fix is proven and written; an unsafe fix that really
changes the image is refused and nothing is written; a .dockerignore fix lists the files it
drops on purpose.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import requires_buildah
from .harness import BUSYBOX, PRELUDE, Repo

pytestmark = [pytest.mark.integration, requires_buildah]
TOOLS = Path(__file__).parent / "fake_tools"
BASE = PRELUDE + "COPY tools/ /usr/local/bin/\n"


def _project(root: Path, dockerfile: str, files: dict[str, str],
             edits: list[str] = ()) -> Repo:
    repo = Repo(root)
    shutil.copy(BUSYBOX, root / "busybox")
    shutil.copytree(TOOLS, root / "tools")
    repo.write("Dockerfile", dockerfile)
    for rel, text in files.items():
        repo.write(rel, text, mode=0o755 if rel.endswith(".sh") else None)
    repo.commit("initial")
    for n, rel in enumerate(edits):
        p = root / rel
        p.write_text(p.read_text() + f"# edit {n}\n")
        repo.commit(f"edit {rel}")
    return repo


def _suggest(repo: Repo, tmp_path: Path, *flags: str) -> tuple[dict, str]:
    env = {**os.environ, "LAYERLENS_VERIFY_STORAGE": str(tmp_path / "store")}
    res = subprocess.run([sys.executable, "-m", "layerlens", "suggest", str(repo.root),
                          "--format", "json", "--write", "--verify", *flags],
                         capture_output=True, text=True, timeout=900, env=env)
    assert res.returncode in (0, 1), res.stderr
    return json.loads(res.stdout), res.stderr


def test_safe_fold_is_proven_and_written(tmp_path: Path) -> None:
    df = BASE + ("RUN apt-get update && apt-get install -y curl # tools\n"
                 "COPY app /app\nRUN rm -rf /var/lib/apt/lists/*\nCMD [\"/app/run\"]\n")
    repo = _project(tmp_path / "p", df, {"app/run": "echo hi\n", ".dockerignore": ".git\n"})
    doc, err = _suggest(repo, tmp_path)
    assert [a["rule"] for a in doc["applied"]] == ["LL004"]
    assert doc["applied"][0]["fix"] == "safe"
    v = doc["verify"]
    assert v["builder"] == "buildah" and v["identical"] is True, v
    assert v["differences"] == [] and v["intended"] == []
    text = (repo.root / "Dockerfile").read_text()
    assert "&& rm -rf /var/lib/apt/lists/* # tools" in text and "wrote" in err


def test_unsafe_fix_that_changes_the_image_is_refused(tmp_path: Path) -> None:
    # stamp.sh reads GIT_SHA from its environment: moving the ARG past it changes /stamp.
    df = BASE + ("ARG GIT_SHA=unknown\nWORKDIR /src\nCOPY stamp.sh /src/\nRUN ./stamp.sh\n"
                 "COPY app /app\nRUN echo $GIT_SHA > /rev\n")
    files = {"stamp.sh": "#!/bin/sh\necho \"built from ${GIT_SHA:-nothing}\" > /stamp\n",
             "app/run": "x\n", ".dockerignore": ".git\n"}
    repo = _project(tmp_path / "p", df, files)
    doc, _ = _suggest(repo, tmp_path)
    [s] = [s for s in doc["suggestions"] if s["rule"] == "LL003"]
    assert s["fix"] == "unsafe" and "stamp.sh" in s["unsafe_reason"]
    assert doc["applied"] == [] and doc["verify"] is None  # safe-only: nothing to prove
    doc, err = _suggest(repo, tmp_path, "--unsafe-fixes")
    assert [a["rule"] for a in doc["applied"]] == ["LL003"]
    v = doc["verify"]
    assert v["identical"] is False and "stamp" in v["differences"], v
    assert (repo.root / "Dockerfile").read_text() == df and "nothing written" in err


def test_dockerignore_fix_lists_the_files_it_drops(tmp_path: Path) -> None:
    df = BASE + "WORKDIR /srv\nCOPY . .\nCMD [\"/srv/run\"]\n"
    files = {"run": "echo\n", "docs/a.md": "d\n", ".dockerignore": ".git\n"}
    repo = _project(tmp_path / "p", df, files, ["docs/a.md", "docs/a.md", "docs/a.md"])
    doc, _ = _suggest(repo, tmp_path, "--unsafe-fixes", "--select", "LL005")
    assert [a["rule"] for a in doc["applied"]] == ["LL005"]
    v = doc["verify"]
    assert v["identical"] is True, v
    assert "srv/docs/a.md" in v["intended"] and "srv/docs" in v["intended"]
    assert "docs" in (repo.root / ".dockerignore").read_text().split()


def test_written_then_removed_is_measured_from_the_image(tmp_path: Path) -> None:
    from layerlens.analysis import AnalyzeOptions, analyze
    from layerlens.suggest.engine import suggest

    from .harness import Buildah

    df = PRELUDE + ("RUN mkdir -p /root/.cache/build && "
                    "dd if=/dev/zero of=/root/.cache/build/blob bs=1024 count=64 && "
                    "echo built > /out\n"
                    "RUN cat /out > /out2 && rm -rf /root/.cache/build\n")
    repo = _project(tmp_path / "p", df, {".dockerignore": ".git\n"})
    b = Buildah(tmp_path / "state")
    b.bud(repo.root, "wtr")
    b.push("wtr", f"docker-archive:{tmp_path / 'img.tar'}:wtr:latest")
    res = analyze(AnalyzeOptions(repo.root / "Dockerfile", image=str(tmp_path / "img.tar"),
                                 keep_image_files=True))
    sugs = [s for s in suggest(res, select={"LL004"}).suggestions if s.lines == (4, 5)]
    assert len(sugs) == 1 and not sugs[0].fixable
    assert "removes what the RUN at line 4 wrote" in sugs[0].message
    assert sugs[0].savings.image_bytes == 64 * 1024
