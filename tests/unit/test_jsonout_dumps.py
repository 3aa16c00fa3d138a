"""`jsonout.dumps` is byte for byte the standard library's indented output of the cleaned
document: the fast path (C encoder, then msgspec's indenter) changes nothing."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from layerlens.jsonout import clean, dumps


def _reference(doc: object, indent: int | None = 2) -> str:
    return json.dumps(clean(doc), indent=indent, ensure_ascii=False) + "\n"


_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=12) | st.sampled_from(
    ["a\udcff", "\ud800x", "back\\slash\udc80", "é", "\u2028", "\x00\x7f", "1e-05", ""])
_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2 ** 80), max_value=2 ** 80)
            | st.floats(allow_nan=False, allow_infinity=False) | _text
            | st.sampled_from([1e-05, 2.1656e-05, 1e16, 1e+22, -0.0, 5.0, 123456789.125]))
_docs = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(_text | st.integers(-5, 5), inner, max_size=4),
    max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(_docs)
def test_dumps_equals_the_standard_library(doc: object) -> None:
    assert dumps(doc) == _reference(doc)


def test_dumps_of_non_finite_numbers_keeps_the_old_text() -> None:
    doc = {"a": [float("nan"), float("inf"), 1e-07], "b": {}}
    assert dumps(doc) == _reference(doc)
    assert dumps(doc, indent=None) == _reference(doc, None)


def test_dumps_escapes_undecodable_bytes() -> None:
    out = dumps({"path\udcff": ["a\\b\udc80", "ok\\"]})
    assert out == _reference({"path\udcff": ["a\\b\udc80", "ok\\"]})
    assert "path\\\\xff" in out and out.encode("utf-8")
