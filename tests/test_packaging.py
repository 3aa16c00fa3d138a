"""What a non-editable install ships: the wheel built from this tree, installed on its own.

The suite itself runs against an editable install, where files outside the package still
resolve; these tests build the real wheel (`pip wheel --no-deps`, offline, with the
setuptools of the test environment) and check what `pip install .` would put on a user's
machine.
"""

from __future__ import annotations

import ast
import email
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from layerlens.samples import SAMPLES

ROOT = Path(__file__).resolve().parent.parent
# Not part of the source a wheel is built from: environments, caches, build output, git.
_SKIP = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__",
                               ".pytest_cache", ".ruff_cache", ".hypothesis")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    # build from a copy, so setuptools' build/ and egg-info never land in the checkout
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_SKIP, symlinks=True)
    out = tmp / "dist"
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                          "--no-build-isolation", "--no-index", "-w", str(out), str(src)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    (whl,) = out.glob("*.whl")
    return whl


def _metadata(whl: Path) -> email.message.Message:
    with zipfile.ZipFile(whl) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(z.read(name))


def test_wheel_ships_every_sample_bundle(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for sample in SAMPLES:
            entry = f"layerlens/sample_bundles/{sample}.bundle"
            assert entry in names, f"{entry} is not package data"
            src = ROOT / "layerlens" / "sample_bundles" / f"{sample}.bundle"
            assert z.read(entry) == src.read_bytes()


def test_wheel_ships_the_tui_stylesheet(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        entry = "layerlens/tui/app.tcss"
        assert entry in z.namelist(), f"{entry} is not package data"
        assert z.read(entry) == (ROOT / entry).read_bytes()
        assert "layerlens/tui/widgets/layer_table.py" in z.namelist()


def test_wheel_name_and_command(wheel: Path) -> None:
    # `layerlens` on PyPI is an unrelated deep-learning library; ours is published as:
    assert _metadata(wheel)["Name"] == "layerlens-docker"
    with zipfile.ZipFile(wheel) as z:
        ep = next(n for n in z.namelist() if n.endswith(".dist-info/entry_points.txt"))
        assert "layerlens = layerlens.cli:main" in z.read(ep).decode()
        assert "layerlens/__init__.py" in z.namelist()


def test_dockerfile_parse_is_a_bench_extra_only(wheel: Path) -> None:
    requires = _metadata(wheel).get_all("Requires-Dist") or []
    runtime = [r for r in requires if "extra ==" not in r]
    assert not any(r.startswith("dockerfile-parse") for r in runtime), runtime
    assert any(r.startswith("dockerfile-parse") and 'extra == "bench"' in r for r in requires)
    # and no runtime module needs it
    for py in (ROOT / "layerlens").rglob("*.py"):
        for node in ast.walk(ast.parse(py.read_text(), str(py))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "dockerfile_parse" for n in names), py


def test_nothing_reads_beside_the_checkout() -> None:
    # A fresh clone has no ../shared: tests, benchmarks and scripts use tests/data/ copies.
    for folder in ("tests", "bench", "screenshots", "samples", "layerlens"):
        for py in (ROOT / folder).rglob("*.py"):
            if py == Path(__file__).resolve():
                continue  # this guard names what it looks for
            for node in ast.walk(ast.parse(py.read_text(), str(py))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    assert node.value != "shared" and "../shared" not in node.value, py
                if isinstance(node, ast.Attribute) and node.attr == "parent":
                    # ROOT.parent / ... leaves the checkout
                    inner = node.value
                    assert not (isinstance(inner, ast.Name) and inner.id == "ROOT"), py


@pytest.mark.integration
def test_installed_wheel_runs_demo_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    # Install the wheel alone into a target folder and run it from an unrelated directory,
    # with the dependencies of this environment; PYTHONPATH puts the installed copy ahead
    # of the editable one, which the assertion on __file__ proves.
    site = tmp_path / "site"
    res = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                          "--no-index", "--target", str(site), str(wheel)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("LAYERLENS_SAMPLES", None)
    where = subprocess.run([sys.executable, "-c", "import layerlens; print(layerlens.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(site)
    res = subprocess.run([sys.executable, "-m", "layerlens", "demo", "pyweb"], cwd=work,
                         env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "COPY . ." in res.stdout
    assert (tmp_path / "cache" / "layerlens" / "samples" / "pyweb" / ".git").is_dir()
