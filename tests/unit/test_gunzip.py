"""The gzip inflate loop of a layer stream, with ISA-L's decompressor and with zlib's (the
fallback where no isal wheel installs): multi-member streams (eStargz), a capped output per
call, and the three ways a stream goes wrong."""

from __future__ import annotations

import gzip
import io
import os
import sys

import pytest

from layerlens.image import tarstream
from layerlens.image.tarstream import OUT_CHUNK, ImageError, LayerStream, Limits


@pytest.fixture(params=["isal", "zlib"])
def inflater(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "zlib":
        monkeypatch.setitem(sys.modules, "isal", None)  # `from isal import ...` fails
    return request.param


def _inflate(blob: bytes) -> bytes:
    with LayerStream(io.BytesIO(blob), len(blob), Limits(), "layer", threads=False) as s:
        chunks = list(s.chunks())
    assert all(len(c) <= OUT_CHUNK for c in chunks)
    return b"".join(chunks)


def test_the_fallback_really_is_zlib(inflater: str) -> None:
    new, _ = tarstream._gzip_decompressor()
    assert (type(new()) is tarstream._ZlibGzip) == (inflater == "zlib")


def test_members_follow_one_another_and_output_is_capped(inflater: str) -> None:
    # incompressible data past two output chunks, so the loop must drain buffered input
    a, b = os.urandom(3 * OUT_CHUNK // 2), bytes(5 * OUT_CHUNK)
    assert _inflate(gzip.compress(a) + gzip.compress(b)) == a + b


def test_zero_padding_after_the_last_member_is_allowed(inflater: str) -> None:
    assert _inflate(gzip.compress(b"tar") + bytes(1024)) == b"tar"


@pytest.mark.parametrize(("blob", "message"), [
    (gzip.compress(bytes(100_000))[:-40], "truncated gzip stream"),
    (gzip.compress(b"tar") + b"junk", "garbage after gzip data"),
    (gzip.compress(b"tar")[:10] + b"\xff" * 30, "corrupt gzip data"),
], ids=["truncated", "garbage", "corrupt"])  # ids: the gzip header holds the time
def test_broken_streams_are_image_errors(inflater: str, blob: bytes, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        _inflate(blob)
