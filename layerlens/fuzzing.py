"""Fuzz targets shared by the property tests and the long-running harness (bench/fuzz.py).

Each target takes bytes and must either succeed or raise a LayerlensError: any other
exception is a bug.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
import tempfile
from pathlib import Path

from layerlens.context.patterns import Matcher, read_ignore_lines
from layerlens.dockerfile import decode, parse
from layerlens.dockerfile.shell import ShellLex
from layerlens.errors import LayerlensError
from layerlens.image.tarstream import ChunkReader, LayerStream, Limits, iter_tar

SMALL = Limits(max_layer_bytes=8 << 20, max_ratio=200, max_entries=10_000,
               max_header_bytes=64 << 10)


def dockerfile(data: bytes) -> None:
    with contextlib.suppress(LayerlensError):
        parse(decode(data), "fuzz.Dockerfile")


_ENV = {"A": "hello", "EMPTY": "", "P": "/usr/local/bin", "X": "a.b.c"}


def expansion(data: bytes) -> None:
    text = decode(data)
    for esc in ("\\", "`"):
        with contextlib.suppress(LayerlensError):
            ShellLex(esc).process(text, _ENV)


def dockerignore(data: bytes) -> None:
    text = decode(data)
    try:
        m = Matcher.from_lines(read_ignore_lines(text))
    except LayerlensError:
        return
    for path in ("a", "a/b", "docs/x.md", ".git/HEAD", "node_modules/x/y.js", text[:40]):
        m.excludes(path)


def layer(data: bytes) -> None:
    """A layer blob (any compression) through the tar walker."""
    src = LayerStream(io.BytesIO(data), len(data), SMALL, "fuzz", threads=False)
    try:
        for _ in iter_tar(ChunkReader(src.chunks()), "fuzz", SMALL, hash_content=True):
            pass
    except LayerlensError:
        pass


def archive(data: bytes) -> None:
    """A whole image archive, read from a temporary file."""
    from layerlens.image.reader import read_image

    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "image.tar"
        p.write_bytes(data)
        try:
            read_image(str(p), limits=SMALL)
        except LayerlensError:
            pass
        except tarfile.TarError:
            raise


TARGETS = {"dockerfile": dockerfile, "expansion": expansion, "dockerignore": dockerignore,
           "layer": layer, "archive": archive}
