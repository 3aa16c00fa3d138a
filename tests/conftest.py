from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Reference inputs copied into the repository (tests/data/README.md says from where), so a
# fresh clone passes with nothing beside it.
DATA = Path(__file__).resolve().parent / "data"
CONFORMANCE = DATA / "conformance"
IMAGES = DATA / "images"


def have_buildah() -> bool:
    return shutil.which("buildah") is not None and os.geteuid() == 0


requires_buildah = pytest.mark.skipif(not have_buildah(), reason="buildah as root is needed")


@pytest.fixture(autouse=True, scope="session")
def _wide_text():
    """Text reports wrap at COLUMNS, and where a line wraps depends on the temporary paths
    it names, so a phrase a test looks for could be split on one machine and not on
    another. Tests read what the text says at a wide COLUMNS; the layout at 60, 80 and 200
    columns, and the default of 80, are tested where they set COLUMNS themselves
    (tests/test_text_width.py, tests/unit/test_textfit.py)."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "400"
    yield
    if old is None:
        os.environ.pop("COLUMNS", None)
    else:
        os.environ["COLUMNS"] = old


@pytest.fixture(autouse=True, scope="session")
def _private_cache_home(tmp_path_factory: pytest.TempPathFactory):
    """Mined-history caches go to a directory of this test session, never the user's."""
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


def _uses_buildah(item: pytest.Item) -> bool:
    mod = getattr(item, "module", None)
    return (hasattr(mod, "Buildah") or hasattr(mod, "requires_buildah")
            or any("buildah" in str(m.kwargs.get("reason", ""))
                   for m in item.iter_markers("skipif")))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Groups for pytest-xdist's `--dist loadgroup` (.ci/run): every test that builds with
    buildah runs on one worker, one build at a time, since concurrent buildah processes on
    one machine failed with `sealing memfd copy: Device or resource busy`; every other test
    module stays whole on one worker, so its module-scoped fixtures (git repositories built
    once per module) are not built again on each worker. Without xdist the marks do
    nothing."""
    for item in items:
        group = "buildah" if _uses_buildah(item) else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))
