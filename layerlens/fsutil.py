"""Atomic writes: a temporary file beside the target, fsync, then rename over it.

A crash or error leaves the original untouched; the target's permission bits are kept;
parallel writers each rename a complete file, so a reader never sees a torn one.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from layerlens.errors import LayerlensError


def special_kind(mode: int) -> str | None:
    """What a file of `mode` (`os.stat`'s st_mode) is when it is neither a regular file nor
    a directory: "FIFO", "device", "socket" or "special file"; None for those two. Reading a
    FIFO blocks until a writer comes, and a device such as /dev/zero never ends."""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (see the module doc). A path that is not a regular
    file (a device such as /dev/null or /dev/stdout, a FIFO, a socket) is written through,
    as a shell redirection does: renaming over it would replace the device node with a file
    (as root, `-o /dev/null` would have broken /dev/null for the whole machine). Raises
    LayerlensError with the system's reason (a full disk included)."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        st = path.stat()
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    except OSError as exc:
        raise LayerlensError(f"cannot write: {exc.strerror or exc}", path=str(path)) from None
    else:
        if special_kind(st.st_mode) is not None:
            try:
                with open(path, "wb") as fh:
                    fh.write(data)
            except OSError as exc:
                raise LayerlensError(f"cannot write: {exc.strerror or exc}",
                                     path=str(path)) from None
            return
        mode = stat.S_IMODE(st.st_mode)
    target = path.resolve() if path.is_symlink() else path
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                        dir=target.parent if path.is_symlink() else directory)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)
        tmp_name = None
    except OSError as exc:
        raise LayerlensError(f"cannot write: {exc.strerror or exc}", path=str(path)) from None
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8", "surrogateescape"))


def write_sources(files: list[tuple[Path, str]]) -> None:
    """Write rewritten project files (a Dockerfile, an ignore file), each atomically, after
    checking them all: a symlink among them is refused and nothing is written.

    `.dockerignore` linked to `.gitignore` is a real project's layout: writing through the
    link would change what git ignores too, which no fix may do; the same for a Dockerfile
    linked from a shared one. Raises LayerlensError naming the link and its target."""
    for path, _text in files:
        if Path(path).is_symlink():
            raise LayerlensError(
                f"is a symbolic link to {os.readlink(path)}: writing would change that file "
                "too, so nothing was written (apply the change by hand, e.g. from --diff, "
                "or replace the link with a file)", path=str(path))
    for path, text in files:
        atomic_write_text(Path(path), text)
