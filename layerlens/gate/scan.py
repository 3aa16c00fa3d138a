"""Find every Dockerfile of a monorepo."""

from __future__ import annotations

import os
from pathlib import Path

SKIP = frozenset({".git", "node_modules", ".venv", "venv", "vendor", "__pycache__", ".tox",
                  "dist", "build", "target"})


def is_dockerfile(name: str) -> bool:
    low = name.lower()
    return (low == "dockerfile" or low.startswith("dockerfile.") or low.endswith(".dockerfile")
            or low == "containerfile") and not low.endswith(".dockerignore")


def find_dockerfiles(root: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP)
        out += [Path(dirpath) / f for f in sorted(filenames) if is_dockerfile(f)]
    return out
