"""With --image, every layer row of `analyze` shows the size of the layers it made, RUNs
included (new-user trial of issue 13: only COPY rows had a size)."""

from __future__ import annotations

import re
from pathlib import Path

from layerlens.analysis import AnalyzeOptions, analyze
from layerlens.cache.timeline import HistoryOptions
from layerlens.textreport import analysis_text

IMAGES = Path(__file__).resolve().parents[1] / "data" / "images"


def test_run_rows_carry_their_layer_size() -> None:
    a = analyze(AnalyzeOptions(IMAGES / "test-image.Dockerfile", context=IMAGES,
                               image=str(IMAGES / "test-docker-image.tar"),
                               history=HistoryOptions(enabled=False)))
    text = analysis_text(a, width=100)
    sizes = {src.line: a.image.layers[src.layer].size_bytes for src in a.layer_sources
             if src.line is not None}
    assert sizes[10] == 0 and sizes[4] > 0
    row4 = next(x for x in text.splitlines() if re.match(r"\s+L4\s", x))
    row10 = next(x for x in text.splitlines() if re.match(r"\s+L10\s", x))
    assert row4.rstrip().endswith("6.3 KiB") and row10.rstrip().endswith("0 B")
