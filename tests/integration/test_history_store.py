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
    # what the extended run saved (appended to the old file, or re-encoded when the window
    # slid) reads back as the cold history
    hit = _run(r.root, store, window)
    assert store.last == "hit"
    assert hit.history.commits == cold.history.commits
    assert hit.history.base_tree == cold.history.base_tree
    assert hit.costs == cold.costs


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
    assert list((tmp_path / "xdg" / "layerlens" / "replay").glob("*.msgpack"))


def _replayed(root: Path, cache: Path, text: str = DF, ignore: str = ".git\n",
              cached: bool = True):
    from layerlens.cache.replaystore import ReplayStore

    (root / "Dockerfile").write_text(text)
    (root / ".dockerignore").write_text(ignore)
    store = ReplayStore(cache)
    a = analyze(AnalyzeOptions(root / "Dockerfile", history=HistoryOptions(
        mining=MiningCache(HistoryStore(cache) if cached else None), replay_store=store,
        cache=cached)))
    return a.history, store.last


def _same(a, b) -> None:
    assert a.replay == b.replay
    assert a.costs == b.costs


@pytest.mark.parametrize("root_context", [False, True])
def test_replay_resumes_after_new_commits_with_cold_figures(tmp_path: Path,
                                                            root_context: bool) -> None:
    r = _repo(tmp_path / "repo", 7)
    ignore = "" if root_context else ".git\n"  # the .git marker changes at every commit
    cache = tmp_path / "cache"
    first, how = _replayed(r.root, cache, ignore=ignore)
    assert how == "cold"
    again, how = _replayed(r.root, cache, ignore=ignore)
    assert how == "resumed"
    _same(again, first)
    for i in range(5):
        if i == 2:
            (r.root / "req.txt").unlink()  # today's file fails to build here...
        if i == 3:
            r.write("req.txt", "back\n")  # ...and builds again
        r.write(f"src/n{i}.py", f"{i}\n")
        r.commit()
    warm, how = _replayed(r.root, cache, ignore=ignore)
    assert how == "resumed"
    cold, _ = _replayed(r.root, tmp_path / "other", ignore=ignore, cached=False)
    _same(warm, cold)
    assert any(c.failed for c in cold.replay.commits)


def test_replay_checkpoint_is_keyed_on_what_the_replay_depends_on(tmp_path: Path) -> None:
    r = _repo(tmp_path / "repo", 4)
    cache = tmp_path / "cache"
    _replayed(r.root, cache)
    for text, ignore in [(DF.replace("/app", "/srv"), ".git\n"), (DF, ".git\nsrc/x\n"),
                         ("# a comment moves every line\n" + DF, ".git\n")]:
        got, how = _replayed(r.root, cache, text, ignore)
        assert how == "cold"
        cold, _ = _replayed(r.root, tmp_path / "other", text, ignore, cached=False)
        _same(got, cold)


def test_rewritten_history_or_tampered_checkpoint_is_replayed_afresh(tmp_path: Path) -> None:
    r = _repo(tmp_path / "repo", 5)
    cache = tmp_path / "cache"
    _replayed(r.root, cache)
    git(r.root, "reset", "-q", "--hard", "HEAD~2")
    r.write("src/other.py", "rewritten\n")
    r.commit()
    got, how = _replayed(r.root, cache)
    assert how == "cold"
    _same(got, _replayed(r.root, tmp_path / "other", cached=False)[0])
    (f,) = list((cache / "replay").glob("*.msgpack"))
    data = bytearray(f.read_bytes())
    data[-3] ^= 0xFF
    f.write_bytes(bytes(data))
    got, how = _replayed(r.root, cache)
    assert how == "cold"
    _same(got, _replayed(r.root, tmp_path / "other", cached=False)[0])


@pytest.mark.parametrize("ignore", [".git\n", ""])
def test_warm_json_report_is_byte_identical_to_a_cold_one(tmp_path: Path, monkeypatch,
                                                          ignore: str) -> None:
    """The whole `analyze --format json` output of a run that resumed both caches after
    new commits (deleted files and a path that is not UTF-8 among them) equals a
    --no-cache run's, byte for byte."""
    from layerlens.cli import main

    r = _repo(tmp_path / "repo", 6)
    r.write(".dockerignore", ignore)
    r.write("src/gone.py", "x\n")
    r.commit()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    df = str(r.root / "Dockerfile")

    def report(*extra: str) -> bytes:
        out = tmp_path / "out.json"
        assert main(["analyze", df, "--format", "json", "-o", str(out), *extra]) == 0
        return out.read_bytes()

    report()  # fills both caches
    (r.root / "src" / "gone.py").unlink()
    r.write(b"src/raw-\xff.py".decode("utf-8", "surrogateescape"), "1\n")
    r.commit()
    for i in range(3):
        r.write("req.txt" if i == 1 else "src/caf\u00e9.py", f"more {i}\n")
        r.commit()
    warm = report()
    cold = report("--no-cache")
    assert warm == cold
    assert b'"commits"' in warm


def test_cached_history_with_indexes_that_do_not_fit_is_not_trusted(tmp_path: Path) -> None:
    from layerlens.history import store as hs
    from layerlens.sealed import load_sealed, save_sealed

    r = _repo(tmp_path / "repo", 3)
    store = HistoryStore(tmp_path / "cache")
    cold = _run(r.root, store)
    (f,) = list((tmp_path / "cache" / "history").glob("*.msgpack"))
    doc = load_sealed(f, hs._Doc)
    assert doc is not None
    sha, time, parents, idx, statuses = doc.commits[-1]
    for bad in [(sha, time, parents, [*idx, len(doc.paths)], statuses + "M"),
                (sha, time, parents, [*idx, -1], statuses + "M"),
                (sha, time, parents, [*idx, 0], statuses)]:
        save_sealed(f, hs._Doc(doc.schema, doc.toplevel, doc.options, doc.head, doc.paths,
                               [*doc.commits[:-1], bad], doc.base_commit, doc.base_tree))
        assert _run(r.root, store).costs == cold.costs
        assert store.last == "cold"


def test_stored_changes_equal_the_mined_tuple(tmp_path: Path) -> None:
    r = _repo(tmp_path / "repo", 3)
    r.write("src/caf\u00e9.py", "deleted next\n")
    r.commit()
    (r.root / "src" / "caf\u00e9.py").unlink()
    r.commit()
    store = HistoryStore(tmp_path / "cache")
    _run(r.root, store)
    stored = _run(r.root, store).history.commits
    assert store.last == "hit"
    mined = _run(r.root, None).history.commits
    for s, m in zip(stored, mined, strict=True):
        assert isinstance(m.changes, tuple)
        assert s.changes == m.changes and m.changes == s.changes and s == m
        assert hash(s.changes) == hash(m.changes) and len(s.changes) == len(m.changes)
        assert list(s.changes) == list(m.changes) and s.changes[:] == m.changes[:]
    assert any(ch.deleted for c in stored for ch in c.changes)
