"""Find every Dockerfile of a monorepo.

Directories such as `build`, `dist`, `target` and `vendor` usually hold build output or
third-party code, but real projects keep Dockerfiles there too (`build/package/Dockerfile`
in the Go project layout, `build/docker/` in many others). So skipping is soft: `scan` still
looks inside a skipped directory and checks every Dockerfile there that has a baseline; the
rest are reported as skipped, never silently dropped. Only `.git` is never entered.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SKIP = frozenset({"node_modules", ".venv", "venv", "vendor", "__pycache__", ".tox",
                  "dist", "build", "target"})
NEVER = frozenset({".git"})


# `Dockerfile-<variant>` files that are not Dockerfiles: docs, scripts, configuration
_NOT_DOCKERFILE = (".dockerignore", ".md", ".txt", ".sh", ".py", ".yml", ".yaml", ".json",
                   ".toml", ".j2", ".tpl", ".template", ".orig", ".bak")


def is_dockerfile(name: str) -> bool:
    """Whether a file name is one of the Dockerfile names in use: `Dockerfile`,
    `Dockerfile.<variant>`, `Dockerfile-<variant>` (FreshRSS's `Dockerfile-Alpine`),
    `<name>.dockerfile` and `Containerfile`, case-insensitively; `.dockerignore` files are
    not, nor `Dockerfile-<x>` with a document, script or configuration extension."""
    low = name.lower()
    if low.startswith("dockerfile-"):
        return len(low) > len("dockerfile-") and not low.endswith(_NOT_DOCKERFILE)
    return (low == "dockerfile" or low.startswith("dockerfile.") or low.endswith(".dockerfile")
            or low == "containerfile") and not low.endswith(".dockerignore")


@dataclass(frozen=True, slots=True)
class ScanResult:
    dockerfiles: tuple[Path, ...]  # to check, in walk order
    skipped: tuple[Path, ...]  # Dockerfiles under a skipped directory, without a baseline
    skipped_dirs: tuple[Path, ...]  # the skipped directories that were looked into


def find_dockerfiles(root: Path, skip: frozenset[str] = SKIP,
                     has_baseline: Callable[[Path], bool] | None = None) -> ScanResult:
    """Dockerfiles under `root`, directories and files sorted by name.

    A Dockerfile under a directory named in `skip` is checked only when `has_baseline(path)`
    says it has a baseline (default: the baseline file beside it exists); otherwise it is
    listed in `skipped`.
    """
    if has_baseline is None:
        from layerlens.gate.baseline import default_path

        def has_baseline(p: Path) -> bool:
            return default_path(p).is_file()

    found: list[Path] = []
    skipped: list[Path] = []
    skipped_dirs: list[Path] = []
    # os.walk top-down; a directory is "inside a skip" when it or an ancestor is in `skip`
    inside: dict[str, bool] = {str(root): root.name in skip and root != Path(".")}
    for dirpath, dirnames, filenames in os.walk(root):
        here = inside.get(dirpath, False)
        dirnames[:] = sorted(d for d in dirnames if d not in NEVER)
        for d in dirnames:
            child = os.path.join(dirpath, d)
            inside[child] = here or d in skip
            if not here and d in skip:
                skipped_dirs.append(Path(child))
        for f in sorted(filenames):
            if not is_dockerfile(f):
                continue
            p = Path(dirpath) / f
            if not here or has_baseline(p):
                found.append(p)
            else:
                skipped.append(p)
    return ScanResult(tuple(found), tuple(skipped), tuple(skipped_dirs))
