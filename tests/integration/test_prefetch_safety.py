"""Issue 16: a dependency prefetch layer inserted into a builder stage keeps the final image.

A FROM-scratch two-stage Go project (busybox and the stand-in `go` of fake_tools: `mod
download` fills the module cache from go.mod and go.sum, `build` writes a binary made of
the sources and go.sum only). `suggest --write --verify` (safe fixes only) inserts `COPY
go.mod go.sum ./` and `RUN go mod download` before the broad COPY of the builder stage,
buildah builds the original and the rewrite, and the final images must be identical.
Where the final image can see the module cache (a single stage; a final stage copying the
cache), the fix is unsafe: not applied without --unsafe-fixes, and with it the real build
shows the difference the proof refused to rule out (as `go mod download` does, the
stand-in's prefetch fetches the test-only module too, which the build never needs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import requires_buildah
from .test_suggest_safety import BASE, make_project

pytestmark = [pytest.mark.integration, requires_buildah]

BUILDER = BASE.replace("FROM scratch", "FROM scratch AS build") + """\
WORKDIR /src
COPY . .
RUN go build -o /out/app ./cmd/app
"""
FINAL = """\
FROM scratch
COPY busybox /bin/busybox
COPY --from=build {src} {dest}
ENTRYPOINT ["/app"]
"""
FILES = {
    "go.mod": "module example.com/app\n\ngo 1.22\n\nrequire github.com/spf13/pflag v1.0.5\n"
              "require github.com/stretchr/testify v1.9.0\n",
    "go.sum": "github.com/spf13/pflag v1.0.5 h1:abc=\ngithub.com/stretchr/testify v1.9.0 h1:d=\n",
    "cmd/app/main.go": 'package main\n\nimport "github.com/spf13/pflag"\n',
    "cmd/app/main_test.go": 'package main\n\nimport "github.com/stretchr/testify"\n',
    "pkg/lib/lib.go": "package lib\n",
}
EDITS = ["pkg/lib/lib.go", "cmd/app/main.go", "pkg/lib/lib.go", "pkg/lib/lib.go"]


def _suggest(tmp_path: Path, dockerfile: str, *flags: str,
             files: dict[str, str] | None = None) -> dict:
    repo = make_project(tmp_path / "p", {**FILES, **(files or {}), "Dockerfile": dockerfile},
                        EDITS)
    env = {**os.environ, "LAYERLENS_VERIFY_STORAGE": str(tmp_path / "store")}
    res = subprocess.run([sys.executable, "-m", "layerlens", "suggest", str(repo.root),
                          "--format", "json", "--write", "--verify", *flags],
                         capture_output=True, text=True, env=env, timeout=1200)
    assert res.stdout, res.stderr
    doc = json.loads(res.stdout)
    doc["_written"] = (repo.root / "Dockerfile").read_text()
    return doc


def _applied(doc: dict) -> list[str]:
    return [f"{a['rule']}:{a['fix']}" for a in doc["applied"]]


def test_prefetch_in_a_builder_stage_keeps_the_final_image(tmp_path: Path) -> None:
    doc = _suggest(tmp_path, BUILDER + FINAL.format(src="/out/app", dest="/app"))
    assert _applied(doc) == ["LL002:safe"], doc["applied"]
    assert doc["verify"] is not None and doc["verify"]["identical"], doc["verify"]
    assert "COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n" in doc["_written"]
    v = doc["verify"]
    assert v is not None and v["identical"], v
    # the replay shows the saving: source edits no longer pay the download
    assert doc["applied"][0]["savings"]["rebuild_seconds_per_commit"] > 0


@pytest.mark.parametrize(("dockerfile", "inserted"), [
    # the build runs through a project script (runmodel/follow.py follows it)
    (BUILDER.replace("RUN go build -o /out/app ./cmd/app", "RUN sh build.sh"),
     "COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN sh build.sh\n"),
    # rclone's shape: COPY . /abs, then WORKDIR /abs: the same WORKDIR goes first
    (BUILDER.replace("WORKDIR /src\nCOPY . .\n", "COPY . /src/\nWORKDIR /src\n"),
     "WORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . /src/\n"),
], ids=["script", "workdir-after-copy"])
def test_prefetch_for_a_script_build_keeps_the_final_image(
        tmp_path: Path, dockerfile: str, inserted: str) -> None:
    doc = _suggest(tmp_path, dockerfile + FINAL.format(src="/out/app", dest="/app"),
                   files={"build.sh": "set -e\ngo build -o /out/app ./cmd/app\n"})
    assert _applied(doc) == ["LL002:safe"], doc["applied"]
    assert inserted in doc["_written"]
    v = doc["verify"]
    assert v is not None and v["identical"], v
    assert doc["applied"][0]["savings"]["rebuild_seconds_per_commit"] > 0


@pytest.mark.parametrize("dockerfile", [
    BUILDER.replace("FROM scratch AS build", "FROM scratch"),  # one stage: the image
    BUILDER + FINAL.format(src="/root/go", dest="/root/go"),  # the final stage takes the cache
], ids=["single-stage", "copies-the-cache"])
def test_prefetch_where_the_final_image_sees_the_cache_is_unsafe(
        tmp_path: Path, dockerfile: str) -> None:
    safe_only = _suggest(tmp_path / "safe", dockerfile)
    assert "LL002:safe" not in _applied(safe_only)
    [s] = [s for s in safe_only["suggestions"] if s["rule"] == "LL002"]
    assert s["fix"] == "unsafe" and "download cache" in s["unsafe_reason"]
    unsafe = _suggest(tmp_path / "unsafe", dockerfile, "--unsafe-fixes")
    assert "LL002:unsafe" in _applied(unsafe)
    v = unsafe["verify"]  # the real build shows the module cache in the image
    assert v is not None and not v["identical"], v
