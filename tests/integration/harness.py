"""Real components for integration tests: git repositories and buildah builds."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

BUSYBOX = Path("/bin/busybox")
PRELUDE = 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox","--install","-s","/bin"]\n'


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    full = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com", **(env or {})}
    return subprocess.run(["git", "-C", str(repo), *args], env=full, check=True,
                          capture_output=True, text=True).stdout


class Repo:
    """A real git repository a test writes files into and commits."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        git(root, "init", "-q", "-b", "main")
        self._clock = 1_700_000_000

    def write(self, rel: str, text: str | bytes, mode: int | None = None) -> None:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text)
        if mode is not None:
            p.chmod(mode)

    def busybox(self, rel: str = "busybox") -> None:
        shutil.copy(BUSYBOX, self.root / rel)

    def commit(self, message: str = "change", allow_empty: bool = False) -> str:
        self._clock += 3600
        stamp = f"@{self._clock} +0000"
        git(self.root, "add", "-A")
        args = ["commit", "-q", "-m", message]
        if allow_empty:
            args.append("--allow-empty")
        git(self.root, *args, env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp})
        return git(self.root, "rev-parse", "HEAD").strip()


@dataclass(frozen=True)
class Step:
    stage: int
    number: int
    text: str
    cached: bool

    @property
    def keyword(self) -> str:
        return self.text.split(None, 1)[0].lower()


_STEP = re.compile(r"^(?:\[(\d+)/\d+\] )?STEP (\d+)/\d+: (.*)$")


class Buildah:
    """buildah with its own storage, so one test's cache never leaks into another's."""

    def __init__(self, state: Path) -> None:
        self.root = state / "root"
        self.runroot = state / "runroot"

    def base(self) -> list[str]:
        return ["buildah", "--root", str(self.root), "--runroot", str(self.runroot),
                "--storage-driver", "vfs"]

    def bud(self, context: Path, tag: str, dockerfile: Path | None = None,
            build_args: dict[str, str] | None = None) -> list[Step]:
        cmd = [*self.base(), "bud", "--layers", "--isolation", "chroot", "-t", tag]
        if dockerfile is not None:
            cmd += ["-f", str(dockerfile)]
        for k, v in (build_args or {}).items():
            cmd += ["--build-arg", f"{k}={v}"]
        cmd.append(str(context))
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if res.returncode != 0:
            raise RuntimeError(f"buildah bud failed:\n{res.stdout}\n{res.stderr}")
        return parse_steps(res.stdout)

    def push(self, tag: str, dest: str) -> None:
        res = subprocess.run([*self.base(), "push", tag, dest], capture_output=True, text=True,
                             timeout=600)
        if res.returncode != 0:
            raise RuntimeError(f"buildah push failed:\n{res.stderr}")


def parse_steps(output: str) -> list[Step]:
    steps: list[Step] = []
    lines = output.splitlines()
    for i, line in enumerate(lines):
        m = _STEP.match(line)
        if not m:
            continue
        stage = int(m.group(1)) - 1 if m.group(1) else 0
        cached = False
        for nxt in lines[i + 1:]:
            if _STEP.match(nxt):
                break
            if nxt.startswith("--> Using cache"):
                cached = True
                break
        steps.append(Step(stage, int(m.group(2)), m.group(3), cached))
    return steps


LAYER_STEPS = ("run", "copy", "add", "workdir")


def first_misses(steps: list[Step], stage_lines: dict[int, list[int]]) -> dict[int, int]:
    """Per stage, the Dockerfile line of the first layer-producing step that missed."""
    out: dict[int, int] = {}
    for st in steps:
        if st.keyword == "from" or st.keyword not in LAYER_STEPS:
            continue
        if st.cached or st.stage in out:
            continue
        out[st.stage] = stage_lines[st.stage][st.number - 1]
    return out
