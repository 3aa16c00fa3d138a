"""Reading a large image against the floors set by merely reading its bytes.

Issue #13's bounds: the oci-archive (gzip layers) in at most 1.3x the time ISA-L (PyPI
`isal`, what layerlens inflates with) takes merely to inflate its layers, single-threaded,
without hashing; the uncompressed docker-archive in at most 1.5x `sha256sum` over the
archive (the digest check sets that floor). zlib's inflate time is printed for reference.
Also reports dive's time when dive is installed.

Wall and CPU (user + sys) seconds, medians and minima over --runs: on a shared machine the
minimum is the better estimate of the undisturbed wall time; CPU is less disturbed.

Without --image, builds once (buildah, overlay storage) an image like the issue's: 20 COPY
layers of 5,000 files (10.5 KiB each, half random, half text), then a RUN layer that
deletes 960 files (whiteouts) and replaces a directory (an opaque directory), exported as an
oci-archive with gzip layers and as an uncompressed docker-archive. --scale shrinks it.

    .venv/bin/python bench/image_read.py [--scale 1.0] [--runs 3] [--dive]
    .venv/bin/python bench/image_read.py --image PATH [--docker-archive PATH]
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


def build(scale: float) -> tuple[Path, Path]:
    tag = f"s{scale:g}"
    oci, docker = WORK / f"image-{tag}.oci.tar", WORK / f"image-{tag}.docker.tar"
    if oci.exists() and docker.exists():
        return oci, docker
    ctx = WORK / f"ctx-{tag}"
    shutil.rmtree(ctx, ignore_errors=True)
    rng = random.Random(4)
    words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
             for _ in range(5000)]
    per_layer = max(50, int(FILES_PER_LAYER * scale))
    ctx.mkdir(parents=True)
    shutil.copy("/bin/busybox", ctx / "busybox")
    lines = ["FROM scratch", "COPY busybox /bin/busybox",
             'RUN ["/bin/busybox", "--install", "-s", "/bin"]']
    for layer in range(LAYERS):
        d = ctx / f"l{layer:02d}"
        for sub in range(50):
            (d / f"s{sub:02d}").mkdir(parents=True)
        for i in range(per_layer):
            # half random (incompressible), half text: a realistic mix for gzip
            text = b" ".join(rng.choice(words) for _ in range(FILE_BYTES // 12))
            body = os.urandom(FILE_BYTES // 2) + text[: FILE_BYTES // 2]
            (d / f"s{i % 50:02d}" / f"f{i:05d}.dat").write_bytes(body)
        lines.append(f"COPY l{layer:02d} /data/l{layer:02d}")
    # 960 whiteouts (48 files from each layer) and one directory replaced: opaque on overlay
    lines.append("RUN " + " && ".join(f"rm -f /data/l{la:02d}/s0[0-3]/f000[0-9]*.dat"
                                      for la in range(LAYERS))
                 + " && rm -rf /data/l00/s10 && mkdir /data/l00/s10 && echo new > "
                 "/data/l00/s10/new")
    (ctx / "Dockerfile").write_text("\n".join(lines) + "\n")
    base = ["buildah", "--root", str(WORK / "root"), "--runroot", str(WORK / "runroot"),
            "--storage-driver", "overlay"]
    name = f"bench-{tag}"
    subprocess.run([*base, "bud", "--layers", "--isolation", "chroot", "-t", name, str(ctx)],
                   check=True, capture_output=True)
    subprocess.run([*base, "push", name, f"oci-archive:{oci}"], check=True, capture_output=True)
    subprocess.run([*base, "push", name, f"docker-archive:{docker}:{name}:latest"], check=True,
                   capture_output=True)
    shutil.rmtree(ctx, ignore_errors=True)
    return oci, docker


def _blobs(path: Path):
    with tarfile.open(path) as tar:
        for m in tar:
            if m.isfile() and m.size >= 4096 and (m.name.startswith("blobs/") or
                                                  m.name.endswith(".tar")):
                f = tar.extractfile(m)
                assert f is not None
                yield f


def _cpu(who: int = 0) -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN if who else resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def inflate_only(path: Path, engine: str = "zlib") -> tuple[float, float]:
    """Read every layer blob once and inflate it, doing nothing else: (wall, cpu) s."""
    if engine == "isal":
        from isal import isal_zlib as z
    else:
        z = zlib
    t, c = time.perf_counter(), _cpu()
    for f in _blobs(path):
        head = f.read(2)
        if head != b"\x1f\x8b":
            while f.read(1 << 20):
                pass
            continue
        d = z.decompressobj(31)
        d.decompress(head)
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            d.decompress(chunk)
    return time.perf_counter() - t, _cpu() - c


def sha256sum(path: Path) -> tuple[float, float]:
    t, c = time.perf_counter(), _cpu(1)
    subprocess.run(["sha256sum", str(path)], check=True, capture_output=True)
    return time.perf_counter() - t, _cpu(1) - c


OURS = """
import resource, sys, time
sys.path.insert(0, {root!r})
from layerlens.image.reader import read_image
t = time.perf_counter()
img = read_image({path!r})
el = time.perf_counter() - t
files = sum(lay.files for lay in img.layers)
entries = sum(lay.entries for lay in img.layers)
print(el, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, img.size_bytes, entries,
      len(img.layers), img.efficiency, img.wasted_bytes)
"""


def ours(path: Path) -> tuple[tuple[float, float], list[str]]:
    """((wall of read_image, cpu of the whole process), figures)."""
    c = _cpu(1)
    res = subprocess.run([sys.executable, "-c", OURS.format(root=str(ROOT), path=str(path))],
                         capture_output=True, text=True, check=True)
    out = res.stdout.split()
    return (float(out[0]), _cpu(1) - c), out[1:]


def dive_time(path: Path) -> float | None:
    exe = shutil.which("dive") or str(Path(sys.executable).parent / "dive")
    if not Path(exe).exists():
        return None
    t = time.perf_counter()
    subprocess.run([exe, "--source", "docker-archive", str(path), "--ci"],
                   capture_output=True, env={**os.environ, "CI": "true"})
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", type=Path, help="an oci-archive with gzip layers")
    ap.add_argument("--docker-archive", type=Path, help="an uncompressed docker-archive")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dive", action="store_true", help="also time dive (slow)")
    ns = ap.parse_args()
    oci, docker = (ns.image, ns.docker_archive) if ns.image else build(ns.scale)
    try:
        import isal  # noqa: F401
        have_isal = True
    except ImportError:
        have_isal = False
    t_inf, t_isal, t_oci, t_sha, t_dock = [], [], [], [], []
    info: list[str] = []
    peak = 0.0
    for _ in range(ns.runs):
        t_inf.append(inflate_only(oci))
        if have_isal:
            t_isal.append(inflate_only(oci, "isal"))
        el, info = ours(oci)
        t_oci.append(el)
        peak = max(peak, int(info[0]) / 1024)
        if docker:
            t_sha.append(sha256sum(docker))
            el, _ = ours(docker)
            t_dock.append(el)

    def med(xs: list[tuple[float, float]], i: int) -> float:
        return statistics.median(x[i] for x in xs)

    def line(name: str, a: list, b: list, bound: str) -> str:
        lo_a, lo_b = min(x[0] for x in a), min(x[0] for x in b)
        return (f"{name}: wall {med(a, 0):.2f} / {med(b, 0):.2f} s = "
                f"{med(a, 0) / med(b, 0):.2f}x (min {lo_a:.2f} / {lo_b:.2f} s = "
                f"{lo_a / lo_b:.2f}x); cpu {med(a, 1):.2f} / {med(b, 1):.2f} s = "
                f"{med(a, 1) / med(b, 1):.2f}x ({bound})")

    _rss, size, entries, layers, eff, wasted = info
    print(f"image: {oci.name}: {int(size) / 2**30:.2f} GiB in {entries} entries over {layers} "
          f"layers; oci-archive {oci.stat().st_size / 2**30:.2f} GiB; efficiency "
          f"{float(eff):.4f}, wasted {wasted} B; peak RSS {peak:.0f} MiB (medians of {ns.runs})")
    if t_isal:
        print(line("oci-archive, layerlens / inflate-only (isal)", t_oci, t_isal, "bound 1.3x"))
    print(line("oci-archive, layerlens / inflate-only (zlib)", t_oci, t_inf, "reference"))
    if docker:
        print(line("docker-archive, layerlens / sha256sum", t_dock, t_sha, "bound 1.5x"))
        if ns.dive:
            d = dive_time(docker)
            if d is not None:
                print(f"dive: {d:.2f} s wall -> layerlens is {d / med(t_dock, 0):.1f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
