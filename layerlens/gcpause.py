"""Pause Python's cyclic garbage collector around bulk allocation of acyclic records.

Mining and replaying a long history build hundreds of thousands of small tuples that live
until the analysis ends. Every 700 allocations the collector traverses the young
generation, and every few of those the older ones, all of it reachable: on rails' mainline
(46,000 commits, 170,753 changed paths) that traversal was half of the mining time. The
records hold no reference cycles, so reference counting frees them exactly as before; only
the traversal is skipped.

Resuming the collector after the block is not free either: the first allocations after it
find the young generation hundreds of thousands of objects over its threshold and traverse
them all, then again as they age into the older generations (half a second on rails). A
process that runs one command and exits (`analyze`, `suggest`, `check`, `scan`) declares so
with `one_shot()`: the outermost block then ends with `gc.freeze()`, which moves everything
alive into the permanent generation that collections skip. Frozen objects are still freed by
reference counting; only cyclic garbage made inside the block outlives the collector, until
the process exits. The TUI, which lives on and re-analyses, does not call it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_freeze = False


def one_shot() -> None:
    """Declare this process short-lived: the outermost `paused` block freezes what it made
    instead of leaving it to the collector (see the module doc)."""
    global _freeze
    _freeze = True
    gc.freeze()  # the modules imported so far live until exit too


@contextmanager
def paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block; restore its previous state after
    (nested blocks leave it disabled until the outermost one ends)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if _freeze:
                gc.freeze()
            gc.enable()
