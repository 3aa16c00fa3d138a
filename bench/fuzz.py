#!/usr/bin/env python3
"""Mutation fuzzing of the readers: any exception but layerlens' own is a bug.

Targets: the Dockerfile reader, `${...}` expansion, the .dockerignore matcher, the layer
tar walker (plain and gzip), and the whole image-archive reader. Seeds come from the
conformance corpus and the real image archives in tests/data/; each input is a seed with random byte
flips, insertions, deletions, truncations and splices.

    .venv/bin/python bench/fuzz.py [--runs 100000] [--target NAME ...] [--seed N]
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


def seeds(target: str) -> list[bytes]:
    conf = DATA / "conformance"
    if target in ("dockerfile",):
        return [p.read_bytes() for p in sorted((conf / "dockerfile").glob("*.Dockerfile"))]
    if target == "expansion":
        return [b"${A:-x}", b"${P##*/}", b"${X//./-}", b"\"$A\"'$A'\\$A", b"${A:+${X}}",
                b"${EMPTY:?boom}", b"pre${A}post$"]
    if target == "dockerignore":
        import json

        cases = json.loads((conf / "dockerignore" / "cases.json").read_text())["cases"]
        return ["\n".join(c["patterns"]).encode() for c in cases]
    if target == "layer":
        import io
        import tarfile

        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
            for name, data in (("etc/a", b"x" * 900), ("etc/.wh.b", b""),
                               ("usr/.wh..wh..opq", b""), ("x" * 150, b"long")):
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
        raw = buf.getvalue()
        return [raw, gzip.compress(raw)]
    return [p.read_bytes() for p in sorted((DATA / "images").glob("test-oci-*.tar"))]


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(6)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:
            b[i % len(b)] ^= 1 << rng.randrange(8)
        elif op == 1:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 2 and b:
            del b[i:i + rng.randint(1, 16)]
        elif op == 3:
            del b[i:]
        elif op == 4:
            other = rng.choice(pool)
            j = rng.randrange(len(other) + 1)
            b[i:i] = other[j:j + rng.randint(1, 64)]
        else:
            b[i:i] = rng.choice([b"\\\n", b"<<EOF\n", b"${", b"\x00", b"\xff", b"\n\n",
                                 b"--mount=", b"\"", b"'", b"#", b"**", b"!"])
    return bytes(b)


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from layerlens.fuzzing import TARGETS

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--target", action="append", choices=sorted(TARGETS))
    ap.add_argument("--seed", type=int, default=1)
    ns = ap.parse_args()
    failures = 0
    for name in ns.target or list(TARGETS):
        fn = TARGETS[name]
        pool = seeds(name)
        rng = random.Random(f"{ns.seed}-{name}")
        t = time.perf_counter()
        bad = 0
        for n in range(ns.runs):
            data = mutate(rng, rng.choice(pool), pool)
            try:
                fn(data)
            except Exception:
                bad += 1
                if bad <= 3:
                    out = ROOT / f"fuzz-crash-{name}-{n}.bin"
                    out.write_bytes(data)
                    print(f"{name}: input {n} raised (saved {out.name}):", file=sys.stderr)
                    traceback.print_exc()
        failures += bad
        print(f"{name:12} {ns.runs:>8} inputs  {bad} unexpected exceptions  "
              f"{time.perf_counter() - t:7.1f} s", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
