"""The collector pause: state restored, and a one-shot process freezes what a block made."""

from __future__ import annotations

import gc

import pytest

from layerlens import gcpause


@pytest.fixture
def fresh_gc():
    was = gc.isenabled()
    gc.enable()
    gc.unfreeze()
    yield
    gcpause._freeze = False
    gc.unfreeze()
    (gc.enable if was else gc.disable)()


def test_paused_disables_inside_and_restores(fresh_gc) -> None:
    with gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block still holds it
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0  # a long-lived process (the TUI) freezes nothing


def test_one_shot_freezes_the_records_a_block_made(fresh_gc) -> None:
    gcpause.one_shot()
    after_imports = gc.get_freeze_count()
    assert after_imports > 0
    with gcpause.paused():
        records = [[i] for i in range(10_000)]  # lists are tracked by the collector
    assert gc.isenabled()
    assert gc.get_freeze_count() >= after_imports + len(records)
    assert gc.get_count()[0] < 700  # nothing left for the next young collection to walk


def test_paused_keeps_a_disabled_collector_disabled(fresh_gc) -> None:
    gc.disable()
    gcpause.one_shot()
    with gcpause.paused():
        pass
    assert not gc.isenabled()
