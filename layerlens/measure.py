"""`layerlens measure`: build the Dockerfile once, without the cache, and record each
step's seconds for later runs (cache/measured.py).

The builder is found as `suggest --verify` finds it (layerlens/suggest/proof.py: buildah,
podman, `docker buildx`) and runs with an argument list, never a shell. Step seconds:

* buildah and podman print `[S/N] STEP K/M: INSTRUCTION` when a step starts and
  `--> ID` when its layer is committed (imagebuildah's executor); a step's seconds run from
  its STEP line to the next `-->` (or to the next STEP when none came), timed as the lines
  arrive. That is the builder's wall time for the step, layer commit included. S is the
  stage's position in the file (skipped stages keep their numbers) and K counts every
  instruction of the stage from its FROM, so (S, K) names the instruction.
* `docker buildx build --progress=rawjson` reports each vertex's start and completion;
  layerlens/cache/buildlog.py reads them as it reads a `--build-log`.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from layerlens.cache.buildlog import StepTime
from layerlens.cache.measured import Measurement, chain_keys, now_utc, record
from layerlens.errors import LayerlensError

_STEP = re.compile(r"^(?:\[(\d+)/\d+\] )?STEP (\d+)/\d+: (.*)$")
_COMMITTED = re.compile(r"^--> (?!Using cache)\S+")
_CACHED = re.compile(r"^--> Using cache ")
BUILD_TIMEOUT = 3600  # seconds: a real project may take long, never forever


@dataclass(frozen=True, slots=True)
class MeasuredStep:
    instruction: int  # index into the Dockerfile's instructions
    line: int
    text: str
    seconds: float


@dataclass(frozen=True, slots=True)
class MeasureResult:
    builder: str
    steps: tuple[MeasuredStep, ...]  # layer steps that ran, in build order
    unmatched: int  # layer steps of the plan the build did not time (cached, not printed)
    store: Path  # where the times were recorded
    wall_seconds: float  # the whole build


def parse_buildah(lines: Iterable[tuple[float, str]]) -> list[StepTime]:
    """(monotonic time, line) pairs of buildah/podman output -> one `StepTime` per STEP,
    its stage as `stage-N` (N: 0-based position in the file) and its text as printed."""
    out: list[StepTime] = []
    cur: tuple[str, int, str, float] | None = None

    def close(end: float | None, cached: bool = False) -> None:
        nonlocal cur
        if cur is not None:
            stage, step, text, start = cur
            secs = None if cached or end is None else max(0.0, end - start)
            out.append(StepTime(stage, step, text, secs, cached))
            cur = None

    for t, raw in lines:
        line = raw.rstrip("\n")
        m = _STEP.match(line)
        if m:
            close(t)
            stage = f"stage-{int(m.group(1)) - 1 if m.group(1) else 0}"
            cur = (stage, int(m.group(2)), m.group(3), t)
        elif _CACHED.match(line):
            close(None, cached=True)
        elif _COMMITTED.match(line):
            close(t)
    close(None)  # an unfinished step (the build failed in it) says nothing
    return out


def match_buildah(steps: Iterable[StepTime], df) -> dict[int, float]:
    """Seconds per instruction index: STEP K of stage-N is the Kth instruction of stage N
    (FROM is the first), checked by its keyword."""
    out: dict[int, float] = {}
    for st in steps:
        if st.seconds is None:
            continue
        n = int(st.stage.rsplit("-", 1)[1])
        if n >= len(df.stages) or not 1 <= st.step <= len(df.stages[n].instructions):
            continue
        idx = df.stages[n].instructions[st.step - 1]
        word = st.text.split(None, 1)[0].lower() if st.text.split() else ""
        if word != df.instructions[idx].keyword:
            continue
        out[idx] = out.get(idx, 0.0) + st.seconds
    return out


def _timed(stream, tail: deque) -> Iterator[tuple[float, str]]:
    for line in stream:
        tail.append(line.rstrip("\n")[:400])
        yield time.monotonic(), line


def _storage_args(builder) -> list[str]:
    if builder.name in ("buildah", "podman") and builder.storage is not None:
        s = builder.storage
        return ["--root", str(s / "root"), "--runroot", str(s / "runroot"),
                "--storage-driver", "vfs"]
    return []


def _arguments(builder, analysis, tag: str) -> list[str]:
    """The builder's arguments (after its executable) for one no-cache build."""
    o = analysis.options
    args = [f"--build-arg={k}={v}" for k, v in sorted(o.build_args.items())]
    if o.target:
        args.append(f"--target={o.target}")
    args.append(f"--platform={o.platform}")
    df, ctx = str(o.dockerfile), str(analysis.context.root)
    if builder.name == "buildah":
        return [*_storage_args(builder), "bud", "--no-cache", "--layers", "--isolation",
                "chroot", "-t", tag, "-f", df, *args, ctx]
    if builder.name == "podman":
        return [*_storage_args(builder), "build", "--no-cache", "--layers", "-t", tag,
                "-f", df, *args, ctx]
    return ["buildx", "build", "--no-cache", "--progress=rawjson", "-f", df, *args,
            "--output", "type=cacheonly", ctx]


def measure(analysis, builder=None, progress: Callable[[str], None] | None = None
            ) -> MeasureResult:
    """Build `analysis`'s Dockerfile once (its context, build args, target, platform) with
    no cache, and record the seconds of every layer step under the step's chain key.

    Raises `LayerlensError` when no builder is found, the build fails (its last lines),
    or no step could be timed."""
    from layerlens.cache.buildlog import match_steps, parse_rawjson
    from layerlens.cache.ops import build_plan, detect_volatile
    from layerlens.suggest.proof import BUILDERS, find_builder, storage_from_env

    say = progress or (lambda _m: None)
    b = builder or find_builder(storage_from_env())
    if b is None:
        raise LayerlensError("no builder found (buildah, podman or docker buildx): "
                             "`layerlens measure` builds the Dockerfile to time its steps")
    df = analysis.dockerfile
    plan = build_plan(df, volatile_args=detect_volatile(df), target=analysis.target_index)
    tag = f"localhost/layerlens-measure-{uuid.uuid4().hex[:12]}"
    exe = BUILDERS[b.name]  # one of a fixed set of executables, never a shell
    args = _arguments(b, analysis, tag)
    say(f"building with {b.name} (no cache)")
    tail: deque[str] = deque(maxlen=12)
    start = time.monotonic()
    try:
        proc = subprocess.Popen([exe, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, text=True, errors="replace",
                                bufsize=1)
    except OSError as exc:
        raise LayerlensError(f"cannot run {b.name}: {exc.strerror or exc}") from None
    timer = threading.Timer(BUILD_TIMEOUT, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None
        if b.name == "docker buildx":
            steps = parse_rawjson(line for _t, line in _timed(proc.stdout, tail))
        else:
            steps = parse_buildah(_timed(proc.stdout, tail))
        code = proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    wall = time.monotonic() - start
    if b.name in ("buildah", "podman"):
        # the tag only: the layers stay as the builder's cache, as after any build; a tag
        # left behind is no reason to lose the measurement
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run([exe, *_storage_args(b), "rmi", "-f", tag], capture_output=True,
                           timeout=300)
    if code != 0:
        last = " | ".join(x for x in list(tail)[-3:] if x.strip())
        raise LayerlensError(f"{b.name} build failed (exit {code}): {last}",
                             path=str(analysis.options.dockerfile))
    ops = {op.instruction: op for sp in plan.stages for op in sp.ops}
    if b.name == "docker buildx":
        by_ident = match_steps(steps, plan)
        seconds = {op.instruction: by_ident[op.identity] for op in ops.values()
                   if op.identity in by_ident}
    else:
        seconds = {i: s for i, s in match_buildah(steps, df).items() if i in ops}
    if not seconds:
        raise LayerlensError(f"{b.name} built the image but no step could be timed",
                             path=str(analysis.options.dockerfile))
    keys = chain_keys(plan, analysis.context)
    when = now_utc()
    measured: list[MeasuredStep] = []
    keyed: dict[str, Measurement] = {}
    for idx, secs in sorted(seconds.items(), key=lambda kv: ops[kv[0]].line):
        op = ops[idx]
        text = " ".join(df.instructions[idx].original.split())
        measured.append(MeasuredStep(idx, op.line, text, secs))
        keyed[keys[op.identity]] = Measurement(secs, text, op.line, b.name, when)
    path = record(analysis.options.dockerfile, keyed)
    return MeasureResult(b.name, tuple(measured), len(ops) - len(measured), path, wall)
