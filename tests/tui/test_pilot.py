"""Driving the TUI with Textual's Pilot: navigation, sorting, filtering, tabs, a fix."""

from __future__ import annotations

import subprocess
import sys

import pytest
from textual.widgets import DataTable, ListView, Static, TabbedContent, Tree

from layerlens.tui.app import LayerlensApp

pytestmark = pytest.mark.integration


def _source(app) -> str:
    return str(app.query_one("#source", Static).render())


async def test_navigation_and_tabs(pyweb_view) -> None:
    app = LayerlensApp(view=pyweb_view)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.row.line == 4
        await pilot.press("down", "down")
        assert app.row.line == 8 and app.row.text == "COPY . ."
        for key, tab in zip("12345", ("inputs", "files", "history", "suggestions",
                                      "dockerfile"), strict=True):
            await pilot.press(key)
            assert app.query_one(TabbedContent).active == tab
        tree = app.query_one("#inputs-tree", Tree)
        assert "context files" in str(tree.root.label)
        commits = app.query_one("#commits", DataTable)
        assert commits.row_count == 160  # COPY . . rebuilt at every commit (.git churns)
        assert app.query_one("#sugs", ListView).children


async def test_sorting(pyweb_view) -> None:
    app = LayerlensApp(view=pyweb_view)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("s")  # by size, largest first
        assert app.sort_key == "size"
        table = app.query_one("#layers", DataTable)
        first = table.get_row_at(0)
        assert "COPY . ." in str(first[2])
        await pilot.press("r")
        assert "COPY . ." in str(table.get_row_at(table.row_count - 1)[2])


async def test_file_filter_and_cumulative(image_view) -> None:
    app = LayerlensApp(view=image_view)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("down", "down", "down")  # RUN cp /somefile.txt .../somefile1.txt
        await pilot.press("2")
        tree = app.query_one("#files-tree", Tree)
        own = str(tree.root.label)
        await pilot.press("c")
        everything = str(tree.root.label)
        assert "this layer only" in own and "everything up to this layer" in everything
        await pilot.press("z")
        assert "by size" in str(tree.root.label)
        first_dir = str(tree.root.children[0].label)
        assert first_dir.startswith("bin/")  # 1.1 MiB of busybox: the biggest directory
        await pilot.press("slash")
        await pilot.press(*"somefile1")
        await pilot.pause()
        assert str(tree.root.label).startswith("1 entries")


async def test_apply_fix_after_confirmation(pyweb_view) -> None:
    app = LayerlensApp(view=pyweb_view)
    path = pyweb_view.analysis.options.dockerfile
    before = path.read_text()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("down", "down", "4")  # COPY . . and its suggestions
        await pilot.press("a")
        await pilot.press("n")  # declined: nothing written
        assert path.read_text() == before
        lv = app.query_one("#sugs", ListView)
        rules = [s.rule for s in pyweb_view.suggestions_for(app.row)]
        lv.index = rules.index("LL002")
        seconds = pyweb_view.totals.rebuild_seconds
        await pilot.press("a", "y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert path.read_text() != before
        assert "COPY requirements.txt ./" in path.read_text()
        # the figures describe the file now on disk: the header changed with it
        from layerlens.analysis import analyze

        now = analyze(pyweb_view.analysis.options).history.costs.mean_seconds
        assert app.view.totals.rebuild_seconds == pytest.approx(now)
        assert now != pytest.approx(seconds)
        assert app.view is not pyweb_view and "rebuild" in str(app.query_one("#totals").render())


def test_core_never_imports_textual() -> None:
    code = ("import sys, layerlens.cli, layerlens.analysis, layerlens.suggest.engine, "
            "layerlens.suggest.rules, layerlens.gate.check, layerlens.viewmodel, "
            "layerlens.image.reader, layerlens.cache.timeline; "
            "print([m for m in sys.modules if m.split('.')[0] in ('textual',)])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
