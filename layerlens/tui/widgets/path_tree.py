"""What the inputs tree and the files tree share: drawing a `viewmodel.PathNode` lazily."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from layerlens.units import size
from layerlens.viewmodel import PathNode

STATUS_STYLE = {"added": "green", "modified": "yellow", "removed": "red"}
NAME_MAX = 40


def label(node: PathNode, name_width: int) -> Text:
    """`name  size  status` in three columns: names padded to their siblings' widest (at most
    NAME_MAX, longer ones cut in the middle), sizes right-aligned in 10 cells."""
    name = node.name
    if len(name) > NAME_MAX:
        half = (NAME_MAX - 1) // 2
        name = name[:half] + "…" + name[-(NAME_MAX - 1 - half):]
    is_dir = node.children is not None
    # a directory's expand icon ("▶ ") takes two cells that a file's row does not
    width = min(name_width, NAME_MAX) + 2
    style = STATUS_STYLE.get(node.status, "")
    if node.shadowed:
        style += " strike dim"
    text = Text(name, style="bold" if is_dir else style)
    text.append(" " * (width - len(name) - 2 * is_dir + 1))
    text.append(size(node.size).rjust(10), style="dim")
    if node.status:
        text.append("  " + node.status, style=style or "dim")
    if node.shadowed:
        text.append(" (shadowed)", style="dim")
    return text


class PathTree(Tree[PathNode]):
    """A `Tree` of a `PathNode`: a directory's children are added when it is first
    expanded, so a layer of 100,000 files opens at once."""

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
