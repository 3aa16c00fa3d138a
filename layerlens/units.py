"""The one place sizes, durations and counts become text for people.

Every text output and the TUI format through here so that units read the same
everywhere; JSON keeps exact numbers and never goes through this module.

One compact style, chosen so a figure fits a table column at 80 columns:

- sizes in binary units with one decimal (humanize's `naturalsize`): "20.5 MiB",
  "1.0 KiB", and plain bytes as "512 B";
- durations as at most two units, largest first: "0.5s", "18s", "4m 15s", "8h 07m",
  "3d 04h". Under ten seconds one decimal is kept (the per-commit cost of a COPY is often
  a fraction of a second); above, whole units. humanize has no compact form: `precisedelta`
  spells the words out ("4 minutes and 15 seconds") and `naturaldelta` keeps one unit
  ("4 minutes" for 4m 59s), so the parts are computed here;
- counts with their noun in the right number (`plural`): "1 commit", "905 commits".
"""

from __future__ import annotations

import humanize

_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def size(n: int | None) -> str:
    """Bytes as binary units ("1.5 MiB", "512 B"); None (not known) as "unknown", never 0."""
    if n is None:
        return "unknown"
    text = humanize.naturalsize(n, binary=True, format="%.1f")
    # humanize spells plain bytes as "512 Bytes" / "1 Byte": the unit symbol, as for KiB
    return text.replace(" Bytes", " B").replace(" Byte", " B")


def duration(seconds: float | None) -> str:
    """Seconds as compact text ("0.07s", "0.5s", "18s", "4m 15s", "8h 07m", "3d 04h"); None (not
    known) as "unknown". Negative values keep their sign ("-1m 30s"): a gate's growth can
    be negative."""
    if seconds is None:
        return "unknown"
    if seconds <= -0.05:
        return "-" + duration(-seconds)
    seconds = max(seconds, 0.0)  # what would print as "-0.0s" is 0
    if 0.005 <= seconds < 0.095:
        # two decimals below a tenth, so a saving of 0.07s is not shown as "0.1s" beside a
        # note that it is under a 0.1s threshold
        return f"{seconds:.2f}s"
    if seconds < 9.95:  # one decimal; 9.96 would round to "10.0s"
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    for k, (name, unit) in enumerate(_UNITS[:-1]):
        small_name, small = _UNITS[k + 1]
        # round to the smaller unit first, then split, so 59m 59.6s reads "1h 00m", not
        # "60m 00s", and 23h 59m 59s reads "1d 00h"
        big, rest = divmod(round(seconds / small), unit // small)
        if big:
            return f"{big}{name} {rest:02d}{small_name}"
    raise AssertionError("unreachable")  # pragma: no cover


def plural(n: int, noun: str, plural_form: str | None = None) -> str:
    """`n` and `noun` in the right number, `n` with thousands separators: "1 commit",
    "1,098 files", plural(2, "fix", "fixes") -> "2 fixes"."""
    word = noun if n == 1 else (plural_form or noun + "s")
    return f"{n:,} {word}"
