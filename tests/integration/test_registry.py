"""Reading straight from a real registry (Debian's docker-registry, the CNCF distribution
registry) that buildah pushed to: figures equal to the oci-archive's, compressed sizes equal
to the manifest's, basic and bearer auth, https by default, --tls-verify=false."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from layerlens.errors import LayerlensError
from layerlens.image.reader import read_image
from layerlens.image.registry import RegistryRef, find_credentials, parse_registry_ref

from ..conftest import have_buildah
from .harness import BUSYBOX, PRELUDE, Buildah
from .registryd import PASSWORD, USER, Registry, auth_file, have_registry

requires_registry = pytest.mark.skipif(not (have_buildah() and have_registry()),
                                       reason="buildah as root and docker-registry are needed")
MANIFEST_ACCEPT = ("application/vnd.oci.image.manifest.v1+json, "
                   "application/vnd.docker.distribution.manifest.v2+json")


def test_parse_registry_ref() -> None:
    assert parse_registry_ref("127.0.0.1:5000/app/web:1.0") == RegistryRef(
        "127.0.0.1:5000", "app/web", "1.0", None)
    assert parse_registry_ref("localhost/app") == RegistryRef("localhost", "app", None, None)
    assert parse_registry_ref("alpine") == RegistryRef("docker.io", "library/alpine", None,
                                                       None)
    d = "sha256:" + "a" * 64
    assert parse_registry_ref(f"ghcr.io/o/r@{d}") == RegistryRef("ghcr.io", "o/r", None, d)
    assert str(parse_registry_ref("h.io/r:2")) == "docker://h.io/r:2"
    with pytest.raises(LayerlensError, match="not a repository name"):
        parse_registry_ref("h.io/UPPER:1")


def test_credentials_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = parse_registry_ref("reg.example:5000/team/app:1")
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    for var in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "DOCKER_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    assert find_credentials(ref) is None
    auth_file(home / ".docker" / "config.json", "reg.example:5000", "docker", "d")
    assert find_credentials(ref) == ("docker", "d")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    auth_file(tmp_path / "run" / "containers" / "auth.json", "reg.example:5000/team", "xdg",
              "x")
    assert find_credentials(ref) == ("xdg", "x")
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth_file(tmp_path / "a.json",
                                                           "reg.example:5000", "env", "e")))
    assert find_credentials(ref) == ("env", "e")


def test_malformed_digest_and_tag_refused_before_any_request() -> None:
    d = "sha256:" + "a" * 64
    for bad in ("127.0.0.1:1/app@sha256:abc", "127.0.0.1:1/app@sha256:" + "A" * 64,
                "127.0.0.1:1/app@md5:" + "a" * 32, "127.0.0.1:1/app:-x@" + d):
        # port 1 refuses connections: a request would fail with another message
        with pytest.raises(LayerlensError, match=r"malformed (digest|tag)"):
            read_image("docker://" + bad)
    ref = parse_registry_ref(f"h.io/app:1.0@{d}")
    assert (ref.tag, ref.digest, ref.reference) == ("1.0", d, d)
    assert str(ref) == f"docker://h.io/app:1.0@{d}"


def test_registry_auth_file_must_exist_and_be_json(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    ref = parse_registry_ref("reg.example:5000/team/app:1")
    missing = tmp_path / "nope.json"
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(missing))
    want = re.escape(f"REGISTRY_AUTH_FILE {missing}: no such file")
    with pytest.raises(LayerlensError, match=want):
        find_credentials(ref)
    res = _cli("image", "docker://127.0.0.1:1/app:1",
               env={**os.environ, "REGISTRY_AUTH_FILE": str(missing)})
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert str(missing) in res.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(bad))
    with pytest.raises(LayerlensError, match=re.escape(f"REGISTRY_AUTH_FILE {bad}: not JSON")):
        find_credentials(ref)


def test_auth_entry_with_username_and_password(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "auth.json"
    f.write_text(json.dumps({"auths": {"reg.example:5000": {"username": "u",
                                                            "password": "p"}}}))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(f))
    assert find_credentials(parse_registry_ref("reg.example:5000/app:1")) == ("u", "p")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Buildah, Path]:
    if not (have_buildah() and have_registry()):
        pytest.skip("buildah as root and docker-registry are needed")
    root = tmp_path_factory.mktemp("regimg")
    ctx = root / "ctx"
    ctx.mkdir()
    shutil.copy(BUSYBOX, ctx / "busybox")
    (ctx / "data").write_bytes(b"d" * 5000)
    (ctx / "Dockerfile").write_text(PRELUDE + "COPY data /data\nRUN echo x > /data\n"
                                    "RUN rm -rf /bin/ls\n")
    b = Buildah(root / "state")
    b.bud(ctx, "regimg")
    (ctx / "Dockerfile").write_text(PRELUDE + "RUN echo other > /other\n")
    b.bud(ctx, "other")
    archive = root / "regimg-oci.tar"
    b.push("regimg", f"oci-archive:{archive}")
    return b, archive


def _push(b: Buildah, image: str, dest: str, creds: str | None = None) -> None:
    cmd = [*b.base(), "push", "--tls-verify=false"]
    if creds:
        cmd += ["--creds", creds]
    res = subprocess.run([*cmd, image, dest], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr


def _figures(img) -> list[tuple]:
    return [(lay.digest, lay.size_bytes, lay.tar_bytes, lay.files, lay.entries, lay.added,
             lay.modified, lay.removed, lay.shadowed_bytes, lay.compressed_bytes,
             lay.created_by) for lay in img.layers]


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "layerlens", *args], capture_output=True,
                          text=True, env=env, timeout=300)


@requires_registry
def test_registry_reads_like_the_oci_archive(built, tmp_path: Path) -> None:
    b, archive = built
    reg = Registry(tmp_path / "reg")
    try:
        ref = f"{reg.host}/team/regimg:1.0"
        _push(b, "regimg", f"docker://{ref}")
        img = read_image(f"docker://{ref}", tls_verify=False)
        local = read_image(str(archive))
        assert img.format == "registry"
        assert _figures(img) == _figures(local)
        assert (img.efficiency, img.wasted_bytes, img.shadowed_bytes) == (
            local.efficiency, local.wasted_bytes, local.shadowed_bytes)
        # compressed sizes are the manifest's, the bytes a pull receives
        req = urllib.request.Request(f"http://{reg.host}/v2/team/regimg/manifests/1.0",
                                     headers={"Accept": MANIFEST_ACCEPT})
        with urllib.request.urlopen(req) as resp:
            man = json.loads(resp.read())
            digest = resp.headers["Docker-Content-Digest"]
        assert [lay.compressed_bytes for lay in img.layers] == [
            d["size"] for d in man["layers"]]
        assert [lay.digest for lay in img.layers] == [d["digest"] for d in man["layers"]]
        assert img.compressed_bytes == sum(d["size"] for d in man["layers"])
        by_digest = read_image(f"docker://{reg.host}/team/regimg@{digest}", tls_verify=False)
        assert _figures(by_digest) == _figures(img)
        # https by default: a plain-http registry is one clear line, exit 2
        res = _cli("image", f"docker://{ref}")
        assert res.returncode == 2 and "--tls-verify=false" in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
        res = _cli("image", "--format", "json", "--tls-verify=false", f"docker://{ref}")
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["format"] == "registry"
        # analyze --image takes the same reference
        res = _cli("analyze", "--no-history", "--tls-verify=false", "--image",
                   f"docker://{ref}", str(built[1].parent / "ctx" / "Dockerfile"))
        assert res.returncode == 0, res.stderr
        # and so do baseline and check: CI gates the image it pushed without pulling it
        df = str(built[1].parent / "ctx" / "Dockerfile")
        base = tmp_path / "baseline.json"
        res = _cli("baseline", "--no-history", "--tls-verify=false", "--image",
                   f"docker://{ref}", "-o", str(base), df)
        assert res.returncode == 0, res.stderr
        res = _cli("check", "--no-history", "--tls-verify=false", "--image", f"docker://{ref}",
                   "--baseline", str(base), df)
        assert res.returncode == 0, res.stdout + res.stderr
        res = _cli("image", "--tls-verify=false", f"docker://{reg.host}/team/nope:1")
        assert res.returncode == 2 and "no such manifest" in res.stderr
    finally:
        reg.close()


@requires_registry
def test_registry_index_picks_the_platform(built, tmp_path: Path) -> None:
    b, _ = built
    reg = Registry(tmp_path / "reg")
    try:
        base = b.base()
        subprocess.run([*base, "manifest", "create", "multi"], check=True, capture_output=True)
        subprocess.run([*base, "manifest", "add", "multi", "regimg"], check=True,
                       capture_output=True)
        subprocess.run([*base, "manifest", "add", "--arch", "arm64", "multi", "other"],
                       check=True, capture_output=True)
        res = subprocess.run([*base, "manifest", "push", "--all", "--tls-verify=false",
                              "multi", f"docker://{reg.host}/multi:1"], capture_output=True,
                             text=True)
        assert res.returncode == 0, res.stderr
        amd = read_image(f"docker://{reg.host}/multi:1", tls_verify=False)
        arm = read_image(f"docker://{reg.host}/multi:1", platform="linux/arm64",
                         tls_verify=False)
        assert amd.platform == "linux/amd64" and arm.platform == "linux/arm64"
        assert amd.layers[-1].created_by != arm.layers[-1].created_by
        assert "other" in (arm.layers[-1].created_by or "")
    finally:
        subprocess.run([*b.base(), "manifest", "rm", "multi"], capture_output=True)
        reg.close()


@requires_registry
@pytest.mark.parametrize("auth", ["basic", "token"])
def test_registry_auth(built, tmp_path: Path, auth: str) -> None:
    b, archive = built
    reg = Registry(tmp_path / "reg", auth=auth)
    try:
        ref = f"docker://{reg.host}/team/regimg:1.0"
        _push(b, "regimg", ref, creds=f"{USER}:{PASSWORD}")
        home = tmp_path / "home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items()
               if k not in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME",
                            "DOCKER_CONFIG")}
        env["HOME"] = str(home)
        res = _cli("image", "--tls-verify=false", ref, env=env)
        assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
        assert "credentials" in res.stderr or "anonymously" in res.stderr, res.stderr
        # wrong password: refused, and never printed
        auth_file(home / ".docker" / "config.json", reg.host, USER, "wrong-pw-1234")
        res = _cli("image", "--tls-verify=false", ref, env=env)
        assert res.returncode == 2 and "refused" in res.stderr, res.stderr
        assert "wrong-pw-1234" not in res.stderr + res.stdout
        # ~/.docker/config.json, then REGISTRY_AUTH_FILE which wins over it
        auth_file(home / ".docker" / "config.json", reg.host)
        res = _cli("image", "--format", "json", "--tls-verify=false", ref, env=env)
        assert res.returncode == 0, res.stderr
        assert PASSWORD not in res.stdout + res.stderr
        doc = json.loads(res.stdout)
        local = read_image(str(archive))
        assert [lay["digest"] for lay in doc["layers"]] == [lay.digest for lay in local.layers]
        auth_file(home / ".docker" / "config.json", reg.host, USER, "wrong-pw-1234")
        env["REGISTRY_AUTH_FILE"] = str(auth_file(tmp_path / "auth.json", reg.host))
        res = _cli("image", "--tls-verify=false", ref, env=env)
        assert res.returncode == 0, res.stderr
        if reg.token is not None:
            assert "basic" in reg.token.requests  # the bearer flow ran, with credentials
    finally:
        reg.close()
