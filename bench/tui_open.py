#!/usr/bin/env python3
"""How long `layerlens tui` takes to show the layer table, and to fill the history figures.

Runs the real App headless (Textual's `run_test`) on a Dockerfile and polls every 20 ms:
"ready" is when the App has mounted (Textual's own start-up), "table" when the layer table
first has rows, "history" when the header shows the replay's figures (the loaded analysis
has a history). Prints wall seconds and the CPU
seconds (user+sys) of this process and of its children (git) together. The mined-history
cache lives in a private temporary $XDG_CACHE_HOME: the first run is cold, the rest warm.

    .venv/bin/python bench/tui_open.py /work/rr/juice-shop/Dockerfile [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


async def _one(dockerfile: Path, limit: float) -> dict[str, float | None]:
    from textual.widgets import DataTable

    from layerlens.analysis import AnalyzeOptions
    from layerlens.tui.app import LayerlensApp

    app = LayerlensApp(AnalyzeOptions(dockerfile))
    got: dict[str, float | None] = {"table": None, "history": None}
    t0, c0 = time.perf_counter(), _cpu()
    async with app.run_test(size=(120, 40)) as pilot:
        got["ready"] = time.perf_counter() - t0
        while time.perf_counter() - t0 < limit:
            await pilot.pause(0.02)
            table = app.query_one("#layers", DataTable)
            if got["table"] is None and table.row_count:
                got["table"] = time.perf_counter() - t0
                got["table_cpu"] = _cpu() - c0
            view = app.view
            if view is not None and view.analysis.history is not None and table.row_count:
                got["history"] = time.perf_counter() - t0
                got["history_cpu"] = _cpu() - c0
                break
        await app.workers.wait_for_complete()
    return got


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dockerfile", type=Path)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--limit", type=float, default=120.0, help="give up after this many seconds")
    ns = p.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        os.environ["XDG_CACHE_HOME"] = cache
        for i in range(ns.runs):
            r = asyncio.run(_one(ns.dockerfile.resolve(), ns.limit))
            kind = "cold" if i == 0 else "warm"

            def fmt(k: str, r=r) -> str:
                v = r.get(k)
                return "never" if v is None else f"{v:.2f}"

            print(f"run {i + 1} ({kind} cache): ready {fmt('ready')} s wall, "
                  f"table {fmt('table')} s wall "
                  f"({fmt('table_cpu')} s CPU), history {fmt('history')} s wall "
                  f"({fmt('history_cpu')} s CPU)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
