"""Platform names as `docker build --platform` takes them: `os/arch[/variant]`, lower case
(containerd's platforms format). Kept apart from the image readers so that the command line
can check `--platform` without importing them (argparse checks the default too, on every
run)."""

from __future__ import annotations

import re

_PART = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def normalize_platform(value: str) -> str:
    """VALUE as "os/arch[/variant]", lower-cased and stripped; ValueError for anything else
    (empty, one part, four parts, characters outside [a-z0-9._-])."""
    parts = value.strip().lower().split("/")
    if not 2 <= len(parts) <= 3 or not all(_PART.match(x) for x in parts):
        raise ValueError(value)
    return "/".join(parts)
