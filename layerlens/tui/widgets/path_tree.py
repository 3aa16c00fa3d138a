"""What the inputs tree and the files tree share: drawing a `viewmodel.PathNode` lazily."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode
from textual.worker import get_current_worker

from layerlens.jsonout import safe_text
from layerlens.textfit import cells, elide_middle
from layerlens.units import size
from layerlens.viewmodel import PathNode

STATUS_STYLE = {"added": "green", "modified": "yellow", "removed": "red"}
NAME_MAX = 40


def label(node: PathNode, name_width: int) -> Text:
    """`name  size  status` in three columns: names padded to their siblings' widest (at most
    NAME_MAX, longer ones cut in the middle), sizes right-aligned in 10 cells."""
    # names are measured in terminal cells (a CJK character takes two), and control
    # characters are shown as `\xNN`, so a tab in a name neither breaks nor fakes the row
    name = elide_middle(safe_text(node.name), NAME_MAX)
    is_dir = node.children is not None
    # a directory's expand icon ("▶ ") takes two cells that a file's row does not
    width = min(name_width, NAME_MAX) + 2
    style = STATUS_STYLE.get(node.status, "")
    if node.shadowed:
        style += " strike dim"
    text = Text(name, style="bold" if is_dir else style)
    text.append(" " * max(1, width - cells(name) - 2 * is_dir + 1))
    text.append(size(node.size).rjust(10), style="dim")
    if node.status:
        text.append("  " + node.status, style=style or "dim")
    if node.shadowed:
        text.append(" (shadowed)", style="dim")
    return text


class PathTree(Tree[PathNode]):
    """A `Tree` of a `PathNode`: the tree is built in a worker thread (`build`), and a
    directory's children are added when it is first expanded, so a layer of 100,000 files
    opens without stalling the screen."""

    class Ready(Message):
        def __init__(self, token: int, root: PathNode, title: str) -> None:
            super().__init__()
            self.token, self.root, self.title = token, root, title

    _token = 0

    def build(self, compute: Callable[[], tuple[PathNode, str]]) -> None:
        """Run `compute` (a viewmodel call: root and title) in a worker thread, then show
        its answer unless a newer `build` came first."""
        self._token += 1
        token = self._token

        def work() -> None:
            root, title = compute()
            if not get_current_worker().is_cancelled:
                self.post_message(self.Ready(token, root, title))

        self.run_worker(work, thread=True, exclusive=True, group="path-tree")

    def on_path_tree_ready(self, msg: Ready) -> None:
        msg.stop()
        if msg.token == self._token:
            self.show_tree(msg.root, msg.title)

    def show_tree(self, root: PathNode, title: str) -> None:
        self.clear()
        self.root.set_label(Text(title))
        self._add_children(self.root, root)
        self.root.expand()

    def _add_children(self, parent: TreeNode[PathNode], folder: PathNode) -> None:
        for child in folder.children or ():
            if child.children is None:
                parent.add_leaf(label(child, folder.name_width), data=child)
            else:
                parent.add(label(child, folder.name_width), data=child, allow_expand=True)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[PathNode]) -> None:
        node = event.node
        if node.data is not None and node.data.children is not None and not node.children:
            self._add_children(node, node.data)
