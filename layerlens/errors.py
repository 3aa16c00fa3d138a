"""The one exception type users see: it always names the input, and the line when known."""

from __future__ import annotations


class LayerlensError(Exception):
    """Bad input or a failed operation. The CLI prints `str(err)` and exits with 2."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = self.path or ""
        if where and self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}" if where else self.message


class DockerfileError(LayerlensError):
    """The builder would reject this Dockerfile."""


class ExpansionError(LayerlensError):
    """A `${...}` form the builder rejects."""


class IgnoreFileError(LayerlensError):
    """A `.dockerignore` pattern the builder rejects."""
