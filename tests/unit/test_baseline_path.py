"""Where `baseline` writes and `check`/`scan` look: the name the README's gate section gives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from layerlens.cli import main
from layerlens.gate.baseline import default_path

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize(("dockerfile", "baseline"), [
    ("Dockerfile", ".layerlens-baseline.json"),
    ("Dockerfile.prod", ".layerlens-baseline.prod.json"),
    ("Dockerfile.dev.arm64", ".layerlens-baseline.dev.arm64.json"),
    ("Containerfile", ".layerlens-baseline.Containerfile.json"),
    ("api.dockerfile", ".layerlens-baseline.api.dockerfile.json"),
])
def test_default_path(dockerfile: str, baseline: str) -> None:
    assert default_path(Path("svc") / dockerfile) == Path("svc") / baseline


def test_readme_names_the_same_file() -> None:
    text = " ".join((ROOT / "README.md").read_text().split())
    m = re.search(r"`(\.layerlens-baseline\.<name>\.json)` for `Dockerfile\.<name>`", text)
    assert m, "the README's gate section no longer says where Dockerfile.<name>'s baseline goes"
    assert default_path(Path("Dockerfile.name")).name == m[1].replace("<name>", "name")


def test_baseline_then_check_find_each_other(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "app.txt").write_text("hello\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY app.txt /\n")
    (tmp_path / "Dockerfile.prod").write_text("FROM scratch\nCOPY app.txt /srv/\n")
    for name in ("Dockerfile", "Dockerfile.prod"):
        assert main(["baseline", str(tmp_path / name), "--no-history"]) == 0
    assert sorted(p.name for p in tmp_path.glob(".layerlens-baseline*")) == [
        ".layerlens-baseline.json", ".layerlens-baseline.prod.json"]
    capsys.readouterr()
    # each check reads its own baseline: a missing one would be exit 2
    for name in ("Dockerfile", "Dockerfile.prod"):
        assert main(["check", str(tmp_path / name), "--no-history"]) == 0, capsys.readouterr()
