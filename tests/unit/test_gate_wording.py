"""How the gate words a finding (found by the new-user trial of issue 15 on bakerydemo)."""

from __future__ import annotations

import json

from layerlens.gate.check import Finding, _judge
from layerlens.gate.config import Budget
from layerlens.gate.output import _finding_json


def test_growth_from_nothing_says_the_figure_once() -> None:
    got = _judge("layer_size", Budget(max_growth=1024), 0.0, 33.3 * 2**20)
    assert got == "grew from 0 B to 33.3 MiB"
    got = _judge("layer_size", Budget(max_growth=1024), 2**20, 3 * 2**20)
    assert got == "grew by 2.0 MiB (200.0%), from 1.0 MiB to 3.0 MiB"


def test_byte_figures_are_whole_numbers_in_json() -> None:
    f = Finding("layer_size", "ADD . /code/ (line 55)", 55, 31865938.0, 66500000.0, "b", "m")
    doc = json.loads(json.dumps(_finding_json(f)))
    assert doc["baseline"] == 31865938 and isinstance(doc["baseline"], int)
    assert isinstance(doc["current"], int) and isinstance(doc["growth"], int)
    s = Finding("rebuild_seconds", "x", None, 1.5, 2.25, "b", "m")
    assert _finding_json(s)["growth"] == 0.75
