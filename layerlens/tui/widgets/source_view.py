"""The source view: the Dockerfile, the selected instruction's lines highlighted."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from layerlens.viewmodel import LayerRow, ViewData

from .lazy import LazyRender


class SourceView(LazyRender, Static):
    """The Dockerfile text the analysis read (never re-read from disk), numbered."""

    subject: reactive[tuple[ViewData, LayerRow] | None] = reactive(None, always_update=True)

    def watch_subject(self) -> None:
        self.data_changed()

    def draw(self) -> None:
        if self.subject is None:
            return
        view, row = self.subject
        span = view.source_span(row)
        text = Text()
        for n, line in enumerate(view.analysis.dockerfile.source.splitlines(), 1):
            text.append(f"{n:4} ", style="dim")
            hit = span is not None and span[0] <= n <= span[1]
            text.append(line + "\n", style="reverse" if hit else "")
        self.update(text)
