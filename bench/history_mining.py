#!/usr/bin/env python3
"""Mining cost against raw `git log --name-only --no-renames --first-parent`.

Issue #3's bound: mining costs at most 1.5x the raw log over the same commits. Without
--repo, a real git repository of 20,000+ commits is synthesised once with git fast-import
(nested directories, 1-6 files changed per commit, occasional merges of side branches).

    .venv/bin/python bench/history_mining.py [--repo PATH] [--commits N]
"""

from __future__ import annotations

import argparse
import random
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", type=Path)
    ap.add_argument("--commits", type=int, default=20000)
    ns = ap.parse_args()
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
