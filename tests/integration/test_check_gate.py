"""The CI gate on real images built with buildah: grow, shrink, and broken baselines."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from layerlens.cli import main

from ..conftest import requires_buildah
from .harness import BUSYBOX, PRELUDE, Buildah, Repo

pytestmark = pytest.mark.integration



@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    # these tests read what the gate says, not how it is laid out (tests/test_text_width.py
    # checks that): one finding per line, with whole paths
    monkeypatch.setenv("COLUMNS", "400")


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


@requires_buildah
def test_default_budgets_catch_a_small_layer_growing_in_a_small_image(tmp_path: Path,
                                                                       capsys) -> None:
    """kuard-sized (issue 11): busybox plus one 200 KB binary. The binary layer growing to
    1.5 MB fails with no configuration at all; an unchanged rebuild passes; without the
    image, the image budgets are named as not measured."""
    repo = Repo(tmp_path / "small")
    shutil.copy(BUSYBOX, repo.root / "busybox")
    repo.write(".dockerignore", ".git\n.layerlens-baseline.json\n")
    repo.write("Dockerfile", PRELUDE + "COPY app /app\nENTRYPOINT [\"/app\"]\n")
    repo.write("app", os.urandom(200_000))
    repo.commit()
    b = Buildah(tmp_path / "state")
    v1 = _image(b, repo, "small1", tmp_path / "v1.tar")
    df = str(repo.root / "Dockerfile")
    assert main(["baseline", df, "--image", v1, "--no-history"]) == 0
    assert main(["check", df, "--image", v1, "--no-history"]) == 0
    repo.write("app", os.urandom(1_500_000))
    repo.commit()
    v2 = _image(b, repo, "small2", tmp_path / "v2.tar")
    capsys.readouterr()
    assert main(["check", df, "--image", v2, "--no-history"]) == 1
    out = capsys.readouterr().out
    assert f"{df}:4:" in out and "COPY app /app" in out and "grew by" in out
    assert main(["check", df, "--no-history"]) == 1
    out = capsys.readouterr().out
    assert "budget layer_size" in out and "no image to measure" in out


def test_scan_checks_dockerfiles_with_a_baseline_in_build_dirs(tmp_path: Path,
                                                               capsys) -> None:
    def project(rel: str, baseline: bool) -> Path:
        d = tmp_path / rel
        d.mkdir(parents=True)
        (d / "Dockerfile").write_text("FROM a\nCOPY . /app\n")
        (d / "f").write_text("1")
        if baseline:
            assert main(["baseline", str(d), "--no-history"]) == 0
        return d

    project("svc", True)
    pkg = project("build/package", True)  # the Go project layout
    project("build/tmp", False)
    project("node_modules/dep", False)
    (pkg / "big").write_bytes(os.urandom(3 * 1024 * 1024))
    capsys.readouterr()
    assert main(["scan", str(tmp_path), "--no-history"]) == 1
    out = capsys.readouterr().out
    assert "build/package/Dockerfile: 2 over budget" in out
    assert "svc/Dockerfile: within budget" in out
    assert "build/tmp/Dockerfile: skipped" in out and "node_modules/dep/Dockerfile: skipped" in out

    assert main(["scan", str(tmp_path), "--no-history", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)  # one document
    assert [d["ok"] for d in doc["dockerfiles"]] == [False, True]
    assert sorted(s["dockerfile"] for s in doc["skipped"]) == [
        str(tmp_path / "build/tmp/Dockerfile"), str(tmp_path / "node_modules/dep/Dockerfile")]

    assert main(["scan", str(tmp_path), "--no-history", "--format", "sarif"]) == 1
    import jsonschema

    from .test_gate_outputs import SCHEMA

    log = json.loads(capsys.readouterr().out)  # one SARIF log, one run, for the whole tree
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert len(log["runs"]) == 1 and log["runs"][0]["results"]

    # an empty skip list checks everything: the Dockerfiles without a baseline are errors
    assert main(["scan", str(tmp_path), "--no-history", "--skip-dirs", ""]) == 2
    out = capsys.readouterr().out
    assert "build/tmp/Dockerfile: error:" in out and "baseline not found" in out
    (tmp_path / ".layerlens.toml").write_text('[check]\nskip_dirs = ["node_modules"]\n')
    assert main(["scan", str(tmp_path), "--no-history", "--format", "junit"]) == 2
    xml = capsys.readouterr().out
    from .test_gate_outputs import JUNIT

    JUNIT.validate(xml)
    root = ET.fromstring(xml)
    assert root.get("errors") == "1" and root.get("failures") == "2"
    assert [s.get("skipped") for s in root] == ["0", "0", "0", "1"]


def test_ci_built_copy_sources_are_unknown_not_zero(tmp_path: Path, capsys) -> None:
    # gs-spring-boot-docker's shape: the Dockerfile copies what `mvn package` makes; a
    # baseline made before the build must record unknown sizes, and a check after the
    # build must not call that growth from 0 B
    repo = Repo(tmp_path / "proj")
    repo.write(".dockerignore", ".git\n.layerlens-baseline.json\n")
    repo.write("Dockerfile", "FROM eclipse-temurin:17\nCOPY target/dependency/lib /app/lib\n"
                             "COPY conf.txt /app/conf.txt\n")
    repo.write("conf.txt", "a\n")
    repo.commit()
    repo.write("conf.txt", "b\n")
    repo.commit()
    df = str(repo.root / "Dockerfile")
    assert main(["baseline", df]) == 0
    doc = json.loads((repo.root / ".layerlens-baseline.json").read_text())
    sizes = {x["line"]: x["size_bytes"] for x in doc["layers"]}
    assert sizes == {2: None, 3: 2}
    assert doc["totals"]["context_bytes"] is None
    capsys.readouterr()
    # before the build: nothing about the absent files is measured, and it says why
    assert main(["check", df]) == 0
    out = capsys.readouterr().out
    assert "(1 checked)" in out.splitlines()[0]  # conf.txt's layer only
    assert "'target/dependency/lib' (line 2)" in out and "build the artifacts first" in out
    # after the build: the baseline's unknown is not compared with today's size
    repo.write("target/dependency/lib/app.jar", os.urandom(3_000_000))
    assert main(["check", df]) == 0
    out = capsys.readouterr().out
    assert "grew" not in out and "FAIL" not in out
    assert "layer sizes unknown in the baseline" in out and "line 2;" in out
    # a baseline made after the build, checked where the files are absent: not measured
    assert main(["baseline", df]) == 0
    shutil.rmtree(repo.root / "target")
    capsys.readouterr()
    assert main(["check", df]) == 1
    out = capsys.readouterr().out
    assert "is absent from the build context" in out and "build the artifacts first" in out
