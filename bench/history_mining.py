#!/usr/bin/env python3
"""History cost against raw `git log --name-only --no-renames --first-parent`.

Issue #3's bound: mining costs at most 1.5x the raw log over the same commits. Issue #14's:
the whole `layerlens analyze` (mining, replay, pricing, report) costs at most 1.5x the raw
log (goal 1.3x), and a re-run after 300 new commits at most 0.25x a cold run, with identical
output. Without --repo, a real git repository of 20,000+ commits is synthesised once with git
fast-import (nested directories, 1-6 files changed per commit).

    .venv/bin/python bench/history_mining.py [--repo PATH] [--commits N]
    .venv/bin/python bench/history_mining.py --repo /work/rr/rails --analyze [--runs 3]

--analyze replays issue #14's Dockerfile (`FROM ruby:3.3`, `COPY Gemfile Gemfile.lock ./`,
`RUN bundle install`, `COPY . .`), written outside the repository and built with the
repository as its context, over the whole first-parent history (`--max-commits 100000`).
It reports CPU seconds (user+sys of the process and its git children) and wall seconds,
each the median of interleaved runs; layerlens runs from compiled bytecode, as installed.
The warm run works in a private clone of the repository (hard-linked objects) reset 300
first-parent commits back, fills a private cache there, moves the clone forward again and
times the re-run; its JSON must equal a --no-cache run's.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def synthesise(path: Path, commits: int) -> None:
    rng = random.Random(20000)
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    files = [f"src/pkg{d}/sub{s}/file{f}.py" for d in range(40) for s in range(10)
             for f in range(12)]
    files += [f"docs/page{i}.md" for i in range(300)] + ["requirements.txt", "Dockerfile"]
    lines: list[bytes] = []
    t = 1_600_000_000
    for i in range(commits):
        mark = i + 1
        t += rng.randint(60, 7200)
        lines.append(b"commit refs/heads/main\n")
        lines.append(f"mark :{mark}\n".encode())
        lines.append(f"committer Dev <d@example.com> {t} +0000\n".encode())
        msg = f"change {i}\n".encode()
        lines.append(f"data {len(msg)}\n".encode() + msg)
        if i:
            lines.append(f"from :{mark - 1}\n".encode())
        touched = files if i == 0 else rng.sample(files, rng.randint(1, 6))
        for f in touched:
            body = f"# {f} revision {i}\n{'x' * rng.randint(10, 400)}\n".encode()
            lines.append(f"M 100644 inline {f}\n".encode())
            lines.append(f"data {len(body)}\n".encode() + body)
        lines.append(b"\n")
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=b"".join(lines),
                   check=True)
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "main"], check=True)


def timed(cmd: list[str], runs: int = 7) -> tuple[float, str]:
    """Median wall seconds of a command over `runs` runs, and its last stdout line."""
    times = []
    last = ""
    for _ in range(runs):
        t = time.perf_counter()
        # Output goes to a file, not a pipe this process drains, so git is not slowed down.
        with tempfile.TemporaryFile() as fh:
            subprocess.run(cmd, stdout=fh, check=True)
            times.append(time.perf_counter() - t)
            fh.seek(0)
            out = fh.read().decode(errors="replace").strip().splitlines()
        last = out[-1] if out else ""
    return statistics.median(times), last


MINE = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from layerlens.history.mine import MineOptions, find_repo, mine
import resource
h = mine(find_repo(Path({repo!r})), (), MineOptions(max_commits=None))
assert len(h.commits) >= {n}, len(h.commits)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


ISSUE_DOCKERFILE = ("FROM ruby:3.3\nWORKDIR /app\nCOPY Gemfile Gemfile.lock ./\n"
                    "RUN bundle install\nCOPY . .\n")


def measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(CPU seconds of the command and its children, wall seconds) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    with tempfile.TemporaryFile() as fh:
        subprocess.run(cmd, stdout=fh, check=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime), wall


def analyze_bench(repo: Path, runs: int, back: int) -> int:
    """Issue #14's figures: cold analyze against raw git log, warm against cold."""
    work = Path(tempfile.mkdtemp(prefix="layerlens-bench-"))
    try:
        df = work / "Dockerfile"
        df.write_text(ISSUE_DOCKERFILE)
        clone = work / "repo"
        subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
        head = subprocess.run(["git", "-C", str(clone), "rev-parse", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        n = int(subprocess.run(["git", "-C", str(clone), "rev-list", "--count",
                                "--first-parent", "HEAD"], capture_output=True, text=True,
                               check=True).stdout)
        exe = [sys.executable, "-m", "layerlens", "analyze", str(df), "--context", str(clone),
               "--max-commits", "100000"]
        # Bytecode as an installed package has it (pip compiles on install): without it,
        # every run compiles layerlens from source again (0.15 s when the environment
        # sets PYTHONDONTWRITEBYTECODE). Kept in the private directory, not the tree.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=str(work / "pyc"))
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "layerlens")],
                       env=env, check=True)
        raw_cmd = ["git", "-C", str(clone), "log", "--name-only", "--no-renames",
                   "--first-parent", "HEAD"]
        cold = []
        for _ in range(runs):  # interleaved, so that drift in machine load hits both alike
            cold.append((measured(raw_cmd), measured([*exe, "--no-cache"], env)))
        # warm: a cache filled `back` commits ago, then the clone moves forward
        cache = work / "xdg"
        filled = work / "xdg-filled"
        env_c = {**env, "XDG_CACHE_HOME": str(cache)}
        subprocess.run(["git", "-C", str(clone), "reset", "-q", "--hard", f"HEAD~{back}"],
                       check=True)
        fill = measured(exe, env_c)
        subprocess.run(["git", "-C", str(clone), "reset", "-q", "--hard", head], check=True)
        shutil.copytree(cache, filled)
        warm = []
        for _ in range(runs):
            shutil.rmtree(cache)
            shutil.copytree(filled, cache)
            warm.append((measured([*exe, "--no-cache"], env), measured(exe, env_c)))
        shutil.rmtree(cache)
        shutil.copytree(filled, cache)
        out_w, out_c = work / "warm.json", work / "cold.json"
        subprocess.run([*exe, "--format", "json", "-o", str(out_w)], env=env_c, check=True)
        subprocess.run([*exe, "--no-cache", "--format", "json", "-o", str(out_c)], env=env,
                       check=True)
        same = out_w.read_bytes() == out_c.read_bytes()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def med(xs: list[float]) -> float:
        return statistics.median(xs)

    print(f"repository: {repo} ({n} first-parent commits), Dockerfile of issue #14, "
          f"--max-commits 100000, median of {runs} interleaved runs")
    print(f"raw git log --name-only --no-renames --first-parent: "
          f"CPU {med([r[0][0] for r in cold]):.2f} s, wall {med([r[0][1] for r in cold]):.2f} s")
    print(f"layerlens analyze --no-cache (cold):                 "
          f"CPU {med([r[1][0] for r in cold]):.2f} s, wall {med([r[1][1] for r in cold]):.2f} s")
    print(f"  ratio: CPU {med([o[0] / r[0] for r, o in cold]):.2f}x, "
          f"wall {med([o[1] / r[1] for r, o in cold]):.2f}x (bound 1.5x, goal 1.3x)")
    print(f"cache filled {back} commits back (cold run that writes the cache): "
          f"CPU {fill[0]:.2f} s, wall {fill[1]:.2f} s")
    print(f"layerlens analyze after {back} new commits (warm):   "
          f"CPU {med([w[1][0] for w in warm]):.2f} s, wall {med([w[1][1] for w in warm]):.2f} s")
    print(f"  ratio to cold: CPU {med([w[0] / c[0] for c, w in warm]):.2f}x, "
          f"wall {med([w[1] / c[1] for c, w in warm]):.2f}x (bound 0.25x); "
          f"JSON output {'identical' if same else 'DIFFERS'} to a --no-cache run")
    return 0 if same else 1


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", type=Path)
    ap.add_argument("--commits", type=int, default=20000)
    ap.add_argument("--analyze", action="store_true",
                    help="issue #14: whole analyze, cold and warm, on --repo")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--back", type=int, default=300)
    ns = ap.parse_args()
    if ns.analyze:
        if ns.repo is None:
            ap.error("--analyze needs --repo (a real repository with its full history)")
        return analyze_bench(ns.repo, ns.runs, ns.back)
    repo = ns.repo or Path("/tmp/layerlens-bench-history")
    if ns.repo is None and not (repo / ".git").exists():
        print(f"synthesising {ns.commits} commits in {repo} ...", file=sys.stderr)
        synthesise(repo, ns.commits)
    n = int(subprocess.run(["git", "-C", str(repo), "rev-list", "--count", "--first-parent",
                            "HEAD"], capture_output=True, text=True, check=True).stdout)
    raw_cmd = ["git", "-C", str(repo), "log", "--name-only", "--no-renames", "--first-parent",
               "HEAD"]
    ours_cmd = [sys.executable, "-c", MINE.format(root=str(ROOT), repo=str(repo), n=n)]
    # Interleave the two so that drift in machine load hits both alike.
    pairs = [(timed(raw_cmd, 1), timed(ours_cmd, 1)) for _ in range(9)]
    raw_t = statistics.median(r[0] for r, _ in pairs)
    ours_t = statistics.median(o[0] for _, o in pairs)
    peak = pairs[-1][1][1]
    ratio = statistics.median(o[0] / r[0] for r, o in pairs)
    print(f"repository: {repo} ({n} first-parent commits)")
    print(f"raw git log --name-only --no-renames --first-parent: {raw_t:.2f} s (median of 9)")
    print(f"layerlens mining, whole process incl. startup:       {ours_t:.2f} s (median of 9), "
          f"peak RSS of the Python process {int(peak) / 1024:.0f} MiB")
    print(f"ratio: {ratio:.2f}x, median of 9 interleaved pairs (bound: 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
