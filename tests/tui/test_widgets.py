"""Each widget driven through Textual's Pilot: what it shows, and when it draws."""

from __future__ import annotations

import re
import threading

import pytest
from textual.widgets import DataTable, Static

from layerlens.tui.app import LayerlensApp
from layerlens.tui.screens import ApplyScreen
from layerlens.tui.widgets.files_tree import FilesTree
from layerlens.tui.widgets.history_list import HistoryList
from layerlens.tui.widgets.layer_table import LayerTable
from layerlens.tui.widgets.size_chart import SizeChart
from layerlens.tui.widgets.source_view import SourceView
from layerlens.tui.widgets.suggestion_list import SuggestionList
from layerlens.tui.widgets.totals_header import TotalsHeader

from .conftest import settle

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
async def test_every_column_stays_and_figures_are_never_cut(image_view, size) -> None:
    app = LayerlensApp(view=image_view)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        table = app.query_one(LayerTable)
        assert [c.key.value for c in table.columns.values()] == [
            "stage", "line", "instruction", "size", "bar", "shadowed", "rebuilt", "share"]
        assert table.max_scroll_x == 0  # nothing hides off to the right
        widths = {c.key.value: c.width for c in table.columns.values()}
        for i in range(table.row_count):
            cells = table.get_row_at(i)
            for key, cell in zip(widths, cells, strict=True):
                assert len(str(cell)) <= widths[key], (key, str(cell))
            assert str(cells[3]) == "unknown" or re.fullmatch(r"[\d.]+ \w+", str(cells[3]))
        line4 = next(str(r[2]) for r in map(table.get_row_at, range(table.row_count))
                     if str(r[1]) == "4")
        full = "RUN cp /somefile.txt /root/example/somefile1.txt"
        if size[0] == 80:  # the instruction is cut, with a mark, to keep every figure
            assert line4.endswith("…") and full.startswith(line4[:-1])
        else:
            assert line4 == full


async def test_hidden_tabs_draw_when_shown(pyweb_view) -> None:
    app = LayerlensApp(view=pyweb_view)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("down", "down")  # COPY . .
        await pilot.pause()
        history = app.query_one(HistoryList)
        assert history.subject is not None and history.row_count == 0 and history._stale
        await pilot.press("3")
        await pilot.pause()
        assert history.row_count == 160 and not history._stale
        # newest first
        dates = [str(history.get_row_at(i)[1]) for i in range(history.row_count)]
        assert dates == sorted(dates, reverse=True)
        assert str(app.query_one("#rebuilds-label", Static).render()).startswith(
            "rebuilds of line 8 per week, 32 weeks from 2026-01-06 … 2026-08-11: 160, peak 8")


async def test_one_tab_reaches_the_suggestion_list(pyweb_view) -> None:
    app = LayerlensApp(view=pyweb_view)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.focused, LayerTable)
        await pilot.press("down", "down", "4", "tab")
        assert isinstance(app.focused, SuggestionList)
        sugs = app.query_one(SuggestionList)
        await pilot.press("down")
        assert sugs.index == 1
        diff = str(app.query_one("#diff", Static).render())
        assert diff.startswith(sugs.chosen.suggestion.message[:30])


async def test_files_tree_separates_name_size_and_status(image_view) -> None:
    app = LayerlensApp(view=image_view)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("down", "down", "down", "2", "c")
        await settle(pilot)
        tree = app.query_one(FilesTree)
        leaves = [str(n.label) for n in tree.root.children if not n.allow_expand]
        assert any(re.fullmatch(r"dev +0 B  unchanged", x) for x in leaves), leaves
        dirs = [str(n.label) for n in tree.root.children if n.allow_expand]
        assert re.fullmatch(r"bin/ +1\.1 MiB", dirs[0]), dirs


async def test_size_chart_and_source_view(image_view) -> None:
    app = LayerlensApp(view=image_view)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("down", "6")
        await pilot.pause()
        chart = str(app.query_one(SizeChart).render())
        lines = chart.splitlines()
        assert len(lines) == 1 + len(image_view.rows)
        assert lines[2].startswith("▶    2 ADD README.md") and "█" in lines[2]
        assert lines[1].lstrip().startswith("- base image busybox") and "1.1 MiB" in lines[1]
        await pilot.press("5")
        await pilot.pause()
        source = str(app.query_one(SourceView).render())
        assert "   2 ADD README.md /somefile.txt" in source


async def test_apply_names_the_real_ignore_file_and_updates_the_header(tmp_path) -> None:
    from layerlens.analysis import AnalyzeOptions, analyze
    from layerlens.suggest.engine import suggest
    from layerlens.viewmodel import build_view

    from ..integration.harness import Repo

    repo = Repo(tmp_path)
    repo.write("Dockerfile", "FROM debian\nWORKDIR /app\nCOPY app.sh /app/app.sh\n"
               "COPY . /app\nRUN apt-get update && apt-get install -y gcc\n")
    repo.write("Dockerfile.dockerignore", ".git\n")
    repo.write("app.sh", "echo\n")
    for i in range(6):
        repo.write("docs/guide.md", f"v{i}\n")
        repo.commit()
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    view = build_view(a, suggest(a))
    ignore = tmp_path / "Dockerfile.dockerignore"
    app = LayerlensApp(view=view)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        header = str(app.query_one(TotalsHeader).render())
        while app.row.line != 4:
            await pilot.press("down")
        await pilot.press("4")
        sugs = app.query_one(SuggestionList)
        sugs.index = [i.suggestion.rule for i in sugs._items].index("LL005")
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ApplyScreen)
        head = str(app.screen.query_one("#confirm-head", Static).render())
        assert f"Rewrite {tmp_path.name}/Dockerfile.dockerignore?" in head
        assert "UNSAFE" in head and "not built" in head
        body = str(app.screen.query_one("#confirm-diff Static", Static).render())
        assert "unsafe fix:" in body and "+++ b/Dockerfile.dockerignore" in body
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert ignore.read_text() != ".git\n" and "docs" in ignore.read_text()
        assert app.view is not None and app.view.report is not None
        assert app.view.totals.rebuild_seconds < view.totals.rebuild_seconds
        assert str(app.query_one(TotalsHeader).render()) != header


async def test_the_table_shows_before_the_history_is_replayed(pyweb_repo, monkeypatch) -> None:
    import layerlens.analysis as analysis
    from layerlens.analysis import AnalyzeOptions

    real = analysis.with_history
    release = threading.Event()

    def slow(a, progress=None):
        assert release.wait(60)
        return real(a, progress)

    monkeypatch.setattr(analysis, "with_history", slow)
    app = LayerlensApp(AnalyzeOptions(pyweb_repo / "Dockerfile"))
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(LayerTable)
        for _ in range(500):
            await pilot.pause(0.02)
            if table.row_count:
                break
        assert table.row_count == 5
        header = str(app.query_one(TotalsHeader).render())
        assert header.splitlines()[1] == "history: mining and replaying the git history…"
        assert str(table.get_row_at(2)[6]) == "unknown"  # rebuilt rate: not yet known
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "per commit over 160 commits" in str(app.query_one(TotalsHeader).render())
        assert str(table.get_row_at(2)[6]) == "100%"
        assert app.view is not None and app.view.report is not None
        commits = app.query_one(HistoryList)
        await pilot.press("down", "down", "3")  # COPY . .
        await pilot.pause()
        assert commits.row_count > 0 and isinstance(commits, DataTable)


async def test_number_keys_leave_the_suggestions_list(pyweb_view) -> None:
    # new-user trial: with the suggestions list focused, "3" did not switch tabs
    from textual.widgets import TabbedContent

    from layerlens.tui.widgets.suggestion_list import SuggestionList

    app = LayerlensApp(view=pyweb_view)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "4")
        await settle(pilot)
        await pilot.press("tab")
        await settle(pilot)
        assert isinstance(app.focused, SuggestionList)
        await pilot.press("3")
        await settle(pilot)
        assert app.query_one("#details", TabbedContent).active == "history"
        assert isinstance(app.focused, LayerTable)
