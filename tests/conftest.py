from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("LAYERLENS_SHARED", ROOT.parent / "shared"))
CONFORMANCE = SHARED / "conformance"
IMAGES = SHARED / "images"


def have_buildah() -> bool:
    return shutil.which("buildah") is not None and os.geteuid() == 0


requires_buildah = pytest.mark.skipif(not have_buildah(), reason="buildah as root is needed")
