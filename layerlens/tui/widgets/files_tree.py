"""The files tree: a layer's own entries, or everything up to it (dive's two views)."""

from __future__ import annotations

from textual.reactive import reactive

from layerlens.viewmodel import LayerRow, PathNode, ViewData

from .lazy import LazyRender
from .path_tree import PathTree


class FilesTree(LazyRender, PathTree):
    """`subject` is (view, selected row); `cumulative` shows everything visible up to the
    layer; `pattern` keeps paths containing it; `by_size` orders largest first."""

    subject: reactive[tuple[ViewData, LayerRow] | None] = reactive(None, always_update=True)
    cumulative: reactive[bool] = reactive(False)
    pattern: reactive[str] = reactive("")
    by_size: reactive[bool] = reactive(False)

    def __init__(self, **kwargs) -> None:
        super().__init__("layer files", **kwargs)

    def watch_subject(self) -> None:
        self.data_changed()

    def watch_cumulative(self) -> None:
        self.data_changed()

    def watch_pattern(self) -> None:
        self.data_changed()

    def watch_by_size(self) -> None:
        self.data_changed()

    def draw(self) -> None:
        if self.subject is None:
            return
        view, row = self.subject
        if view.analysis.image is None:
            self._token += 1  # a tree still being built is no longer wanted
            self.clear()
            self.root.set_label("no image: run with --image to browse layer files")
            return
        cumulative, pattern, by_size = self.cumulative, self.pattern, self.by_size

        def compute() -> tuple[PathNode, str]:
            tree = view.files_tree(row, cumulative, pattern, by_size)
            mode = "everything up to this layer" if cumulative else "this layer only"
            order = "by size" if by_size else "by name"
            return tree, f"{tree.files} entries ({mode}, {order})"

        self.build(compute)
