"""Reading Dockerfiles as BuildKit does: `load` a file or `parse` text into a Dockerfile."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from layerlens.dockerfile.model import Dockerfile, Flag, Heredoc, Instruction, Mount, Stage
from layerlens.errors import DockerfileError
from layerlens.fsutil import special_kind

__all__ = [
    "Dockerfile", "DockerfileError", "Flag", "Heredoc", "Instruction", "Mount", "Stage",
    "decode", "load", "parse",
]

MAX_DOCKERFILE_BYTES = 64 * 1024 * 1024


def decode(data: bytes) -> str:
    # Go strings carry any bytes; surrogateescape keeps undecodable ones round-trippable.
    return data.decode("utf-8", "surrogateescape")


def parse(
    text: str,
    path: str = "Dockerfile",
    *,
    build_args: Mapping[str, str] | None = None,
    platform: str = "linux/amd64",
) -> Dockerfile:
    from layerlens.dockerfile.stages import build_dockerfile
    from layerlens.dockerfile.syntax import parse_source

    parsed = parse_source(text, path)
    return build_dockerfile(parsed, path=path, source=text, build_args=build_args,
                            platform=platform)


def load(
    path: str | Path,
    *,
    build_args: Mapping[str, str] | None = None,
    platform: str = "linux/amd64",
) -> Dockerfile:
    p = Path(path)
    name = str(path)
    try:
        if p.is_dir():
            raise DockerfileError("is a directory, not a Dockerfile", path=name)
        st = p.stat()
        kind = special_kind(st.st_mode)
        if kind is not None:
            # a FIFO would block the read forever, /dev/zero would fill memory
            raise DockerfileError(f"is a {kind}, not a regular file", path=name)
        size = st.st_size
        if size > MAX_DOCKERFILE_BYTES:
            raise DockerfileError(
                f"file is {size} bytes; refusing Dockerfiles over {MAX_DOCKERFILE_BYTES}",
                path=name,
            )
        data = p.read_bytes()
    except FileNotFoundError:
        raise DockerfileError("no such file", path=name) from None
    except PermissionError:
        raise DockerfileError("permission denied", path=name) from None
    except OSError as exc:
        raise DockerfileError(f"cannot read: {exc.strerror or exc}", path=name) from None
    return parse(decode(data), name, build_args=build_args, platform=platform)
