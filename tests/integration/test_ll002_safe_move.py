"""Issue 16: LL002's manifests-first move, a safe fix exactly where it is proven.

FROM-scratch projects with a static busybox and the stand-in npm of fake_tools (`npm ci`
reads only package.json and package-lock.json and writes node_modules; a locked package
marked hasInstallScript runs a script that lists the project, as real install scripts may
look at it). `suggest --write --verify` builds the original and the rewrite with buildah
and compares the final root filesystems (paths, types, modes, owners, link targets,
content hashes) and configs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from layerlens.analysis import AnalyzeOptions, analyze
from layerlens.dockerfile import parse
from layerlens.suggest.engine import suggest

from ..conftest import requires_buildah
from .harness import BUSYBOX, PRELUDE, Buildah, Repo
from .test_suggest_safety import build_tree

pytestmark = [pytest.mark.integration, requires_buildah]
TOOLS = Path(__file__).parent / "fake_tools"
DOCKERFILE = PRELUDE + """\
COPY tools/ /usr/local/bin/
WORKDIR /app
COPY --chown=1000:1000 . .
RUN npm ci
RUN npm run build
CMD ["node", "dist/server.js"]
"""
LOCK = {"name": "app", "lockfileVersion": 3, "requires": True,
        "packages": {"": {"name": "app", "dependencies": {"express": "4.19.2"}},
                     "node_modules/express": {"version": "4.19.2"}}}


def _project(root: Path, lock: dict, ignore: str = ".git\nnode_modules\n",
             extra: dict[str, str] | None = None) -> Repo:
    repo = Repo(root)
    shutil.copy(BUSYBOX, root / "busybox")
    shutil.copytree(TOOLS, root / "tools")
    files = {"Dockerfile": DOCKERFILE, ".dockerignore": ignore,
             "package.json": '{\n  "name": "app",\n  "dependencies": {"express": "4.19.2"}\n}\n',
             "package-lock.json": json.dumps(lock, indent=2) + "\n",
             "src/server.ts": "listen(3000)\n", **(extra or {})}
    for rel, text in files.items():
        repo.write(rel, text)
    repo.commit("initial")
    for n in range(4):  # source edits: the install layer is what the move keeps cached
        p = root / "src/server.ts"
        p.write_text(p.read_text() + f"// edit {n}\n")
        repo.commit(f"edit {n}")
    return repo


def _suggest(repo: Repo, tmp_path: Path, *flags: str) -> dict:
    env = {**os.environ, "LAYERLENS_VERIFY_STORAGE": str(tmp_path / "store")}
    res = subprocess.run([sys.executable, "-m", "layerlens", "suggest", str(repo.root),
                          "--format", "json", "--write", "--verify", "--select", "LL002",
                          *flags], capture_output=True, text=True, timeout=900, env=env)
    assert res.returncode in (0, 1), res.stderr
    return json.loads(res.stdout)


def test_proven_move_is_safe_and_builds_the_same_image(tmp_path: Path) -> None:
    repo = _project(tmp_path / "p", LOCK)
    doc = _suggest(repo, tmp_path)  # safe fixes only
    assert [(a["rule"], a["fix"]) for a in doc["applied"]] == [("LL002", "safe")]
    v = doc["verify"]
    assert v["builder"] == "buildah" and v["identical"] is True, v
    assert v["differences"] == [] and v["intended"] == []
    text = (repo.root / "Dockerfile").read_text()  # written after the proof
    assert ("COPY --chown=1000:1000 package.json package-lock.json ./\nRUN npm ci\n"
            "COPY --chown=1000:1000 . .\nRUN npm run build\n") in text


def test_install_script_keeps_the_move_unsafe_and_the_build_refuses_it(
        tmp_path: Path) -> None:
    lock = json.loads(json.dumps(LOCK))
    lock["packages"]["node_modules/express"]["hasInstallScript"] = True
    repo = _project(tmp_path / "p", lock)
    doc = _suggest(repo, tmp_path)
    [s] = [s for s in doc["suggestions"] if s["rule"] == "LL002"]
    assert s["fix"] == "unsafe" and "install script" in s["unsafe_reason"]
    assert doc["applied"] == []  # nothing safe to apply, nothing built
    before = (repo.root / "Dockerfile").read_text()
    doc = _suggest(repo, tmp_path, "--unsafe-fixes")
    v = doc["verify"]
    assert v["identical"] is False, v  # the script saw the source before, not after
    assert any(d.endswith("node_modules/.install-script-saw") for d in v["differences"]), v
    assert (repo.root / "Dockerfile").read_text() == before  # refused: nothing written


def test_node_modules_in_the_context_is_not_moved(tmp_path: Path) -> None:
    """The broad COPY would put the context's node_modules over what the install wrote:
    a hint, and the forced rewrite really builds a different image."""
    from layerlens.suggest.rules.ll002_manifests import _rewrite

    repo = _project(tmp_path / "p", LOCK, ignore=".git\n",
                    extra={"node_modules/express": "0.0.1-stale\n"})
    rep = suggest(analyze(AnalyzeOptions(repo.root / "Dockerfile")), select={"LL002"},
                  unsafe_fixes=True)
    [s] = rep.suggestions
    assert s.fix_class == "hint" and "node_modules" in s.note
    df = parse(DOCKERFILE)
    copy = next(i for i in df.instructions if i.original.startswith("COPY --chown"))
    run = next(i for i in df.instructions if i.original == "RUN npm ci")
    b = Buildah(tmp_path / "state")
    tree_before, _ = build_tree(b, repo.root, "w16a-nm-before", tmp_path / "before.tar")
    (repo.root / "Dockerfile").write_text(
        _rewrite(df, copy, run, ["package.json", "package-lock.json"]))
    tree_after, _ = build_tree(b, repo.root, "w16a-nm-after", tmp_path / "after.tar")
    got = {e[0]: e for e in tree_before}, {e[0]: e for e in tree_after}
    assert got[0]["app/node_modules/express"] != got[1]["app/node_modules/express"]
