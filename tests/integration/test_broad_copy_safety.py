"""Issue 16: the safe moves of context-free installs above a broad COPY, proven by builds.

The RUN model lets a bounded RUN (apk add, npm install -g, echo to an absolute path) cross a
WORKDIR it does not touch and a COPY whose destination it neither reads nor writes, and two
bounded RUNs with disjoint effects swap. `suggest --write` (safe fixes only) applies these
moves; buildah builds the original and the rewrite FROM scratch and their final root
filesystems and configs must be identical.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from layerlens.analysis import AnalyzeOptions, analyze
from layerlens.dockerfile import parse
from layerlens.suggest.engine import suggest

from ..conftest import requires_buildah
from .harness import Buildah
from .test_suggest_safety import BASE, PROJECTS, build_tree, make_project

pytestmark = [pytest.mark.integration, requires_buildah]


def test_safe_moves_across_workdir_build_the_same_image(tmp_path: Path) -> None:
    files, edits = PROJECTS["broadcopy"]
    repo = make_project(tmp_path / "broadcopy", files, edits)
    rep = suggest(analyze(AnalyzeOptions(repo.root / "Dockerfile")))  # safe fixes only
    assert rep.rewritten is not None, [s.message for s in rep.suggestions]
    assert set(rep.applied) == {"LL001"}
    order = [i.original for i in parse(rep.rewritten).instructions]
    copy = order.index("COPY . /app")
    # the installs left the broad COPY's chain; the RUN writing into /srv/tools did not
    # leave its WORKDIR, and the final WORKDIR is still /app
    assert order.index("RUN apk add --no-cache make git") < copy
    assert order.index("RUN npm install -g typescript@5.4.5 @types/node@20.1.0") < copy
    assert order.index("RUN echo done > /etc/done") < copy
    assert copy < order.index("WORKDIR /srv/tools") < order.index(
        "RUN echo ready > /srv/tools/ready")
    assert rep.total_savings is not None and rep.total_savings.seconds_per_commit > 0
    b = Buildah(tmp_path / "state")
    before = build_tree(b, repo.root, "w16-before", tmp_path / "before.tar")
    (repo.root / "Dockerfile").write_text(rep.rewritten)
    after = build_tree(b, repo.root, "w16-after", tmp_path / "after.tar")
    assert after[1] == before[1]  # image config, WorkingDir included

    def same(tree: tuple) -> list:
        return [e for e in tree if not e[0].endswith("/Dockerfile")]

    assert same(after[0]) == same(before[0])
    paths = {e[0] for e in after[0]}
    assert any(p.endswith("node_modules/typescript/version") for p in paths)


SPLIT = {
    "Dockerfile": BASE + """\
WORKDIR /app
COPY . .
RUN apk add --no-cache git make && mkdir -p /etc/apk-done.d && npm ci && npm run build
CMD ["node", "/app/dist/server.js"]
""",
    ".dockerignore": ".git\n",
    "package.json": '{\n  "name": "s",\n  "dependencies": {"express": "4.19.2"}\n}\n',
    "package-lock.json": '{"lockfileVersion": 3}\n',
    "src/server.ts": "listen(3000)\n",
}


def test_split_bounded_head_builds_the_same_image(tmp_path: Path) -> None:
    """LL010's rewrite kind: the bounded head of a `&&` chain split off and moved above
    the broad COPY. Applied directly (the replay prices both halves alike, so the engine
    offers it as a hint here); the build proves the rewrite itself."""
    from layerlens.suggest.rules.ll010_split_bounded_prefix import _rewrite, split_point

    repo = make_project(tmp_path / "split", SPLIT, ["src/server.ts"])
    df = parse((repo.root / "Dockerfile").read_text())
    run = next(i for i in df.instructions if i.original.startswith("RUN apk"))
    parts = split_point(run)
    assert parts == ("apk add --no-cache git make && mkdir -p /etc/apk-done.d",
                     "npm ci && npm run build")
    new_text, _ = _rewrite(df, run, *parts)
    order = [i.original for i in parse(new_text).instructions]
    assert order.index("RUN " + parts[0]) < order.index("COPY . .")
    b = Buildah(tmp_path / "state")
    before = build_tree(b, repo.root, "w16-split-before", tmp_path / "before.tar")
    (repo.root / "Dockerfile").write_text(new_text)
    after = build_tree(b, repo.root, "w16-split-after", tmp_path / "after.tar")
    assert after[1] == before[1]

    def same(tree: tuple) -> list:
        return [e for e in tree if not e[0].endswith("/Dockerfile")]

    assert same(after[0]) == same(before[0])
