"""The diff preview: the highlighted suggestion, why it matters and the change it makes."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from layerlens.viewmodel import SuggestionItem

from .lazy import LazyRender


def describe(item: SuggestionItem, writes: bool = True) -> Text:
    """The suggestion's message, reason, note, fix class, the files it writes (unless the
    caller names them) and its unified diff (added lines green, removed red). Shared with
    the apply dialog."""
    s = item.suggestion
    body = Text(s.message + "\n" + s.reason + "\n")
    if s.note:
        body.append(f"note: {s.note}\n", style="italic")
    if s.fix_class == "safe":
        body.append("safe fix: the final image stays identical; only layer boundaries and "
                    "order change\n", style="green")
    elif s.fix_class == "unsafe":
        body.append(f"unsafe fix: {s.unsafe_reason}; it may change the image\n",
                    style="yellow")
    else:
        body.append("hint: no automatic fix\n", style="dim")
    for path in item.writes if writes else ():
        body.append(f"writes {path}\n", style="bold")
    for line in item.patch.splitlines():
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
        body.append(line + "\n", style=style)
    return body


class DiffPreview(LazyRender, Static):
    """`item` is the highlighted suggestion (None: none); `empty` says why there is none."""

    item: reactive[SuggestionItem | None] = reactive(None, always_update=True)
    empty: reactive[str] = reactive("")

    def watch_item(self) -> None:
        self.data_changed()

    def draw(self) -> None:
        if self.item is None:
            self.update(Text(self.empty or "no suggestion touches this layer", style="dim"))
        else:
            self.update(describe(self.item))
