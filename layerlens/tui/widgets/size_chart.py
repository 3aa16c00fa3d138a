"""The size chart: the image's size layer by layer, as bars, in Dockerfile order."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from layerlens.units import size
from layerlens.viewmodel import LayerRow, ViewData

from .lazy import LazyRender


class SizeChart(LazyRender, Static):
    """One bar per row of the layer table (`ViewData.rows`, in build order), scaled to the
    largest; the selected row is marked ▶. Layers of unknown size say so."""

    subject: reactive[tuple[ViewData, LayerRow] | None] = reactive(None, always_update=True)

    def watch_subject(self) -> None:
        self.data_changed()

    def on_resize(self) -> None:
        if self.subject is not None:
            self.data_changed()

    def draw(self) -> None:
        if self.subject is None:
            return
        view, selected = self.subject
        rows = view.rows
        width = max(40, (self.size.width or self.app.size.width) - 2)
        label_w = min(36, max((len(r.text) for r in rows), default=10) + 6)
        bar_w = max(8, width - label_w - 14)
        top = max((r.size_bytes or 0 for r in rows), default=0)
        known = "image layers" if view.analysis.image is not None else \
            "context bytes each COPY/ADD sends (no image: run with --image for layer sizes)"
        text = Text(f"size per layer ({known})\n", style="bold")
        for r in rows:
            mark = "▶ " if r.key == selected.key else "  "
            head = f"{r.line or '-':>4} {r.text}"
            head = head if len(head) <= label_w - 2 else head[: label_w - 3] + "…"
            text.append(mark + head.ljust(label_w - 2), style="reverse" if mark != "  " else "")
            if r.size_bytes is None:
                text.append(" " + "unknown".rjust(bar_w + 11) + "\n", style="dim")
                continue
            filled = round(bar_w * r.size_bytes / top) if top else 0
            if r.size_bytes and not filled:
                filled = 1
            text.append(" " + "█" * filled, style="cyan")
            text.append(" " * (bar_w - filled) + size(r.size_bytes).rjust(11) + "\n")
        self.update(text)
