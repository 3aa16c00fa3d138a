from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from layerlens.analysis import AnalyzeOptions, analyze
from layerlens.cache.timeline import HistoryOptions
from layerlens.suggest.engine import suggest
from layerlens.viewmodel import build_view

from ..conftest import IMAGES, ROOT


@pytest.fixture(scope="session")
def pyweb_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("tui") / "pyweb"
    bundle = ROOT / "layerlens" / "sample_bundles" / "pyweb.bundle"
    subprocess.run(["git", "clone", "-q", str(bundle), str(dest)], check=True)
    # .git is part of pyweb's build context (it has no .dockerignore), so its size is in the
    # snapshots: drop what records where the bundle lay (the origin URL, the clone's
    # reflog), or a checkout in another folder would render other sizes
    subprocess.run(["git", "-C", str(dest), "remote", "remove", "origin"], check=True)
    shutil.rmtree(dest / ".git" / "logs", ignore_errors=True)
    return dest


@pytest.fixture
def pyweb_view(pyweb_repo: Path, tmp_path: Path):
    # a fresh copy per test, so applying a fix never leaks into another test
    dest = tmp_path / "pyweb"
    shutil.copytree(pyweb_repo, dest, symlinks=True)
    a = analyze(AnalyzeOptions(dest / "Dockerfile"))
    return build_view(a, suggest(a))


@pytest.fixture(scope="session")
def image_view():
    # tests/data/images lies inside this repository: its git history is not the subject
    a = analyze(AnalyzeOptions(IMAGES / "test-image.Dockerfile", context=IMAGES,
                               image=str(IMAGES / "test-docker-image.tar"),
                               keep_image_files=True, history=HistoryOptions(enabled=False)))
    return build_view(a, suggest(a))


async def settle(pilot) -> None:
    """Let the widgets' worker threads (path trees) finish and their messages land."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def pressing(keys):
    """A snapshot's `run_before`: press `keys` one by one, settling after each."""
    async def run(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
    return run
