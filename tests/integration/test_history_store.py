"""The on-disk cache of mined history: a warm run gives a cold run's figures, new commits
are mined alone, and anything that does not provably match is mined afresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerlens.analysis import AnalyzeOptions, analyze
from layerlens.cache.timeline import HistoryOptions
from layerlens.history.mine import MiningCache
from layerlens.history.store import HistoryStore

from .harness import Repo, git

pytestmark = pytest.mark.integration

DF = "FROM alpine\nCOPY req.txt /r\nRUN install\nCOPY . /app\n"


def _repo(root: Path, commits: int) -> Repo:
    r = Repo(root)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", DF)
    r.write("req.txt", "a\n")
    r.write("src/caf\u00e9.py", "0\n")
    r.commit()
    for i in range(commits):
        r.write("src/caf\u00e9.py" if i % 3 else "req.txt", f"{i}\n")
        r.commit()
    return r


def _run(root: Path, store: HistoryStore | None, max_commits: int | None = 1000):
    cache = MiningCache(store)
    a = analyze(AnalyzeOptions(root / "Dockerfile", history=HistoryOptions(
        mining=cache, max_commits=max_commits)))
    return a.history


@pytest.mark.parametrize("window", [1000, 5])
def test_warm_and_extended_runs_equal_cold_runs(tmp_path: Path, window: int) -> None:
    r = _repo(tmp_path / "repo", 8)
    store = HistoryStore(tmp_path / "cache")
    first = _run(r.root, store, window)
    assert store.last == "cold"
    again = _run(r.root, store, window)
    assert store.last == "hit"
    assert again.costs == first.costs and again.history.commits == first.history.commits
    for i in range(4):
        r.write("src/caf\u00e9.py", f"new {i}\n")
        r.commit()
    warm = _run(r.root, store, window)
    assert store.last == "extended"
    cold = _run(r.root, None, window)
    assert warm.history.commits == cold.history.commits
    assert warm.history.base_tree == cold.history.base_tree
    assert warm.costs == cold.costs


def test_rewritten_history_is_mined_afresh(tmp_path: Path) -> None:
    r = _repo(tmp_path / "repo", 4)
    store = HistoryStore(tmp_path / "cache")
    _run(r.root, store)
    git(r.root, "reset", "-q", "--hard", "HEAD~2")
    r.write("req.txt", "rewritten\n")
    r.commit()
    warm = _run(r.root, store)
    assert store.last == "cold"
    assert warm.costs == _run(r.root, None).costs


def test_corrupt_or_foreign_cache_files_are_not_trusted(tmp_path: Path) -> None:
    r = _repo(tmp_path / "repo", 3)
    store = HistoryStore(tmp_path / "cache")
    cold = _run(r.root, store)
    (f,) = list((tmp_path / "cache" / "history").glob("*.msgpack"))
    data = bytearray(f.read_bytes())
    data[-5] ^= 0xFF
    f.write_bytes(bytes(data))
    assert _run(r.root, store).costs == cold.costs
    assert store.last == "cold"
    f.write_bytes(b"not a cache")
    assert _run(r.root, store).costs == cold.costs
    assert store.last == "cold"


def test_no_cache_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    from layerlens.cli import main

    r = _repo(tmp_path / "repo", 2)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert main(["analyze", str(r.root / "Dockerfile"), "--no-cache"]) == 0
    assert not (tmp_path / "xdg").exists()
    assert main(["analyze", str(r.root / "Dockerfile")]) == 0
    assert list((tmp_path / "xdg" / "layerlens" / "history").glob("*.msgpack"))
