"""Every recorded BuildKit answer in tests/data/conformance/dockerfile must be reproduced."""

from __future__ import annotations

import json

import pytest

from layerlens.dockerfile import DockerfileError, decode, parse
from layerlens.report import dockerfile_json

from .conftest import CONFORMANCE

CASES = sorted(p.name.removesuffix(".Dockerfile")
               for p in (CONFORMANCE / "dockerfile").glob("*.Dockerfile"))


def test_cases_present():
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", CASES)
def test_case(name: str) -> None:
    base = CONFORMANCE / "dockerfile"
    text = decode((base / f"{name}.Dockerfile").read_bytes())
    expected = json.loads((base / f"{name}.expected.json").read_text())
    if expected["error"]:
        with pytest.raises(DockerfileError) as info:
            parse(text, f"{name}.Dockerfile")
        assert info.value.line is not None
        assert f"{name}.Dockerfile:" in str(info.value)
        return
    got = dockerfile_json(parse(text, f"{name}.Dockerfile"))
    for want, have in zip(expected["instructions"], got["instructions"], strict=True):
        for key, value in want.items():
            assert have[key] == value, (key, want, have)
    assert [{k: s[k] for k in expected["stages"][0]} for s in got["stages"]] == expected["stages"]
