"""Open an image without a daemon: docker-archive, OCI layout directory, oci-archive,
`docker-daemon:NAME` / `podman:NAME` (through `docker save` / `podman save`) or a registry
(`docker://`, see registry.py). Reference forms are containers-transports(5), in refs.py.

Resolves the manifest (a multi-platform index by `--platform`; without it the only platform
whose blobs are present, else linux/amd64) to a config blob and an ordered list of layer
blobs, each with a way to open it and the digest it must have.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import posixpath
import re
import shutil
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from layerlens.image.refs import ImageRef, docker_name, parse_ref
from layerlens.image.tarstream import ChunkReader, ImageError, LayerStream, Limits
from layerlens.jsonout import quoted
from layerlens.platforms import normalize_platform

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
    # "sha256:<hex>" the uncompressed layer tar must hash to (the config's diff_id), checked
    # where the archive format promises it (docker-archive: the layer tar is what docker load
    # verifies against rootfs.diff_ids)
    diff_id: str | None = None


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


class _Store:
    """JSON documents read through a store's own `size` and `open`, bounded, for every
    store below. `where` joins the store's label and a name in error messages (`archive.tar:
    manifest.json`, `layout/index.json`)."""

    label: str
    where = ":"

    def size(self, name: str) -> int | None:
        raise NotImplementedError

    def open(self, name: str) -> BinaryIO:
        raise NotImplementedError

    def read_json(self, name: str) -> object:
        size = self.size(name)
        if size is not None and size > MAX_JSON_BYTES:
            raise ImageError(f"{name} is too large for a JSON document", path=self.label)
        with self.open(name) as f:
            return _json(f.read(MAX_JSON_BYTES + 1), f"{self.label}{self.where}{name}")


class _Members(_Store):
    """Lookup by archive member name, links followed, for the tar stores below."""

    members: dict[str, tarfile.TarInfo]

    def _member(self, name: str) -> tarfile.TarInfo | None:
        return _follow(self.members, name)

    def has(self, name: str) -> bool:
        return self._member(name) is not None

    def size(self, name: str) -> int | None:
        m = self._member(name)
        return m.size if m is not None else None


class _TarStore(_Members):
    """Random access to members of an (uncompressed) outer tar, never extracted."""

    def __init__(self, path: Path, label: str) -> None:
        self.path = path
        self.label = label
        try:
            # uncompressed only: members are read by their offsets in the file (see open)
            self.tar = tarfile.open(path, "r:")  # noqa: SIM115 - closed by open_image
            self.members: dict[str, tarfile.TarInfo] = {}
            self.duplicates: set[str] = set()
            for m in self.tar:
                key = _norm_member(m.name)
                if key in self.members:
                    self.duplicates.add(key)
                self.members[key] = m
        except (tarfile.TarError, EOFError, OSError) as exc:
            # tarfile's messages may span lines; the error is one line
            why = " ".join(str(exc).split()) or type(exc).__name__
            raise ImageError(f"not a readable tar archive ({why})", path=label) from None

    def open(self, name: str) -> BinaryIO:
        m = self._member(name)
        if m is None:
            raise ImageError(f"archive has no file {name!r}", path=self.label)
        if not m.issparse():
            # the member's bytes lie in one run: read them straight from the file, without
            # tarfile's per-read bookkeeping (a quarter of an uncompressed archive's time)
            try:
                return _Slice(open(self.path, "rb"), m.offset_data, m.size)  # type: ignore[return-value]
            except OSError as exc:
                raise ImageError(f"cannot read {name}: {exc.strerror or exc}",
                                 path=self.label) from None
        f = self.tar.extractfile(m)
        if f is None:
            raise ImageError(f"cannot read {name!r}", path=self.label)
        return f  # type: ignore[return-value]


    def close(self) -> None:
        self.tar.close()


def _follow(members: dict[str, tarfile.TarInfo], name: str) -> tarfile.TarInfo | None:
    """The regular file NAME stands for, following symbolic and hard links inside the
    archive: classic `docker save` (Docker <= 24) stores a repeated layer as a symlink
    `<id>/layer.tar -> ../<first id>/layer.tar`, as dive and `docker load` accept."""
    key = _norm_member(name)
    for _ in range(16):
        m = members.get(key)
        if m is None or m.isfile():
            return m
        if m.issym():
            base = posixpath.dirname(key)
            target = posixpath.normpath(posixpath.join(base, m.linkname))
        elif m.islnk():
            target = posixpath.normpath(m.linkname)
        else:
            return None
        if target.startswith("../") or target == ".." or m.linkname.startswith("/"):
            return None  # a link that leaves the archive names nothing in it
        key = _norm_member(target)
    return None


class _StreamTarStore(_Members):
    """Members of a gzip- or zstd-compressed outer tar (`docker save | gzip`), which has no
    offsets to seek to: read by streaming it, never extracted, nothing written to disk.

    The first pass lists every member and keeps the bytes of the small ones (manifest.json,
    index.json, configs, manifests: at most KEEP_MEMBER each, KEEP_TOTAL in all), since
    `docker save` writes manifest.json last. Opening a larger member (a layer) streams up to
    it, from where the previous one ended when it lies further on, else from the start
    again: layers stored in the order they are read (docker save, buildah, skopeo) take one
    more pass in all. One member is open at a time, as the reader reads layers.
    """

    KEEP_MEMBER = 4 << 20
    KEEP_TOTAL = 64 << 20

    def __init__(self, path: Path, label: str, kind: str) -> None:
        self.path = path
        self.label = label
        self.kind = kind
        self.members: dict[str, tarfile.TarInfo] = {}
        self.duplicates: set[str] = set()
        self.small: dict[str, bytes] = {}
        self._index: dict[int, int] = {}  # id(member) -> its place in the stream
        self._stream: LayerStream | None = None
        self._tar: tarfile.TarFile | None = None
        self._it: Iterator[tarfile.TarInfo] | None = None
        self._pos = -1
        self.passes = 0
        try:
            self._first_pass()
        except BaseException:
            self.close()  # stops the decompressing threads
            raise
        if not self.members:
            raise ImageError(f"not a readable tar archive inside the {kind} stream",
                             path=label)

    def _first_pass(self) -> None:
        kept = 0
        self._restart()
        for i, m in self._walk():
            key = _norm_member(m.name)
            if key in self.members:
                self.duplicates.add(key)
            self.members[key] = m
            self._index[id(m)] = i
            if m.isfile() and m.size <= self.KEEP_MEMBER and kept + m.size <= self.KEEP_TOTAL:
                data = self._read_all(m)
                self.small[key] = data
                kept += len(data)

    def _restart(self) -> None:
        self.close()
        self.passes += 1
        try:
            f = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise ImageError(f"cannot read: {exc.strerror or exc}", path=self.label) from None
        # the outer stream's own total is not capped: each layer in it is
        self._file = f
        self._stream = LayerStream(f, None, Limits(max_layer_bytes=1 << 62), self.label)
        try:
            self._tar = tarfile.open(  # noqa: SIM115 - closed by close()
                fileobj=_ChunkFile(self._stream.chunks()), mode="r|", bufsize=1 << 20)
        except (tarfile.TarError, EOFError, OSError) as exc:
            why = " ".join(str(exc).split()) or type(exc).__name__
            raise ImageError(f"not a readable tar archive inside the {self.kind} stream "
                             f"({why})", path=self.label) from None
        self._it = iter(self._tar)
        self._pos = -1

    def _walk(self) -> Iterator[tuple[int, tarfile.TarInfo]]:
        assert self._it is not None
        while True:
            try:
                m = next(self._it, None)
            except (tarfile.TarError, EOFError, OSError) as exc:
                why = " ".join(str(exc).split()) or type(exc).__name__
                raise ImageError(f"not a readable tar archive inside the {self.kind} stream "
                                 f"({why})", path=self.label) from None
            if m is None:
                return
            self._pos += 1
            yield self._pos, m

    def _read_all(self, m: tarfile.TarInfo) -> bytes:
        assert self._tar is not None
        f = self._tar.extractfile(m)
        try:
            return f.read() if f is not None else b""
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise ImageError(f"truncated {self.kind}-compressed archive ({exc})",
                             path=self.label) from None

    def open(self, name: str) -> BinaryIO:
        m = self._member(name)
        if m is None:
            raise ImageError(f"archive has no file {name!r}", path=self.label)
        key = _norm_member(m.name)
        if key in self.small:
            return io.BytesIO(self.small[key])
        want = self._index[id(m)]
        if want <= self._pos:
            self._restart()
        for i, m2 in self._walk():
            if i == want:
                assert self._tar is not None
                f = self._tar.extractfile(m2)
                if f is None:
                    break
                return f  # type: ignore[return-value]
        raise ImageError(f"{name} is no longer where the first pass found it (did the "
                         "archive change while being read?)", path=self.label)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
            self._file.close()
        self._tar = self._it = None


class _ChunkFile:
    """A read-only file over an iterator of byte chunks, for tarfile's stream mode."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._r = ChunkReader(chunks)

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            return b"".join(self._r.rest())
        return self._r.take(n)


_COMPRESSED = ((b"\x1f\x8b", "gzip", "gunzip -k"), (b"\x28\xb5\x2f\xfd", "zstd", "zstd -d"),
               (b"BZh", "bzip2", "bunzip2 -k"), (b"\xfd7zXZ\x00", "xz", "unxz -k"))


def _sniff(path: Path, label: str) -> str | None:
    """The compression of the outer archive ("gzip", "zstd"; None for a plain tar), or one
    clear line for what is not a tar: empty, text, or compressed by bzip2 or xz."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError as exc:
        raise ImageError(f"cannot read: {exc.strerror or exc}", path=label) from None
    if not head:
        raise ImageError("empty file, not an image archive", path=label)
    for magic, kind, tool in _COMPRESSED:
        if head.startswith(magic):
            if kind in ("gzip", "zstd"):
                return kind
            raise ImageError(f"the archive is {kind}-compressed; decompress it first "
                             f"(`{tool} {label}`) and pass the .tar", path=label)
    if head[257:262] != b"ustar" and not _checksum_ok(head):
        hint = ""
        if b"\0" not in head and re.search(rb"(?im)^\s*FROM\s", head):
            hint = " (it looks like a Dockerfile: `layerlens analyze` reads those)"
        elif b"\0" not in head:
            hint = " (it is a text file)"
        raise ImageError(f"not an image archive: not a tar file{hint}", path=label)
    return None


def _checksum_ok(hdr: bytes) -> bool:
    """Whether HDR is a tar header by its checksum (pre-POSIX tars have no magic)."""
    if len(hdr) < 512:
        return False
    try:
        want = int(hdr[148:156].replace(b"\0", b" ").strip() or b"-1", 8)
    except ValueError:
        return False
    return want == sum(hdr[:148]) + 8 * 32 + sum(hdr[156:512])


class _Slice:
    """SIZE bytes of FILE from OFFSET, as a read-only binary file (closes FILE)."""

    def __init__(self, f: BinaryIO, offset: int, size: int) -> None:
        f.seek(offset)
        self.f = f
        self.left = size

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > self.left:
            n = self.left
        if n <= 0:
            return b""
        data = self.f.read(n)
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.f.close()

    def __enter__(self) -> _Slice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.f.close()


class _DirStore(_Store):
    where = "/"

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


def _norm_member(name: str) -> str:
    n = name
    while n.startswith("./"):
        n = n[2:]
    return n.lstrip("/")


def _json(data: bytes, where: str, what: str = "") -> object:
    """Parse a small JSON document; one ImageError naming `where` if it is not JSON (deep
    nesting included). `what` names it in the message ("manifest", "config")."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ImageError(f"invalid {what + ' ' if what else ''}JSON ({exc})",
                         path=where) from None


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


def check_platform(value: str | None) -> str | None:
    """VALUE as `--platform` takes it: "os/arch[/variant]" (containerd's platforms format,
    lower case; layerlens/platforms.py), or None. Raises ImageError for anything else
    (empty, garbage)."""
    if value is None:
        return None
    try:
        return normalize_platform(value)
    except ValueError:
        raise ImageError(f"invalid --platform {value!r}: want OS/ARCH[/VARIANT], as in "
                         "linux/amd64 or linux/arm64/v8") from None


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


REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
DEFAULT_PLATFORM = "linux/amd64"


def _is_image(m: object) -> bool:
    """Not an attestation or other artifact listed beside the images (BuildKit writes
    provenance as a manifest for platform unknown/unknown)."""
    if not isinstance(m, dict):
        return False
    if (m.get("platform") or {}).get("architecture") == "unknown":
        return False
    ann = m.get("annotations") or {}
    return ann.get("vnd.docker.reference.type") != "attestation-manifest"


def _present(store, m: dict, depth: int = 0) -> bool:
    """Whether the archive holds the blobs of descriptor M: its manifest, its config and
    every layer (for an index, at least one image it lists)."""
    digest = m.get("digest")
    if not isinstance(digest, str) or depth > 8:
        return False
    try:
        name = _blob_name(digest)
    except ImageError:
        return False
    if not store.has(name):
        return False
    if m.get("mediaType") not in INDEX_TYPES and m.get("platform") is None and depth == 0:
        return True  # a lone manifest: a missing blob is reported by name when read
    try:
        doc = _json_blob(store, digest, "manifest")
    except ImageError:
        return False
    if doc.get("mediaType") in INDEX_TYPES or "manifests" in doc:
        return any(_present(store, c, depth + 1) for c in doc.get("manifests") or []
                   if _is_image(c))
    needed = [doc.get("config") or {}, *(doc.get("layers") or [])]
    for d in needed:
        dg = d.get("digest") if isinstance(d, dict) else None
        try:
            if not isinstance(dg, str) or not store.has(_blob_name(dg)):
                return False
        except ImageError:
            return False
    return True


def _pick(manifests: list, platform: str | None, store, notes: list[str],
          present_fn: Callable[[dict], bool] | None = None) -> dict:
    """The descriptor to read from an index's MANIFESTS.

    With --platform, the matching one (an error when its blobs are absent). Without it,
    only the platforms whose blobs the archive holds count (a containerd-store save of one
    platform lists every platform of the image): the only one, else linux/amd64, else an
    error listing them. NOTES gets a line whenever the platform was chosen by elimination.
    """
    label = store.label
    is_present = present_fn or (lambda m: _present(store, m))
    images = [m for m in manifests if _is_image(m)]
    if not images:
        raise ImageError("the index lists no image manifests", path=label)
    if len(images) == 1 and images[0].get("platform") is None:
        return images[0]
    listed = sorted({_platform_str(m.get("platform")) or "?" for m in images})
    present = [m for m in images if is_present(m)]
    have = sorted({_platform_str(m.get("platform")) or "?" for m in present})
    if platform is not None:
        wanted = [m for m in images if _matches(platform, _platform_str(m.get("platform")))]
        for m in wanted:
            if m in present:
                return m
        if wanted:
            raise ImageError(f"platform {platform} is listed but its blobs are not in the "
                             f"archive (present: {', '.join(have) or 'none'})", path=label)
        raise ImageError(f"no image for platform {platform} (available: "
                         f"{', '.join(have or listed)})", path=label)
    if not present and len(images) == 1:
        return images[0]  # reading it names the blob that is missing
    if not present:
        raise ImageError(f"none of the platforms the index lists ({', '.join(listed)}) has "
                         "its blobs in the archive", path=label)
    if len(present) == 1:
        if len(images) > 1:
            notes.append(f"read platform {have[0]}, the only one present (the index also "
                         f"lists {', '.join(p for p in listed if p != have[0])})")
        return present[0]
    for m in present:
        if _matches(DEFAULT_PLATFORM, _platform_str(m.get("platform"))):
            notes.append(f"read platform {_platform_str(m.get('platform'))}, the default, of "
                         f"{', '.join(have)}; choose another with --platform")
            return m
    raise ImageError(f"several platforms and no {DEFAULT_PLATFORM}; choose one with "
                     f"--platform ({', '.join(have)})", path=label)


def _names(m: dict) -> list[str]:
    ann = m.get("annotations") or {}
    return [v for k in (REF_NAME, CONTAINERD_NAME) if isinstance(v := ann.get(k), str) and v]


def _choices(kind: str, path: str, items: list[tuple[int, list[str]]]) -> str:
    out = []
    for i, names in items:
        out.append(f"{kind}:{path}:{names[0] if names else '@' + str(i)}")
    return ", ".join(out)


def _select_oci(entries: list, ref: ImageRef | None, kind: str, label: str) -> list[dict]:
    """The entries of index.json that make up the image REF names: one tagged image
    (which may list several platforms), chosen by ref.name, containerd name or @N."""
    images = [(i, m) for i, m in enumerate(entries) if _is_image(m)]
    if not images:
        raise ImageError("index.json lists no image manifests", path=label)
    listing = [(i, _names(m)) for i, m in images]
    path = ref.location if ref else label
    if ref is not None and ref.index is not None:
        if ref.index >= len(entries) or not _is_image(entries[ref.index]):
            raise ImageError(f"no image @{ref.index}; choose one: "
                             f"{_choices(kind, path, listing)}", path=label)
        return [entries[ref.index]]
    if ref is not None and ref.select is not None:
        want = ref.select
        hit = [m for _, m in images if want in _names(m) or docker_name(want) == docker_name(
            str((m.get("annotations") or {}).get(CONTAINERD_NAME) or "-"))]
        if not hit:
            raise ImageError(f"no image named {want!r}; choose one: "
                             f"{_choices(kind, path, listing)}", path=label)
        return hit
    if len(images) == 1:
        return [images[0][1]]
    keys = {tuple(names[:1]) for _, names in listing}
    unnamed_without_platform = any(not names and m.get("platform") is None
                                   for (_, names), (_, m) in zip(listing, images, strict=True))
    if len(keys) > 1 or unnamed_without_platform:
        raise ImageError(f"holds several images; choose one: "
                         f"{_choices(kind, path, listing)}", path=label)
    return [m for _, m in images]  # one image, several platforms


def _resolve_oci(store, fmt: str, platform: str | None, ref: ImageRef | None = None
                 ) -> Resolved:
    index = store.read_json("index.json")
    if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
        raise ImageError("index.json has no manifests list", path=store.label)
    chosen = _select_oci(index["manifests"], ref, fmt if fmt != "oci-layout" else "oci",
                         store.label)
    # the tag lives on the outermost descriptor; keep it through nested indexes
    tags = tuple(dict.fromkeys(n for m in chosen for n in _names(m)))
    notes: list[str] = []
    desc = _pick(chosen, platform, store, notes)
    for _ in range(8):  # nested indexes
        doc = _json_blob(store, desc.get("digest"), "manifest")
        if doc.get("mediaType") in INDEX_TYPES or "manifests" in doc:
            desc = _pick(doc.get("manifests") or [], platform, store, notes)
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
    return Resolved(store.label, fmt, config, cfg_digest, tuple(layers), plat, tags,
                    tuple(f"duplicate archive entry {quoted(d)}" for d in sorted(store.duplicates))
                    + tuple(notes))


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


def _select_docker(manifest: list, ref: ImageRef | None, label: str) -> dict:
    """The manifest.json entry REF names (a RepoTags name or @N); the only one otherwise.
    Several images and no choice is an error listing them, as skopeo does."""
    listing = [(i, [t for t in e.get("RepoTags") or [] if isinstance(t, str)])
               for i, e in enumerate(manifest)]
    path = ref.location if ref else label
    if ref is not None and ref.index is not None:
        if ref.index >= len(manifest):
            raise ImageError(f"no image @{ref.index}; choose one: "
                             f"{_choices('docker-archive', path, listing)}", path=label)
        return manifest[ref.index]
    if ref is not None and ref.select is not None:
        want = docker_name(ref.select)
        for (_, tags), e in zip(listing, manifest, strict=True):
            if want in {docker_name(t) for t in tags}:
                return e
        raise ImageError(f"no image named {ref.select!r}; choose one: "
                         f"{_choices('docker-archive', path, listing)}", path=label)
    if len(manifest) > 1:
        raise ImageError(f"holds several images; choose one: "
                         f"{_choices('docker-archive', path, listing)}", path=label)
    return manifest[0]


def _resolve_docker(store: _TarStore, platform: str | None, ref: ImageRef | None = None
                    ) -> Resolved:
    manifest = store.read_json("manifest.json")
    if not isinstance(manifest, list) or not manifest or \
            not all(isinstance(e, dict) for e in manifest):
        raise ImageError("manifest.json is not a list of images", path=store.label)
    entry = _select_docker(manifest, ref, store.label)
    cfg_name = entry.get("Config")
    if not isinstance(cfg_name, str) or not store.has(cfg_name):
        raise ImageError(f"config {cfg_name!r} missing from the archive", path=store.label)
    with store.open(cfg_name) as f:
        raw = f.read(MAX_JSON_BYTES + 1)
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
        if name.startswith("blobs/sha256/") and _HEX64.match(stem):
            digest = "sha256:" + stem  # Docker 25+: blobs are named by their digest
        elif stem.endswith(".tar") and _HEX64.match(stem[:-4]):
            # buildah, podman and skopeo name the uncompressed layer `<diff_id hex>.tar`
            digest = "sha256:" + stem[:-4]
        # `<id>/layer.tar` (classic) names a v1 id, not a digest; kaniko's `<hex>.tar.gz`
        # names are not guaranteed to be digests: both are checked by diff_id alone
        did = diff_ids[i] if i < len(diff_ids) else None
        if not (isinstance(did, str) and did.startswith("sha256:") and _HEX64.match(did[7:])):
            did = None
        layers.append(Blob(name, store.size(name), digest, None,
                           (lambda n=name: store.open(n)), did))
    tags = tuple(t for t in entry.get("RepoTags") or [] if isinstance(t, str))
    return Resolved(store.label, "docker-archive", config, None, tuple(layers),
                    _platform_str({"os": config.get("os"),
                                   "architecture": config.get("architecture"),
                                   "variant": config.get("variant")}), tags,
                    tuple(f"duplicate archive entry {quoted(d)}" for d in sorted(store.duplicates)))


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


@contextlib.contextmanager
def open_image(ref: str, platform: str | None = None, *,
               tls_verify: bool | None = None) -> Iterator[Resolved]:
    """Resolve REF (any form of `layerlens.image.refs`) to its config and layer blobs.

    PLATFORM ("os/arch[/variant]") picks from a multi-platform index. TLS_VERIFY applies
    to registries only (None: the process default, see `registry.DEFAULT_TLS_VERIFY`).
    Raises ImageError with one line naming REF for anything unreadable or ambiguous.
    """
    platform = check_platform(platform)
    r = parse_ref(ref)
    if r.transport == "registry":
        from layerlens.image.registry import resolve_registry

        yield resolve_registry(r.location, platform, tls_verify=tls_verify)
        return
    if r.transport == "daemon":
        assert r.tool is not None
        with _saved(r.tool, r.location) as path, open_image(str(path), platform) as res:
            yield Resolved(ref, res.format, res.config, res.config_digest, res.layers,
                           res.platform, res.tags, res.warnings)
        return
    path = Path(r.location)
    label = r.location
    sel = r if r.transport != "path" else None
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ImageError("no such file or directory", path=label) from None
    except OSError as exc:
        raise ImageError(f"cannot read: {exc.strerror or exc}", path=label) from None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        # reading a device or a pipe would never end (/dev/zero) or block (a FIFO)
        raise ImageError(f"not a regular file ({_file_kind(mode)}); an image is an archive "
                         "file or an OCI layout directory", path=label)
    if path.is_dir():
        if r.transport in ("oci-archive", "docker-archive"):
            raise ImageError(f"{r.transport}: wants a tar file, not a directory (use oci:)",
                             path=label)
        if not (path / "index.json").is_file():
            raise ImageError("directory is not an OCI image layout (no index.json)", path=label)
        yield _resolve_oci(_DirStore(path), "oci-layout", platform, sel)
        return
    if r.transport == "oci":
        raise ImageError("oci: wants an OCI layout directory (use oci-archive: for a tar)",
                         path=label)
    kind = _sniff(path, label)
    store: _TarStore | _StreamTarStore = (_TarStore(path, label) if kind is None
                                          else _StreamTarStore(path, label, kind))
    try:
        if store.has("manifest.json") and r.transport != "oci-archive":
            yield _resolve_docker(store, platform, sel)
        elif store.has("index.json") and r.transport != "docker-archive":
            yield _resolve_oci(store, "oci-archive", platform, sel)
        elif r.transport == "docker-archive" and store.has("index.json"):
            raise ImageError(f"holds an OCI layout (index.json), not a docker-archive: read it "
                             f"as oci-archive:{label}", path=label)
        elif r.transport == "oci-archive" and store.has("manifest.json"):
            raise ImageError(f"holds a docker-archive (manifest.json), not an OCI layout: read "
                             f"it as docker-archive:{label}", path=label)
        else:
            raise ImageError("not an image archive: no manifest.json or index.json (a plain "
                             "root filesystem tar?)", path=label)
    finally:
        store.close()


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
