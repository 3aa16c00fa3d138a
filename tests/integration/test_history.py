"""History mining and replay on real git repositories of every awkward shape."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from layerlens.analysis import AnalyzeOptions, analyze
from layerlens.cache.timeline import HistoryOptions

from .harness import Repo, git

pytestmark = pytest.mark.integration

DF = "FROM alpine\nCOPY req.txt /r\nRUN pip install -r /r\nCOPY . /app\n"


def misses(path: Path, **kw) -> list[dict[int, int]]:
    res = analyze(AnalyzeOptions(path, **kw))
    assert res.history is not None, res.notices
    return [dict(c.rebuilt) for c in res.history.costs.commits]


def test_no_repository_is_static_only(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM a\n")
    res = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    assert res.history is None
    assert any("not inside a git repository" in n for n in res.notices)


def test_repository_without_commits(tmp_path: Path) -> None:
    Repo(tmp_path)
    (tmp_path / "Dockerfile").write_text("FROM a\n")
    res = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    assert res.history is None
    assert any("no commits" in n for n in res.notices)


def test_replay_basic_and_rates(tmp_path: Path) -> None:
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", DF)
    r.write("req.txt", "a\n")
    r.write("src/main.py", "1\n")
    r.commit()
    for i in range(4):
        r.write("src/main.py", f"{i}\n")
        r.commit()
    r.write("req.txt", "b\n")
    r.commit()
    got = misses(tmp_path / "Dockerfile")
    assert got == [{0: 4}] * 4 + [{0: 2}]
    res = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    stats = res.history.costs.instructions
    by_line = {res.dockerfile.instructions[i].start_line: s for i, s in stats.items()}
    assert by_line[2].change_rate == pytest.approx(1 / 5)
    assert by_line[4].change_rate == pytest.approx(1.0)
    assert by_line[4].top_files[0] == ("src/main.py", 4)


def test_context_subdir_and_dockerfile_outside_it(tmp_path: Path) -> None:
    r = Repo(tmp_path)
    r.write("docker/Dockerfile", "FROM alpine\nCOPY . /app\n")
    r.write("app/x.py", "1\n")
    r.write("other/y.py", "1\n")
    r.commit()
    r.write("other/y.py", "2\n")
    r.commit()
    r.write("app/x.py", "2\n")
    r.commit()
    r.write("docker/Dockerfile", "FROM alpine\n# a comment\nCOPY . /app\n")
    r.commit()
    got = misses(tmp_path / "docker" / "Dockerfile", context=tmp_path / "app")
    # Outside the context: nothing; inside: the COPY (line 3 of the current file, which is
    # the subject at every commit); a Dockerfile edit: nothing (it is outside the context).
    assert got == [{}, {0: 3}, {}]


def test_paths_with_spaces_and_non_ascii(tmp_path: Path) -> None:
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", "FROM a\nCOPY [\"dir with space/\", \"/d\"]\nCOPY données /n\n")
    r.write("dir with space/f ile.txt", "1")
    r.write("données/é.txt", "1")
    r.commit()
    r.write("données/é.txt", "2")
    r.commit()
    r.write("dir with space/f ile.txt", "2")
    r.commit()
    assert misses(tmp_path / "Dockerfile") == [{0: 3}, {0: 2}]


def test_shallow_clone_says_how_many(tmp_path: Path) -> None:
    src = Repo(tmp_path / "src")
    src.write("Dockerfile", "FROM a\nCOPY . /x\n")
    for i in range(6):
        src.write("f", str(i))
        src.commit()
    dst = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "3", f"file://{src.root}", str(dst)],
                   check=True)
    res = analyze(AnalyzeOptions(dst / "Dockerfile"))
    assert res.history is not None and res.history.window == 3
    assert any("shallow clone: only 3 commits" in n and "--unshallow" in n for n in res.notices)


def test_blobless_clone_needs_no_blobs(tmp_path: Path) -> None:
    src = Repo(tmp_path / "src")
    git(src.root, "config", "uploadpack.allowFilter", "true")
    src.write(".dockerignore", ".git\n")
    src.write("Dockerfile", "FROM a\nCOPY big /big\nCOPY small /s\n")
    src.write("big", "x" * 100000)
    src.write("small", "1")
    src.commit()
    src.write("big", "y" * 100000)
    src.commit()
    dst = tmp_path / "blobless"
    subprocess.run(["git", "clone", "-q", "--filter=blob:none", "--no-checkout",
                    f"file://{src.root}", str(dst)], check=True)
    git(dst, "checkout", "-q", "main", "--", "Dockerfile", ".dockerignore")
    assert misses(dst / "Dockerfile") == [{0: 2}]


def test_submodule_commit_change_counts(tmp_path: Path) -> None:
    sub = Repo(tmp_path / "sub")
    sub.write("lib.txt", "1")
    sub.commit()
    top = Repo(tmp_path / "top")
    top.write(".dockerignore", ".git\n")
    top.write("Dockerfile", "FROM a\nCOPY vendor/sub /sub\nCOPY app /app\n")
    top.write("app/a", "1")
    git(top.root, "-c", "protocol.file.allow=always", "submodule", "add", "-q",
        str(sub.root), "vendor/sub")
    top.commit()
    sub.write("lib.txt", "2")
    sub.commit()
    git(top.root / "vendor" / "sub", "-c", "protocol.file.allow=always", "pull", "-q")
    top.commit()
    assert misses(top.root / "Dockerfile") == [{0: 2}]


def test_detached_head(tmp_path: Path) -> None:
    r = Repo(tmp_path)
    r.write("Dockerfile", "FROM a\nCOPY . .\n")
    r.commit()
    r.write("x", "1")
    first = r.commit()
    r.write("x", "2")
    r.commit()
    git(tmp_path, "checkout", "-q", first)
    assert len(misses(tmp_path / "Dockerfile")) == 1


def test_broken_dockerfile_in_history_is_skipped(tmp_path: Path) -> None:
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", "FROM a\nCOPY x /x\n")
    r.write("x", "1")
    r.commit()
    r.write("Dockerfile", "FROM a\nCOPY x\n")  # rejected by the builder
    r.commit()
    r.write("Dockerfile", "FROM a\nCOPY x /x\n")
    r.write("x", "2")
    r.commit()
    res = analyze(AnalyzeOptions(tmp_path / "Dockerfile",
                                 history=HistoryOptions(as_built=True)))
    # The subject is today's file: the broken version in history does not matter to it.
    commits = res.history.costs.commits
    assert [c.error for c in commits] == [None, None]
    assert [dict(c.rebuilt) for c in commits] == [{}, {0: 2}]
    # Built as it was, the broken commit builds nothing and says why.
    built = res.history.as_built
    assert built.costs.commits[0].error and "at least two arguments" in \
        built.costs.commits[0].error
    assert dict(built.costs.commits[1].rebuilt) == {0: 2}
    assert any("could not be built" in n for n in built.notices)


def test_volatile_arg_detected_and_overridable(tmp_path: Path) -> None:
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", "FROM a\nARG GIT_SHA\nRUN make deps\nCOPY x /x\n")
    r.write("x", "1")
    r.commit()
    r.commit(allow_empty=True)
    assert misses(tmp_path / "Dockerfile") == [{0: 3}]
    stable = HistoryOptions(stable_args=frozenset({"GIT_SHA"}))
    assert misses(tmp_path / "Dockerfile", history=stable) == [{}]


def test_base_refresh_cadence(tmp_path: Path) -> None:
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", "FROM alpine:3\nRUN apk add curl\n")
    r.commit()
    for _ in range(30):  # the harness clock moves one hour per commit
        r.commit(allow_empty=True)
    day = HistoryOptions(base_refresh_seconds=86400)
    got = misses(tmp_path / "Dockerfile", history=day)
    assert 1 <= sum(1 for m in got if m) <= 2
    assert all(m in ({}, {0: 2}) for m in got)
    assert misses(tmp_path / "Dockerfile") == [{}] * 30


def test_build_log_seconds_feed_costs(tmp_path: Path) -> None:
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", "FROM alpine\nCOPY x /x\nRUN make\n")
    r.write("x", "1")
    r.commit()
    r.write("x", "2")
    r.commit()
    log = tmp_path / "build.log"
    log.write_text("#4 [stage-0 2/3] COPY x /x\n#4 DONE 0.2s\n#5 [stage-0 3/3] RUN make\n"
                   "#5 DONE 42.0s\n")
    res = analyze(AnalyzeOptions(tmp_path / "Dockerfile",
                                 history=HistoryOptions(build_log=log)))
    commit = res.history.costs.commits[0]
    assert commit.rebuild_seconds == pytest.approx(42.2)
    assert not res.history.costs.estimated


def test_dockerfile_in_a_non_ascii_directory(tmp_path: Path) -> None:
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("services/café/Dockerfile", "FROM a\nCOPY x /x\n")
    r.write("services/café/x", "1")
    r.commit()
    r.write("services/café/Dockerfile", "FROM a\n# note\nCOPY x /x\n")
    r.write("services/café/x", "2")
    r.commit()
    got = misses(tmp_path / "services" / "café" / "Dockerfile")
    assert got == [{0: 3}]
