"""How the repository itself builds a Dockerfile: a compose file or a bake file that names it.

`docker compose build` and `docker buildx bake` read the build context, build args and target
from these files; when one of them builds the Dockerfile being analysed, its settings are
the ones CI uses, so layerlens takes them (the command line still wins, key by key).

Sources of the rules:
* Compose specification, "build" section: `build` is a context path or a mapping with
  `context` (default `.`), `dockerfile` (relative to the context), `args` (mapping or list of
  `NAME=VALUE`) and `target`; relative paths are relative to the compose file's directory.
* Bake file reference: `target "name" { context, dockerfile, args, target }` in HCL, or the
  same under `"target"` in JSON; `context` defaults to `.`, `dockerfile` to `Dockerfile`
  relative to the context.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
BAKE_FILES = ("docker-bake.hcl", "docker-bake.json")
_MAX_BYTES = 4 << 20
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}"
                  r"|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True, slots=True)
class BuildConfig:
    source: str  # the compose or bake file
    name: str  # "service web" or "bake target app"
    context: Path | None
    args: dict[str, str] = field(default_factory=dict)
    target: str | None = None


def _interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Compose interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
    `${VAR:?err}`, `${VAR?err}`, `${VAR:+alt}`, `${VAR+alt}` and `$$`, from the
    environment over the compose file's `.env` (`env`)."""
    scope = {**(env or {}), **os.environ}

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2) or "", m.group(3) or ""
        got = scope.get(name)
        unset = got is None or (op.startswith(":") and got == "")
        if op.endswith("-"):
            return arg if unset else got
        if op.endswith("+"):
            return "" if unset else arg
        return "" if got is None else got  # `?` forms: compose would stop; use it if set

    return _VAR.sub(sub, value)


def _dotenv(directory: Path) -> dict[str, str]:
    """`KEY=VALUE` lines of the compose project's `.env` (quotes stripped)."""
    out: dict[str, str] = {}
    try:
        text = (directory / ".env").read_text("utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        k, _, v = line.removeprefix("export ").partition("=")
        v = v.strip()
        if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
            v = v[1:-1]
        out[k.strip()] = v
    return out


def _args(raw: Any, env: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(raw, dict):
        for k, v in raw.items():
            if v is None:
                if str(k) in os.environ:
                    out[str(k)] = os.environ[str(k)]
            else:
                out[str(k)] = _interpolate(str(v), env)
    elif isinstance(raw, list):
        for item in raw:
            k, eq, v = str(item).partition("=")
            if eq:
                out[k] = _interpolate(v, env)
            elif k in os.environ:
                out[k] = os.environ[k]
    return out


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except OSError:
        return False


def _compose(path: Path, dockerfile: Path) -> list[BuildConfig]:
    import yaml

    try:
        doc = yaml.safe_load(path.read_bytes()[:_MAX_BYTES])
    except (OSError, yaml.YAMLError, RecursionError):
        return []
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict):
        return []
    env = _dotenv(path.parent)
    out = []
    for name in sorted(services, key=str):
        svc = services[name]
        build = svc.get("build") if isinstance(svc, dict) else None
        if isinstance(build, str):
            build = {"context": build}
        if not isinstance(build, dict):
            continue
        ctx = path.parent / _interpolate(str(build.get("context") or "."), env)
        df = ctx / _interpolate(str(build.get("dockerfile") or "Dockerfile"), env)
        if not _same(df, dockerfile):
            continue
        target = build.get("target")
        out.append(BuildConfig(str(path), f"service {name}", _shorter(ctx),
                               _args(build.get("args"), env),
                               None if target is None else _interpolate(str(target), env)))
    return out


def _bake(path: Path, dockerfile: Path) -> list[BuildConfig]:
    try:
        raw = path.read_bytes()[:_MAX_BYTES]
    except OSError:
        return []
    try:
        if path.suffix == ".json":
            import json

            doc = json.loads(raw)
            targets = doc.get("target") if isinstance(doc, dict) else None
        else:
            import hcl2

            doc = hcl2.loads(raw.decode("utf-8", "replace"))
            targets = {}
            for block in doc.get("target") or []:
                if isinstance(block, dict):
                    targets.update(block)
    except Exception:  # a file we only peek at: one that does not parse is not used
        return []
    if not isinstance(targets, dict):
        return []
    out = []
    for name in sorted(targets, key=str):
        t = targets[name]
        if not isinstance(t, dict):
            continue
        ctx = path.parent / _unquote(t.get("context") or ".")
        df = ctx / _unquote(t.get("dockerfile") or "Dockerfile")
        if not _same(df, dockerfile):
            continue
        target = t.get("target")
        args = {str(k): _unquote(v) for k, v in (t.get("args") or {}).items()} \
            if isinstance(t.get("args"), dict) else {}
        out.append(BuildConfig(str(path), f"bake target {_unquote(name)}", _shorter(ctx), args,
                               None if target is None else _unquote(target)))
    return out


def _shorter(p: Path) -> Path:
    """`p` normalised, and relative to the working directory when it lies below it."""
    norm = Path(os.path.normpath(p))
    try:
        return norm.resolve().relative_to(Path.cwd().resolve()) or Path(".")
    except ValueError:
        return norm


def _unquote(v: Any) -> str:
    # python-hcl2 keeps the quotes of some string values
    s = str(v)
    return s[1:-1] if len(s) >= 2 and s[0] == s[-1] == '"' else s


def find_build_config(dockerfile: Path) -> BuildConfig | None:
    """The first compose service or bake target that builds `dockerfile`, searching its
    directory and each parent up to the repository root (a directory holding `.git`).

    Files that do not parse are passed over: they are not this command's input.
    """
    here = dockerfile.resolve().parent
    readers = [(name, _compose) for name in COMPOSE_FILES] + \
        [(name, _bake) for name in BAKE_FILES]
    for d in (here, *here.parents):
        for name, read in readers:
            p = d / name
            found = read(p, dockerfile) if p.is_file() else []
            if found:
                return found[0]
        if (d / ".git").exists():
            break
    return None
