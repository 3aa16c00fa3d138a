"""The history list: the commits that rebuild this layer, newest first."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import DataTable

from layerlens.units import duration
from layerlens.viewmodel import LayerRow, ViewData

from .lazy import LazyRender

LIMIT = 500  # rows drawn; the chart above counts them all


class HistoryList(LazyRender, DataTable):
    """`ViewData.commits_of` for the selected row: commit, date (UTC), the first line the
    commit rebuilds in the row's stage, and the rebuild's seconds."""

    subject: reactive[tuple[ViewData, LayerRow] | None] = reactive(None, always_update=True)

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", **kwargs)

    def on_mount(self) -> None:
        self.add_columns("commit", "date (UTC)", "first miss", "rebuild")

    def watch_subject(self) -> None:
        self.data_changed()

    def draw(self) -> None:
        if self.subject is None:
            return
        view, row = self.subject
        self.clear()
        for c in view.commits_of(row)[:LIMIT]:
            when = datetime.fromtimestamp(c.time, tz=UTC).strftime("%Y-%m-%d %H:%M")
            self.add_row(Text(c.sha[:12]), Text(when),
                         Text(f"line {c.first_line}" if c.first_line else "-"),
                         Text(duration(c.seconds), justify="right"))
