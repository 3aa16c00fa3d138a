"""The CI gate on real images built with buildah: grow, shrink, and broken baselines."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from layerlens.cli import main

from ..conftest import requires_buildah
from .harness import BUSYBOX, PRELUDE, Buildah, Repo

pytestmark = pytest.mark.integration

DF = PRELUDE + "COPY data.bin /data.bin\nRUN echo ready > /ready\nCMD [\"/bin/sh\"]\n"


def _project(tmp_path: Path, size: int) -> Repo:
    repo = Repo(tmp_path / "proj")
    shutil.copy(BUSYBOX, repo.root / "busybox")
    repo.write(".dockerignore", ".git\n.layerlens-baseline.json\n")
    repo.write("Dockerfile", DF)
    repo.write("data.bin", os.urandom(size))
    repo.commit()
    return repo


def _image(b: Buildah, repo: Repo, tag: str, out: Path) -> str:
    b.bud(repo.root, tag)
    b.push(tag, f"oci-archive:{out}")
    return str(out)


@requires_buildah
def test_grow_fails_naming_the_line_shrink_passes(tmp_path: Path, capsys) -> None:
    repo = _project(tmp_path, 200_000)
    b = Buildah(tmp_path / "state")
    v1 = _image(b, repo, "v1", tmp_path / "v1.tar")
    df = str(repo.root / "Dockerfile")
    assert main(["baseline", df, "--image", v1]) == 0
    baseline = repo.root / ".layerlens-baseline.json"
    doc = json.loads(baseline.read_text())
    first = baseline.read_bytes()
    assert main(["baseline", df, "--image", v1]) == 0
    assert baseline.read_bytes() == first  # deterministic
    assert any(x["key"] == "stage 0: COPY data.bin /data.bin" for x in doc["layers"])

    repo.write("data.bin", os.urandom(200_000 + 8 * 1024 * 1024))
    repo.commit()
    v2 = _image(b, repo, "v2", tmp_path / "v2.tar")
    capsys.readouterr()
    assert main(["check", df, "--image", v2]) == 1
    out = capsys.readouterr().out
    assert f"{df}:4:" in out and "COPY data.bin /data.bin" in out and "grew by 8" in out

    repo.write("data.bin", os.urandom(100_000))
    repo.commit()
    v3 = _image(b, repo, "v3", tmp_path / "v3.tar")
    assert main(["check", df, "--image", v3]) == 0
    out = capsys.readouterr().out
    assert "within budget" in out and "tighten" in out

    for fmt in ("json", "sarif", "junit", "markdown", "github"):
        assert main(["check", df, "--image", v2, "--format", fmt]) == 1
        text = capsys.readouterr().out
        if fmt in ("json", "sarif"):
            json.loads(text)
        if fmt == "junit":
            assert "<failure" in text
        if fmt == "github":
            assert text.startswith("::error file=") and ",line=4," in text


def test_missing_and_corrupt_baselines_exit_2(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM a\nCOPY x /x\n")
    (tmp_path / "x").write_text("1")
    cmd = [sys.executable, "-m", "layerlens", "check", str(tmp_path), "--no-history"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 2 and "baseline not found" in res.stderr
    (tmp_path / ".layerlens-baseline.json").write_text('{"schema": 1, "layers": [')
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 2 and "not valid JSON" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    (tmp_path / ".layerlens-baseline.json").write_text('{"hello": "world"}')
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 2 and "not a layerlens baseline" in res.stderr


def test_context_only_gate_and_scan(tmp_path: Path, capsys) -> None:
    for name in ("svc-a", "svc-b"):
        d = tmp_path / name
        d.mkdir()
        (d / "Dockerfile").write_text("FROM a\nCOPY . /app\n")
        (d / "f").write_text("1")
        assert main(["baseline", str(d), "--no-history"]) == 0
    (tmp_path / "svc-b" / "big").write_bytes(os.urandom(12 * 1024 * 1024))
    capsys.readouterr()
    assert main(["scan", str(tmp_path), "--no-history"]) == 1
    out = capsys.readouterr().out
    assert "svc-a/Dockerfile: within budget" in out and "svc-b/Dockerfile: 2 over budget" in out
