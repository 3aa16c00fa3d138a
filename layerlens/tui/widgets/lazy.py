"""Draw only what people can see: a widget in a hidden tab waits for its next `Show`."""

from __future__ import annotations

from textual import events
from textual.widget import Widget


class LazyRender:
    """Mixin for a `Widget` whose data is set through reactive attributes.

    Watchers call `data_changed()`; `draw()` (the subclass's) runs now when the widget and
    every ancestor are displayed, or at the widget's next `Show` otherwise. `draw` only turns
    records into widgets and text: no file I/O and no computing of trees or diffs."""

    _stale: bool = False

    def draw(self) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def displayed(self) -> bool:
        node: Widget | None = self  # type: ignore[assignment]
        while isinstance(node, Widget):
            if not node.display:
                return False
            node = node.parent  # type: ignore[assignment]
        return True

    def data_changed(self) -> None:
        if self.displayed():
            self._stale = False
            self.draw()
        else:
            self._stale = True

    def on_show(self, _event: events.Show) -> None:
        if self._stale:
            self._stale = False
            self.draw()
