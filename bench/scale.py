#!/usr/bin/env python3
"""How `layerlens analyze` grows with commits, changed paths per commit, context files and
instructions, and what `layerlens scan` costs over many Dockerfiles (ARCHITECTURE.md, "Scale").

Each dimension is varied alone at three sizes over real git repositories synthesised with
git fast-import (files under nested directories, the changed paths of each commit drawn at
random). Every figure is one `analyze --no-cache --max-commits 0` (or `scan --no-cache`) in
a child process: CPU seconds (user+sys, git included), wall seconds and the peak resident
memory (VmHWM) of the layerlens process. The machine is shared: CPU is the figure to compare.

    .venv/bin/python bench/scale.py [--quick] > table.md
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def synthesise(path: Path, commits: int, files: int, per_commit: int,
               dockerfiles: int = 0, seed: int = 14) -> None:
    """A repository of `commits` first-parent commits over `files` files, each commit
    changing `per_commit` of them; `dockerfiles` Dockerfiles under svc<i>/ for `scan`."""
    rng = random.Random(seed)
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    names = [f"src/pkg{i % 50}/sub{(i // 50) % 20}/f{i}.py" for i in range(files)] \
        if not dockerfiles else [f"svc{i % dockerfiles}/src/f{i}.py" for i in range(files)]
    out: list[bytes] = []
    t = 1_600_000_000
    for i in range(commits):
        t += 600
        out.append(b"commit refs/heads/main\n")
        out.append(f"mark :{i + 1}\ncommitter Dev <d@example.com> {t} +0000\n".encode())
        out.append(b"data 2\nc\n")
        if i:
            out.append(f"from :{i}\n".encode())
        touched = names if i == 0 else rng.sample(names, min(per_commit, files))
        for f in touched:
            body = f"{f} {i}\n".encode()
            out.append(f"M 100644 inline {f}\ndata {len(body)}\n".encode() + body + b"\n")
        if i == 0:
            for k in range(dockerfiles):
                body = b"FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install .\n"
                out.append(f"M 100644 inline svc{k}/Dockerfile\ndata {len(body)}\n".encode()
                           + body + b"\n")
        out.append(b"\n")
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=b"".join(out),
                   check=True)
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "main"], check=True)


def dockerfile(instructions: int) -> str:
    """FROM plus `instructions` alternating COPY (of one package) and RUN, then COPY . ."""
    lines = ["FROM python:3.12", "WORKDIR /app"]
    for k in range(max(0, instructions - 2)):
        lines.append(f"COPY src/pkg{k % 50} /app/pkg{k}" if k % 2 == 0 else f"RUN step {k}")
    lines.append("COPY . .")
    return "\n".join(lines) + "\n"


# Runs layerlens and records its peak resident set (VmHWM) on exit. ru_maxrss cannot serve:
# a child inherits the high-water mark of the process that forked it.
WRAP = """
import atexit, os, sys
def hwm():
    with open("/proc/self/status") as fh:
        kb = next(line.split()[1] for line in fh if line.startswith("VmHWM:"))
    with open(os.environ["LAYERLENS_BENCH_HWM"], "w") as out:
        out.write(kb)
atexit.register(hwm)
from layerlens.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run(cmd: list[str], cwd: Path | None = None) -> tuple[float, float, float]:
    """(CPU seconds incl. git, wall seconds, peak RSS MiB of the layerlens process) of one
    `layerlens` command (`cmd` is its argument list)."""
    with tempfile.NamedTemporaryFile() as hwm:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LAYERLENS_BENCH_HWM": hwm.name}
        t = time.perf_counter()
        with tempfile.TemporaryFile() as fh:
            proc = subprocess.Popen([sys.executable, "-c", WRAP, *cmd], stdout=fh,
                                    stderr=subprocess.DEVNULL, env=env, cwd=cwd)
            _pid, _status, ru = os.wait4(proc.pid, 0)  # its own usage, git included
            proc.returncode = 0
        wall = time.perf_counter() - t
        kb = Path(hwm.name).read_text().strip() or "0"
    return ru.ru_utime + ru.ru_stime, wall, int(kb) / 1024


def analyze(repo: Path, df_text: str, work: Path) -> tuple[float, float, float]:
    df = work / "Dockerfile"
    df.write_text(df_text)
    return run(["analyze", str(df), "--context", str(repo), "--no-cache", "--max-commits", "0",
                "-o", os.devnull])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ns = ap.parse_args()
    q = 4 if ns.quick else 1
    work = Path(tempfile.mkdtemp(prefix="layerlens-scale-"))
    rows: list[str] = []

    def row(dim: str, size: str, fig: tuple[float, float, float]) -> None:
        rows.append(f"| {dim} | {size} | {fig[0]:.2f} | {fig[1]:.2f} | {fig[2]:.0f} |")
        print(rows[-1], file=sys.stderr)

    try:
        base = dict(commits=4000 // q, files=2000 // q, per_commit=4)
        df6 = dockerfile(6)
        for n in (2000 // q, 8000 // q, 32000 // q):
            repo = work / f"c{n}"
            synthesise(repo, n, base["files"], base["per_commit"])
            row("commits", f"{n:,}", analyze(repo, df6, work))
            shutil.rmtree(repo)
        for k in (1, 8, 64):
            repo = work / f"p{k}"
            synthesise(repo, base["commits"], base["files"], k)
            row("changed paths per commit", str(k), analyze(repo, df6, work))
            shutil.rmtree(repo)
        for f in (1000 // q, 5000 // q, 25000 // q):
            repo = work / f"f{f}"
            synthesise(repo, base["commits"], f, base["per_commit"])
            row("context files", f"{f:,}", analyze(repo, df6, work))
            shutil.rmtree(repo)
        repo = work / "i"
        synthesise(repo, base["commits"], base["files"], base["per_commit"])
        for k in (6, 30, 120):
            row("instructions", str(k), analyze(repo, dockerfile(k), work))
        shutil.rmtree(repo)
        for d in (20 // q, 60 // q, 180 // q):
            repo = work / f"s{d}"
            synthesise(repo, base["commits"], base["files"], base["per_commit"], dockerfiles=d)
            # scan checks each Dockerfile against its baseline: make them (with a private
            # mined-history cache, so that only the first one mines), then time the scan
            env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(work / "xdg")}
            for k in range(d):
                subprocess.run([sys.executable, "-m", "layerlens", "baseline",
                                str(repo / f"svc{k}" / "Dockerfile"), "--max-commits", "0"],
                               env=env, check=True, capture_output=True)
            fig = run(["scan", str(repo), "--no-cache", "--max-commits", "0", "-o", os.devnull])
            row("scan: Dockerfiles", str(d), fig)
            shutil.rmtree(repo)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"Baseline: {base['commits']:,} commits, {base['files']:,} files, "
          f"{base['per_commit']} changed paths per commit, 6 instructions (each row varies one).")
    print()
    print("| dimension | size | CPU s | wall s | peak RSS MiB |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
