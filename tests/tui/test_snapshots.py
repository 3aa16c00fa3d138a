"""Snapshots of every main view at 120x40 (pytest-textual-snapshot)."""

from __future__ import annotations

import pytest

from layerlens.tui.app import LayerlensApp

pytestmark = pytest.mark.integration
SIZE = (120, 40)


@pytest.mark.parametrize(("keys", "name"), [
    ((), "main"),
    (("down", "down", "1"), "inputs"),
    (("down", "down", "3"), "history"),
    (("down", "down", "4"), "suggestions"),
    (("down", "down", "5"), "dockerfile"),
    (("question_mark",), "help"),
])
def test_pyweb_views(snap_compare, pyweb_view, keys, name) -> None:
    assert snap_compare(LayerlensApp(view=pyweb_view), press=list(keys), terminal_size=SIZE)


def test_image_files_view(snap_compare, image_view) -> None:
    app = LayerlensApp(view=image_view)
    assert snap_compare(app, press=["down", "down", "down", "2", "c"], terminal_size=SIZE)
