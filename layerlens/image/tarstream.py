"""Streaming readers: layer blobs (plain, gzip, multi-member gzip/eStargz, zstd) and tar headers.

Every layer is read exactly once, front to back, never extracted. The compressed bytes are
hashed on the way (the digest check costs no extra pass); data is never kept, only headers.
A decompression bomb is refused as soon as the output outgrows the stated bounds.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from layerlens.errors import LayerlensError

BLOCK = 512
CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class ImageError(LayerlensError):
    """An image archive that is not what it claims to be."""


@dataclass(frozen=True, slots=True)
class Limits:
    max_layer_bytes: int = 64 << 30  # uncompressed bytes of one layer
    max_ratio: int = 2000  # uncompressed / compressed, past 64 MiB of output
    max_entries: int = 10_000_000
    max_header_bytes: int = 1 << 20  # one long name or pax record


class HashingReader(io.RawIOBase):
    """Reads at most `length` bytes of `raw`, hashing what passes."""

    def __init__(self, raw: BinaryIO, length: int | None, algo: str = "sha256") -> None:
        self.raw = raw
        self.left = length
        self.hash = hashlib.new(algo)
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        want = len(b) if self.left is None else min(len(b), self.left)
        if want <= 0:
            return 0
        data = self.raw.read(want)
        n = len(data)
        b[:n] = data
        self.hash.update(data)
        self.count += n
        if self.left is not None:
            self.left -= n
        return n


class _Gunzip(io.RawIOBase):
    """gzip with several members back to back (eStargz writes one per file)."""

    def __init__(self, src: io.RawIOBase, limits: Limits, name: str) -> None:
        self.src = src
        self.d = zlib.decompressobj(31)
        self.started = False
        self.buf = b""
        self.eof = False
        self.out = 0
        self.limits = limits
        self.name = name

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        while not self.buf and not self.eof:
            if self.d.eof:
                # One member ended; another may follow (eStargz: one per file).
                rest = self.d.unused_data
                self.d = zlib.decompressobj(31)
                self.started = False
                data = rest or self.src.read(CHUNK)
                if not data or (data[:2] != GZIP_MAGIC and not data.strip(b"\0")):
                    self.eof = True
                    break
            else:
                data = self.d.unconsumed_tail or self.src.read(CHUNK)
                if not data:
                    if self.started:
                        raise ImageError("truncated gzip stream", path=self.name)
                    self.eof = True
                    break
            self.started = True
            try:
                self.buf = self.d.decompress(data, CHUNK)
            except zlib.error as exc:
                raise ImageError(f"corrupt gzip data: {exc}", path=self.name) from None
            self._count(len(self.buf))
        n = min(len(b), len(self.buf))
        b[:n] = self.buf[:n]
        self.buf = self.buf[n:]
        return n

    def _count(self, n: int) -> None:
        self.out += n
        _check_bomb(self.out, getattr(self.src, "count", 0), self.limits, self.name)


def _check_bomb(out: int, consumed: int, limits: Limits, name: str) -> None:
    if out > limits.max_layer_bytes:
        raise ImageError(f"layer inflates past {limits.max_layer_bytes} bytes; refusing it "
                         "(a decompression bomb?)", path=name)
    if out > 64 << 20 and consumed and out > consumed * limits.max_ratio:
        raise ImageError(f"layer inflates more than {limits.max_ratio}x; refusing it "
                         "(a decompression bomb?)", path=name)


class _Zstd(io.RawIOBase):
    def __init__(self, src: io.RawIOBase, limits: Limits, name: str) -> None:
        import zstandard

        self.src = src
        self.reader = zstandard.ZstdDecompressor().stream_reader(src, read_across_frames=True,
                                                                read_size=CHUNK)
        self.out = 0
        self.limits = limits
        self.name = name

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        import zstandard

        try:
            n = self.reader.readinto(b)
        except zstandard.ZstdError as exc:
            raise ImageError(f"corrupt zstd data: {exc}", path=self.name) from None
        self.out += n
        _check_bomb(self.out, getattr(self.src, "count", 0), self.limits, self.name)
        return n


class _Plain(io.RawIOBase):
    def __init__(self, src: io.RawIOBase, limits: Limits, name: str) -> None:
        self.src = src
        self.pending = b""
        self.out = 0
        self.limits = limits
        self.name = name

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        n = self.src.readinto(b)
        self.out += n
        if self.out > self.limits.max_layer_bytes:
            _check_bomb(self.out, 0, self.limits, self.name)
        return n


def open_layer(raw: BinaryIO, length: int | None, limits: Limits, name: str,
               ) -> tuple[io.BufferedReader, HashingReader, str]:
    """Wrap a blob: returns (decompressed reader, the hashing source, compression name)."""
    src = HashingReader(raw, length)
    head = raw.read(4)
    src.hash.update(head)
    src.count += len(head)
    if src.left is not None:
        src.left -= len(head)
    pre = _Prefixed(head, src)
    if head[:2] == GZIP_MAGIC:
        inner: io.RawIOBase = _Gunzip(pre, limits, name)
        kind = "gzip"
    elif head == ZSTD_MAGIC:
        inner = _Zstd(pre, limits, name)
        kind = "zstd"
    else:
        inner = _Plain(pre, limits, name)
        kind = "none"
    return io.BufferedReader(inner, CHUNK), src, kind


class _Prefixed(io.RawIOBase):
    """A reader that first returns bytes already read for sniffing."""

    def __init__(self, head: bytes, src: HashingReader) -> None:
        self.head = head
        self.src = src

    @property
    def count(self) -> int:
        return self.src.count

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        return self.src.readinto(b)

    def read(self, n: int = -1) -> bytes:  # zstandard and zlib paths call read()
        if n is None or n < 0:
            n = CHUNK
        buf = bytearray(n)
        got = self.readinto(buf)
        return bytes(buf[:got])


@dataclass(slots=True)
class TarEntry:
    name: str
    type: bytes  # tar typeflag: b"0" file, b"5" dir, b"2" symlink, b"1" hardlink, ...
    size: int
    mode: int
    linkname: str
    uid: int
    gid: int
    content: bytes | None = None  # only when asked for


def _num(field: bytes) -> int:
    if field and field[0] & 0x80:  # GNU base-256
        v = int.from_bytes(field, "big", signed=False) & ~(1 << (8 * len(field) - 1))
        return v
    s = field.split(b"\0", 1)[0].strip()
    return int(s, 8) if s else 0


def _str(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _checksum_ok(hdr: bytes) -> bool:
    try:
        want = _num(hdr[148:156])
    except ValueError:
        return False
    total = sum(hdr[:148]) + 8 * 32 + sum(hdr[156:])
    return want == total


def _parse_pax(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        sp = data.find(b" ", pos)
        if sp < 0:
            break
        try:
            length = int(data[pos:sp])
        except ValueError:
            break
        if length <= 0:
            break
        rec = data[sp + 1 : pos + length - 1]
        k, _, v = rec.partition(b"=")
        out[k.decode("utf-8", "surrogateescape")] = v.decode("utf-8", "surrogateescape")
        pos += length
    return out


def read_exact(f: io.BufferedReader, n: int) -> bytes:
    data = f.read(n)
    if len(data) == n or not data:
        return data
    parts = [data]
    got = len(data)
    while got < n:
        more = f.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def skip(f: io.BufferedReader, n: int) -> int:
    left = n
    while left > 0:
        data = f.read(min(left, CHUNK))
        if not data:
            break
        left -= len(data)
    return n - left


def iter_tar(f: io.BufferedReader, name: str, limits: Limits,
             want_content=None) -> Iterator[TarEntry]:
    """Headers of a tar stream; `want_content(entry)` may ask for a small file's bytes."""
    long_name: str | None = None
    long_link: str | None = None
    pax: dict[str, str] = {}
    gpax: dict[str, str] = {}
    count = 0
    first = True
    while True:
        hdr = read_exact(f, BLOCK)
        if not hdr:
            if first:
                return  # an empty layer
            raise ImageError("tar stream ends without its end-of-archive blocks", path=name)
        if len(hdr) < BLOCK:
            raise ImageError("truncated tar stream", path=name)
        if hdr == b"\0" * BLOCK:
            return
        if not _checksum_ok(hdr):
            raise ImageError("not a tar stream (bad header checksum)" if first else
                             "corrupt tar header", path=name)
        first = False
        typ = hdr[156:157] or b"0"
        try:
            size = _num(hdr[124:136])
        except ValueError:
            raise ImageError("corrupt tar header (size)", path=name) from None
        if typ in (b"L", b"K", b"x", b"g"):
            if size > limits.max_header_bytes:
                raise ImageError("oversized tar extended header", path=name)
            data = read_exact(f, size)
            skip(f, (-size) % BLOCK)
            if typ == b"L":
                long_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            elif typ == b"K":
                long_link = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            elif typ == b"x":
                pax = _parse_pax(data)
            else:
                gpax.update(_parse_pax(data))
            continue
        nm = _str(hdr[0:100])
        if hdr[257:262] == b"ustar":
            prefix = _str(hdr[345:500])
            if prefix:
                nm = prefix + "/" + nm
        merged = {**gpax, **pax}
        if long_name is not None:
            nm = long_name
        if "path" in merged:
            nm = merged["path"]
        link = long_link if long_link is not None else _str(hdr[157:257])
        if "linkpath" in merged:
            link = merged["linkpath"]
        if "size" in merged:
            try:
                size = int(merged["size"])
            except ValueError:
                raise ImageError("corrupt pax size", path=name) from None
        if typ in (b"1", b"2", b"3", b"4", b"5", b"6"):
            data_size = 0 if typ != b"1" or size == 0 else size
        else:
            data_size = size
        entry = TarEntry(nm, typ, size if typ in (b"0", b"\0", b"7") else 0,
                         _num(hdr[100:108]) & 0o7777, link, _num(hdr[108:116]),
                         _num(hdr[116:124]))
        long_name = long_link = None
        pax = {}
        count += 1
        if count > limits.max_entries:
            raise ImageError(f"more than {limits.max_entries} entries in one layer", path=name)
        if want_content is not None and data_size and want_content(entry):
            entry.content = read_exact(f, data_size)
            skip(f, (-data_size) % BLOCK)
        else:
            padded = data_size + ((-data_size) % BLOCK)
            if padded and skip(f, padded) < padded:
                raise ImageError("truncated tar stream", path=name)
        yield entry
