#!/usr/bin/env python3
"""Regenerate the sample repositories as git bundles (layerlens/sample_bundles/*.bundle).

Each sample is a small but realistic project whose history (months of commits, seeded so the
bundles are reproducible) has the churn pattern real projects have: source changes most,
tests and docs often, dependency manifests rarely, the Dockerfile almost never.

    python samples/generate.py            # rewrites layerlens/sample_bundles/*.bundle

The bundles are package data, so every install of layerlens ships them for `layerlens demo`.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "layerlens" / "sample_bundles"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
_SEMVER = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    full = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo), **(env or {})}
    return subprocess.run(["git", *args], cwd=repo, env=full, check=True,
                          capture_output=True, text=True).stdout


PYWEB = {
    "Dockerfile": """\
FROM python:3.12-slim
ARG GIT_SHA=unknown
LABEL org.opencontainers.image.revision=$GIT_SHA
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends libpq5
# Everything is copied first, so any source edit reinstalls every dependency.
COPY . .
RUN pip install --no-cache-dir -r requirements.txt
RUN rm -rf /var/lib/apt/lists/*
EXPOSE 8000
USER nobody
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app.main:app"]
""",
    "requirements.txt": "flask==3.0.3\ngunicorn==22.0.0\npsycopg[binary]==3.2.1\n",
    "app/__init__.py": "",
    "app/main.py": "from flask import Flask\n\napp = Flask(__name__)\n\n\n"
                   "@app.get('/health')\ndef health():\n    return {'ok': True}\n",
    "app/models.py": "class User:\n    def __init__(self, name):\n        self.name = name\n",
    "app/views.py": "from app.main import app\n",
    "tests/test_health.py": "def test_health():\n    assert True\n",
    "docs/index.md": "# pyweb\n\nA small web service.\n",
    "README.md": "# pyweb\n",
    ".github/workflows/ci.yml": "name: ci\non: [push]\njobs: {}\n",
    ".gitignore": "__pycache__/\n.venv/\n",
}

NODEAPP = {
    "Dockerfile": """\
FROM node:20-alpine
WORKDIR /usr/src/app
COPY . .
RUN npm ci
RUN npm run build
ENV NODE_ENV=production
EXPOSE 3000
CMD ["node", "dist/server.js"]
""",
    ".dockerignore": "node_modules\n",
    "package.json": '{\n  "name": "nodeapp",\n  "version": "1.0.0",\n  "scripts": '
                    '{"build": "tsc -p ."},\n  "dependencies": {"express": "4.19.2"}\n}\n',
    "package-lock.json": '{\n  "name": "nodeapp",\n  "lockfileVersion": 3,\n'
                         '  "packages": {"node_modules/express": {"version": "4.19.2"}}\n}\n',
    "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}\n',
    "src/server.ts": "import express from 'express';\nconst app = express();\napp.listen(3000);\n",
    "src/routes/index.ts": "export const routes = [];\n",
    "test/server.test.ts": "test('starts', () => {});\n",
    "docs/api.md": "# API\n",
    "README.md": "# nodeapp\n",
    ".eslintrc.json": "{}\n",
}

GOKUARD = {
    "Dockerfile": """\
FROM golang:1.22-alpine AS build
WORKDIR /go/src/kuard
COPY . .
RUN go mod download
RUN CGO_ENABLED=0 go build -o bin/kuard ./cmd/kuard

FROM alpine
USER nobody:nobody
COPY --from=build /go/src/kuard/bin/kuard /kuard
ENTRYPOINT ["/kuard"]
""",
    "go.mod": "module example.com/kuard\n\ngo 1.22\n\nrequire github.com/spf13/pflag v1.0.5\n",
    "go.sum": "github.com/spf13/pflag v1.0.5 h1:iy+VFUOCP1a+8yFto/drg2CJ5u0yRoB7fZw3DKv/JXA=\n",
    "cmd/kuard/main.go": "package main\n\nfunc main() {\n\tserve()\n}\n",
    "cmd/kuard/serve.go": "package main\n\nfunc serve() {}\n",
    "pkg/app/app.go": "package app\n",
    "pkg/memory/memory.go": "package memory\n",
    "pkg/debugprobe/probe.go": "package debugprobe\n",
    "client/src/index.js": "console.log('kuard');\n",
    "docs/README.md": "# kuard docs\n",
    "README.md": "# kuard\n",
    "Makefile": "build:\n\tgo build ./...\n",
}

# (weight, paths, kind of change): the churn profile of each sample's history.
PROFILES = {
    "pyweb": [
        (40, ["app/main.py", "app/views.py", "app/models.py"], "code"),
        (18, ["tests/test_health.py"], "code"),
        (12, ["docs/index.md", "README.md"], "text"),
        (5, [".github/workflows/ci.yml"], "text"),
        (6, ["requirements.txt"], "deps"),
        (4, ["app"], "newfile"),
    ],
    "nodeapp": [
        (42, ["src/server.ts", "src/routes/index.ts"], "code"),
        (15, ["test/server.test.ts"], "code"),
        (12, ["docs/api.md", "README.md"], "text"),
        (5, ["package.json", "package-lock.json"], "deps"),
        (3, [".eslintrc.json"], "text"),
        (4, ["src/routes"], "newfile"),
    ],
    "gokuard": [
        (40, ["cmd/kuard/serve.go", "pkg/app/app.go", "pkg/memory/memory.go"], "code"),
        (10, ["client/src/index.js"], "code"),
        (12, ["docs/README.md", "README.md"], "text"),
        (4, ["go.mod", "go.sum"], "deps"),
        (3, ["Makefile"], "text"),
        (4, ["pkg/debugprobe"], "newfile"),
    ],
}
SAMPLES = {"pyweb": PYWEB, "nodeapp": NODEAPP, "gokuard": GOKUARD}
COMMITS = {"pyweb": 160, "nodeapp": 140, "gokuard": 150}
EXT = {"pyweb": "py", "nodeapp": "ts", "gokuard": "go"}


def write(repo: Path, rel: str, text: str) -> None:
    p = repo / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def bump(text: str, rng: random.Random) -> str:
    """Raise the patch level of one version number in the file."""
    found = list(_SEMVER.finditer(text))
    if not found:
        return text + "\n"
    m = rng.choice(found)
    major, minor, patch = m.groups()
    return text[: m.start()] + f"{major}.{minor}.{int(patch) + 1}" + text[m.end():]


def make(name: str, out: Path) -> None:
    rng = random.Random(f"layerlens-{name}")
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / name
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        git(repo, "config", "user.name", "Sample Dev")
        git(repo, "config", "user.email", "dev@example.com")
        for rel, text in SAMPLES[name].items():
            write(repo, rel, text)
        when = START
        commit(repo, "Initial project layout", when)
        profile = PROFILES[name]
        weights = [w for w, _, _ in profile]
        for n in range(1, COMMITS[name] + 1):
            when += timedelta(hours=rng.randint(6, 60))
            _, paths, how = rng.choices(profile, weights)[0]
            if how == "newfile":
                rel = f"{paths[0]}/mod{n}.{EXT[name]}"
                write(repo, rel, f"// module added in change {n}\n")
                msg = f"Add {rel}"
            elif how == "deps":
                # Manifest and lock file change together, as they do in real projects.
                for rel in paths:
                    p = repo / rel
                    p.write_text(bump(p.read_text(), rng))
                msg = f"Bump dependencies in {', '.join(paths)}"
            else:
                rel = rng.choice(paths)
                comment = "#" if rel.endswith((".py", ".yml")) else "//"
                line = (f"\nUpdate {n}: {rng.choice(['wording', 'typo', 'example'])}.\n"
                        if how == "text" else f"\n{comment} change {n}\n")
                with (repo / rel).open("a") as fh:
                    fh.write(line)
                msg = f"{'Docs' if how == 'text' else 'Change'}: {rel}"
            if name == "pyweb" and n == 90:
                df = repo / "Dockerfile"
                df.write_text(df.read_text().replace(
                    "EXPOSE 8000", "# gunicorn listens here\nEXPOSE 8000"))
                msg += "; document the port in the Dockerfile"
            commit(repo, msg, when)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp_bundle = out.with_name(out.name + ".tmp")
        git(repo, "-c", "pack.threads=1", "bundle", "create", "-q", str(tmp_bundle), "HEAD", "main")
        os.replace(tmp_bundle, out)


def commit(repo: Path, message: str, when: datetime) -> None:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S+0000")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message,
        env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp})


def main() -> int:
    if shutil.which("git") is None:
        print("git is required", file=sys.stderr)
        return 2
    for name in SAMPLES:
        make(name, OUT / f"{name}.bundle")
        print(f"wrote layerlens/sample_bundles/{name}.bundle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
