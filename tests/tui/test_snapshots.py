"""Snapshots of every widget's view (pytest-textual-snapshot): each tab at 120x40, and the
main views at 80x24 (every column kept, cut) and at 160x45."""

from __future__ import annotations

import pytest

from layerlens.tui.app import LayerlensApp

from .conftest import pressing

pytestmark = pytest.mark.integration
SIZE = (120, 40)


@pytest.mark.parametrize(("keys", "name"), [
    ((), "main"),
    (("down", "down", "1"), "inputs"),
    (("down", "down", "3"), "history"),
    (("down", "down", "4"), "suggestions"),
    (("down", "down", "5"), "dockerfile"),
    (("down", "down", "6"), "sizes"),
    (("question_mark",), "help"),
])
def test_pyweb_views(snap_compare, pyweb_view, keys, name) -> None:
    app = LayerlensApp(view=pyweb_view)
    assert snap_compare(app, run_before=pressing(keys), terminal_size=SIZE)


def test_image_files_view(snap_compare, image_view) -> None:
    app = LayerlensApp(view=image_view)
    assert snap_compare(app, run_before=pressing(["down", "down", "down", "2", "c"]),
                        terminal_size=SIZE)


@pytest.mark.parametrize("size", [(80, 24), (160, 45)], ids=["80x24", "160x45"])
@pytest.mark.parametrize(("keys", "name"), [
    ((), "main"),
    (("down", "down", "3"), "history"),
    (("down", "down", "4", "tab"), "suggestions"),
    (("4", "a"), "apply"),  # LL003 (lines 2-3: ARG, ENV) is listed under line 4
])
def test_pyweb_sizes(snap_compare, pyweb_view, keys, name, size) -> None:
    app = LayerlensApp(view=pyweb_view)
    assert snap_compare(app, run_before=pressing(keys), terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (160, 45)], ids=["80x24", "160x45"])
@pytest.mark.parametrize(("keys", "name"), [
    (("down", "down", "down", "2", "c"), "files"),
    (("down", "6"), "sizes"),
])
def test_image_sizes(snap_compare, image_view, keys, name, size) -> None:
    app = LayerlensApp(view=image_view)
    assert snap_compare(app, run_before=pressing(keys), terminal_size=size)
