"""The inputs tree: the context files a COPY/ADD brings in, with their size and churn."""

from __future__ import annotations

from textual.reactive import reactive

from layerlens.viewmodel import LayerRow, PathNode, ViewData

from .lazy import LazyRender
from .path_tree import PathTree


class InputsTree(LazyRender, PathTree):
    """`subject` is (view, selected row); `order` is "size" or "churn" (commits in the
    window that changed the file)."""

    subject: reactive[tuple[ViewData, LayerRow] | None] = reactive(None, always_update=True)
    order: reactive[str] = reactive("size")

    def __init__(self, **kwargs) -> None:
        super().__init__("context files", **kwargs)

    def watch_subject(self) -> None:
        self.data_changed()

    def watch_order(self) -> None:
        self.data_changed()

    def draw(self) -> None:
        if self.subject is None:
            return
        view, row, order = *self.subject, self.order

        def compute() -> tuple[PathNode, str]:
            tree = view.inputs_tree(row, order)
            n = tree.files
            if row.instruction is None or view.analysis.inputs.get(row.instruction) is None:
                return tree, "no context files: this layer copies nothing from the build context"
            return tree, f"{n} context file{'s' * (n != 1)}, by {order}"

        self.build(compute)

