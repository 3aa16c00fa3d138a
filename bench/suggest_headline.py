#!/usr/bin/env python3
"""The suggest headline on real Dockerfiles, and what it costs to compute.

For each Dockerfile (or directory) given, runs `layerlens suggest --format json` and prints
the headline (layerlens/suggest/headline.py): replayed builds, rebuild seconds per commit
now, with the safe fixes and with --unsafe-fixes (and the change), push bytes per commit,
and whether seconds are estimated. The headline makes the unsafe rewrite even without
--unsafe-fixes, so its cost is measured too: CPU seconds (user+sys of the child, from
`resource.getrusage`) and wall seconds, best of `--repeat` runs; with `--compare OTHER`
(another layerlens executable, e.g. the main branch's) the same for it, and the ratio.

    .venv/bin/python bench/suggest_headline.py /work/rr/juice-shop /work/realrepos/saleor \
        [--compare /work/main/.venv/bin/layerlens] [--repeat 3] [--max-commits N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time


def _run(exe: str, target: str, extra: list[str]) -> tuple[float, float, dict | None, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    res = subprocess.run([exe, "suggest", target, "--format", "json", "--exit-zero", *extra],
                         capture_output=True, text=True, timeout=1800)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    doc = None
    if res.returncode == 0:
        try:
            doc = json.loads(res.stdout)
        except ValueError:
            doc = None
    err = res.stderr.strip().splitlines()[-1] if res.stderr.strip() else ""
    return cpu, wall, doc, err


def _best(exe: str, target: str, extra: list[str], n: int):
    runs = [_run(exe, target, extra) for _ in range(n)]
    return min(r[0] for r in runs), min(r[1] for r in runs), runs[-1][2], runs[-1][3]


def _secs(v) -> str:
    return "unknown" if v is None else f"{v:.1f}s"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("targets", nargs="+")
    here = os.path.join(os.path.dirname(sys.executable), "layerlens")
    ap.add_argument("--layerlens", default=here if os.path.exists(here)
                    else shutil.which("layerlens"))
    ap.add_argument("--compare", help="another layerlens executable to time the same way")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--max-commits", type=int, default=None)
    ns = ap.parse_args()
    extra = [] if ns.max_commits is None else ["--max-commits", str(ns.max_commits)]
    bad = 0
    for target in ns.targets:
        cpu, wall, doc, err = _best(ns.layerlens, target, extra, ns.repeat)
        if doc is None:
            print(f"{target}: FAILED {err}")
            bad += 1
            continue
        h = doc.get("headline")
        if h is None:
            print(f"{target}: no headline (no history)  cpu {cpu:.2f}s wall {wall:.2f}s")
            continue
        v = h["variants"]
        now = v["current"]["rebuild_seconds_per_commit"]

        def pct(x, now=now):
            return "" if not now or x is None else f" ({(x - now) / now:+.1%})"

        safe = v["safe"]["rebuild_seconds_per_commit"]
        unsafe = v["unsafe"]["rebuild_seconds_per_commit"]
        est = " estimated" if v["current"]["estimated"] else ""
        print(f"{target}: {h['builds']} builds; rebuild/commit now {_secs(now)}, safe "
              f"{_secs(safe)}{pct(safe)} {v['safe']['fixes']}, unsafe {_secs(unsafe)}"
              f"{pct(unsafe)} {v['unsafe']['fixes']};{est}")
        pushes = [v[k]["push_bytes_per_commit"] for k in ("current", "safe", "unsafe")]
        print(f"    push/commit (known part) {pushes}; cpu {cpu:.2f}s wall {wall:.2f}s")
        if ns.compare:
            c_cpu, c_wall, _doc, _err = _best(ns.compare, target, extra, ns.repeat)
            print(f"    compare: cpu {c_cpu:.2f}s wall {c_wall:.2f}s; cpu ratio "
                  f"{cpu / c_cpu if c_cpu else float('nan'):.2f}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
