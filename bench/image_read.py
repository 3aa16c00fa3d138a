#!/usr/bin/env python3
"""Reading a large image against merely decompressing its layers.

Issue #4's bound: total time at most 1.3x the time it takes to decompress the layers. Without
--image, builds once (buildah, overlay storage) an image of 1 GiB+ in 100,000 files over 20
layers, exported as an oci-archive with gzip layers.

    .venv/bin/python bench/image_read.py [--image PATH]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path("/tmp/layerlens-bench-image")
LAYERS, FILES_PER_LAYER, FILE_BYTES = 20, 5000, 10 * 1024 + 512


def build() -> Path:
    out = WORK / "image.oci.tar"
    if out.exists():
        return out
    ctx = WORK / "ctx"
    shutil.rmtree(ctx, ignore_errors=True)
    rng = random.Random(4)
    words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
             for _ in range(5000)]
    lines = ["FROM scratch"]
    for layer in range(LAYERS):
        d = ctx / f"l{layer:02d}"
        for sub in range(50):
            (d / f"s{sub:02d}").mkdir(parents=True)
        for i in range(FILES_PER_LAYER):
            # half random (incompressible), half text: a realistic mix for gzip
            text = b" ".join(rng.choice(words) for _ in range(FILE_BYTES // 12))
            body = os.urandom(FILE_BYTES // 2) + text[: FILE_BYTES // 2]
            (d / f"s{i % 50:02d}" / f"f{i:05d}.dat").write_bytes(body)
        lines.append(f"COPY l{layer:02d} /data/l{layer:02d}")
    (ctx / "Dockerfile").write_text("\n".join(lines) + "\n")
    base = ["buildah", "--root", str(WORK / "root"), "--runroot", str(WORK / "runroot"),
            "--storage-driver", "overlay"]
    subprocess.run([*base, "bud", "--layers", "--isolation", "chroot", "-t", "bench",
                    str(ctx)], check=True, capture_output=True)
    subprocess.run([*base, "push", "bench", f"oci-archive:{out}"], check=True,
                   capture_output=True)
    return out


def decompress_only(path: Path) -> float:
    """Read every layer blob once and inflate it, doing nothing else."""
    t = time.perf_counter()
    with tarfile.open(path) as tar:
        for m in tar:
            if not m.isfile() or not m.name.startswith("blobs/") or m.size < 4096:
                continue
            f = tar.extractfile(m)
            assert f is not None
            head = f.read(2)
            if head != b"\x1f\x8b":
                while f.read(1 << 20):
                    pass
                continue
            d = zlib.decompressobj(31)
            d.decompress(head)
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                d.decompress(chunk)
    return time.perf_counter() - t


OURS = """
import resource, sys, time
sys.path.insert(0, {root!r})
from layerlens.image.reader import read_image
t = time.perf_counter()
img = read_image({path!r})
el = time.perf_counter() - t
files = sum(lay.files for lay in img.layers)
print(el, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, img.size_bytes, files,
      len(img.layers))
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ns = ap.parse_args()
    path = ns.image or build()
    base_t, ours_t = [], []
    info = ""
    for _ in range(ns.runs):
        base_t.append(decompress_only(path))
        res = subprocess.run([sys.executable, "-c", OURS.format(root=str(ROOT), path=str(path))],
                             capture_output=True, text=True, check=True)
        el, rss, size, files, layers = res.stdout.split()
        ours_t.append(float(el))
        info = f"{int(size) / 2**30:.2f} GiB in {files} files over {layers} layers"
        peak = int(rss) / 1024
    b, o = statistics.median(base_t), statistics.median(ours_t)
    print(f"image: {path} ({info}, archive {path.stat().st_size / 2**30:.2f} GiB)")
    print(f"decompress only: {b:.2f} s   layerlens read_image: {o:.2f} s "
          f"(medians of {ns.runs}); peak RSS {peak:.0f} MiB")
    print(f"ratio: {o / b:.2f}x (bound: 1.3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
