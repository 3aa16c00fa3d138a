"""Image reading on real images: dive's recorded answers, other builders' archives, and
images built here with buildah (overwrite, deletes, opaque directories, hard and symbolic
links, mode-only change, empty layers, a large file), exported three ways."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from layerlens.analysis import AnalyzeOptions, analyze
from layerlens.cache.timeline import HistoryOptions
from layerlens.errors import LayerlensError
from layerlens.image.reader import read_image
from layerlens.report import image_json

from ..conftest import IMAGES, requires_buildah
from .harness import BUSYBOX, PRELUDE, Buildah

pytestmark = pytest.mark.integration

# dive's own test of this archive (dive/image/docker/image_archive_analysis_test.go and
# cmd/dive/cli/internal/command/export/export_test.go): the numbers dive reports.
DIVE = {"efficiency": 0.9844212134184309, "size": 1220598, "user_size": 66237,
        "wasted": 32025, "wasted_pct": 0.4834911001404049,
        "layer_sizes": [1154361, 6405, 0, 6405, 6405, 6405, 6405, 6405, 6405, 0, 2187, 6405,
                        6405, 6405],
        "inefficient": {"root/saved.txt": (12810, 2), "root/example/somefile1.txt": (12810, 2),
                        "root/example/somefile3.txt": (6405, 2)}}


def test_dive_figures_match_dive() -> None:
    img = read_image(str(IMAGES / "test-docker-image.tar"))
    assert img.efficiency == DIVE["efficiency"]
    assert img.size_bytes == DIVE["size"]
    assert img.user_size_bytes == DIVE["user_size"]
    assert img.wasted_bytes == DIVE["wasted"]
    assert img.user_wasted_percent == DIVE["wasted_pct"]
    assert [lay.size_bytes for lay in img.layers] == DIVE["layer_sizes"]
    assert {p: (b, c) for p, b, c in img.inefficient_files} == DIVE["inefficient"]


def test_shadowed_bytes_count_what_dive_misses() -> None:
    img = read_image(str(IMAGES / "test-docker-image.tar"))
    by = [lay.shadowed_bytes for lay in img.layers]
    # somefile1 overwritten by chmod (layer 3) then deleted with /root/example (4); somefile2
    # deleted with the directory (5, which dive does not count); somefile3 moved away (6);
    # saved.txt rewritten by chmod +x (7).
    assert by == [0, 0, 0, 6405, 6405, 6405, 6405, 6405, 0, 0, 0, 0, 0, 0]


def test_kaniko_history_maps_to_lines() -> None:
    res = analyze(AnalyzeOptions(IMAGES / "test-image.Dockerfile", context=IMAGES,
                                 image=str(IMAGES / "test-kaniko-image.tar"),
                                 history=HistoryOptions(enabled=False)))
    lines = [(s.layer, s.line, s.base) for s in res.layer_sources]
    assert lines[0] == (0, None, "busybox:latest")
    assert [line for _, line, _ in lines[1:]] == list(range(2, 15))
    assert res.image.compressed_bytes is not None  # kaniko stores gzip layers


@pytest.mark.parametrize("name", ["test-oci-uncompressed-image.tar", "test-oci-gzip-image.tar",
                                  "test-oci-zstd-image.tar", "test-oci-estargz-image.tar"])
def test_oci_compressions_agree(name: str) -> None:
    img = read_image(str(IMAGES / name))
    assert img.format == "oci-archive" and img.platform == "linux/arm64"
    assert [(lay.size_bytes, lay.files) for lay in img.layers] == [(11189, 1)]
    assert img.layers[0].created_by == "COPY README.md /README.md # buildkit"


def test_platform_not_present_is_an_error() -> None:
    with pytest.raises(LayerlensError, match="no image for platform linux/amd64"):
        read_image(str(IMAGES / "test-oci-gzip-image.tar"), platform="linux/amd64")


def test_rootfs_tar_is_rejected() -> None:
    with pytest.raises(LayerlensError, match="not an image archive"):
        read_image(str(IMAGES / "test-gzip-image.tar"))


BIG = 3 * 1024 * 1024 + 17
KEY = b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAnotreallyakey\n-----END OPENSSH PRIVATE KEY-----\n"
SHAPES = PRELUDE + """\
COPY f1 /d/sub/f1
COPY f2 /d/f2
COPY over /over
RUN echo new > /over
RUN rm /d/f2
RUN rm -rf /d
COPY big.bin /big.bin
RUN chmod 600 /big.bin
RUN echo hardlinked > /h1 && ln /h1 /h2 && ln -s /h2 /s1
RUN rm /h1
COPY id_rsa /root/.ssh/id_rsa
RUN rm /root/.ssh/id_rsa
ENV API_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789
RUN true
"""


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("shapes")
    ctx = root / "ctx"
    ctx.mkdir()
    shutil.copy(BUSYBOX, ctx / "busybox")
    (ctx / "f1").write_bytes(b"1" * 1000)
    (ctx / "f2").write_bytes(b"2" * 2000)
    (ctx / "over").write_bytes(b"o" * 300)
    (ctx / "big.bin").write_bytes(os.urandom(BIG))
    (ctx / "id_rsa").write_bytes(KEY)
    (ctx / "Dockerfile").write_text(SHAPES)
    b = Buildah(root / "state")
    b.bud(ctx, "shapes")
    out = {"dockerfile": ctx / "Dockerfile"}
    out["docker-archive"] = root / "shapes-docker.tar"
    b.push("shapes", f"docker-archive:{out['docker-archive']}:shapes:latest")
    out["oci-archive"] = root / "shapes-oci.tar"
    b.push("shapes", f"oci-archive:{out['oci-archive']}")
    out["oci-layout"] = root / "shapes-oci"
    b.push("shapes", f"oci:{out['oci-layout']}")
    return out


def _comparable(img) -> list[tuple]:
    return [(lay.size_bytes, lay.tar_bytes, lay.files, lay.entries, lay.added, lay.modified,
             lay.removed, lay.shadowed_bytes, lay.created_by) for lay in img.layers]


@requires_buildah
def test_buildah_shapes_three_formats_agree(shapes: dict[str, Path]) -> None:
    imgs = {k: read_image(str(shapes[k])) for k in ("docker-archive", "oci-archive",
                                                    "oci-layout")}
    base = _comparable(imgs["docker-archive"])
    assert _comparable(imgs["oci-archive"]) == base
    assert _comparable(imgs["oci-layout"]) == base
    for k in imgs:
        img = imgs[k]
        assert (img.efficiency, img.wasted_bytes, img.shadowed_bytes) == (
            imgs["docker-archive"].efficiency, imgs["docker-archive"].wasted_bytes,
            imgs["docker-archive"].shadowed_bytes), k
    assert imgs["docker-archive"].format == "docker-archive"
    assert imgs["oci-layout"].format == "oci-layout"


@requires_buildah
def test_buildah_shapes_shadowed_by_line(shapes: dict[str, Path]) -> None:
    res = analyze(AnalyzeOptions(shapes["dockerfile"], image=str(shapes["oci-archive"])))
    img = res.image
    line_of = {s.layer: s.line for s in res.layer_sources}
    shadowed = {line_of[lay.index]: lay.shadowed_bytes for lay in img.layers
                if lay.shadowed_bytes}
    # overwrite (/over), file delete (/d/f2), directory delete (/d/sub/f1), mode-only change
    # (the whole big file is stored again), the deleted key. /h1 was removed but its bytes
    # live on through the hard link /h2, so nothing of that layer is shadowed.
    assert shadowed == {4: 1000, 5: 2000, 6: 300, 10: BIG, 14: len(KEY)}
    assert img.shadowed_bytes == 1000 + 2000 + 300 + BIG + len(KEY)
    sizes = {line_of[lay.index]: lay.size_bytes for lay in img.layers}
    assert sizes[10] == BIG and sizes[11] == BIG  # the chmod copies the file up
    assert sizes[12] == len("hardlinked\n")


@requires_buildah
@pytest.mark.parametrize("tool", ["gzip", "zstd"])
@pytest.mark.parametrize("form", ["docker-archive", "oci-archive"])
def test_buildah_archives_compressed_read_like_the_tar(
        shapes: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        tool: str, form: str) -> None:
    # `buildah push ... docker-archive:- | gzip` (or zstd): the same figures, with every layer
    # streamed from the compressed archive (the 3 MiB layers outgrow what the first pass
    # keeps even by default; 64 KiB keeps only the JSON documents)
    from layerlens.image import archive

    if shutil.which(tool) is None:
        pytest.skip(f"needs {tool}")
    packed = tmp_path / f"{form}.tar.{'gz' if tool == 'gzip' else 'zst'}"
    with open(packed, "wb") as out:
        subprocess.run([tool, "-c", str(shapes[form])], stdout=out, check=True)

    def everything(img) -> tuple:
        return (img.format, img.tags, img.size_bytes, img.visible_bytes, img.efficiency,
                img.wasted_bytes, img.inefficient_files, img.shadowed_bytes,
                [(lay.digest, lay.compressed_bytes) for lay in img.layers],
                [(s.where, s.path, s.kind) for s in img.secrets], img.warnings)

    base = read_image(str(shapes[form]))
    monkeypatch.setattr(archive._StreamTarStore, "KEEP_MEMBER", 64 << 10)
    for ref in (str(packed), f"{form}:{packed}"):
        img = read_image(ref)
        assert _comparable(img) == _comparable(base), ref
        assert everything(img) == everything(base), ref


@requires_buildah
def test_buildah_secrets_reported_without_content(shapes: dict[str, Path]) -> None:
    img = read_image(str(shapes["docker-archive"]))
    files = [f for f in img.secrets if f.where == "file"]
    assert [(f.path, f.kind, f.deleted_later) for f in files] == [
        ("root/.ssh/id_rsa", "private key", True)]
    env = [f for f in img.secrets if f.where == "env"]
    assert [(f.path, f.kind) for f in env] == [("API_TOKEN", "GitHub token")]
    doc = json.dumps(image_json(img))
    assert "ghp_abcdef" not in doc and "notreallyakey" not in doc


@requires_buildah
def test_opaque_directory_from_overlay(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    shutil.copy(BUSYBOX, ctx / "busybox")
    (ctx / "Dockerfile").write_text(PRELUDE + "RUN mkdir -p /data/sub && echo aaaa > /data/one "
                                    "&& echo bbbbbbbb > /data/sub/two\n"
                                    "RUN rm -rf /data && mkdir /data && echo c > /data/three\n")
    b = Buildah(tmp_path / "state")
    cmd = ["buildah", "--root", str(b.root), "--runroot", str(b.runroot), "--storage-driver",
           "overlay"]
    res = subprocess.run([*cmd, "bud", "--layers", "--isolation", "chroot", "-t", "ov",
                          str(ctx)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"overlay storage unavailable here: {res.stderr.strip()[-200:]}")
    out = tmp_path / "ov.tar"
    subprocess.run([*cmd, "push", "ov", f"oci-archive:{out}"], check=True, capture_output=True)
    img = read_image(str(out), keep_files=True)
    names = {r.path for r in img.files if r.layer == 3}
    assert "data/three" in names
    # one + sub/two (5 + 9 bytes) hidden by the opaque marker, not by per-file whiteouts
    assert [lay.shadowed_bytes for lay in img.layers] == [0, 0, 14, 0]
    assert img.layers[3].removed == 3
