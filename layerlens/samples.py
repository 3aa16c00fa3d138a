"""The bundled sample projects: git bundles under samples/, unpacked with the real git CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from layerlens.errors import LayerlensError

SAMPLES = {
    "pyweb": "Python web app that copies the whole source before installing requirements",
    "nodeapp": "Node/TypeScript app that copies everything before `npm ci`",
    "gokuard": "Go multi-stage build in the style of kuard (build stage + alpine runtime)",
}


def bundle_dir() -> Path:
    env = os.environ.get("LAYERLENS_SAMPLES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "samples"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "layerlens" / "samples"


def unpack(name: str, dest: Path | None = None) -> Path:
    """Clone the sample's bundle into dest (default: the user cache) and return the checkout."""
    if name not in SAMPLES:
        raise LayerlensError(f"unknown sample {name!r}; choose one of: {', '.join(SAMPLES)}")
    bundle = bundle_dir() / f"{name}.bundle"
    if not bundle.is_file():
        raise LayerlensError("sample bundle is missing (run samples/generate.py)",
                             path=str(bundle))
    if shutil.which("git") is None:
        raise LayerlensError("git is not installed; it is needed to unpack the samples")
    target = dest if dest is not None else cache_dir() / name
    if (target / ".git").is_dir():
        return target
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
    return target
