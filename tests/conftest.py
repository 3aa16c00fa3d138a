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
