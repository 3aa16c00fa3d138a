"""Open an image without a daemon: docker-archive, OCI layout directory, oci-archive, or
`docker:NAME` / `podman:NAME` streamed from `docker save` / `podman save`.

Resolves the manifest (a multi-platform index by `--platform`, default linux/amd64 or the
only one present) to a config blob and an ordered list of layer blobs, each with a way to
open it and the digest it must have.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from layerlens.image.tarstream import ImageError

MAX_JSON_BYTES = 64 << 20
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
INDEX_TYPES = {"application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json"}


@dataclass(frozen=True, slots=True)
class Blob:
    name: str  # where it is, for messages
    size: int | None
    digest: str | None  # "sha256:<hex>" the compressed bytes must hash to, when known
    media_type: str | None
    open: Callable[[], BinaryIO]


@dataclass(frozen=True, slots=True)
class Resolved:
    source: str
    format: str  # docker-archive, oci-layout, oci-archive
    config: dict
    config_digest: str | None
    layers: tuple[Blob, ...]
    platform: str | None
    tags: tuple[str, ...]
    warnings: tuple[str, ...]


class _TarStore:
    """Random access to members of an (uncompressed) outer tar, never extracted."""

    def __init__(self, path: Path, label: str) -> None:
        self.path = path
        self.label = label
        try:
            self.tar = tarfile.open(path, "r:*")  # noqa: SIM115 - closed by open_image
            self.members: dict[str, tarfile.TarInfo] = {}
            self.duplicates: set[str] = set()
            for m in self.tar:
                key = _norm_member(m.name)
                if key in self.members:
                    self.duplicates.add(key)
                self.members[key] = m
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise ImageError(f"not a readable tar archive ({exc})", path=label) from None

    def has(self, name: str) -> bool:
        return _norm_member(name) in self.members

    def size(self, name: str) -> int | None:
        m = self.members.get(_norm_member(name))
        return m.size if m is not None else None

    def open(self, name: str) -> BinaryIO:
        m = self.members.get(_norm_member(name))
        if m is None or not m.isfile():
            raise ImageError(f"archive has no file {name!r}", path=self.label)
        f = self.tar.extractfile(m)
        if f is None:
            raise ImageError(f"cannot read {name!r}", path=self.label)
        return f  # type: ignore[return-value]

    def read_json(self, name: str) -> object:
        size = self.size(name)
        if size is not None and size > MAX_JSON_BYTES:
            raise ImageError(f"{name} is too large for a JSON document", path=self.label)
        with self.open(name) as f:
            return _json(f.read(MAX_JSON_BYTES + 1), f"{self.label}:{name}")


class _DirStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.label = str(root)
        self.duplicates: set[str] = set()

    def _p(self, name: str) -> Path:
        rel = _norm_member(name)
        p = (self.root / rel).resolve()
        if not str(p).startswith(str(self.root.resolve()) + os.sep):
            raise ImageError(f"blob path {name!r} leaves the layout directory", path=self.label)
        return p

    def has(self, name: str) -> bool:
        return self._p(name).is_file()

    def size(self, name: str) -> int | None:
        with contextlib.suppress(OSError):
            return self._p(name).stat().st_size
        return None

    def open(self, name: str) -> BinaryIO:
        try:
            return open(self._p(name), "rb")
        except OSError as exc:
            raise ImageError(f"cannot read {name}: {exc.strerror or exc}",
                             path=self.label) from None

    def read_json(self, name: str) -> object:
        size = self.size(name)
        if size is not None and size > MAX_JSON_BYTES:
            raise ImageError(f"{name} is too large for a JSON document", path=self.label)
        with self.open(name) as f:
            return _json(f.read(MAX_JSON_BYTES + 1), f"{self.label}/{name}")


def _norm_member(name: str) -> str:
    n = name
    while n.startswith("./"):
        n = n[2:]
    return n.lstrip("/")


def _json(data: bytes, where: str) -> object:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ImageError(f"invalid JSON ({exc})", path=where) from None


def _blob_name(digest: str) -> str:
    alg, _, hexd = digest.partition(":")
    if not alg or not hexd or "/" in hexd or "/" in alg or ".." in hexd:
        raise ImageError(f"malformed digest {digest!r}")
    return f"blobs/{alg}/{hexd}"


def _platform_str(p: dict | None) -> str | None:
    if not isinstance(p, dict):
        return None
    s = f"{p.get('os', '?')}/{p.get('architecture', '?')}"
    if p.get("variant"):
        s += "/" + p["variant"]
    return s


def _matches(want: str, have: str | None) -> bool:
    if have is None:
        return False
    w = want.split("/")
    h = have.split("/")
    if w[:2] != h[:2]:
        return False
    if len(w) > 2 and len(h) > 2:
        return w[2] == h[2]
    return True


def _pick(manifests: list[dict], platform: str | None, label: str) -> dict:
    images = [m for m in manifests if isinstance(m, dict)
              and (m.get("platform") or {}).get("architecture") != "unknown"]
    if not images:
        raise ImageError("the index lists no image manifests", path=label)
    if platform is None:
        if len(images) == 1:
            return images[0]
        platform = "linux/amd64"
        for m in images:
            if _matches(platform, _platform_str(m.get("platform"))):
                return m
        have = ", ".join(sorted({_platform_str(m.get("platform")) or "?" for m in images}))
        raise ImageError(f"several platforms and no linux/amd64; choose one with --platform "
                         f"({have})", path=label)
    for m in images:
        if _matches(platform, _platform_str(m.get("platform"))):
            return m
    if len(images) == 1 and images[0].get("platform") is None:
        return images[0]
    have = ", ".join(sorted({_platform_str(m.get("platform")) or "?" for m in images}))
    raise ImageError(f"no image for platform {platform} (available: {have})", path=label)


def _resolve_oci(store, fmt: str, platform: str | None) -> Resolved:
    index = store.read_json("index.json")
    if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
        raise ImageError("index.json has no manifests list", path=store.label)
    desc = _pick(index["manifests"], platform, store.label)
    for _ in range(8):  # nested indexes
        doc = _json_blob(store, desc.get("digest"), "manifest")
        if doc.get("mediaType") in INDEX_TYPES or "manifests" in doc:
            desc = _pick(doc.get("manifests") or [], platform, store.label)
            continue
        break
    else:
        raise ImageError("indexes nested too deeply", path=store.label)
    cfg_digest = (doc.get("config") or {}).get("digest")
    config = _json_blob(store, cfg_digest, "config")
    layers = []
    for d in doc.get("layers") or []:
        if not isinstance(d, dict) or not isinstance(d.get("digest"), str):
            raise ImageError("layer descriptor without a digest", path=store.label)
        name = _blob_name(d["digest"])
        if not store.has(name):
            raise ImageError(f"missing layer blob {d['digest']}", path=store.label)
        layers.append(Blob(name, d.get("size"), d["digest"], d.get("mediaType"),
                           (lambda n=name: store.open(n))))
    plat = _platform_str(desc.get("platform")) or _platform_str(
        {"os": config.get("os"), "architecture": config.get("architecture"),
         "variant": config.get("variant")})
    tags = tuple(v for k, v in (desc.get("annotations") or {}).items()
                 if k == "org.opencontainers.image.ref.name")
    return Resolved(store.label, fmt, config, cfg_digest, tuple(layers), plat, tags,
                    tuple(f"duplicate archive entry {d!r}" for d in sorted(store.duplicates)))


def _json_blob(store, digest: object, what: str) -> dict:
    """A small JSON blob (manifest, index, config), its digest checked."""
    if not isinstance(digest, str):
        raise ImageError(f"{what} descriptor without a digest", path=store.label)
    name = _blob_name(digest)
    if not store.has(name):
        raise ImageError(f"missing {what} blob {digest}", path=store.label)
    with store.open(name) as f:
        raw = f.read(MAX_JSON_BYTES + 1)
    _verify_small(raw, digest, store.label)
    doc = _json(raw, f"{store.label}:{name}")
    if not isinstance(doc, dict):
        raise ImageError(f"{what} is not a JSON object", path=store.label)
    return doc


def _verify_small(raw: bytes, digest: str, label: str) -> None:
    import hashlib

    alg, _, want = digest.partition(":")
    if alg not in ("sha256", "sha512"):
        return
    if hashlib.new(alg, raw).hexdigest() != want:
        raise ImageError(f"digest mismatch for {digest}", path=label)


def _resolve_docker(store: _TarStore, platform: str | None) -> Resolved:
    manifest = store.read_json("manifest.json")
    if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
        raise ImageError("manifest.json is not a list of images", path=store.label)
    if len(manifest) > 1 and platform is None:
        pass  # docker save of several images: the first, as `docker load` lists it first
    entry = manifest[0]
    cfg_name = entry.get("Config")
    if not isinstance(cfg_name, str) or not store.has(cfg_name):
        raise ImageError(f"config {cfg_name!r} missing from the archive", path=store.label)
    raw = store.open(cfg_name).read(MAX_JSON_BYTES + 1)
    base = cfg_name.rsplit("/", 1)[-1].removesuffix(".json").removeprefix("sha256:")
    if _HEX64.match(base):
        _verify_small(raw, "sha256:" + base, store.label)
    config = _json(raw, f"{store.label}:{cfg_name}")
    if not isinstance(config, dict):
        raise ImageError("config is not a JSON object", path=store.label)
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    names = entry.get("Layers") or []
    if not isinstance(names, list):
        raise ImageError("manifest.json Layers is not a list", path=store.label)
    if diff_ids and len(diff_ids) != len(names):
        raise ImageError(f"config lists {len(diff_ids)} layers, manifest {len(names)}",
                         path=store.label)
    layers = []
    for i, name in enumerate(names):
        if not isinstance(name, str) or not store.has(name):
            raise ImageError(f"layer {name!r} missing from the archive", path=store.label)
        digest = None
        stem = name.rsplit("/", 1)[-1]
        stem_hex = stem.split(".", 1)[0]
        if name.startswith("blobs/sha256/") and _HEX64.match(stem):
            digest = "sha256:" + stem  # Docker 25+: blobs are named by their digest
        elif stem == "layer.tar" and i < len(diff_ids):
            digest = diff_ids[i]  # classic: the tar itself, uncompressed
        elif _HEX64.match(stem_hex) and stem.endswith((".tar.gz", ".tar")):
            digest = None  # kaniko names are not guaranteed to be digests; sizes still check
        layers.append(Blob(name, store.size(name), digest, None,
                           (lambda n=name: store.open(n))))
    tags = tuple(t for t in entry.get("RepoTags") or [] if isinstance(t, str))
    return Resolved(store.label, "docker-archive", config, None, tuple(layers),
                    _platform_str({"os": config.get("os"),
                                   "architecture": config.get("architecture"),
                                   "variant": config.get("variant")}), tags,
                    tuple(f"duplicate archive entry {d!r}" for d in sorted(store.duplicates)))


@contextlib.contextmanager
def open_image(ref: str, platform: str | None = None) -> Iterator[Resolved]:
    """Resolve REF (a path, `docker:NAME` or `podman:NAME`)."""
    for scheme in ("docker", "podman"):
        if ref.startswith(scheme + ":") and not Path(ref).exists():
            with _saved(scheme, ref[len(scheme) + 1 :]) as path, \
                    open_image(str(path), platform) as res:
                yield Resolved(ref, res.format, res.config, res.config_digest, res.layers,
                               res.platform, res.tags, res.warnings)
            return
    for prefix in ("docker-archive:", "oci-archive:", "oci:"):
        if ref.startswith(prefix) and not Path(ref).exists():
            ref = ref[len(prefix):].split(":", 1)[0] if prefix != "oci:" else ref[len(prefix):]
            break
    path = Path(ref)
    if not path.exists():
        raise ImageError("no such file or directory", path=ref)
    if path.is_dir():
        if not (path / "index.json").is_file():
            raise ImageError("directory is not an OCI image layout (no index.json)", path=ref)
        yield _resolve_oci(_DirStore(path), "oci-layout", platform)
        return
    store = _TarStore(path, ref)
    try:
        if store.has("manifest.json"):
            yield _resolve_docker(store, platform)
        elif store.has("index.json"):
            yield _resolve_oci(store, "oci-archive", platform)
        else:
            raise ImageError("not an image archive: no manifest.json or index.json (a plain "
                             "root filesystem tar?)", path=ref)
    finally:
        store.tar.close()


@contextlib.contextmanager
def _saved(tool: str, name: str) -> Iterator[Path]:
    exe = shutil.which(tool)
    if exe is None:
        raise ImageError(f"`{tool}` is not installed, so {tool}:{name} cannot be read; save "
                         f"the image with `{tool} save {name} -o image.tar` and pass the file")
    if not name:
        raise ImageError(f"{tool}: needs an image name, as in {tool}:myimage:latest")
    with tempfile.TemporaryDirectory(prefix="layerlens-save-") as tmp:
        out = Path(tmp) / "image.tar"
        try:
            res = subprocess.run([exe, "save", "-o", str(out), name], capture_output=True,
                                 timeout=3600)
        except subprocess.TimeoutExpired:
            raise ImageError(f"`{tool} save {name}` took more than an hour") from None
        if res.returncode != 0:
            msg = res.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ImageError(f"`{tool} save {name}` failed: {msg[-1] if msg else res.returncode}")
        yield out
