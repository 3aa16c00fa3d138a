"""The history chart: how often this layer rebuilds, week by week, over the window."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Sparkline, Static

from layerlens.viewmodel import WEEK, LayerRow, ViewData

from .lazy import LazyRender


def _day(t: int) -> str:
    return datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%d")


class HistoryChart(LazyRender, Vertical):
    """Two sparklines over the same weeks (`ViewData.weekly`): the selected layer's
    rebuilds, and every commit in the window, with the dates and peaks as text."""

    subject: reactive[tuple[ViewData, LayerRow] | None] = reactive(None, always_update=True)

    def compose(self) -> ComposeResult:
        yield Static(Text(""), classes="chart-label", id="rebuilds-label")
        yield Sparkline([], id="rebuilds-spark")
        yield Static(Text(""), classes="chart-label", id="commits-label")
        yield Sparkline([], id="commits-spark")

    def watch_subject(self) -> None:
        self.data_changed()

    def draw(self) -> None:
        if self.subject is None or not self.is_mounted:
            return
        view, row = self.subject
        series = view.weekly(row)
        rebuilds = self.query_one("#rebuilds-label", Static)
        commits = self.query_one("#commits-label", Static)
        if series is None:
            msg = ("history: " + view.pending) if view.pending else "no git history"
            rebuilds.update(Text(msg, style="italic"))
            commits.update(Text(""))
            self.query_one("#rebuilds-spark", Sparkline).data = []
            self.query_one("#commits-spark", Sparkline).data = []
            return
        weeks = len(series.rebuilds)
        span = f"{_day(series.start)} … {_day(series.start + (weeks - 1) * WEEK)}"
        what = f"line {row.line}" if row.line else "this layer"
        rebuilds.update(Text(f"rebuilds of {what} per week, {weeks} week"
                             f"{'s' * (weeks != 1)} from {span}: {sum(series.rebuilds)}, "
                             f"peak {max(series.rebuilds)}"))
        commits.update(Text(f"all commits per week: {sum(series.commits)}, peak "
                            f"{max(series.commits)}", style="dim"))
        self.query_one("#rebuilds-spark", Sparkline).data = list(series.rebuilds)
        self.query_one("#commits-spark", Sparkline).data = list(series.commits)
