"""Reading BuildKit progress logs for real build seconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layerlens.cache.buildlog import match_steps, parse_plain, parse_rawjson, read_build_log
from layerlens.cache.ops import build_plan
from layerlens.dockerfile import parse
from layerlens.errors import LayerlensError

PLAIN = """\
#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 201B done
#1 DONE 0.0s

#5 [build 2/4] WORKDIR /src
#5 CACHED

#6 [build 3/4] COPY . .
#6 DONE 0.4s

#7 [build 4/4] RUN go build   -o /out/app .
#7 0.523 go: downloading example.com/x v1.0.0
#7 DONE 12.4s

#8 [stage-1 2/2] COPY --from=build /out/app /app
#8 DONE 0.1s
"""
DF = ("FROM golang AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/app .\n"
      "FROM alpine\nCOPY --from=build /out/app /app\n")


def test_plain() -> None:
    steps = {s.text: s for s in parse_plain(PLAIN.splitlines())}
    assert steps["RUN go build   -o /out/app ."].seconds == 12.4
    assert steps["WORKDIR /src"].cached and steps["WORKDIR /src"].seconds is None
    seconds = match_steps(list(steps.values()), build_plan(parse(DF)))
    assert sorted(seconds.values()) == [0.1, 0.4, 12.4]


def test_rawjson() -> None:
    lines = [json.dumps({"vertexes": [{"digest": "sha256:a", "name": "[build 4/4] RUN make",
                                       "started": "2026-01-01T10:00:00.123456789Z"}]}),
             json.dumps({"vertexes": [{"digest": "sha256:a", "name": "[build 4/4] RUN make",
                                       "started": "2026-01-01T10:00:00.123456789Z",
                                       "completed": "2026-01-01T10:00:07.623456789Z"}]}),
             json.dumps({"vertexes": [{"digest": "sha256:b", "name": "[build 2/4] COPY . .",
                                       "cached": True}]})]
    steps = {s.text: s for s in parse_rawjson(lines)}
    assert steps["RUN make"].seconds == pytest.approx(7.5)
    assert steps["COPY . ."].cached


def test_not_a_log(tmp_path: Path) -> None:
    p = tmp_path / "log.txt"
    p.write_text("hello\nworld\n")
    with pytest.raises(LayerlensError, match="no BuildKit steps"):
        read_build_log(p)
