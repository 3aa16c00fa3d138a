"""The layer table: one row per layer-making instruction, sortable, every column kept."""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable

from layerlens.units import size
from layerlens.viewmodel import LayerRow, ViewData

from .lazy import LazyRender

# (sort key or None, header, width); the instruction column takes what is left
COLUMNS = (("stage", None, "stage"), ("line", "line", "line"), ("instruction", None, ""),
           ("size", "size", "size"), ("bar", None, ""), ("shadowed", "shadowed", "shadowed"),
           ("rebuilt", "change", "rebuilt"), ("share", "share", "share"))
FIXED = {"line": 5, "size": 9, "shadowed": 9, "rebuilt": 8, "share": 7}
ARROW = {False: "▲", True: "▼"}


def _pct(x: float | None) -> str:
    return "unknown" if x is None else f"{x:.0%}"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


class LayerTable(LazyRender, DataTable):
    """`view.rows` sorted by `sort_key` (one of `viewmodel.SORT_KEYS`), the sorted column
    marked ▲ (ascending) or ▼; figures not known read "unknown". Widths follow the
    widget's width: at 80 columns the instruction and stage are cut, never a figure.
    Posts `Selected` when the cursor moves."""

    # shown in the footer while the table has focus: one Tab reaches the open tab's list
    BINDINGS = [Binding("tab", "app.focus_next", "Next pane")]

    view: reactive[ViewData | None] = reactive(None, always_update=True)
    sort_key: reactive[str] = reactive("line")
    sort_reverse: reactive[bool] = reactive(False)

    class Selected(Message):
        def __init__(self, row: LayerRow) -> None:
            super().__init__()
            self.row = row

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._rows: list[LayerRow] = []
        self._drawn_width = 0

    def watch_view(self) -> None:
        self.data_changed()

    def watch_sort_key(self) -> None:
        self.data_changed()

    def watch_sort_reverse(self) -> None:
        self.data_changed()

    @property
    def current(self) -> LayerRow | None:
        """The row under the cursor."""
        if not self._rows or not 0 <= self.cursor_row < len(self._rows):
            return None
        return self._rows[self.cursor_row]

    def _widths(self, width: int, stage_w: int) -> dict[str, int]:
        # each column has one cell of padding either side; keep 2 for a scrollbar
        room = width - 2 * len(COLUMNS) - 2
        bar = max(4, min(12, (room - sum(FIXED.values()) - stage_w - 24)))
        rest = room - sum(FIXED.values()) - bar
        stage = max(5, min(stage_w, rest - 12))
        return {**FIXED, "bar": bar, "stage": stage, "instruction": max(8, rest - stage)}

    def draw(self) -> None:
        v = self.view
        if v is None:
            return
        keep = self.current.key if self.current else None
        width = self.size.width or self.app.size.width
        self._drawn_width = width
        rows = v.sorted_rows(self.sort_key, self.sort_reverse)
        self._rows = rows
        stage_w = max((len(r.stage_label) for r in rows), default=5)
        w = self._widths(width, stage_w)
        self.clear(columns=True)
        for name, key, header in COLUMNS:
            label = header + (ARROW[self.sort_reverse] if key == self.sort_key else "")
            self.add_column(Text(label, justify="left" if name in ("stage", "instruction")
                                 else "right"), width=w[name], key=name)
        top = max((r.size_bytes or 0 for r in rows), default=0)
        bar = w["bar"]
        for r in rows:
            filled = max(1, round(bar * r.size_bytes / top)) if r.size_bytes and top else 0
            self.add_row(
                Text(_cut(r.stage_label, w["stage"])),
                Text(str(r.line) if r.line else "-", justify="right"),
                Text(_cut(r.text, w["instruction"])),
                Text(size(r.size_bytes), justify="right"),
                Text("█" * filled, style="cyan"),
                Text(size(r.shadowed_bytes), justify="right"),
                Text(_pct(r.change_rate), justify="right"),
                Text(_pct(r.share), justify="right"),
                key=r.key,
            )
        if rows:
            idx = next((i for i, r in enumerate(rows) if r.key == keep), 0)
            self.move_cursor(row=idx)
            self.post_message(self.Selected(rows[idx]))

    def on_resize(self, event: events.Resize) -> None:
        if self.view is not None and event.size.width != self._drawn_width:
            self.data_changed()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        row = self.current
        if row is not None:
            self.post_message(self.Selected(row))
