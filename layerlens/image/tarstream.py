"""Streaming readers: layer blobs (plain, gzip, multi-member gzip/eStargz, zstd) and tar headers.

Every layer is read exactly once, front to back, never extracted. The compressed bytes are
hashed on the way (the digest check costs no extra pass); data is never kept, only headers.
A decompression bomb is refused as soon as the output outgrows the stated bounds.
"""

from __future__ import annotations

import hashlib
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


def _check_bomb(out: int, consumed: int, limits: Limits, name: str) -> None:
    if out > limits.max_layer_bytes:
        raise ImageError(f"layer inflates past {limits.max_layer_bytes} bytes; refusing it "
                         "(a decompression bomb?)", path=name)
    if out > 64 << 20 and consumed and out > consumed * limits.max_ratio:
        raise ImageError(f"layer inflates more than {limits.max_ratio}x; refusing it "
                         "(a decompression bomb?)", path=name)


class LayerStream:
    """Decompressed chunks of one layer blob, hashing the stored bytes on the way."""

    def __init__(self, raw: BinaryIO, length: int | None, limits: Limits, name: str) -> None:
        self.raw = raw
        self.left = length
        self.limits = limits
        self.name = name
        self.hash = hashlib.sha256()
        self.count = 0  # stored (compressed) bytes read
        self.out = 0  # decompressed bytes produced
        head = self._read(4)
        if head[:2] == GZIP_MAGIC:
            self.kind = "gzip"
        elif head == ZSTD_MAGIC:
            self.kind = "zstd"
        else:
            self.kind = "none"
        self._head = head

    def _read(self, n: int) -> bytes:
        if self.left is not None:
            n = min(n, self.left)
            if n <= 0:
                return b""
        data = self.raw.read(n)
        if data:
            self.hash.update(data)
            self.count += len(data)
            if self.left is not None:
                self.left -= len(data)
        return data

    def _emit(self, data: bytes) -> bytes:
        self.out += len(data)
        _check_bomb(self.out, self.count, self.limits, self.name)
        return data

    def chunks(self) -> Iterator[bytes]:
        if self.kind == "gzip":
            yield from self._gunzip()
        elif self.kind == "zstd":
            yield from self._zstd()
        else:
            if self._head:
                yield self._emit(self._head)
            while True:
                data = self._read(CHUNK)
                if not data:
                    return
                yield self._emit(data)

    def _gunzip(self) -> Iterator[bytes]:
        # gzip members may follow one another (eStargz writes one per file)
        d = zlib.decompressobj(31)
        started = False
        pending = self._head
        while True:
            data = pending or d.unconsumed_tail or self._read(CHUNK)
            pending = b""
            if not data:
                if started and not d.eof:
                    raise ImageError("truncated gzip stream", path=self.name)
                return
            started = True
            try:
                out = d.decompress(data, 4 * CHUNK)
            except zlib.error as exc:
                raise ImageError(f"corrupt gzip data: {exc}", path=self.name) from None
            if out:
                yield self._emit(out)
            if d.eof:
                rest = d.unused_data
                d = zlib.decompressobj(31)
                started = False
                if rest:
                    if rest[:2] != GZIP_MAGIC:
                        if rest.strip(b"\0"):
                            raise ImageError("garbage after gzip data", path=self.name)
                        rest = b""
                    pending = rest

    def _zstd(self) -> Iterator[bytes]:
        import zstandard

        d = zstandard.ZstdDecompressor().decompressobj()
        data = self._head
        try:
            while data:
                while data:
                    out = d.decompress(data)
                    if out:
                        yield self._emit(out)
                    if d.eof:
                        data = d.unused_data
                        d = zstandard.ZstdDecompressor().decompressobj()
                    else:
                        data = b""
                data = self._read(CHUNK)
        except zstandard.ZstdError as exc:
            raise ImageError(f"corrupt zstd data: {exc}", path=self.name) from None


class ChunkReader:
    """Exact reads and cheap skips over a stream of chunks, without re-buffering."""

    __slots__ = ("buf", "it", "pos")

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.it = chunks
        self.buf = b""
        self.pos = 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end <= len(self.buf):
            out = self.buf[self.pos:end]
            self.pos = end
            return out
        parts = [self.buf[self.pos:]]
        got = len(parts[0])
        self.buf, self.pos = b"", 0
        while got < n:
            nxt = next(self.it, None)
            if nxt is None:
                break
            need = n - got
            if len(nxt) > need:
                parts.append(nxt[:need])
                self.buf, self.pos = nxt, need
                got = n
            else:
                parts.append(nxt)
                got += len(nxt)
        return b"".join(parts)

    def skip(self, n: int) -> int:
        left = n
        avail = len(self.buf) - self.pos
        if left <= avail:
            self.pos += left
            return n
        left -= avail
        self.buf, self.pos = b"", 0
        while left > 0:
            nxt = next(self.it, None)
            if nxt is None:
                return n - left
            if len(nxt) > left:
                self.buf, self.pos = nxt, left
                return n
            left -= len(nxt)
        return n

    def drain(self) -> None:
        self.buf, self.pos = b"", 0
        for _ in self.it:
            pass


@dataclass(slots=True)
class TarEntry:
    name: str
    type: bytes  # tar typeflag: b"0" file, b"5" dir, b"2" symlink, b"1" hardlink, ...
    size: int
    mode: int
    linkname: str
    uid: int = 0
    gid: int = 0
    content: bytes | None = None  # only when asked for
    digest: str | None = None  # sha256 of the content, only when asked for


def _num(field: bytes) -> int:
    if field and field[0] & 0x80:  # GNU base-256
        v = int.from_bytes(field, "big", signed=False) & ~(1 << (8 * len(field) - 1))
        return v
    s = field.split(b"\0", 1)[0].strip()
    return int(s, 8) if s else 0


def _field(hdr: bytes, lo: int, hi: int, what: str, name: str) -> int:
    """A numeric header field; garbage in it is a corrupt header, as Go's archive/tar says."""
    try:
        return _num(hdr[lo:hi])
    except ValueError:
        raise ImageError(f"corrupt tar header ({what})", path=name) from None


def _str(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _checksum_ok(hdr: bytes) -> bool:
    try:
        want = _num(hdr[148:156])
    except ValueError:
        return False
    # the checksum field itself counts as eight spaces
    return want == sum(hdr) - sum(hdr[148:156]) + 256


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


def iter_tar(f: ChunkReader, name: str, limits: Limits,
             want_content=None, hash_content: bool = False) -> Iterator[TarEntry]:
    """Headers of a tar stream; `want_content(entry)` may ask for a small file's bytes."""
    long_name: str | None = None
    long_link: str | None = None
    pax: dict[str, str] = {}
    gpax: dict[str, str] = {}
    count = 0
    first = True
    while True:
        hdr = f.take(BLOCK)
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
            data = f.take(size)
            f.skip((-size) % BLOCK)
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
                         _field(hdr, 100, 108, "mode", name) & 0o7777, link)
        if hash_content:
            entry.uid = _field(hdr, 108, 116, "uid", name)
            entry.gid = _field(hdr, 116, 124, "gid", name)
            try:
                if "uid" in merged:
                    entry.uid = int(merged["uid"])
                if "gid" in merged:
                    entry.gid = int(merged["gid"])
            except ValueError:
                raise ImageError("corrupt pax uid/gid", path=name) from None
        long_name = long_link = None
        pax = {}
        count += 1
        if count > limits.max_entries:
            raise ImageError(f"more than {limits.max_entries} entries in one layer", path=name)
        if want_content is not None and data_size and want_content(entry):
            entry.content = f.take(data_size)
            if hash_content:
                entry.digest = hashlib.sha256(entry.content).hexdigest()
            f.skip((-data_size) % BLOCK)
        elif hash_content and typ in (b"0", b"\0", b"7"):
            h = hashlib.sha256()
            left = data_size
            while left > 0:
                part = f.take(min(left, CHUNK))
                if not part:
                    raise ImageError("truncated tar stream", path=name)
                h.update(part)
                left -= len(part)
            entry.digest = h.hexdigest()
            f.skip((-data_size) % BLOCK)
        else:
            padded = data_size + ((-data_size) % BLOCK)
            if padded and f.skip(padded) < padded:
                raise ImageError("truncated tar stream", path=name)
        yield entry
