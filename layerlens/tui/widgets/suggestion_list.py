"""The suggestions list: what layerlens suggests for the selected layer, best first."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Label, ListItem, ListView

from layerlens.units import duration
from layerlens.viewmodel import LayerRow, SuggestionItem, ViewData

from .lazy import LazyRender

FIX_LABEL = {"safe": "safe fix", "unsafe": "unsafe fix", "hint": "hint"}


class SuggestionList(LazyRender, ListView):
    """`ViewData.items_for` the selected row, one line each: rule, fix class, title and
    the saving per commit. Posts `Chosen` with the highlighted item (None: no suggestion)."""

    subject: reactive[tuple[ViewData, LayerRow] | None] = reactive(None, always_update=True)

    class Chosen(Message):
        def __init__(self, item: SuggestionItem | None, pending: str) -> None:
            super().__init__()
            self.item = item
            self.pending = pending

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._items: list[SuggestionItem] = []

    @property
    def chosen(self) -> SuggestionItem | None:
        """The highlighted suggestion."""
        i = self.index
        return self._items[i] if i is not None and 0 <= i < len(self._items) else None

    def watch_subject(self) -> None:
        self.data_changed()

    def draw(self) -> None:
        if self.subject is None:
            return
        view, row = self.subject
        items = view.items_for(row)
        pending = view.pending if view.report is None else ""
        if not items and not self._items:  # still none (being measured): nothing to redo
            self.post_message(self.Chosen(None, pending))
            return
        self._items = items
        self.clear()
        for item in self._items:
            s = item.suggestion
            text = Text(f"{s.rule} ")
            text.append(f"[{FIX_LABEL[s.fix_class]}]",
                        style={"safe": "green", "unsafe": "yellow"}.get(s.fix_class, "dim"))
            # the saving before the title: a narrow terminal cuts the end of the row
            if s.savings is not None and s.savings.commits:
                saved = max(0.0, s.savings.seconds_per_commit)
                text.append(f" saves {duration(saved)}/commit",
                            style="green" if saved >= 0.1 else "dim")
            text.append(f"  {s.title}")
            self.append(ListItem(Label(text)))
        if self._items:
            self.index = 0
        self.post_message(self.Chosen(self._items[0] if self._items else None, pending))

    @on(ListView.Highlighted)
    def _highlighted(self, event: ListView.Highlighted) -> None:
        event.stop()
        self.post_message(self.Chosen(self.chosen, ""))
