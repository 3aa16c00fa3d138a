"""Cache documents on disk, sealed by their own checksum: SHA-256 of the payload (32 bytes)
then the payload, msgspec MessagePack validated against a type when read.

Both caches under `$XDG_CACHE_HOME/layerlens` (mined histories, `history/store.py`, and
replays, `cache/replaystore.py`) keep their files this way: a torn, truncated or tampered
file fails the checksum or the type and reads as absent, never as a wrong answer.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TypeVar

import msgspec

T = TypeVar("T")


def load_sealed(path: Path, type_: type[T]) -> T | None:
    """The document at PATH decoded as TYPE_, or None when the file is absent, unreadable,
    fails its checksum or does not decode to TYPE_."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    digest, payload = raw[:32], raw[32:]
    if hashlib.sha256(payload).digest() != digest:
        return None
    try:
        return msgspec.msgpack.decode(payload, type=type_)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def save_sealed(path: Path, doc: object) -> bool:
    """Write DOC to PATH atomically (`fsutil.atomic_write_bytes`), creating its directory.
    False when it cannot be encoded or written: a cache that cannot be written is only a
    slower next run, so callers go on."""
    from layerlens.errors import LayerlensError
    from layerlens.fsutil import atomic_write_bytes

    try:
        payload = msgspec.msgpack.encode(doc)
    except UnicodeEncodeError:  # a text naming an undecodable path: keep none
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, hashlib.sha256(payload).digest() + payload)
    except (OSError, LayerlensError):
        return False
    return True
