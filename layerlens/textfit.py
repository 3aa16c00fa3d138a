"""Text for people that fits the terminal: the width, wrapping, elision, cut lists, colour.

Every text report is laid out for one width (`width()`: `COLUMNS`, else the terminal's, else
80) and no line is wider, except the lines of a unified diff, which `git apply` must get
whole. Widths are terminal cells (rich's `cell_len`: a CJK character takes two).

rich does the wrapping, tables and colour; it is imported inside the functions that need it
so `layerlens --help` does not pay for it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from functools import lru_cache

DEFAULT_WIDTH = 80
# below this nothing useful fits (a rule id, a path and a figure); a narrower COLUMNS is
# read as this
MIN_WIDTH = 40
ELLIPSIS = "…"


def width(stream=None) -> int:
    """The width to lay text out for, in cells: `COLUMNS` when it is a positive number,
    else the size of the terminal STREAM (default stdout) is on, else 80; never below
    MIN_WIDTH."""
    env = os.environ.get("COLUMNS", "").strip()
    if env.isdigit() and int(env) > 0:
        return max(MIN_WIDTH, int(env))
    stream = sys.stdout if stream is None else stream
    try:
        if stream.isatty():
            return max(MIN_WIDTH, os.get_terminal_size(stream.fileno()).columns)
    except (AttributeError, OSError, ValueError):
        pass
    return DEFAULT_WIDTH


def cells(text: str) -> int:
    """Terminal cells TEXT takes (wide characters count two)."""
    from rich.cells import cell_len

    return cell_len(text)


def _cut_cells(text: str, n: int, *, from_end: bool = False) -> str:
    """The longest prefix (suffix with FROM_END) of TEXT that takes at most N cells."""
    from rich.cells import cell_len

    if n <= 0:
        return ""
    if cell_len(text) <= n:
        return text
    chars = reversed(text) if from_end else iter(text)
    out, used = [], 0
    for ch in chars:
        w = cell_len(ch)
        if used + w > n:
            break
        out.append(ch)
        used += w
    return "".join(reversed(out) if from_end else out)


def truncate(text: str, n: int) -> str:
    """TEXT in at most N cells, cut at the end with "…" when longer."""
    if cells(text) <= n:
        return text
    return _cut_cells(text, n - 1) + ELLIPSIS


def elide_middle(text: str, n: int) -> str:
    """TEXT (a path) in at most N cells: when longer, its middle becomes "…", keeping the
    start (where it is) and, a little more of, the end (the file name):
    `elide_middle("frontend/src/app/search/search.component.ts", 24)` is
    `"frontend/s…h.component.ts"`. N < 1 gives ""."""
    if cells(text) <= n:
        return text
    if n <= 1:
        return ELLIPSIS[:n]
    head = (n - 1) // 2
    tail = n - 1 - head
    return _cut_cells(text, head) + ELLIPSIS + _cut_cells(text, tail, from_end=True)


def more(n: int) -> str:
    """The tail a cut list ends with: "and 14 more"."""
    return f"and {n:,} more"


def cut_list(items: Sequence[str], limit: int) -> list[str]:
    """ITEMS, at most LIMIT of them; when some are left out the last kept one is replaced
    by "and N more" (so the answer is never longer than LIMIT, and N counts every item not
    shown). LIMIT < 1 is read as 1."""
    limit = max(1, limit)
    if len(items) <= limit:
        return list(items)
    shown = list(items[: limit - 1])
    return [*shown, more(len(items) - len(shown))]


def fit_list(items: Sequence[str], n: int, sep: str = ", ") -> str:
    """ITEMS joined by SEP into at most N cells: as many whole items as fit, then
    "and N more" for the rest. An item that alone does not fit is elided in the middle (it
    is usually a path). An empty list gives ""."""
    if not items:
        return ""
    whole = sep.join(items)
    if cells(whole) <= n:
        return whole
    for k in range(len(items) - 1, 0, -1):
        text = sep.join([*items[:k], more(len(items) - k)])
        if cells(text) <= n:
            return text
    tail = sep + more(len(items) - 1)
    if len(items) > 1 and cells(tail) < n:
        return elide_middle(items[0], n - cells(tail)) + tail
    return elide_middle(items[0], n)


def wrap(text: str, n: int, *, indent: str = "", first: str = "") -> list[str]:
    """TEXT as lines of at most N cells: the first line starts with FIRST, the others with
    INDENT (a hanging indent); rich breaks at spaces and folds a word longer than a line.
    Line breaks and tabs in TEXT become spaces (a message is one paragraph)."""
    from rich.text import Text

    body = " ".join(text.splitlines()).replace("\t", " ").strip()
    console = _console()
    out: list[str] = []
    lead = first
    while True:
        room = max(1, n - cells(lead))
        lines = Text(body).wrap(console, room, overflow="fold") if body else []
        if len(lines) <= 1:
            out.append((lead + body).rstrip())
            return out
        # rich's lines are slices of BODY, spaces kept: the rest starts where line 0 ends
        line = lines[0].plain
        out.append((lead + line).rstrip())
        body = body[len(line):].lstrip()
        lead = indent


@lru_cache(maxsize=1)
def _console():
    """One rich Console for measuring and wrapping: wrap() passes the width to each call,
    so the Console's own width does not matter, and building one per call was a third of
    the cost of a report's text (41 wraps in suggest's on juice-shop)."""
    from rich.console import Console

    return Console(width=1000, color_system=None, force_terminal=False, force_jupyter=False,
                   legacy_windows=False, emoji=False, highlight=False, markup=False)


def fit_lines(lines: Iterable[str], n: int, *, indent: str = "    ") -> list[str]:
    """Each of LINES wrapped to N cells, its continuation lines indented past the line's own
    leading spaces by INDENT; lines that fit are kept as they are."""
    out: list[str] = []
    for line in lines:
        if cells(line) <= n:
            out.append(line)
            continue
        lead = line[: len(line) - len(line.lstrip(" "))]
        out.extend(wrap(line[len(lead):], n, first=lead, indent=lead + indent))
    return out


def diff_start(lines: Sequence[str]) -> int:
    """Index of the first line of the unified diff that ends a report (its first `--- `
    line), or len(LINES) when there is none. From there on lines may be wider than the
    width: `git apply` needs them whole."""
    return next((k for k, x in enumerate(lines) if x.startswith("--- ")), len(lines))


# ---- colour ------------------------------------------------------------------------

COLOR_MODES = ("auto", "always", "never")


def use_color(mode: str = "auto", stream=None) -> bool:
    """Whether to colour text written to STREAM (default stdout): `always` and `never`
    as given (a command-line flag overrides NO_COLOR, https://no-color.org); `auto` only on
    a terminal, and not when NO_COLOR is set to anything but "" or TERM is "dumb"."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    if os.environ.get("NO_COLOR", "") != "" or os.environ.get("TERM") == "dumb":
        return False
    stream = sys.stdout if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


# what is coloured, by pattern over the plain text: the layout is done (and measured)
# before colour is added, so escape sequences never count toward the width
_STYLES: tuple[tuple[str, str], ...] = (
    (r"(?m)^(Dockerfile|Context|History|As built|Image|Tags|Size|Shadowed|dive) ", "bold"),
    (r"(?m)^Stage \d+.*$", "bold cyan"),
    (r"(?m)^ *(line|#) .*$", "dim"),
    (r"(?m)^ +churn: .*$", "dim"),
    (r"\bLL\d{3}\b", "bold"),
    (r"\[safe fix\]", "green"),
    (r"\[unsafe fix\]", "yellow"),
    (r"\[hint\]", "cyan"),
    (r"(?m)^ *FAIL\b", "bold red"),
    (r"(?m)^ *better:", "green"),
    (r"(?m)^(notice|note|warning|layerlens: warning):", "yellow"),
    (r"(?m)^layerlens: error:", "bold red"),
    (r"(?m)^[^\n]*: within budget\b", "green"),
    (r"(?m)^[^\n]*: \d+ over budget\b", "red"),
)
_DIFF_STYLES = (("+", "green"), ("-", "red"), ("@@", "cyan"))


def colorize(text: str) -> str:
    """TEXT (laid out, plain) with ANSI colour for a terminal; the characters are unchanged.
    Lines of a unified diff (after the first `--- ` line) are coloured as `git diff` does."""
    import re

    from rich.console import Console
    from rich.text import Text

    console = Console(force_terminal=True, color_system="standard", no_color=False,
                      width=10**6, emoji=False, highlight=False, markup=False,
                      legacy_windows=False, force_jupyter=False)
    out = []
    in_diff = False
    for line in text.split("\n"):
        t = Text(line)
        in_diff = in_diff or line.startswith("--- ")
        if in_diff:
            if line.startswith(("+++ ", "--- ")):
                t.stylize("bold")
            else:
                for prefix, style in _DIFF_STYLES:
                    if line.startswith(prefix):
                        t.stylize(style)
                        break
        else:
            for pattern, style in _STYLES:
                for m in re.finditer(pattern, line):
                    t.stylize(style, m.start(), m.end())
        with console.capture() as cap:
            console.print(t, end="", soft_wrap=True, crop=False, overflow="ignore")
        out.append(cap.get())
    return "\n".join(out)
