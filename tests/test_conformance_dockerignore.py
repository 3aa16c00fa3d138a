"""The recorded `.dockerignore` answers of BuildKit's matcher, reproduced on a real directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layerlens.context.patterns import Matcher, read_ignore_lines
from layerlens.context.tree import scan_context
from layerlens.errors import IgnoreFileError

from .conftest import CONFORMANCE

DATA = json.loads((CONFORMANCE / "dockerignore" / "cases.json").read_text())


@pytest.fixture(scope="module")
def context_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ctx")
    for rel in DATA["files"]:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(rel)
    return root


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["name"] for c in DATA["cases"]])
def test_case(case: dict, context_dir: Path) -> None:
    lines = read_ignore_lines("\n".join(case["patterns"]))
    if case["error"]:
        with pytest.raises(IgnoreFileError) as info:
            Matcher.from_lines(lines, "x/.dockerignore")
        assert info.value.line == 1
        return
    matcher = Matcher.from_lines(lines)
    ctx = scan_context(context_dir, matcher)
    assert sorted(ctx.excluded) == sorted(case["excluded"])
    kept = {f.path for f in ctx.files}
    assert kept == set(DATA["files"]) - set(case["excluded"])
    # The standalone test agrees with the walker.
    assert sorted(p for p in DATA["files"] if matcher.excludes(p)) == sorted(case["excluded"])
