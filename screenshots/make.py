#!/usr/bin/env python3
"""Regenerate screenshots/*.svg and *.png of every main TUI view from the bundled samples.

    .venv/bin/python screenshots/make.py      # needs rsvg-convert (apt-get install librsvg2-bin)
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
IMAGES = ROOT / "tests" / "data" / "images"
SIZE = (132, 42)

VIEWS = [
    ("pyweb", "main", ()),
    ("pyweb", "inputs", ("down", "down", "1")),
    ("pyweb", "history", ("down", "down", "3")),
    ("pyweb", "suggestions", ("down", "down", "4")),
    ("pyweb", "dockerfile", ("down", "down", "5")),
    ("pyweb", "apply", ("4", "a")),
    ("gokuard", "multistage", ("down",)),
    ("image", "files", ("down", "down", "down", "2", "c")),
    ("image", "sizes", ("down", "6")),
    ("pyweb", "help", ("question_mark",)),
]


async def shoot(view, keys, out: Path) -> None:
    from layerlens.tui.app import LayerlensApp

    app = LayerlensApp(view=view)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for k in keys:
            await pilot.press(k)
            # the path trees are built in worker threads
            await app.workers.wait_for_complete()
            await pilot.pause()
        app.save_screenshot(str(out))


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from layerlens.analysis import AnalyzeOptions, analyze
    from layerlens.cache.timeline import HistoryOptions
    from layerlens.suggest.engine import suggest
    from layerlens.viewmodel import build_view

    views = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("pyweb", "gokuard"):
            dest = Path(tmp) / name
            bundle = ROOT / "layerlens" / "sample_bundles" / f"{name}.bundle"
            subprocess.run(["git", "clone", "-q", str(bundle), str(dest)], check=True)
            a = analyze(AnalyzeOptions(dest / "Dockerfile"))
            views[name] = build_view(a, suggest(a))
        if (IMAGES / "test-docker-image.tar").exists():
            a = analyze(AnalyzeOptions(IMAGES / "test-image.Dockerfile", context=IMAGES,
                                       image=str(IMAGES / "test-docker-image.tar"),
                                       keep_image_files=True,
                                       history=HistoryOptions(enabled=False)))
            views["image"] = build_view(a, suggest(a))
        for sample, name, keys in VIEWS:
            if sample not in views:
                continue
            svg = HERE / f"{name}.svg"
            asyncio.run(shoot(views[sample], keys, svg))
            if shutil.which("rsvg-convert"):
                # Textual writes spaces as &#160; and rsvg drops leading ones unless told
                # to preserve them: right-aligned figures would slide left
                text = svg.read_text().replace("<svg ", '<svg xml:space="preserve" ', 1)
                subprocess.run(["rsvg-convert", "-w", "1400", "-o",
                                str(svg.with_suffix(".png"))], input=text.encode(),
                               check=True)
            print(f"wrote screenshots/{name}.svg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
