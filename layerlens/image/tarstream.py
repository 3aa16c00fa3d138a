"""Streaming readers: layer blobs (plain, gzip, multi-member gzip/eStargz, zstd) and tar headers.

Every layer is read exactly once, front to back, never extracted. The compressed bytes are
hashed on the way (the digest check costs no extra pass); data is never kept, only headers.
A decompression bomb is refused as soon as the output outgrows the stated bounds.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from layerlens.errors import LayerlensError

BLOCK = 512
CHUNK = 1 << 20
# Inflated bytes per call: ISA-L's decompressor and zstandard's reader allocate the whole
# size up front; 1 MiB (about what a 1 MiB stored chunk inflates to) faults in fewer pages
# than 4 MiB did, for a third less system time, and bounds memory per chunk as before
OUT_CHUNK = CHUNK
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


_ZERO_BLOCK = bytes(BLOCK)
_NO_PAX: dict[str, str] = {}


class ImageError(LayerlensError):
    """An image archive that is not what it claims to be."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on reading one layer. Only the total is capped by default: a ratio test would
    refuse real layers (the sparse /var/log/lastlog `useradd` leaves for a large UID
    compresses by 10^5 and more), and the memory is bounded per chunk regardless."""

    max_layer_bytes: int = 64 << 30  # uncompressed bytes of one layer (--max-layer-bytes)
    max_ratio: int | None = None  # uncompressed / compressed past 64 MiB of output; off
    max_entries: int = 10_000_000
    max_header_bytes: int = 1 << 20  # one long name or pax record
    max_trailing_bytes: int = 16 << 20  # inflated after the end-of-archive blocks


def parse_size(text: str) -> int:
    """`1073741824`, `64G`, `512M`, `2T`, `100K` (binary units, optional `iB`/`B`) -> bytes;
    ValueError for anything else."""
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    mult = 1
    for suffix, m in (("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)):
        if t.endswith(suffix):
            t, mult = t[:-1], m
            break
    value = float(t)
    if value <= 0 or value != value:
        raise ValueError(text)
    return int(value * mult)


def _check_bomb(out: int, consumed: int, limits: Limits, name: str) -> None:
    if out > limits.max_layer_bytes:
        raise ImageError(f"layer inflates past {limits.max_layer_bytes} bytes; refusing it "
                         "(a decompression bomb? --max-layer-bytes raises the limit)",
                         path=name)
    if limits.max_ratio and out > 64 << 20 and consumed and out > consumed * limits.max_ratio:
        raise ImageError(f"layer inflates more than {limits.max_ratio}x; refusing it "
                         "(a decompression bomb?)", path=name)


class LayerStream:
    """Decompressed chunks of one layer blob, hashing the stored bytes on the way.

    With THREADS (the default), reading and hashing the stored bytes runs in one thread and
    inflating in another, each a few chunks ahead (`Prefetch`): file reads, SHA-256 and
    inflate release the GIL on large buffers, so on two cores the tar walk in the calling
    thread costs no wall time beyond inflating. `close()` stops both threads; use the
    stream as a context manager. THREADS=False does everything in the caller (fuzzing).
    """

    def __init__(self, raw: BinaryIO, length: int | None, limits: Limits, name: str,
                 *, hash_output: bool = False, threads: bool = True) -> None:
        """HASH_OUTPUT also hashes the decompressed bytes (`out_hash`, for a diff_id check;
        for an uncompressed blob it is `hash` itself, at no extra cost)."""
        self.raw = raw
        self.left = length
        self.limits = limits
        self.name = name
        self.hash = hashlib.sha256()
        self.count = 0  # stored (compressed) bytes read
        self.out = 0  # decompressed bytes produced
        self._threads = threads
        self._inflated: Prefetch | None = None
        stored: Iterator[bytes] = self._stored_chunks()
        self._stored_ahead = Prefetch(stored, depth=8) if threads else None
        self._stored = self._stored_ahead or stored
        head = b""
        while len(head) < 4:
            nxt = next(self._stored, None)
            if nxt is None:
                break
            head += nxt
        if head[:2] == GZIP_MAGIC:
            self.kind = "gzip"
        elif head[:4] == ZSTD_MAGIC:
            self.kind = "zstd"
        else:
            self.kind = "none"
        self._head = head
        self.out_hash = (hashlib.sha256() if hash_output and self.kind != "none"
                         else self.hash if hash_output else None)

    def _stored_chunks(self) -> Iterator[bytes]:
        """The stored bytes in chunks of up to CHUNK, hashed and counted as they are read."""
        raw, h = self.raw, self.hash
        while True:
            n = CHUNK
            if self.left is not None:
                n = min(n, self.left)
                if n <= 0:
                    return
            data = raw.read(n)
            if not data:
                return
            h.update(data)
            self.count += len(data)
            if self.left is not None:
                self.left -= len(data)
            yield data

    def _next_stored(self) -> bytes:
        if self._head:
            out, self._head = self._head, b""
            return out
        return next(self._stored, b"")

    def _emit(self, data: bytes) -> bytes:
        self.out += len(data)
        if self.out_hash is not None and self.out_hash is not self.hash:
            self.out_hash.update(data)
        _check_bomb(self.out, self.count, self.limits, self.name)
        return data

    def chunks(self) -> Iterator[bytes]:
        """The layer's tar bytes, in chunks of at most OUT_CHUNK."""
        if self.kind == "none":
            return self._plain()
        gen = self._gunzip() if self.kind == "gzip" else self._zstd()
        if self._threads:
            self._inflated = Prefetch(gen)
            return self._inflated
        return gen

    def _plain(self) -> Iterator[bytes]:
        while True:
            data = self._next_stored()
            if not data:
                return
            yield self._emit(data)

    def _gunzip(self) -> Iterator[bytes]:
        # gzip members may follow one another (eStargz writes one per file)
        new, errors = _gzip_decompressor()
        d = new()
        started = False
        pending = b""
        while True:
            if d.needs_input:
                data = pending or self._next_stored()
                pending = b""
                if not data:
                    if started:
                        raise ImageError("truncated gzip stream", path=self.name)
                    return
                started = True
            else:
                data = b""  # output was capped: inflate more of the buffered input
            try:
                out = d.decompress(data, OUT_CHUNK)
            except errors as exc:
                raise ImageError(f"corrupt gzip data: {exc}", path=self.name) from None
            if out:
                yield self._emit(out)
            if d.eof:
                rest = d.unused_data
                d = new()
                started = False
                if rest:
                    if rest[:2] != GZIP_MAGIC:
                        if rest.strip(b"\0"):
                            raise ImageError("garbage after gzip data", path=self.name)
                        rest = b""
                    pending = rest

    def _zstd(self) -> Iterator[bytes]:
        # A stream reader bounds each read's output (decompressobj does not: a few KB of
        # zstd could inflate to gigabytes in one call). Frames may follow one another.
        import zstandard

        # A frame that declares its inflated size (zstd run on a file does) past the cap is
        # refused before inflating any of it; streamed frames (builders) declare nothing
        try:
            declared = zstandard.frame_content_size(self._head)
        except zstandard.ZstdError:
            declared = -1
        if declared > self.limits.max_layer_bytes:
            raise ImageError(f"zstd frame declares {declared} bytes, past the layer limit of "
                             f"{self.limits.max_layer_bytes} (a decompression bomb? "
                             "--max-layer-bytes raises the limit)", path=self.name)
        reader = zstandard.ZstdDecompressor().stream_reader(
            _Source(self), read_size=CHUNK, read_across_frames=True)
        try:
            while True:
                out = reader.read(OUT_CHUNK)
                if not out:
                    return
                yield self._emit(out)
        except zstandard.ZstdError as exc:
            raise ImageError(f"corrupt zstd data: {exc}", path=self.name) from None

    def finish(self, extra: Iterator[bytes]) -> bool:
        """After the end-of-archive blocks: inflate what follows (its length counts in
        `out`) up to `max_trailing_bytes`, then hash the rest of the stored bytes without
        inflating them, so trailing zeros cannot hold the reader up. Returns whether all
        of it was inflated."""
        budget = self.limits.max_trailing_bytes
        for chunk in extra:
            budget -= len(chunk)
            if budget < 0:
                break
        else:
            return True
        if self._inflated is not None:
            self._inflated.close()  # the inflater must stop before the stored bytes are read
        self._head = b""
        for _ in self._stored:
            pass
        return False

    def close(self) -> None:
        """Stop the threads (the inflater first: it reads from the stored-bytes thread)."""
        if self._inflated is not None:
            self._inflated.close()
        if self._stored_ahead is not None:
            self._stored_ahead.close()

    def __enter__(self) -> LayerStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Source:
    """The stored bytes of a LayerStream as a file, for zstandard's stream reader."""

    def __init__(self, stream: LayerStream) -> None:
        self.stream = stream
        self.buf = b""

    def read(self, n: int = -1) -> bytes:
        buf = self.buf or self.stream._next_stored()
        if n is None or n < 0 or len(buf) <= n:
            self.buf = b""
            return buf
        self.buf = buf[n:]
        return buf[:n]


class Prefetch:
    """Run a chunk generator in a thread, DEPTH chunks ahead of the consumer.

    Reading, hashing and inflating release the GIL, so they overlap the tar walk in the
    calling thread; the queue keeps memory at DEPTH chunks. Exceptions (an ImageError from
    the bomb check, an OSError) reach the consumer in order. `close()` stops the producer
    and waits for it, after which the underlying stream may be read directly again.
    """

    _END = object()

    def __init__(self, chunks: Iterator[bytes], depth: int = 4) -> None:
        import queue
        import threading

        self._q: queue.Queue = queue.Queue(depth)
        self._full = queue.Full
        self._stop = threading.Event()
        self._done = False
        self._t = threading.Thread(target=self._run, args=(chunks,), daemon=True,
                                   name="layerlens-prefetch")
        self._t.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.05)
                return True
            except self._full:
                continue
        return False

    def _run(self, chunks: Iterator[bytes]) -> None:
        try:
            for chunk in chunks:
                if not self._put(chunk):
                    return
            self._put(self._END)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> Prefetch:
        return self

    def __next__(self) -> bytes:
        if self._done:
            raise StopIteration
        item = self._q.get()
        if item is self._END:
            self._done = True
            raise StopIteration
        if isinstance(item, BaseException):
            self._done = True
            raise item
        return item

    def close(self) -> None:
        self._stop.set()
        self._t.join()
        self._done = True


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

    def rest(self) -> Iterator[bytes]:
        """The chunks not yet read (what is left of the current one first)."""
        if self.pos < len(self.buf):
            yield self.buf[self.pos:]
        self.buf, self.pos = b"", 0
        yield from self.it


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


_TERMINATORS = frozenset(b"\0 ")
_NO_DATA_TYPES = frozenset((b"1", b"2", b"3", b"4", b"5", b"6"))
_FILE_TYPES = frozenset((b"0", b"\0", b"7"))


def _num(field: bytes) -> int:
    """A numeric tar header field: octal digits ended by NUL or space (what every writer
    emits; parsed without splitting), else GNU base-256, else octal up to the first NUL."""
    if field[-1] in _TERMINATORS:
        try:
            return int(field[:-1], 8)
        except ValueError:
            pass
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
    adler32 = zlib.adler32
    at = 0  # offset of the next header in the tar stream: the inflated bytes up to it
    cap = limits.max_layer_bytes
    while True:
        hdr = f.take(BLOCK)
        at += BLOCK
        if not hdr:
            if first:
                return  # an empty layer
            raise ImageError("tar stream ends without its end-of-archive blocks", path=name)
        if len(hdr) < BLOCK:
            raise ImageError("truncated tar stream", path=name)
        if hdr == _ZERO_BLOCK:
            return
        # the header checksum: the sum of its bytes, the checksum field counted as eight
        # spaces. Adler-32's low half is 1 + the byte sum mod 65521, exact for 256 bytes
        # (at most 65,280), and computed in C: A + B - C + 255 = sum - field + 8 * 32.
        try:
            ck = _num(hdr[148:156])
        except ValueError:
            ck = -1
        if ck != ((adler32(hdr[:256]) & 0xFFFF) + (adler32(hdr[256:]) & 0xFFFF)
                  - (adler32(hdr[148:156]) & 0xFFFF) + 255):
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
            at += size + (-size) % BLOCK
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
        if hdr[345] and hdr[257:262] == b"ustar":
            prefix = _str(hdr[345:500])
            if prefix:
                nm = prefix + "/" + nm
        merged = {**gpax, **pax} if gpax or pax else _NO_PAX
        if long_name is not None:
            nm = long_name
        if "path" in merged:
            nm = merged["path"]
        link = long_link if long_link is not None else (_str(hdr[157:257]) if hdr[157] else "")
        if "linkpath" in merged:
            link = merged["linkpath"]
        if "size" in merged:
            try:
                size = int(merged["size"])
            except ValueError:
                raise ImageError("corrupt pax size", path=name) from None
        # links, devices and directories carry no data (a hard link may: pax allows it)
        data_size = 0 if typ in _NO_DATA_TYPES and typ != b"1" else size
        # The stream must hold this entry's data before the next header: when that would
        # take it past the cap, the layer would be refused once inflated that far, so it is
        # refused here, before inflating the data (an honest-header bomb of many entries)
        end = at + data_size + (-data_size) % BLOCK
        if end > cap:
            if data_size > cap:
                raise ImageError(f"entry {nm!r} declares {data_size} bytes, past the layer "
                                 f"limit of {cap} (a decompression bomb? --max-layer-bytes "
                                 "raises the limit)", path=name)
            raise ImageError(f"entries up to {nm!r} declare {end} bytes, past the layer "
                             f"limit of {cap}; refused at its header (a decompression bomb? "
                             "--max-layer-bytes raises the limit)", path=name)
        at = end
        entry = TarEntry(nm, typ, size if typ in _FILE_TYPES else 0,
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
        if pax:
            pax = {}
        count += 1
        if count > limits.max_entries:
            raise ImageError(f"more than {limits.max_entries} entries in one layer", path=name)
        if want_content is not None and data_size and want_content(entry):
            entry.content = f.take(data_size)
            if hash_content:
                entry.digest = hashlib.sha256(entry.content).hexdigest()
            f.skip((-data_size) % BLOCK)
        elif hash_content and typ in _FILE_TYPES:
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


class _Inflater(Protocol):
    """What the gzip loop needs of a decompressor: ISA-L's `IgzipDecompressor` interface."""

    needs_input: bool
    eof: bool
    unused_data: bytes

    def decompress(self, data: bytes, max_length: int) -> bytes: ...


class _ZlibGzip:
    """zlib's gzip decompressor behind ISA-L's `IgzipDecompressor` interface (`needs_input`,
    `decompress(data, max_length)`, `eof`, `unused_data`), so one inflate loop serves both:
    zlib keeps input it could not inflate within `max_length` in `unconsumed_tail` and wants
    it passed back, where ISA-L buffers it itself."""

    __slots__ = ("_d",)

    def __init__(self) -> None:
        self._d = zlib.decompressobj(31)  # 16 + 15: a gzip header and trailer

    @property
    def needs_input(self) -> bool:
        return not self._d.unconsumed_tail

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def unused_data(self) -> bytes:
        return self._d.unused_data

    def decompress(self, data: bytes, max_length: int) -> bytes:
        return self._d.decompress(self._d.unconsumed_tail + data, max_length)


def _gzip_decompressor() -> tuple[Callable[[], _Inflater], tuple[type[Exception], ...]]:
    """A factory of gzip decompressors and the errors they raise on corrupt data.

    ISA-L's decompressor fills one buffer of the asked size per call, releasing the GIL once
    (zlib's decompressobj grows its buffer from 16 KiB, releasing and retaking the GIL at
    each step, while the tar walk in the other thread holds it). zlib stays usable where
    no isal wheel installs."""
    try:
        from isal import igzip_lib
    except ImportError:  # pragma: no cover - isal is a dependency; tested by monkeypatching
        return _ZlibGzip, (zlib.error,)
    return (lambda: igzip_lib.IgzipDecompressor(igzip_lib.DECOMP_GZIP),
            (igzip_lib.IsalError, ValueError))
