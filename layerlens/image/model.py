"""Frozen results of reading an image."""

from __future__ import annotations

from dataclasses import dataclass

from layerlens.image.layers import FileRecord
from layerlens.image.secrets import SecretFinding


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    index: int
    created: str | None
    created_by: str
    empty_layer: bool
    comment: str | None
    layer: int | None  # index of the layer it made, None for metadata-only entries


@dataclass(frozen=True, slots=True)
class Layer:
    index: int
    digest: str  # sha256 of the blob as stored (what a registry names it)
    diff_id: str | None  # sha256 of the uncompressed tar, from the config
    media_type: str | None
    compression: str  # none, gzip, zstd
    size_bytes: int  # regular-file bytes in the layer
    tar_bytes: int  # uncompressed tar stream length
    blob_bytes: int  # bytes of the blob as stored in the archive
    compressed_bytes: int | None  # bytes a push sends; None when stored uncompressed
    files: int
    dirs: int
    entries: int
    added: int
    modified: int
    removed: int
    shadowed_bytes: int
    shadowed_files: int
    created_by: str | None
    created: str | None
    history_index: int | None
    empty: bool  # no files at all (e.g. an empty RUN)


@dataclass(frozen=True, slots=True)
class Image:
    source: str
    format: str
    platform: str | None
    tags: tuple[str, ...]
    config_env: tuple[tuple[str, str], ...]
    config: dict  # the image config's "config" object (Cmd, Entrypoint, Labels, ...)
    layers: tuple[Layer, ...]
    history: tuple[HistoryEntry, ...]
    size_bytes: int  # sum of layer sizes (dive's figure)
    visible_bytes: int  # regular-file bytes the final filesystem shows
    compressed_bytes: int | None  # None when any layer is stored uncompressed
    shadowed_bytes: int
    efficiency: float
    wasted_bytes: int
    user_wasted_percent: float
    inefficient_files: tuple[tuple[str, int, int], ...]  # (path, cumulative bytes, count)
    secrets: tuple[SecretFinding, ...]
    warnings: tuple[str, ...]
    files: tuple[FileRecord, ...] = ()  # only when asked for
    final_tree: tuple[tuple, ...] = ()  # (path, kind, mode, uid, gid, link, sha256), when asked
    hidden: frozenset[tuple[int, str]] = frozenset()  # (layer, path) later layers hide

    @property
    def user_size_bytes(self) -> int:
        return self.size_bytes - (self.layers[0].size_bytes if self.layers else 0)
