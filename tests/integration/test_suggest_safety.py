"""Rewrites proven safe by real builds.

Each project here mirrors a bundled sample (same instructions, same order problems) but
builds FROM scratch with a static busybox and small stand-ins for apt-get, pip, npm and go
(tests/integration/fake_tools), since no registry can be reached. The original and the
rewritten Dockerfile are built with buildah; their final root filesystems (paths, types,
modes, owners, link targets, content hashes) and image configs must be identical, and the
rewrite, replayed over the project's git history, must cost less.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from layerlens.analysis import AnalyzeOptions, analyze
from layerlens.image.reader import read_image
from layerlens.suggest.engine import suggest

from ..conftest import requires_buildah
from .harness import BUSYBOX, PRELUDE, Buildah, Repo

pytestmark = [pytest.mark.integration, requires_buildah]
TOOLS = Path(__file__).parent / "fake_tools"
BASE = PRELUDE + "COPY tools/ /usr/local/bin/\n"

PYWEB = {
    "Dockerfile": BASE + """\
ARG GIT_SHA=unknown
LABEL org.opencontainers.image.revision=$GIT_SHA
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1
RUN apt-get update && apt-get install -y libpq5
# Everything is copied first, so any source edit reinstalls every dependency.
COPY . .
RUN pip install --no-cache-dir -r requirements.txt
RUN rm -rf /var/lib/apt/lists/*
EXPOSE 8000
CMD ["python", "app/main.py"]
""",
    "requirements.txt": "flask==3.0.3\ngunicorn==22.0.0\n",
    "app/main.py": "print('hello')\n",
    "app/views.py": "VIEWS = []\n",
    "docs/index.md": "# docs\n",
    "tests/test_main.py": "def test(): pass\n",
}
NODEAPP = {
    "Dockerfile": BASE + """\
WORKDIR /usr/src/app
COPY . .
RUN npm ci
RUN npm run build
ENV NODE_ENV=production
EXPOSE 3000
CMD ["node", "dist/server.js"]
""",
    ".dockerignore": "node_modules\n",
    "package.json": '{\n  "name": "nodeapp",\n  "dependencies": {"express": "4.19.2"}\n}\n',
    # lockfileVersion 3 as npm 7+ writes it: a packages map, no install scripts
    "package-lock.json": '{"name": "nodeapp", "lockfileVersion": 3, "packages": {'
                         '"": {"name": "nodeapp"}, "node_modules/express": '
                         '{"version": "4.19.2"}}}\n',
    "src/server.ts": "listen(3000)\n",
    "README.md": "# nodeapp\n",
}
GOKUARD = {
    "Dockerfile": BASE.replace("FROM scratch", "FROM scratch AS build") + """\
WORKDIR /go/src/kuard
COPY . .
RUN go mod download
RUN go build -o bin/kuard ./cmd/kuard

FROM scratch
COPY busybox /bin/busybox
USER 65534:65534
COPY --from=build /go/src/kuard/bin/kuard /kuard
ENTRYPOINT ["/kuard"]
""",
    "go.mod": "module example.com/kuard\n\ngo 1.22\n\nrequire github.com/spf13/pflag v1.0.5\n",
    "go.sum": "github.com/spf13/pflag v1.0.5 h1:abc=\n",
    "cmd/kuard/main.go": "package main\n",
    "pkg/app/app.go": "package app\n",
    "docs/README.md": "# docs\n",
}
SERVICE = {
    "Dockerfile": BASE + """\
ARG BUILD_DATE=unknown
LABEL org.opencontainers.image.created=$BUILD_DATE
WORKDIR /srv
COPY src /srv/src
RUN apk add --no-cache curl
COPY vendor /srv/vendor
RUN apt-get update && apt-get install -y tzdata
RUN rm -rf /var/lib/apt/lists/*
CMD ["/srv/src/run"]
""",
    ".dockerignore": ".git\n",
    "src/run": "#!/bin/sh\necho run\n",
    "src/lib.sh": "x=1\n",
    "vendor/dep.sh": "dep=1\n",
}
# Issue 16: a broad COPY before context-free installs (apk, npm -g) that run under a WORKDIR
# they do not touch, and a second WORKDIR whose directory a later RUN writes into.
BROADCOPY = {
    "Dockerfile": BASE + """\
COPY . /app
WORKDIR /app
RUN apk add --no-cache make git
RUN npm install -g typescript@5.4.5 @types/node@20.1.0
WORKDIR /srv/tools
RUN echo ready > /srv/tools/ready
RUN echo done > /etc/done
WORKDIR /app
RUN npm ci
RUN npm run build
CMD ["node", "/app/dist/server.js"]
""",
    ".dockerignore": ".git\n",
    "package.json": '{\n  "name": "b",\n  "dependencies": {"express": "4.19.2"}\n}\n',
    "package-lock.json": '{"lockfileVersion": 3}\n',
    "src/server.ts": "listen(3000)\n",
}
PROJECTS = {"broadcopy": (BROADCOPY, ["src/server.ts", "src/server.ts", "package.json",
                                      "src/server.ts"]),
            "service": (SERVICE, ["src/lib.sh", "src/run", "src/lib.sh", "src/lib.sh",
                                  "vendor/dep.sh", "src/lib.sh"]),
            "pyweb": (PYWEB, ["app/main.py", "app/views.py", "docs/index.md", "requirements.txt",
                              "tests/test_main.py", "app/main.py"]),
            "nodeapp": (NODEAPP, ["src/server.ts", "README.md", "src/server.ts",
                                  "package.json", "src/server.ts"]),
            "gokuard": (GOKUARD, ["pkg/app/app.go", "docs/README.md", "cmd/kuard/main.go",
                                  "go.mod", "pkg/app/app.go"])}


def make_project(root: Path, files: dict[str, str], edits: list[str]) -> Repo:
    repo = Repo(root)
    shutil.copy(BUSYBOX, root / "busybox")
    shutil.copytree(TOOLS, root / "tools")
    for rel, text in files.items():
        repo.write(rel, text)
    repo.commit("initial")
    for n, rel in enumerate(edits):
        p = root / rel
        if rel == "requirements.txt":
            p.write_text(p.read_text() + f"pkg{n}==1.0.{n}\n")
        elif rel == "package.json":
            p.write_text(p.read_text().replace("4.19.2", f"4.19.{3 + n}"))
        elif rel == "go.mod":
            p.write_text(p.read_text().replace("v1.0.5", f"v1.0.{6 + n}"))
        else:
            p.write_text(p.read_text() + f"# edit {n}\n")
        repo.commit(f"edit {rel}")
    return repo


def build_tree(b: Buildah, ctx: Path, tag: str, out: Path) -> tuple[tuple, dict]:
    b.bud(ctx, tag, build_args={"GIT_SHA": "0123abc"})
    b.push(tag, f"docker-archive:{out}:{tag}:latest")
    img = read_image(str(out), hash_files=True)
    with tarfile.open(out) as t:
        manifest = json.load(t.extractfile("manifest.json"))  # type: ignore[arg-type]
        cfg = json.load(t.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
    c = cfg.get("config") or {}
    keys = ("Env", "Cmd", "Entrypoint", "Labels", "ExposedPorts", "User", "WorkingDir",
            "Volumes", "StopSignal", "Healthcheck")
    return img.final_tree, {k: c.get(k) for k in keys}


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_rewrite_builds_the_same_image_and_costs_less(name: str, tmp_path: Path) -> None:
    """Every automatic fix but LL005 (tested below) on real builds: LL002 on three
    projects, LL001 and LL004 on the service (where the optimizer itself moves the per-build
    ARG), LL003 and LL004 on pyweb, LL001 across a WORKDIR on broadcopy."""
    files, edits = PROJECTS[name]
    repo = make_project(tmp_path / name, files, edits)
    res = analyze(AnalyzeOptions(repo.root / "Dockerfile"))
    # Everything but the .dockerignore rule keeps the filesystem identical here; LL002 and
    # LL003 are unsafe in general (the install or the script may read more), so this build
    # is what proves them on these projects.
    rep = suggest(res, ignore={"LL005"}, unsafe_fixes=True)
    assert rep.rewritten is not None, [s.message for s in rep.suggestions]
    total = rep.total_savings
    assert total is not None and total.seconds_per_commit > 0
    # the broad-COPY problem is named and fixed; the service exercises the other fixes
    # (pyweb's LL004 fold is a hint now: the pip RUN in between may read the apt lists)
    expected = {"service": {"LL001", "LL004"}, "pyweb": {"LL002", "LL003"},
                "broadcopy": {"LL001"}}.get(
        name, {"LL002"})
    assert expected <= set(rep.applied), rep.applied
    b = Buildah(tmp_path / "state")
    before = build_tree(b, repo.root, "before", tmp_path / "before.tar")
    (repo.root / "Dockerfile").write_text(rep.rewritten)
    after = build_tree(b, repo.root, "after", tmp_path / "after.tar")
    assert after[1] == before[1]  # image config
    # The broad COPY copies the Dockerfile itself, whose text the rewrite changed by design
    # (LL005 proposes ignoring it); everything else must be identical.
    def same(tree: tuple) -> list:
        return [e for e in tree if not e[0].endswith("/Dockerfile")]

    assert same(after[0]) == same(before[0])  # final root filesystem


def test_dockerignore_rewrite_drops_exactly_the_ignored_files(tmp_path: Path) -> None:
    # pyweb without its per-build ARG (which rebuilds everything anyway) and with a
    # .dockerignore; nodeapp no longer qualifies: its `npm run build` may run git, so .git
    # is kept and ignoring the rest saves nothing.
    files, edits = dict(PROJECTS["pyweb"][0]), PROJECTS["pyweb"][1]
    files["Dockerfile"] = files["Dockerfile"].replace(
        "ARG GIT_SHA=unknown\nLABEL org.opencontainers.image.revision=$GIT_SHA\n", "")
    files[".dockerignore"] = "__pycache__\n"
    repo = make_project(tmp_path / "pyweb", files, edits)
    res = analyze(AnalyzeOptions(repo.root / "Dockerfile"))
    rep = suggest(res, select={"LL005"}, unsafe_fixes=True)
    assert rep.rewritten is None and rep.rewritten_ignore is not None
    old = set(files[".dockerignore"].split())
    patterns = [p for p in rep.rewritten_ignore.splitlines() if p and p not in old]
    assert rep.rewritten_ignore.startswith(files[".dockerignore"])
    assert ".git" in patterns and "docs" in patterns
    assert rep.total_savings is not None and rep.total_savings.rebuilds_avoided > 0
    b = Buildah(tmp_path / "state")
    before, cfg_before = build_tree(b, repo.root, "before", tmp_path / "before.tar")
    (repo.root / ".dockerignore").write_text(rep.rewritten_ignore)
    after, cfg_after = build_tree(b, repo.root, "after", tmp_path / "after.tar")
    assert cfg_after == cfg_before

    def ignored(path: str) -> bool:
        rel = path.removeprefix("app/")
        return path.startswith("app/") and any(
            rel == p or rel.startswith(p + "/") for p in patterns)

    assert [e for e in before if not ignored(e[0])] == list(after)
    assert any(ignored(e[0]) for e in before)


def test_write_is_idempotent_and_keeps_comments(tmp_path: Path) -> None:
    files, edits = PROJECTS["pyweb"]
    repo = make_project(tmp_path / "pyweb", files, edits)
    cmd = [str(Path(__file__).resolve().parents[2] / ".venv/bin/layerlens"), "suggest",
           str(repo.root), "--write"]
    if not Path(cmd[0]).exists():
        import sys

        cmd = [sys.executable, "-m", "layerlens", *cmd[1:]]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert first.returncode == 1, first.stderr
    text = (repo.root / "Dockerfile").read_text()
    assert "# Everything is copied first" in text
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert (repo.root / "Dockerfile").read_text() == text
    assert "nothing to write" in second.stderr
