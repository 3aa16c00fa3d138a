"""Small image archives built in the test, in the shapes real tools write them.

Each builder follows one tool's layout: classic `docker save` (Docker <= 24: `<id>/layer.tar`,
repeated layers as symlinks), OCI image layouts with nested indexes and several tagged
images (buildah, skopeo, containerd). Nothing here is copied from a real archive.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(entries: list[tuple]) -> bytes:
    """A layer from (name, bytes) files or (name, "dir"|"symlink:T"|"hardlink:T") entries."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, what in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1_700_000_000
            if isinstance(what, bytes):
                ti.size = len(what)
                t.addfile(ti, io.BytesIO(what))
            elif what == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            elif what.startswith("symlink:"):
                ti.type, ti.linkname = tarfile.SYMTYPE, what.split(":", 1)[1]
                t.addfile(ti)
            elif what.startswith("hardlink:"):
                ti.type, ti.linkname = tarfile.LNKTYPE, what.split(":", 1)[1]
                t.addfile(ti)
            else:
                raise ValueError(what)
    return buf.getvalue()


def write_tar(path: Path, members: list[tuple[str, bytes | str]]) -> Path:
    """An outer archive: (name, bytes) files, (name, "->TARGET") symlinks, (dir/, "")."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            if isinstance(data, str) and data.startswith("->"):
                ti.type, ti.linkname = tarfile.SYMTYPE, data[2:]
                t.addfile(ti)
            elif name.endswith("/"):
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            else:
                assert isinstance(data, bytes)
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    return path


def config(layers: list[bytes], arch: str = "amd64", cmd: str = "true") -> bytes:
    return json.dumps({
        "architecture": arch, "os": "linux", "config": {"Cmd": [cmd]},
        "rootfs": {"type": "layers", "diff_ids": [sha(x) for x in layers]},
        "history": [{"created_by": f"RUN step {i}"} for i in range(len(layers))],
    }, sort_keys=True).encode()


def classic_docker_save(path: Path, images: list[tuple[list[str], list[bytes]]]) -> Path:
    """`docker save` as Docker <= 24 writes it: `<id>/layer.tar`, config `<hex>.json`, and a
    layer that repeats an earlier one (same diff_id) stored as a symlink to the first copy."""
    members: list[tuple[str, bytes | str]] = []
    manifest = []
    first: dict[str, str] = {}
    for tags, layers in images:
        cfg = config(layers, cmd=" ".join(tags) or "untagged")
        cfg_name = sha(cfg).split(":")[1] + ".json"
        members.append((cfg_name, cfg))
        names = []
        parent = ""
        for lay in layers:
            # the v1 layer id chains the parent, so a repeated layer gets a new directory
            lid = hashlib.sha256((parent + sha(lay)).encode()).hexdigest()
            parent = lid
            members.append((f"{lid}/", ""))
            if sha(lay) in first:
                members.append((f"{lid}/layer.tar", f"->../{first[sha(lay)]}/layer.tar"))
            else:
                first[sha(lay)] = lid
                members.append((f"{lid}/layer.tar", lay))
            members.append((f"{lid}/VERSION", b"1.0"))
            names.append(f"{lid}/layer.tar")
        manifest.append({"Config": cfg_name, "RepoTags": tags or None, "Layers": names})
    members.insert(0, ("manifest.json", json.dumps(manifest).encode()))
    return write_tar(path, members)


@dataclass
class Layout:
    """An OCI image layout being written: blobs by digest and the top-level index."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    manifests: list[dict] = field(default_factory=list)

    def blob(self, data: bytes) -> str:
        d = sha(data)
        self.blobs[d] = data
        return d

    def image(self, layers: list[bytes], arch: str = "amd64", cmd: str = "true",
              gzip_layers: bool = False) -> dict:
        """Blobs of one image; returns its manifest descriptor (with its platform)."""
        cfg = config(layers, arch, cmd)
        descs = []
        for lay in layers:
            blob = gzip.compress(lay, mtime=0) if gzip_layers else lay
            descs.append({"mediaType": OCI_LAYER_GZIP if gzip_layers else OCI_LAYER,
                          "digest": self.blob(blob), "size": len(blob)})
        man = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                          "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                     "digest": self.blob(cfg), "size": len(cfg)},
                          "layers": descs}).encode()
        return {"mediaType": OCI_MANIFEST, "digest": self.blob(man), "size": len(man),
                "platform": {"os": "linux", "architecture": arch}}

    def index(self, descs: list[dict]) -> dict:
        doc = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                          "manifests": descs}).encode()
        return {"mediaType": OCI_INDEX, "digest": self.blob(doc), "size": len(doc)}

    def tag(self, desc: dict, name: str | None = None, containerd: str | None = None) -> None:
        ann = {}
        if name:
            ann["org.opencontainers.image.ref.name"] = name
        if containerd:
            ann["io.containerd.image.name"] = containerd
        self.manifests.append({**desc, **({"annotations": ann} if ann else {})})

    def _files(self, drop: set[str]) -> list[tuple[str, bytes]]:
        index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                            "manifests": self.manifests}).encode()
        out = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index)]
        out += [(f"blobs/sha256/{d.split(':')[1]}", b) for d, b in self.blobs.items()
                if d not in drop]
        return out

    def write_dir(self, root: Path, drop: set[str] = frozenset()) -> Path:  # type: ignore[assignment]
        for name, data in self._files(set(drop)):
            p = root / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        return root

    def write_tar(self, path: Path, drop: set[str] = frozenset()) -> Path:  # type: ignore[assignment]
        return write_tar(path, list(self._files(set(drop))))


def blob_digests(layout: Layout, desc: dict) -> set[str]:
    """Every blob a manifest descriptor needs (manifest, config, layers)."""
    man = json.loads(layout.blobs[desc["digest"]])
    return {desc["digest"], man["config"]["digest"], *(x["digest"] for x in man["layers"])}
