"""Compressed outer archives (`docker save | gzip`, `| zstd`): read by streaming them, in two
passes when layers are stored in the order they are read, to the figures of the plain tar."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest
import zstandard

from layerlens.errors import LayerlensError
from layerlens.image import archive
from layerlens.image.reader import read_image

from .imagekit import Layout, classic_docker_save, layer_tar

NOISE = random.Random(13).randbytes(40_000)  # incompressible: layers outgrow KEEP below
KEEP = 16_000  # keeps the JSON documents from the first pass, not the layers
LAYERS = [
    layer_tar([("etc", "dir"), ("etc/a", NOISE), ("etc/b", b"b" * 300),
               ("bin", "dir"), ("bin/sh", b"x" * 7000)]),
    layer_tar([("etc/a", NOISE[::-1]), ("etc/.wh.b", b""), ("etc/l", "symlink:a")]),
    layer_tar([("etc/.wh..wh..opq", b""), ("etc/c", b"c" * 100), ("h1", NOISE[:30_000]),
               ("h2", "hardlink:h1")]),
]


def figures(img) -> tuple:
    return (img.format, img.platform, img.tags, img.size_bytes, img.visible_bytes,
            img.shadowed_bytes, img.efficiency, img.wasted_bytes, img.inefficient_files,
            img.warnings,
            [(lay.digest, lay.diff_id, lay.size_bytes, lay.tar_bytes, lay.compressed_bytes,
              lay.files, lay.entries, lay.added, lay.modified, lay.removed,
              lay.shadowed_bytes) for lay in img.layers])


def compress(plain: Path, comp: str) -> Path:
    data = plain.read_bytes()
    if comp == "gzip":
        out = plain.with_name(plain.name + ".gz")
        out.write_bytes(gzip.compress(data, mtime=0))
    else:
        out = plain.with_name(plain.name + ".zst")
        with open(out, "wb") as f, zstandard.ZstdCompressor().stream_writer(f) as w:
            w.write(data)  # streamed, as `docker save | zstd` is
    return out


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times each compressed archive was streamed from its start."""
    seen: list[int] = []
    real = archive._StreamTarStore._restart

    def counting(self) -> None:
        real(self)
        if self.passes == 1:
            seen.append(0)
        seen[-1] = self.passes

    monkeypatch.setattr(archive._StreamTarStore, "_restart", counting)
    return seen


@pytest.mark.parametrize("comp", ["gzip", "zstd"])
def test_compressed_oci_archive_reads_like_the_tar(tmp_path: Path, comp: str,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    passes: list[int]) -> None:
    lay = Layout()
    lay.tag(lay.image(LAYERS, gzip_layers=True), "app:1")
    plain = lay.write_tar(tmp_path / "img.tar")
    packed = compress(plain, comp)
    base = figures(read_image(str(plain)))
    # small members are kept from the first pass: one pass in all
    assert figures(read_image(str(packed))) == base
    assert passes == [1]
    # layers larger than what the first pass keeps are streamed in a second pass
    monkeypatch.setattr(archive._StreamTarStore, "KEEP_MEMBER", KEEP)
    assert figures(read_image(f"oci-archive:{packed}:app:1")) == base
    assert passes == [1, 2]


def test_layers_stored_out_of_order_take_a_pass_each(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     passes: list[int]) -> None:
    monkeypatch.setattr(archive._StreamTarStore, "KEEP_MEMBER", KEEP)
    lay = Layout()
    for x in reversed(LAYERS):
        lay.blob(x)  # stored last layer first
    lay.tag(lay.image(LAYERS), "app:1")
    plain = lay.write_tar(tmp_path / "img.tar")
    packed = compress(plain, "gzip")
    assert figures(read_image(str(packed))) == figures(read_image(str(plain)))
    # first pass, then one per layer: each lies before the one read last
    assert passes == [1 + len(LAYERS)]


@pytest.mark.parametrize("comp", ["gzip", "zstd"])
def test_compressed_classic_docker_save(tmp_path: Path, comp: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # manifest.json, repeated layers stored as symlinks, diff_id checks: all as for the tar
    monkeypatch.setattr(archive._StreamTarStore, "KEEP_MEMBER", KEEP)
    plain = classic_docker_save(tmp_path / "save.tar",
                                [(["app:1"], [LAYERS[0], LAYERS[1], LAYERS[1], LAYERS[2]])])
    packed = compress(plain, comp)
    base = figures(read_image(str(plain)))
    assert base[0] == "docker-archive"
    assert figures(read_image(str(packed))) == base
    assert figures(read_image(f"docker-archive:{packed}:app:1")) == base


def test_corrupt_compressed_archives_are_one_line(tmp_path: Path) -> None:
    lay = Layout()
    lay.tag(lay.image(LAYERS), "app:1")
    packed = compress(lay.write_tar(tmp_path / "img.tar"), "gzip")
    data = packed.read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(LayerlensError, match=r"cut\.tar\.gz"):
        read_image(str(cut))
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(LayerlensError, match=r"bad\.tar\.gz"):
        read_image(str(bad))
    notar = tmp_path / "notar.gz"
    notar.write_bytes(gzip.compress(b"hello\n" * 200))
    with pytest.raises(LayerlensError, match="not a readable tar archive inside the gzip"):
        read_image(str(notar))


@pytest.mark.parametrize("comp", ["bzip2", "xz"])
def test_bzip2_and_xz_are_refused_with_a_hint(tmp_path: Path, comp: str) -> None:
    import bz2
    import lzma

    lay = Layout()
    lay.tag(lay.image(LAYERS), "app:1")
    data = lay.write_tar(tmp_path / "img.tar").read_bytes()
    packed = tmp_path / "img.tar.x"
    packed.write_bytes(bz2.compress(data) if comp == "bzip2" else lzma.compress(data))
    with pytest.raises(LayerlensError, match=f"{comp}-compressed; decompress it first"):
        read_image(str(packed))
