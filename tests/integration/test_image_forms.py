"""Archive forms builders and tools write (issue 13, part 1): repeated layers as symlinks,
absent platforms, several images in one layout, containers-transports(5) references."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from layerlens.errors import LayerlensError
from layerlens.image.reader import read_image
from layerlens.image.refs import ImageRef, docker_name, parse_ref

from ..conftest import requires_buildah
from .harness import BUSYBOX, PRELUDE, Buildah
from .imagekit import Layout, blob_digests, classic_docker_save, layer_tar

A = layer_tar([("a", b"a" * 100)])
B = layer_tar([("b", b"b" * 200)])
EMPTY = layer_tar([])  # what a no-op RUN leaves: an empty tar, repeated


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "layerlens", *args], capture_output=True,
                          text=True, env=env)


# -- references -------------------------------------------------------------------------

def test_parse_ref_forms(tmp_path: Path) -> None:
    assert parse_ref("oci:/x/dir:v1") == ImageRef("oci", "/x/dir", "v1")
    assert parse_ref("oci-archive:/x/a.tar") == ImageRef("oci-archive", "/x/a.tar")
    assert parse_ref("docker-archive:a.tar:foo:1.0") == ImageRef("docker-archive", "a.tar",
                                                                "foo:1.0")
    assert parse_ref("docker-archive:a.tar:@1") == ImageRef("docker-archive", "a.tar", None, 1)
    assert parse_ref("docker-daemon:app:1") == ImageRef("daemon", "app:1", tool="docker")
    assert parse_ref("docker:app:1") == ImageRef("daemon", "app:1", tool="docker")
    assert parse_ref("docker://localhost:5000/app:1") == ImageRef("registry",
                                                                  "localhost:5000/app:1")
    odd = tmp_path / "a:b.tar"
    odd.write_bytes(b"")
    assert parse_ref(str(odd)).transport == "path"
    assert parse_ref(f"oci-archive:{odd}") == ImageRef("oci-archive", str(odd))
    with pytest.raises(LayerlensError, match="@NUMBER"):
        parse_ref("oci:dir:@x")


def test_docker_name_normalises_like_distribution() -> None:
    assert docker_name("docker.io/library/alpine") == "alpine:latest"
    assert docker_name("localhost/app:1") == "app:1"
    assert docker_name("host:5000/app") == "host:5000/app:latest"
    assert docker_name("app@sha256:" + "0" * 64) == "app@sha256:" + "0" * 64


# -- repeated layers in a classic docker save --------------------------------------------

def test_classic_save_with_symlinked_repeated_layer(tmp_path: Path) -> None:
    p = classic_docker_save(tmp_path / "save.tar", [(["app:1"], [A, EMPTY, EMPTY, B])])
    img = read_image(str(p))
    assert [lay.tar_bytes for lay in img.layers] == [len(A), len(EMPTY), len(EMPTY), len(B)]
    assert [lay.blob_bytes for lay in img.layers] == [len(A), len(EMPTY), len(EMPTY), len(B)]
    assert img.size_bytes == 300
    assert img.tags == ("app:1",)


def test_symlink_leaving_the_archive_is_refused(tmp_path: Path) -> None:
    import json

    from .imagekit import config, write_tar

    cfg = config([A])
    name = "config.json"
    write_tar(tmp_path / "evil.tar", [
        ("manifest.json", json.dumps([{"Config": name, "Layers": ["x/layer.tar"]}]).encode()),
        (name, cfg), ("x/layer.tar", "->../../etc/passwd")])
    with pytest.raises(LayerlensError, match="missing from the archive"):
        read_image(str(tmp_path / "evil.tar"))


# -- absent platforms --------------------------------------------------------------------

def _containerd_save(root: Path) -> tuple[Path, Layout]:
    """docker save of an arm64-only pull from the containerd store: the index lists both
    platforms, only arm64's blobs are there; the tag sits on the outer descriptor."""
    lay = Layout()
    amd = lay.image([A], "amd64", gzip_layers=True)
    arm = lay.image([B], "arm64", gzip_layers=True)
    idx = lay.index([amd, arm])
    lay.tag(idx, "1.0", "docker.io/library/app:1.0")
    drop = blob_digests(lay, amd)
    return lay.write_dir(root, drop), lay


def test_absent_platform_chooses_the_present_one(tmp_path: Path) -> None:
    d, _ = _containerd_save(tmp_path / "lay")
    img = read_image(str(d))
    assert img.platform == "linux/arm64"
    assert img.size_bytes == 200
    assert "1.0" in img.tags and "docker.io/library/app:1.0" in img.tags
    assert any("linux/arm64, the only one present" in w and "linux/amd64" in w
               for w in img.warnings)


def test_absent_platform_asked_for_says_what_is_present(tmp_path: Path) -> None:
    d, _ = _containerd_save(tmp_path / "lay")
    with pytest.raises(LayerlensError, match=r"linux/amd64 is listed but its blobs are not "
                       r"in the archive \(present: linux/arm64\)"):
        read_image(str(d), platform="linux/amd64")
    assert read_image(str(d), platform="linux/arm64").platform == "linux/arm64"


def test_both_present_defaults_to_amd64(tmp_path: Path) -> None:
    lay = Layout()
    idx = lay.index([lay.image([A], "amd64"), lay.image([B], "arm64")])
    lay.tag(idx, "latest")
    img = read_image(str(lay.write_tar(tmp_path / "x.tar")))
    assert (img.platform, img.size_bytes, img.tags) == ("linux/amd64", 100, ("latest",))
    assert not any("only one present" in w for w in img.warnings)


# -- several images in one layout ------------------------------------------------------

def _two_tagged(tmp_path: Path) -> tuple[Path, Path]:
    lay = Layout()
    lay.tag(lay.image([A], cmd="one"), "one")
    lay.tag(lay.image([B], cmd="two"), "two")
    return lay.write_dir(tmp_path / "dir"), lay.write_tar(tmp_path / "two.tar")


def test_several_images_in_a_layout_by_reference(tmp_path: Path) -> None:
    d, t = _two_tagged(tmp_path)
    assert read_image(f"oci:{d}:two").size_bytes == 200
    assert read_image(f"oci:{d}:one").size_bytes == 100
    assert read_image(f"oci-archive:{t}:two").size_bytes == 200
    assert read_image(f"oci-archive:{t}:@0").size_bytes == 100
    assert read_image(f"oci-archive:{t}:two").tags == ("two",)


def test_several_images_without_a_choice_list_the_choices(tmp_path: Path) -> None:
    d, t = _two_tagged(tmp_path)
    with pytest.raises(LayerlensError,
                       match=re.escape(f"choose one: oci:{d}:one, oci:{d}:two") + "$"):
        read_image(str(d))
    with pytest.raises(LayerlensError, match=re.escape(
            f"choose one: oci-archive:{t}:one, oci-archive:{t}:two") + "$"):
        read_image(f"oci-archive:{t}")
    with pytest.raises(LayerlensError, match="no image named 'three'"):
        read_image(f"oci:{d}:three")
    res = _cli("image", str(t))
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "choose one:" in lines[0], res.stderr


def test_containerd_name_selects_too(tmp_path: Path) -> None:
    lay = Layout()
    lay.tag(lay.image([A]), "1", "docker.io/library/app:1")
    lay.tag(lay.image([B]), "2", "docker.io/library/app:2")
    d = lay.write_dir(tmp_path / "d")
    assert read_image(f"oci:{d}:app:2").size_bytes == 200
    assert read_image(f"oci:{d}:docker.io/library/app:1").size_bytes == 100


def test_docker_archive_reference_is_not_dropped(tmp_path: Path) -> None:
    p = classic_docker_save(tmp_path / "s.tar", [(["app:1"], [A]), (["other:2"], [B])])
    assert read_image(f"docker-archive:{p}:other:2").size_bytes == 200
    assert read_image(f"docker-archive:{p}:docker.io/library/app:1").size_bytes == 100
    assert read_image(f"docker-archive:{p}:@1").size_bytes == 200
    with pytest.raises(LayerlensError, match=re.escape(
            f"choose one: docker-archive:{p}:app:1, docker-archive:{p}:other:2") + "$"):
        read_image(str(p))
    with pytest.raises(LayerlensError, match="no image named 'app:2'"):
        read_image(f"docker-archive:{p}:app:2")


def test_transport_and_content_must_agree(tmp_path: Path) -> None:
    d, t = _two_tagged(tmp_path)
    with pytest.raises(LayerlensError, match="wants an OCI layout directory"):
        read_image(f"oci:{t}:one")
    with pytest.raises(LayerlensError, match="wants a tar file"):
        read_image(f"oci-archive:{d}:one")
    with pytest.raises(LayerlensError, match=r"not a docker-archive: read it as "
                       r"oci-archive:"):
        read_image(f"docker-archive:{t}")
    saved = classic_docker_save(tmp_path / "save.tar", [(["app:1"], [A])])
    with pytest.raises(LayerlensError, match=r"read it as docker-archive:"):
        read_image(f"oci-archive:{saved}")


def test_docker_daemon_uses_docker_save(tmp_path: Path) -> None:
    saved = classic_docker_save(tmp_path / "s.tar", [(["app:1"], [A])])
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "docker"
    # a stand-in for the daemon: `docker save -o OUT NAME` copies a prepared archive
    fake.write_text(f"#!/bin/sh\n[ \"$1\" = save ] && [ \"$4\" = app:1 ] && "
                    f"cp {saved} \"$3\" && exit 0\necho 'no such image' >&2; exit 1\n")
    fake.chmod(0o755)
    import os

    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
    res = _cli("image", "--format", "json", "docker-daemon:app:1", env=env)
    assert res.returncode == 0, res.stderr
    assert '"docker-daemon:app:1"' in res.stdout
    res = _cli("image", "docker-daemon:nope", env=env)
    assert res.returncode == 2 and "no such image" in res.stderr


# -- the real tools ------------------------------------------------------------------------

@requires_buildah
def test_buildah_several_tags_in_one_layout(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    shutil.copy(BUSYBOX, ctx / "busybox")
    b = Buildah(tmp_path / "state")
    (ctx / "Dockerfile").write_text(PRELUDE + "RUN echo one > /one\n")
    b.bud(ctx, "one")
    (ctx / "Dockerfile").write_text(PRELUDE + "RUN echo twotwo > /two\n")
    b.bud(ctx, "two")
    d, t = tmp_path / "lay", tmp_path / "lay.tar"
    b.push("one", f"oci:{d}:one")
    b.push("two", f"oci:{d}:two")
    b.push("two", f"docker-archive:{t}:two:latest")
    one, two = read_image(f"oci:{d}:one"), read_image(f"oci:{d}:two")
    assert one.layers[-1].size_bytes == 4 and two.layers[-1].size_bytes == 7
    with pytest.raises(LayerlensError, match="choose one"):
        read_image(str(d))
    assert read_image(f"docker-archive:{t}:two").layers[-1].size_bytes == 7


# -- platform choice is said, and a wrong or invalid --platform is an error --------------

def test_default_platform_choice_is_warned(tmp_path: Path) -> None:
    lay = Layout()
    lay.tag(lay.index([lay.image([A], "amd64"), lay.image([B], "arm64")]), "latest")
    img = read_image(str(lay.write_tar(tmp_path / "x.tar")))
    assert any("read platform linux/amd64, the default, of linux/amd64, linux/arm64" in w
               for w in img.warnings)


def test_platform_of_a_single_platform_image_must_match(tmp_path: Path) -> None:
    p = classic_docker_save(tmp_path / "save.tar", [(["app:1"], [A])])
    assert read_image(str(p), platform="linux/amd64").platform == "linux/amd64"
    with pytest.raises(LayerlensError, match=r"--platform linux/arm64 asked for, but the "
                       r"image is linux/amd64 only"):
        read_image(str(p), platform="linux/arm64")
    for bad in ("", "garbage", "linux/", "a/b/c/d", "linux amd64"):
        res = _cli("image", str(p), f"--platform={bad}")
        assert res.returncode == 2, bad
        assert len(res.stderr.strip().splitlines()) == 1
        assert "invalid --platform" in res.stderr


def test_oci_without_a_path_hints_at_a_directory() -> None:
    with pytest.raises(LayerlensError, match=r"oci: needs a path: oci:DIR\[:REF\]"):
        parse_ref("oci:")


def test_text_header_names_the_chosen_tag(tmp_path: Path) -> None:
    d, _ = _two_tagged(tmp_path)
    res = _cli("image", f"oci:{d}:two")
    assert res.returncode == 0, res.stderr
    assert "\nTags        two\n" in res.stdout
