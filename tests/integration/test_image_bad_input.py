"""Broken and hostile image archives: one clear error, bounded work, nothing extracted."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from layerlens.errors import LayerlensError
from layerlens.image.reader import read_image
from layerlens.image.tarstream import Limits

from ..conftest import IMAGES


def _tar_bytes(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def oci_archive(path: Path, layers: list[bytes], *, media="application/vnd.oci.image.layer.v1.tar",
                tamper_digest: bool = False, drop_blob: bool = False) -> Path:
    """A minimal OCI image layout in a tar, from the layer blobs given."""
    blobs: dict[str, bytes] = {}
    descs = []
    diff_ids = []
    for lay in layers:
        d = "sha256:" + hashlib.sha256(lay).hexdigest()
        blobs[d] = lay
        descs.append({"mediaType": media, "digest": d, "size": len(lay)})
        diff_ids.append(d)
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": diff_ids},
                      "history": [{"created_by": f"RUN step {i}"} for i in range(len(layers))]}
                     ).encode()
    cfg_d = "sha256:" + hashlib.sha256(cfg).hexdigest()
    blobs[cfg_d] = cfg
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                 "digest": cfg_d, "size": len(cfg)}, "layers": descs}).encode()
    man_d = "sha256:" + hashlib.sha256(man).hexdigest()
    blobs[man_d] = man
    index = json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": man_d,
         "size": len(man), "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
    entries = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index)]
    for d, data in blobs.items():
        if drop_blob and d == descs[0]["digest"]:
            continue
        if tamper_digest and d == descs[0]["digest"]:
            data = data[:-1] + bytes([data[-1] ^ 1])
        entries.append((f"blobs/sha256/{d.split(':')[1]}", data))
    path.write_bytes(_tar_bytes(entries))
    return path


LAYER = _tar_bytes([("etc/hello", b"hello\n"), ("../../escape", b"x"), ("/abs/file", b"y")])


def test_valid_minimal_archive_and_escaping_names(tmp_path: Path) -> None:
    img = read_image(str(oci_archive(tmp_path / "ok.tar", [LAYER])))
    assert img.layers[0].files == 3
    assert any("outside the root" in w or "'..' paths" in w for w in img.warnings)


def test_wrong_digest(tmp_path: Path) -> None:
    with pytest.raises(LayerlensError, match="digest mismatch"):
        read_image(str(oci_archive(tmp_path / "bad.tar", [LAYER], tamper_digest=True)))


def test_missing_blob(tmp_path: Path) -> None:
    with pytest.raises(LayerlensError, match="missing layer blob"):
        read_image(str(oci_archive(tmp_path / "bad.tar", [LAYER], drop_blob=True)))


def test_truncated_archive(tmp_path: Path) -> None:
    data = (IMAGES / "test-docker-image.tar").read_bytes()
    p = tmp_path / "trunc.tar"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(LayerlensError):
        read_image(str(p))


def test_truncated_gzip_layer(tmp_path: Path) -> None:
    gz = gzip.compress(LAYER * 50)
    arch = oci_archive(tmp_path / "t.tar", [gz[: len(gz) // 2]],
                       media="application/vnd.oci.image.layer.v1.tar+gzip")
    with pytest.raises(LayerlensError, match=r"truncated|tar"):
        read_image(str(arch))


def test_gzip_bomb_refused(tmp_path: Path) -> None:
    # 1 GiB of zeros as one tar member compresses to about 1 MiB
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9) as gz:
        header = tarfile.TarInfo("zeros")
        header.size = 1 << 30
        gz.write(header.tobuf(format=tarfile.PAX_FORMAT))
        block = b"\0" * (1 << 20)
        for _ in range(1024):
            gz.write(block)
    arch = oci_archive(tmp_path / "bomb.tar", [raw.getvalue()],
                       media="application/vnd.oci.image.layer.v1.tar+gzip")
    with pytest.raises(LayerlensError, match="bomb"):
        read_image(str(arch), limits=Limits(max_ratio=100))


def test_not_an_image_and_garbage(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"\x00\xffnot a tar at all" * 100)
    for p in (garbage, IMAGES / "test-gzip-image.tar", tmp_path / "missing.tar", tmp_path):
        with pytest.raises(LayerlensError):
            read_image(str(p))


def test_layer_that_is_not_a_tar(tmp_path: Path) -> None:
    arch = oci_archive(tmp_path / "x.tar", [b"this is not a tar stream" * 40])
    with pytest.raises(LayerlensError, match="not a tar"):
        read_image(str(arch))


def test_cli_missing_docker_is_one_line(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path)}  # no docker, no podman on this PATH
    for ref in ("docker:app:latest", "podman:app"):
        res = subprocess.run([sys.executable, "-m", "layerlens", "image", ref],
                             capture_output=True, text=True, env=env, timeout=60)
        assert res.returncode == 2
        assert len(res.stderr.strip().splitlines()) == 1
        assert "not installed" in res.stderr


def test_tar_bomb_of_entries_refused(tmp_path: Path) -> None:
    entries = [(f"f{i}", b"") for i in range(3000)]
    arch = oci_archive(tmp_path / "many.tar", [_tar_bytes(entries)])
    with pytest.raises(LayerlensError, match="more than 1000 entries"):
        read_image(str(arch), limits=Limits(max_entries=1000))


def test_oversized_extended_header_refused(tmp_path: Path) -> None:
    long = "d/" * 40_000 + "f"
    arch = oci_archive(tmp_path / "long.tar", [_tar_bytes([(long, b"x")])])
    with pytest.raises(LayerlensError, match="oversized tar extended header"):
        read_image(str(arch), limits=Limits(max_header_bytes=4096))


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]


def test_docker_archive_layer_checked_against_diff_id(tmp_path: Path) -> None:
    """A flipped byte in a `<id>/layer.tar` (classic docker save: the name is no digest)
    is caught by the config's diff_id, as `docker load` does."""
    from .imagekit import config, write_tar

    good = _tar_bytes([("etc/hello", b"hello world\n")])
    bad = _flip(good, 512 + 3)  # inside the file's data, so the tar still parses
    cfg = config([good])
    man = [{"Config": "c.json", "RepoTags": ["x:1"], "Layers": ["abc/layer.tar"]}]
    for layer, ok in ((good, True), (bad, False)):
        p = write_tar(tmp_path / f"classic-{ok}.tar", [
            ("manifest.json", json.dumps(man).encode()), ("c.json", cfg),
            ("abc/layer.tar", layer)])
        if ok:
            assert read_image(str(p)).layers[0].files == 1
        else:
            with pytest.raises(LayerlensError, match=r"layer 0 \(abc/layer.tar\): digest "
                               r"mismatch: the config's diff_id is sha256:"):
                read_image(str(p))


def test_docker_archive_digest_named_layer_checked(tmp_path: Path) -> None:
    """buildah/podman write `<diff_id hex>.tar`: the name is checked too, and the CLI
    says so in one line, exit 2."""
    from .imagekit import config, sha, write_tar

    good = _tar_bytes([("etc/hello", b"hello world\n")])
    name = sha(good).split(":")[1] + ".tar"
    man = [{"Config": "c.json", "Layers": [name]}]
    p = write_tar(tmp_path / "b.tar", [("manifest.json", json.dumps(man).encode()),
                                      ("c.json", config([good])), (name, _flip(good, 515))])
    res = subprocess.run([sys.executable, "-m", "layerlens", "image", str(p)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1
    assert str(p) in res.stderr and name in res.stderr and "digest mismatch" in res.stderr


def _one_line_error(ref: str) -> str:
    res = subprocess.run([sys.executable, "-m", "layerlens", "image", ref],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_bad_archives_are_one_line(tmp_path: Path) -> None:
    import zstandard

    good = oci_archive(tmp_path / "ok.tar", [LAYER]).read_bytes()
    (tmp_path / "empty.tar").write_bytes(b"")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY a /a\n")
    (tmp_path / "x.tar.gz").write_bytes(gzip.compress(good))
    (tmp_path / "x.tar.zst").write_bytes(zstandard.ZstdCompressor().compress(good))
    assert "empty file" in _one_line_error(str(tmp_path / "empty.tar"))
    assert "looks like a Dockerfile" in _one_line_error(str(tmp_path / "Dockerfile"))
    # compressed outer archives are read (tests/integration/test_image_compressed.py); cut
    # short, they are one line
    (tmp_path / "cut.tar.gz").write_bytes(gzip.compress(good)[:200])
    (tmp_path / "cut.tar.zst").write_bytes(zstandard.ZstdCompressor().compress(good)[:200])
    assert "cut.tar.gz" in _one_line_error(str(tmp_path / "cut.tar.gz"))
    assert "cut.tar.zst" in _one_line_error(str(tmp_path / "cut.tar.zst"))
    for ok in ("x.tar.gz", "x.tar.zst"):
        res = subprocess.run([sys.executable, "-m", "layerlens", "image", str(tmp_path / ok)],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr


def test_special_files_are_refused_without_reading(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # nobody writes: opening it would block forever
    assert "not a regular file (a FIFO)" in _one_line_error(str(fifo))
    assert "(a character device)" in _one_line_error("/dev/zero")
    assert "(a character device)" in _one_line_error("docker-archive:/dev/zero")
