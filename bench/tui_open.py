#!/usr/bin/env python3
"""How long `layerlens tui` takes to show the layer table, and to fill the history figures.

Runs the real App headless (Textual's `run_test`) on a Dockerfile and timestamps each
`Loaded` message as the App handles it: "ready" is when the App has mounted (Textual's own
start-up), "table" the first view (the table fills), "history" the first with the replay's
figures, "suggestions" the first with the suggestions measured. (Before the TUI loaded in
steps, one message carried all three.) Prints wall seconds and the CPU
seconds (user+sys) of this process and of its children (git) together. The mined-history
cache lives in a private temporary $XDG_CACHE_HOME: the first run is cold, the rest warm.

    .venv/bin/python bench/tui_open.py /work/rr/juice-shop/Dockerfile [--runs 3]
    .venv/bin/python bench/tui_open.py /work/rr/juice-shop/Dockerfile --reread 2

With --reread LINE the repository is cloned to a temporary folder, the TUI opens on the
clone, applies the first fix listed under the table row of Dockerfile line LINE (`4`, `a`,
`y`) and times the re-read: to the new table, and to the new history figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class _Clock:
    """Timestamps the App's `Loaded` messages as it handles them (Textual's message hook):
    the first after `start()` is the table, the first carrying a history the figures."""

    def __init__(self) -> None:
        self.t0, self.c0 = time.perf_counter(), _cpu()
        self.got: dict[str, float] = {}

    def start(self) -> None:
        self.t0, self.c0, self.got = time.perf_counter(), _cpu(), {}

    def hook(self, msg) -> None:
        if type(msg).__name__ != "Loaded":
            return
        now, cpu = time.perf_counter() - self.t0, _cpu() - self.c0
        if "table" not in self.got:
            self.got["table"], self.got["table_cpu"] = now, cpu
        if msg.view.analysis.history is not None and "history" not in self.got:
            self.got["history"], self.got["history_cpu"] = now, cpu
        if msg.view.report is not None and "done" not in self.got:
            self.got["done"], self.got["done_cpu"] = now, cpu


async def _one(dockerfile: Path, limit: float) -> dict[str, float]:
    from layerlens.analysis import AnalyzeOptions
    from layerlens.tui.app import LayerlensApp

    app = LayerlensApp(AnalyzeOptions(dockerfile))
    clock = _Clock()
    async with app.run_test(size=(120, 40), message_hook=clock.hook) as pilot:
        clock.got["ready"] = time.perf_counter() - clock.t0
        while time.perf_counter() - clock.t0 < limit and "done" not in clock.got:
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
    return clock.got


async def _reread(dockerfile: Path, line: int, limit: float) -> dict[str, float]:
    from layerlens.analysis import AnalyzeOptions
    from layerlens.tui.app import LayerlensApp

    app = LayerlensApp(AnalyzeOptions(dockerfile))
    clock = _Clock()
    async with app.run_test(size=(120, 40), message_hook=clock.hook) as pilot:
        while time.perf_counter() - clock.t0 < limit and "done" not in clock.got:
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        while app.row is None or app.row.line != line:
            await pilot.press("down")
        await pilot.press("4", "a")
        await pilot.pause(0.2)
        clock.start()
        await pilot.press("y")
        while time.perf_counter() - clock.t0 < limit and "done" not in clock.got:
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
    return clock.got


def _line(head: str, r: dict[str, float]) -> str:
    def fmt(k: str) -> str:
        return "never" if k not in r else f"{r[k]:.2f} s wall ({r[k + '_cpu']:.2f} s CPU)"

    ready = f"ready {r['ready']:.2f} s wall, " if "ready" in r else ""
    return (f"{head}: {ready}table {fmt('table')}, history {fmt('history')}, "
            f"suggestions {fmt('done')}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dockerfile", type=Path)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--limit", type=float, default=120.0, help="give up after this many seconds")
    p.add_argument("--reread", type=int, metavar="LINE", help="time the re-read after an apply")
    ns = p.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        os.environ["XDG_CACHE_HOME"] = cache
        if ns.reread is not None:
            for i in range(ns.runs):
                repo = Path(cache) / f"clone{i}"
                src = ns.dockerfile.resolve().parent
                subprocess.run(["git", "clone", "-q", str(src), str(repo)], check=True)
                r = asyncio.run(_reread(repo / ns.dockerfile.name, ns.reread, ns.limit))
                print(_line(f"re-read {i + 1}", r), flush=True)
            return 0
        for i in range(ns.runs):
            r = asyncio.run(_one(ns.dockerfile.resolve(), ns.limit))
            print(_line(f"run {i + 1} ({'cold' if i == 0 else 'warm'} cache)", r), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
