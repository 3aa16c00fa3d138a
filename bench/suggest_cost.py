#!/usr/bin/env python3
"""What `suggest` costs over `analyze` on the same repository and window (issue 14, item 2:
at most 1.5x).

For each target, runs `layerlens analyze --no-cache` and `layerlens suggest --no-cache`
(the same Dockerfile, context and window; text output to /dev/null) alternately, `--repeat`
times each, and prints the median CPU seconds (user+sys of the child and of the git
processes it waits for, from `resource.getrusage(RUSAGE_CHILDREN)`), the median wall seconds,
and the ratio of the CPU medians. Alternating runs keep a shared machine's load changes from
favouring one side. `--no-cache` keeps every run cold (no mined history or replay on disk).

Python writes no bytecode when PYTHONDONTWRITEBYTECODE is set (it is on some CI machines
and sandboxes): then, unless .pyc files are there from before, every run compiles every
module it imports, and `suggest` imports more (its rules). The header says whether the
variable is set and whether layerlens has .pyc files; `--bytecode` clears the variable for
the children (one warm-up run of each command writes the .pyc files), as an installed
package runs.

    .venv/bin/python bench/suggest_cost.py /work/rr/juice-shop/Dockerfile \\
        /tmp/conductor/docker/server/Dockerfile,/tmp/conductor [--repeat 7] [--bytecode]

A target is `DOCKERFILE` or `DOCKERFILE,CONTEXT`; extra layerlens options go after `--`.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run; raises on a failed run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    res = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                         text=True, errors="replace")
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode not in (0, 1):  # suggest exits 1 when it has suggestions
        raise SystemExit(f"{' '.join(argv)} failed ({res.returncode}): {res.stderr[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("targets", nargs="+", help="DOCKERFILE or DOCKERFILE,CONTEXT")
    ap.add_argument("--layerlens", default=str(Path(sys.executable).parent / "layerlens"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--bytecode", action="store_true",
                    help="let Python write and use .pyc files (as an installed package)")
    args, extra = ap.parse_known_args()
    extra = [a for a in extra if a != "--"]
    exe = shutil.which(args.layerlens) or args.layerlens
    env = dict(os.environ)
    if args.bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    import importlib.util

    spec = importlib.util.find_spec("layerlens")
    pyc = bool(spec and spec.origin and
               any((Path(spec.origin).parent / "suggest" / "__pycache__").glob("*.pyc")))
    print(f"layerlens: {exe}; PYTHONDONTWRITEBYTECODE "
          f"{'set' if env.get('PYTHONDONTWRITEBYTECODE') else 'unset'}, .pyc files "
          f"{'present' if pyc else 'absent'} before the runs; CPU = user+sys (children); "
          f"median of {args.repeat} alternating runs")
    print(f"{'target':<48} {'analyze cpu':>11} {'suggest cpu':>11} {'ratio':>6} "
          f"{'analyze wall':>12} {'suggest wall':>12}")
    worst = 0.0
    for target in args.targets:
        df, _, ctx = target.partition(",")
        tail = ["--no-cache", df, *(["--context", ctx] if ctx else []), *extra]
        cmds = {c: [exe, c, *tail] for c in ("analyze", "suggest")}
        if args.bytecode:
            for argv in cmds.values():
                _run(argv, env)  # writes the .pyc files
        got: dict[str, list[tuple[float, float]]] = {"analyze": [], "suggest": []}
        for _ in range(args.repeat):
            for c, argv in cmds.items():
                got[c].append(_run(argv, env))
        cpu = {c: statistics.median(x[0] for x in v) for c, v in got.items()}
        wall = {c: statistics.median(x[1] for x in v) for c, v in got.items()}
        ratio = cpu["suggest"] / cpu["analyze"] if cpu["analyze"] else float("nan")
        worst = max(worst, ratio)
        name = df if len(df) <= 48 else "..." + df[-45:]
        print(f"{name:<48} {cpu['analyze']:>10.2f}s {cpu['suggest']:>10.2f}s "
              f"{ratio:>5.2f}x {wall['analyze']:>11.2f}s {wall['suggest']:>11.2f}s")
        print("  runs (cpu s): analyze " + " ".join(f"{x[0]:.2f}" for x in got["analyze"])
              + " | suggest " + " ".join(f"{x[0]:.2f}" for x in got["suggest"]))
    print(f"worst ratio: {worst:.2f}x (bound 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
