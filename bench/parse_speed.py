#!/usr/bin/env python3
"""Time `layerlens analyze` (no history) on a 2,000-instruction Dockerfile.

Compares against dockerfile-parse reading the same file and touching one semantic
property, the baseline issue #2 names. Prints the median of several runs.

    .venv/bin/python bench/parse_speed.py [DOCKERFILE]
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "tests" / "data" / "conformance" / "dockerfile" / "50_long_2000.Dockerfile"


def median_time(fn, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from layerlens.analysis import AnalyzeOptions, analyze

    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    data = path.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        df = Path(tmp) / "Dockerfile"
        df.write_bytes(data)
        ours = median_time(lambda: analyze(AnalyzeOptions(df)))
        n = len(analyze(AnalyzeOptions(df)).dockerfile.instructions)
    from dockerfile_parse import DockerfileParser

    def dfp() -> None:
        p = DockerfileParser(fileobj=io.BytesIO(data))
        p.structure  # noqa: B018 - the property is the work being timed
        p.envs  # noqa: B018

    theirs = median_time(dfp)
    print(f"{path.name}: {n} instructions")
    print(f"layerlens analyze (parse, stages, expansion, context): {ours * 1000:.1f} ms")
    print(f"dockerfile-parse .structure + .envs:                    {theirs * 1000:.1f} ms")
    print(f"ratio: {ours / theirs:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
