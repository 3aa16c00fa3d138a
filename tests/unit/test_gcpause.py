"""The collector pause: state restored, and a one-shot process freezes what a block made."""

from __future__ import annotations

import gc

import pytest

from layerlens import gcpause


@pytest.fixture
def fresh_gc():
    was = gc.isenabled()
    gcpause._freeze = False
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


def test_only_the_program_is_one_shot(fresh_gc, tmp_path, monkeypatch) -> None:
    """`main([...])` (tests, scripts) leaves the caller's collector alone; `main()`, the
    program's entry point, declares the process one-shot."""
    from layerlens.cli import main

    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    assert main(["analyze", str(tmp_path / "Dockerfile"), "--no-history"]) == 0
    assert not gcpause._freeze and gc.get_freeze_count() == 0
    monkeypatch.setattr("sys.argv", ["layerlens", "analyze", str(tmp_path / "Dockerfile"),
                                     "--no-history"])
    assert main() == 0
    assert gcpause._freeze and gc.get_freeze_count() > 0


def test_paused_keeps_a_disabled_collector_disabled(fresh_gc) -> None:
    gc.disable()
    gcpause.one_shot()
    with gcpause.paused():
        pass
    assert not gc.isenabled()
