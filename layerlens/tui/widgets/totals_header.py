"""The totals header: the image's size and waste, and what a commit costs."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from layerlens.units import duration, size
from layerlens.viewmodel import ViewData

from .lazy import LazyRender


class TotalsHeader(LazyRender, Static):
    """Two lines over the table. `view` is the loaded `ViewData` (None while loading);
    `status` is the loader's last progress note or error."""

    view: reactive[ViewData | None] = reactive(None, always_update=True)
    status: reactive[str] = reactive("")

    def watch_view(self) -> None:
        self.data_changed()

    def watch_status(self) -> None:
        self.data_changed()

    def draw(self) -> None:
        v = self.view
        if v is None:
            if self.status.startswith("error"):  # nothing more will load
                self.update(Text(f"layerlens: {self.status}  (q quits)", style="red"))
            else:
                self.update(Text(f"layerlens: loading… {self.status}".rstrip()))
            return
        t = v.totals
        text = Text()
        text.append(v.title, style="bold")
        text.append(f" │ size {size(t.size_bytes)}")
        if t.shadowed_bytes is not None:
            text.append(f" │ shadowed {size(t.shadowed_bytes)}")
        if t.efficiency is not None:
            text.append(f" │ efficiency {t.efficiency:.1%}")
        text.append("\n")
        replaying = v.analysis.history is None and v.pending.startswith("history")
        if replaying:
            text.append(v.pending, style="italic")
        elif t.commits:
            est = " (estimated)" if t.estimated else ""
            push = size(t.push_bytes)
            if t.push_bytes is not None and t.push_unknown_layers:
                push = "≥ " + push
            text.append(f"per commit over {t.commits} commit{'s' * (t.commits != 1)}: "
                        f"rebuild {duration(t.rebuild_seconds)}{est}, push {push}")
        else:
            text.append("no git history: static analysis")
        if t.saving_seconds or t.saving_unsafe_seconds:
            text.append(f" │ safe fixes save {duration(t.saving_seconds or 0)}/commit",
                        style="green")
            if t.saving_unsafe_seconds:
                text.append(f", with unsafe {duration(t.saving_unsafe_seconds)}",
                            style="yellow")
        elif v.pending and not replaying:
            text.append(f" │ {v.pending}", style="italic")
        if self.status:
            text.append(f"\n{self.status}",
                        style="red" if self.status.startswith("error") else "dim")
        self.update(text)
