"""Timestamps as builders write them (RFC 3339, often with nanoseconds)."""

from __future__ import annotations

import re
from datetime import datetime

_FRACTION = re.compile(r"^(.*\.\d{6})\d*(.*)$")


def parse_time(value: str | None) -> datetime | None:
    """A Go/BuildKit timestamp, or None when there is none or it cannot be read."""
    if not value:
        return None
    v = value.replace("Z", "+00:00")
    m = _FRACTION.match(v)  # Go writes nanoseconds; Python reads microseconds
    if m:
        v = m.group(1) + m.group(2)
    try:
        return datetime.fromisoformat(v)
    except ValueError:
        return None
