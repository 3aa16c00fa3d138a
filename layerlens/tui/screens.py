"""Modal screens: the keys (`?`) and the apply dialog."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from layerlens.viewmodel import SuggestionItem

from .widgets.diff_preview import describe

HELP = """\
layerlens — keys

Focus moves with Tab (shift+Tab back): the layer table, then the open tab's
tree, list or text. Up/down move in whatever has focus; the number keys
switch tabs without moving focus, so up/down keep moving between layers.

  up/down     move between layers (or in the focused list)
  s / r       sort by the next column / reverse (the sorted column shows ▲ or ▼)
  1 … 6       Inputs, Files, History, Suggestions, Dockerfile, Sizes
  tab         next pane: from the table, one Tab reaches the suggestions list
  o           inputs: order by size or by churn
  c           files: this layer only / everything up to here
  z           files: order by size or by name
  /           files: filter by path
  a           apply the highlighted suggestion (shows the diff and asks first)
  v           verify it first: build the original and the fix, compare images
  ctrl+p      command palette
  q           quit"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        yield Static(Text(HELP), id="help")


class ApplyScreen(ModalScreen[bool]):
    """What `a` (or `v`, once the builds agree) would write, before it writes: the rule and
    fix class, the real files it rewrites, the verification and the diff."""

    BINDINGS = [Binding("escape,n", "no", "Cancel"), Binding("y", "yes", "Apply")]

    def __init__(self, item: SuggestionItem, verification: str) -> None:
        super().__init__()
        self.item = item
        self.verification = verification

    def compose(self) -> ComposeResult:
        s = self.item.suggestion
        files = " and ".join(self.item.writes)
        with Vertical(id="confirm"):
            head = Text(f"{s.rule}: {s.title}\n", style="bold")
            head.append(f"Rewrite {files}?\n")
            head.append(f"verification: {self.verification}",
                        style="green" if self.verification.startswith("verify") and
                        "identical" in self.verification else "")
            yield Static(head, id="confirm-head")
            with VerticalScroll(id="confirm-diff"):
                yield Static(describe(self.item, writes=False))
            with Horizontal(id="confirm-buttons"):
                yield Button("Apply (y)", variant="warning", id="yes")
                yield Button("Cancel (n)", id="no")

    @on(Button.Pressed, "#yes")
    def action_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_no(self) -> None:
        self.dismiss(False)
