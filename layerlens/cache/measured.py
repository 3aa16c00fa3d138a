"""Step seconds a real build measured (`layerlens measure`), kept for later runs.

One JSON file per Dockerfile under `$XDG_CACHE_HOME/layerlens/measured/`, written
atomically (layerlens/fsutil.py). Each recorded step is keyed by a chain key in the spirit
of BuildKit's cache key, so a time is reused only for the same work:

    key(op) = sha256(key of the op before it, or of the stage's base: the base image name
                     and platform, or the base stage's last key;
                     the op's definition (cache/ops.py: command or sources and
                     destination, ENV and build args in scope, WORKDIR, USER, mounts);
                     for each context file it reads: path, size, mode, mtime, link target;
                     the last key of each stage it copies or mounts from)

A changed instruction, a changed file it reads, or any change above it in its stage
(its inputs are the layers before it) gives a new key, and the old time is not used:
the step is estimated again until it is measured again. A touched but unchanged file
counts as changed (the key reads the mtime, not the content, so that a later analysis
costs one `lstat` per file read). A moving base image tag is not seen: the key holds the
image name as written. Build args that change on every build (cache/ops.py
`VOLATILE_ARG_NAMES`) are left out of the key, as the replay leaves them out.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from layerlens.cache.ops import BuildPlan
from layerlens.context.tree import Context

SCHEMA = 1
MAX_ENTRIES = 2000  # per Dockerfile; the oldest measurements go first


@dataclass(frozen=True, slots=True)
class Measurement:
    seconds: float
    instruction: str  # the instruction text, for people reading the file
    line: int
    builder: str
    measured_at: str  # UTC, ISO 8601

    @property
    def basis(self) -> str:
        return f"measured by `layerlens measure` ({self.builder}, {self.measured_at})"


def store_path(dockerfile: Path) -> Path:
    """Where the measurements of `dockerfile` are kept (keyed by its absolute path)."""
    from layerlens.cachedir import cache_root

    name = hashlib.sha256(str(Path(dockerfile).resolve()).encode("utf-8",
                                                                   "surrogateescape"))
    return cache_root() / "measured" / f"{name.hexdigest()[:32]}.json"


def _file_parts(ctx: Context, path: str) -> bytes:
    full = os.path.join(ctx.root, path)
    try:
        st = os.lstat(full)
        link = os.readlink(full) if stat.S_ISLNK(st.st_mode) else ""
    except OSError:
        return f"{path}\0missing\n".encode("utf-8", "surrogateescape")
    return f"{path}\0{st.st_size}\0{st.st_mode:o}\0{st.st_mtime_ns}\0{link}\n".encode(
        "utf-8", "surrogateescape")


def chain_keys(plan: BuildPlan, ctx: Context) -> dict[str, str]:
    """The chain key (hex sha256, see the module docstring) of every operation of `plan`,
    by operation identity. `ctx` is the context the builder is sent (after the ignore
    file); each file an operation reads is stat'ed once."""
    stat_of: dict[str, bytes] = {}
    readers = [op for sp in plan.stages for op in sp.ops if op.reads_context]
    read_by: dict[str, list[str]] = {op.identity: [] for op in readers}
    for f in ctx.files:
        for op in readers:
            if op.reads(f.path):
                read_by[op.identity].append(f.path)
    final: dict[int, str] = {}
    out: dict[str, str] = {}
    for sp in plan.stages:
        if sp.base_stage is not None:
            key = final.get(sp.base_stage, f"stage?{sp.base_stage}")
        else:
            key = hashlib.sha256(json.dumps(["image", sp.base_image, sp.platform])
                                 .encode()).hexdigest()
        for op in sp.ops:
            h = hashlib.sha256(key.encode())
            h.update(b"\0def\0" + op.definition.encode("utf-8", "surrogateescape"))
            for path in read_by.get(op.identity, ()):
                got = stat_of.get(path)
                if got is None:
                    got = stat_of[path] = _file_parts(ctx, path)
                h.update(got)
            for ref in (*op.stage_refs, *(() if op.content_stage is None
                                          else (op.content_stage,))):
                h.update(b"\0stage\0" + final.get(ref, f"stage?{ref}").encode())
            key = h.hexdigest()
            out[op.identity] = key
        final[sp.index] = key
    return out


def _read(path: Path) -> dict[str, dict]:
    """The recorded steps of one file; a missing, torn or foreign file reads as none."""
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA \
            or not isinstance(doc.get("steps"), dict):
        return {}
    return {k: v for k, v in doc["steps"].items()
            if isinstance(v, dict) and isinstance(v.get("seconds"), (int, float))
            and v["seconds"] >= 0}


def lookup(dockerfile: Path, plan: BuildPlan, ctx: Context) -> dict[str, Measurement]:
    """Measurements that hold for today's `plan` and context, by operation identity.
    Nothing is computed when `dockerfile` was never measured."""
    path = store_path(dockerfile)
    if not path.is_file():
        return {}
    steps = _read(path)
    if not steps:
        return {}
    out: dict[str, Measurement] = {}
    for ident, key in chain_keys(plan, ctx).items():
        v = steps.get(key)
        if v is not None:
            out[ident] = Measurement(float(v["seconds"]), str(v.get("instruction", "")),
                                     int(v.get("line", 0)), str(v.get("builder", "?")),
                                     str(v.get("measured_at", "?")))
    return out


def record(dockerfile: Path, keyed: Mapping[str, Measurement]) -> Path:
    """Add measurements (by chain key) to `dockerfile`'s file, atomically; returns its path.
    Raises `LayerlensError` when the cache directory cannot be written."""
    from layerlens.errors import LayerlensError
    from layerlens.fsutil import atomic_write_bytes

    path = store_path(dockerfile)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LayerlensError(f"cannot create the cache directory: {exc.strerror or exc}",
                             path=str(path.parent)) from None
    steps = _read(path)
    for key, m in keyed.items():
        steps[key] = {"seconds": round(m.seconds, 3), "instruction": m.instruction,
                      "line": m.line, "builder": m.builder, "measured_at": m.measured_at}
    if len(steps) > MAX_ENTRIES:
        keep = sorted(steps.items(), key=lambda kv: str(kv[1].get("measured_at", "")),
                      reverse=True)[:MAX_ENTRIES]
        steps = dict(keep)
    doc = {"schema": SCHEMA, "dockerfile": str(Path(dockerfile).resolve()), "steps": steps}
    atomic_write_bytes(path, json.dumps(doc, indent=1, sort_keys=True,
                                        ensure_ascii=True).encode("ascii"))
    return path


def now_utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
