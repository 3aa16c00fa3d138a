"""The per-commit line names the pullers only when --pullers is not the default of one: the
pull figure is already multiplied by them, so a bare `x1` after it read as a second factor."""

from __future__ import annotations

from types import SimpleNamespace

from layerlens.textreport import per_commit_text


def _summary(pullers: int) -> SimpleNamespace:
    return SimpleNamespace(mean_seconds=12.0, unknown_push_layers=0, estimated=False,
                           mean_pull_bytes=3 * 1024 * 1024 * pullers, mean_push_bytes=3 << 20,
                           builds=2, commits=(1, 2), pullers=pullers)


def test_one_puller_is_not_named() -> None:
    line = per_commit_text(_summary(1), 2)
    assert line.endswith("pull 3.0 MiB"), line
    assert " x1" not in line


def test_several_pullers_are_named_after_the_multiplied_pull() -> None:
    assert per_commit_text(_summary(3), 2).endswith("pull 9.0 MiB by 3 pullers")


def test_no_pullers() -> None:
    assert per_commit_text(_summary(0), 2).endswith("pull 0 B by 0 pullers")
