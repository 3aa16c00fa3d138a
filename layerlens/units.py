"""The one place sizes, durations and counts become text for people.

Every text output and the TUI format through here so that units read the same
everywhere; JSON keeps exact numbers and never goes through this module.
"""

from __future__ import annotations

import humanize


def size(n: int | None) -> str:
    """Bytes as binary units ("1.5 MiB"); None (not known) as "unknown", never 0."""
    if n is None:
        return "unknown"
    return humanize.naturalsize(n, binary=True, format="%.1f")


def duration(seconds: float | None) -> str:
    """Seconds as text; None (not known) as "unknown"."""
    if seconds is None:
        return "unknown"
    if seconds < 1:
        return f"{seconds:.1f}s"
    return humanize.precisedelta(seconds, minimum_unit="seconds", format="%0.0f")
