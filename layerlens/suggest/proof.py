"""Proof by a real build: build the original and the rewrite, compare the final images.

`suggest --write --verify` calls `verify_rewrite`. It builds both with the same build args,
target and platform, with a builder found on the machine (buildah, then podman, then
`docker buildx`), exports each image as an archive, and compares

* the final root filesystems: every path with its type, mode, owner, link target and
  content hash (layerlens.image.reader, `final_tree`);
* the image configs: Env, Cmd, Entrypoint, Labels, ExposedPorts, User, WorkingDir, Volumes,
  StopSignal, Healthcheck, Shell, OnBuild.

The rewrite is identical when nothing differs apart from the files that an unsafe
.dockerignore fix intends to drop, which are listed as `intended`. The Dockerfile in the
context is left as it is for both builds (the rewrite is passed with -f from a temporary
directory, the .dockerignore with --ignorefile), so nothing is written before the proof.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

CONFIG_KEYS = ("Env", "Cmd", "Entrypoint", "Labels", "ExposedPorts", "User", "WorkingDir",
               "Volumes", "StopSignal", "Healthcheck", "Shell", "OnBuild")
BUILD_TIMEOUT = 3600  # seconds per build: a real project may take long, never forever
BUILDERS = {"buildah": "buildah", "podman": "podman", "docker buildx": "docker"}


@dataclass(frozen=True, slots=True)
class Verification:
    builder: str | None
    identical: bool
    differences: tuple[str, ...]  # image paths (or "config: Key") that differ, unintended
    intended: tuple[str, ...]  # image paths an unsafe .dockerignore fix drops on purpose
    error: str | None = None  # why it could not be proven (no builder, a build failed)

    def as_json(self) -> dict:
        return {"builder": self.builder, "identical": self.identical,
                "differences": list(self.differences), "intended": list(self.intended),
                "error": self.error}


@dataclass(frozen=True, slots=True)
class Builder:
    """How to build and export with one builder. `storage` (buildah/podman --root and
    --runroot) isolates tests from the machine's image store."""

    name: str
    storage: Path | None = None
    extra: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.name not in BUILDERS:
            raise ValueError(f"unknown builder {self.name!r}")

    def _storage(self) -> list[str]:
        if self.name in ("buildah", "podman") and self.storage is not None:
            return ["--root", str(self.storage / "root"), "--runroot",
                    str(self.storage / "runroot"), "--storage-driver", "vfs"]
        return []

    def build(self, context: Path, dockerfile: Path, ignorefile: Path | None,
              build_args: dict[str, str], target: str | None, platform: str,
              out: Path) -> str | None:
        """Build and export to a docker-archive at `out`; the error text, or None."""
        exe = BUILDERS[self.name]  # one of a fixed set of executables, never a shell
        tag = f"localhost/layerlens-verify-{uuid.uuid4().hex[:12]}"
        args = [f"--build-arg={k}={v}" for k, v in sorted(build_args.items())]
        if target:
            args.append(f"--target={target}")
        args.append(f"--platform={platform}")
        if self.name in ("buildah", "podman"):
            sub = "bud" if self.name == "buildah" else "build"
            opts = ["--isolation", "chroot"] if self.name == "buildah" else []
            if ignorefile is not None:
                opts += ["--ignorefile", str(ignorefile)]
            steps = [[exe, *self._storage(), sub, "--layers", "-t", tag, "-f", str(dockerfile),
                      *args, *opts, *self.extra, str(context)],
                     [exe, *self._storage(), "push", tag, f"docker-archive:{out}:{tag}"],
                     [exe, *self._storage(), "rmi", "-f", tag]]
        else:
            if ignorefile is not None:  # BuildKit reads <Dockerfile>.dockerignore beside it
                shutil.copy(ignorefile, str(dockerfile) + ".dockerignore")
            steps = [[exe, "buildx", "build", "-f", str(dockerfile), *args, "--output",
                      f"type=docker,dest={out},name={tag}", *self.extra, str(context)]]
        for n, step in enumerate(steps):
            cmd = [exe, *step[1:]]  # every step runs the builder's own executable
            try:
                res = subprocess.run(cmd, capture_output=True, text=True,
                                     timeout=BUILD_TIMEOUT, errors="replace")
            except (OSError, subprocess.TimeoutExpired) as exc:
                return f"{self.name}: {exc}"
            if res.returncode != 0 and n < 2:
                tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
                return f"{' '.join(cmd[:2])} failed: " + " | ".join(tail)
        return None


def find_builder(storage: Path | None = None) -> Builder | None:
    """buildah (rootful, chroot isolation), podman, or docker with buildx, in that order."""
    for name in ("buildah", "podman"):
        if shutil.which(name):
            return Builder(name, storage)
    if shutil.which("docker"):
        ok = subprocess.run(["docker", "buildx", "version"], capture_output=True)
        if ok.returncode == 0:
            return Builder("docker buildx")
    return None


def _read(out: Path) -> tuple[dict[str, tuple], dict]:
    from layerlens.image.reader import read_image

    img = read_image(str(out), hash_files=True)
    with tarfile.open(out) as t:
        manifest = json.load(t.extractfile("manifest.json"))  # type: ignore[arg-type]
        cfg = json.load(t.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
    c = cfg.get("config") or {}
    return {e[0]: e for e in img.final_tree}, {k: c.get(k) for k in CONFIG_KEYS}


def verify_rewrite(context: Path, dockerfile: Path, old_text: str, new_text: str | None,
                   old_ignore: str | None, new_ignore: str | None,
                   dropped: Sequence[str] = (), *, build_args: dict[str, str] | None = None,
                   target: str | None = None, platform: str = "linux/amd64",
                   builder: Builder | None = None) -> Verification:
    """Build `old_text` and `new_text` (None: unchanged) over `context`, with the old and the
    new .dockerignore text (None: none), and compare the final images.

    `dropped`: context-relative files the new .dockerignore leaves out on purpose; an image
    path missing from the rewrite counts as intended when it is such a file, or a directory
    left empty by them."""
    b = builder or find_builder()
    if b is None:
        return Verification(None, False, (), (), "no builder found (buildah, podman or "
                            "docker buildx)")
    tmp = Path(tempfile.mkdtemp(prefix="layerlens-verify-"))
    try:
        images = []
        for n, (text, ignore) in enumerate(((old_text, old_ignore),
                                            (new_text if new_text is not None else old_text,
                                             new_ignore if new_ignore is not None
                                             else old_ignore))):
            d = tmp / str(n)
            d.mkdir()
            df = d / dockerfile.name
            df.write_text(text, "utf-8", errors="surrogateescape")
            ign = None
            if ignore is not None:
                ign = d / "dockerignore"
                ign.write_text(ignore, "utf-8", errors="surrogateescape")
            elif b.name != "docker buildx":
                ign = d / "dockerignore"  # none at all: an empty one, never the context's
                ign.write_text("")
            out = d / "image.tar"
            err = b.build(context, df, ign, dict(build_args or {}), target, platform, out)
            if err:
                which = "original" if n == 0 else "rewrite"
                return Verification(b.name, False, (), (), f"the {which} did not build: {err}")
            images.append(_read(out))
        (before, cfg_before), (after, cfg_after) = images
        return _compare(b.name, before, after, cfg_before, cfg_after, dropped)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _compare(builder: str, before: dict[str, tuple], after: dict[str, tuple],
             cfg_before: dict, cfg_after: dict, dropped: Sequence[str]) -> Verification:
    diffs: list[str] = [f"config: {k}" for k in CONFIG_KEYS if cfg_before[k] != cfg_after[k]]
    intended: list[str] = []
    drop = [d.strip("/") for d in dropped]

    def is_dropped(path: str) -> bool:
        p = path.strip("/")
        return any(p == d or p.endswith("/" + d) for d in drop)

    gone = [p for p in before if p not in after]
    gone_files = {p for p in gone if is_dropped(p)}  # files and directories left out
    for p in sorted(set(before) | set(after)):
        if before.get(p) == after.get(p):
            continue
        if p in before and p not in after and (p in gone_files or (
                before[p][1] == "dir" and any(g.startswith(p.rstrip("/") + "/")
                                              for g in gone_files))):
            intended.append(p)
            continue
        diffs.append(p)
    return Verification(builder, not diffs, tuple(diffs), tuple(intended))


def storage_from_env() -> Path | None:
    """LAYERLENS_VERIFY_STORAGE: a private buildah/podman store (tests, CI)."""
    v = os.environ.get("LAYERLENS_VERIFY_STORAGE")
    return Path(v) if v else None
