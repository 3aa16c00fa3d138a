"""The bundled sample projects: git bundles shipped as package data in
layerlens/sample_bundles/ (written by samples/generate.py), unpacked with the real git CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

from layerlens.errors import LayerlensError

SAMPLES = {
    "pyweb": "Python web app that copies the whole source before installing requirements",
    "nodeapp": "Node/TypeScript app that copies everything before `npm ci`",
    "gokuard": "Go multi-stage build in the style of kuard (build stage + alpine runtime)",
}


def bundle_dir() -> Path | None:
    """The folder named by $LAYERLENS_SAMPLES, or None to use the installed package data."""
    env = os.environ.get("LAYERLENS_SAMPLES")
    return Path(env) if env else None


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "layerlens" / "samples"


def unpack(name: str, dest: Path | None = None) -> Path:
    """Clone the sample's bundle into dest (default: the user cache) and return the checkout."""
    if name not in SAMPLES:
        raise LayerlensError(f"unknown sample {name!r}; choose one of: {', '.join(SAMPLES)}")
    if shutil.which("git") is None:
        raise LayerlensError("git is not installed; it is needed to unpack the samples")
    target = dest if dest is not None else cache_dir() / name
    if (target / ".git").is_dir():
        return target
    with ExitStack() as stack:
        folder = bundle_dir()
        if folder is not None:
            bundle = folder / f"{name}.bundle"
        else:
            # package data: a real file in any ordinary install; as_file() copies it out of
            # a zip import, since git needs a path
            ref = resources.files("layerlens") / "sample_bundles" / f"{name}.bundle"
            bundle = stack.enter_context(resources.as_file(ref))
        if not bundle.is_file():
            raise LayerlensError("sample bundle is missing from this install (run "
                                 "samples/generate.py in a checkout)", path=str(bundle))
        _clone(name, bundle, target)
    return target


def _clone(name: str, bundle: Path, target: Path) -> None:
    if target.exists() and any(target.iterdir()):
        raise LayerlensError("directory exists and is not empty", path=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    # Clone beside the target and rename, so an interrupted clone never looks complete.
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
    try:
        subprocess.run(["git", "clone", "-q", str(bundle), str(tmp / name)], check=True,
                       capture_output=True, text=True)
        if target.exists():
            target.rmdir()
        os.replace(tmp / name, target)
    except subprocess.CalledProcessError as exc:
        raise LayerlensError(f"git clone failed: {exc.stderr.strip()}", path=str(bundle)) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
