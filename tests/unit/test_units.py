"""units.py: one compact style for sizes, durations and counts (issue 15)."""

from __future__ import annotations

import pytest

from layerlens.units import duration, plural, size


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0.0s"), (0.004, "0.0s"), (0.04, "0.04s"), (0.07, "0.07s"), (0.096, "0.1s"),
    (0.5, "0.5s"), (9.94, "9.9s"),
    # ten seconds and more: whole units, at most two of them, the smaller zero-padded
    (9.96, "10s"), (18.4, "18s"), (59.4, "59s"),
    (59.6, "1m 00s"), (60, "1m 00s"), (255, "4m 15s"), (3000, "50m 00s"),
    # rounded to the smaller unit before the split: never "60m" nor "24h"
    (3599.7, "1h 00m"), (29256, "8h 08m"), (86399, "1d 00h"), (90000, "1d 01h"),
    (10 * 86400 + 7200, "10d 02h"),
    (-90, "-1m 30s"), (-0.01, "0.0s"), (-0.4, "-0.4s"),
])
def test_duration_is_compact_and_consistent(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_unknown_is_unknown_never_zero() -> None:
    assert duration(None) == "unknown"
    assert size(None) == "unknown"


@pytest.mark.parametrize(("n", "text"), [
    (0, "0 B"), (1, "1 B"), (512, "512 B"), (1023, "1023 B"), (1024, "1.0 KiB"),
    (1536, "1.5 KiB"), (int(20.5 * 2**20), "20.5 MiB"), (5 * 2**30, "5.0 GiB"),
])
def test_size_in_binary_units(n: int, text: str) -> None:
    assert size(n) == text


def test_plural() -> None:
    assert plural(1, "commit") == "1 commit"
    assert plural(0, "commit") == "0 commits"
    assert plural(1098, "file") == "1,098 files"
    assert plural(2, "unsafe fix", "unsafe fixes") == "2 unsafe fixes"
    assert plural(1, "unsafe fix", "unsafe fixes") == "1 unsafe fix"
