"""Faults that bench/real_repos.py found on real repositories, each as a small git history.

Issue 11, item 8: every fault the real-repository bench finds becomes a test here, built
from a few commits made by the test (CI has no network). Where today's code fails, the test
was first `xfail(strict=True)`; the fixes landed and the markers are gone, so each test
now guards its fault. Each test names the repositories it was found on.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from layerlens.cli import main

from .harness import Repo, git

pytestmark = pytest.mark.integration


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the command line in process; (exit code, stdout)."""
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().out


def analyze_json(capsys: pytest.CaptureFixture[str], dockerfile: Path, *extra: str) -> dict:
    code, out = cli(capsys, "analyze", str(dockerfile), "--format", "json", *extra)
    assert code == 0
    return json.loads(out)


def chain_rates(doc: dict) -> dict[int, list[tuple[int, float]]]:
    """Per stage, (line, change_rate) of the operations in the cache chain, in build order."""
    out: dict[int, list[tuple[int, float]]] = {}
    for ins in doc["dockerfile"]["instructions"]:
        if ins["change_rate"] is not None:
            out.setdefault(ins["stage"], []).append((ins["start_line"], ins["change_rate"]))
    return out


def assert_chain_invariant(doc: dict) -> None:
    """Within a stage a miss at one operation is a miss at every later one (BuildKit keys
    each operation on its parent's key), so change_rate never decreases along the chain."""
    rates = chain_rates(doc)
    assert rates, "no operation carries a change_rate"
    for stage, ops in rates.items():
        for (la, ra), (lb, rb) in itertools.pairwise(ops):
            assert rb >= ra, f"stage {stage}: line {la} rate {ra} > line {lb} rate {rb}"


# --- Fault 1: no Dockerfile (or none that parses) at the oldest commit of the window -----
# Found on kuard (all four Dockerfiles), httpbin, traefik's webui, spring-petclinic,
# discourse_docker, nextcloud/docker, and zipkin, huginn and vaultwarden without --context:
# the oldest commit of the window has no Dockerfile, and every command ends in
# `AssertionError` (cache/replay.py `_chain`: `assert version.plan is not None`). Projects
# add Docker after their first commit, so this is the common case. A Dockerfile moved
# into place, or one that did not parse back then, ends the same way.
OLD_SHAPES = {
    "younger": (None, None),
    "renamed": ("docker/Dockerfile", None),
    "unparseable": ("Dockerfile", "FROM alpine\nCOPY --bogus app.py /app/\n"),
}


def no_plan_at_oldest_repo(root: Path, shape: str) -> Path:
    """Three commits; at the first, the Dockerfile is absent, elsewhere, or broken."""
    where, text = OLD_SHAPES[shape]
    r = Repo(root)
    r.write("app.py", "print(1)\n")
    if where is not None:
        r.write(where, text or "FROM alpine\nCOPY app.py /app/\nRUN echo build\n")
    r.commit("before docker")
    if where is not None and where != "Dockerfile":
        (root / where).unlink()
    r.write("Dockerfile", "FROM alpine\nCOPY app.py /app/\nRUN echo build\n")
    r.commit("the Dockerfile as it is today")
    r.write("app.py", "print(2)\n")
    r.commit("change the app")
    return root / "Dockerfile"


@pytest.mark.parametrize("shape", sorted(OLD_SHAPES))
@pytest.mark.parametrize("command", ["analyze", "suggest"])
def test_no_plan_at_oldest_commit_reports(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, shape: str) -> None:
    df = no_plan_at_oldest_repo(tmp_path / "repo", shape)
    code, out = cli(capsys, command, str(df), "--format", "json")
    assert code in (0, 1)
    doc = json.loads(out)
    if command == "analyze":
        assert doc["replay"] is not None
        if shape != "unparseable":
            # A version of the file that no longer exists needs saying; a broken old
            # version does not matter to a replay of today's file.
            assert doc["notices"], "the treatment of the oldest commit gets a notice"
        # The COPY reads app.py, which the last commit changed.
        assert chain_rates(doc)[0][0][1] > 0
        assert_chain_invariant(doc)


def test_dockerfile_younger_than_window_gate(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    df = no_plan_at_oldest_repo(tmp_path / "repo", "younger")
    baseline = tmp_path / "baseline.json"
    code, _ = cli(capsys, "baseline", str(df), "-o", str(baseline))
    assert code == 0 and baseline.is_file()
    code, _ = cli(capsys, "check", str(df), "--baseline", str(baseline))
    assert code == 0


# --- Fault 2: the chain invariant breaks when the Dockerfile changed in the window ------
# Found on black (`RUN python -m venv` 100% -> the next RUN 7%), juice-shop and others:
# each commit is replayed with the Dockerfile as it was then, and rebuilds are counted per
# operation identity, so an operation whose text changed late in the window only counts
# the commits since. Along a chain a later operation can then rebuild less often than the
# one it follows, which no build cache can do.

def test_chain_invariant_when_dockerfile_changed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", "FROM alpine\nCOPY . /app\nRUN echo a\n")
    r.write("app.py", "0\n")
    r.commit()
    for i in range(1, 5):
        r.write("app.py", f"{i}\n")
        r.commit()
    r.write("Dockerfile", "FROM alpine\nCOPY . /app\nRUN echo b\n")
    r.commit("change the RUN")
    r.write("app.py", "5\n")
    r.commit()
    doc = analyze_json(capsys, tmp_path / "Dockerfile")
    # Every commit changed a file the COPY brings in (the Dockerfile is in the context too).
    assert chain_rates(doc)[0][0] == (2, 1.0)
    assert_chain_invariant(doc)


# --- Fault 3: suggest's "before" is not analyze's figure --------------------------------
# Found on black (61.3 s vs 67.5 s per commit): analyze prices the commits as built (older
# Dockerfile versions had another RUN), suggest prices today's file over the same window.
# Issue 11, "Done when": suggest's before equals analyze's figure for the same file.

def test_suggest_before_equals_analyze(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("req.txt", "flask\n")
    r.write("app.py", "0\n")
    r.write("Dockerfile", "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -U pip\n"
            "RUN pip install -r req.txt\n")
    r.commit()
    for i in range(1, 3):
        r.write("app.py", f"{i}\n")
        r.commit()
    r.write("Dockerfile", "FROM python:3.12\nWORKDIR /app\nCOPY . .\n"
            "RUN pip install -r req.txt\n")
    r.commit("drop a RUN")
    r.write("app.py", "3\n")
    r.commit()
    df = tmp_path / "Dockerfile"
    per_commit = analyze_json(capsys, df)["replay"]["per_commit"]["rebuild_seconds"]
    code, out = cli(capsys, "suggest", str(df), "--format", "json")
    assert code == 1
    befores = {s["savings"]["rebuild_seconds_per_commit_before"]
               for s in json.loads(out)["suggestions"] if s["savings"]}
    assert befores, "a reorder of `COPY . .` above the install carries measured savings"
    assert befores == {per_commit}


# --- Fault 4: two operations with the same text in one stage share their statistics -----
# Found on microservices-demo's adservice (`RUN chmod +x gradlew` on lines 24 and 28; the
# fault remains when today's text is replayed at every commit): rebuilds are counted per
# operation identity (stage + normalized text), so the two RUNs pool their rebuilds into
# the later one, whose rate then exceeds 1 and the next operation's, while the earlier
# one, an operation of the chain, reports no change_rate at all.

def test_repeated_instruction_text_in_a_stage(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", "FROM alpine\nCOPY gradlew ./\nRUN chmod +x gradlew\n"
            "RUN ./gradlew deps\nCOPY . .\nRUN chmod +x gradlew\nRUN ./gradlew build\n")
    r.write("gradlew", "a\n")
    r.write("App.java", "0\n")
    r.commit()
    r.write("gradlew", "b\n")
    r.commit("change the wrapper")
    for i in range(1, 3):
        r.write("App.java", f"{i}\n")
        r.commit()
    doc = analyze_json(capsys, tmp_path / "Dockerfile")
    rates = {i["start_line"]: i["change_rate"] for i in doc["dockerfile"]["instructions"]}
    # 3 commits replayed: the wrapper change misses from line 2, the others from line 5.
    third = pytest.approx(1 / 3, abs=1e-5)  # JSON rounds rates to 6 places
    assert rates == {1: None, 2: third, 3: third, 4: third, 5: 1.0, 6: 1.0, 7: 1.0}
    assert_chain_invariant(doc)


# --- Fault 5: an empty window claims a tracked Dockerfile is untracked, and rates of 0 ----
# Found probing issue 11's list of history shapes (`--since` after the newest commit): the
# notice says the Dockerfile "is not tracked by git" (it is), and with no commit replayed
# every rate and per-commit figure prints 0 where nothing is known (0 of 0 commits).

def test_empty_window(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = Repo(tmp_path)
    r.write("Dockerfile", "FROM alpine\nCOPY . /app\n")
    r.write("app.py", "0\n")
    r.commit()
    doc = analyze_json(capsys, tmp_path / "Dockerfile", "--since", "2099-01-01")
    assert doc["notices"], "an empty window gets a notice"
    assert not any("not tracked" in n for n in doc["notices"]), doc["notices"]
    assert [i["change_rate"] for i in doc["dockerfile"]["instructions"]] == [None, None]
    if doc["replay"] is not None:
        assert doc["replay"]["per_commit"]["rebuild_seconds"] is None


# --- Fault 6: the gate passes `COPY . .` moved above the dependency install ---------------
# Reported by issue 11 on saleor and confirmed here: `check` compares the as-built replay
# with the baseline, so a reorder that makes the install rebuild on every commit passes,
# before and after it is committed.

@pytest.mark.parametrize("committed", [False, True], ids=["uncommitted", "committed"])
def test_gate_fails_copy_all_above_install(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], committed: bool) -> None:
    r = Repo(tmp_path / "repo")
    r.write(".dockerignore", ".git\n")
    r.write("req.txt", "flask\n")
    r.write("app.py", "0\n")
    r.write("Dockerfile", "FROM python:3.12\nWORKDIR /app\nCOPY req.txt .\n"
            "RUN pip install -r req.txt\nCOPY . .\n")
    r.commit()
    for i in range(1, 6):
        r.write("app.py", f"{i}\n")
        r.commit()
    df = r.root / "Dockerfile"
    baseline = tmp_path / "baseline.json"
    assert cli(capsys, "baseline", str(df), "-o", str(baseline))[0] == 0
    r.write("Dockerfile", "FROM python:3.12\nWORKDIR /app\nCOPY . .\nCOPY req.txt .\n"
            "RUN pip install -r req.txt\n")
    if committed:
        r.commit("copy everything first")
    code, out = cli(capsys, "check", str(df), "--baseline", str(baseline), "--format", "json")
    assert code == 1
    lines = {v["line"] for v in json.loads(out)["violations"]}
    assert lines & {3, 5}, "the violation names the moved COPY or the install it now busts"


# --- Fault 7: a file name that is not UTF-8 makes the JSON report invalid UTF-8 ----------
# Found probing issue 11's list of history shapes (also on main at b82f6cb): the name's
# raw bytes reach `inputs.paths` of `analyze --format json` unescaped, so the document is
# not UTF-8 and a strict reader (json.load of the bytes) rejects it. Standards: output is
# valid UTF-8.

def test_non_utf8_file_name_keeps_json_utf8(tmp_path: Path) -> None:
    r = Repo(tmp_path)
    r.write("Dockerfile", "FROM alpine\nCOPY . /app\n")
    r.write("app.py", "0\n")
    r.commit()
    (tmp_path / os.fsdecode(b"caf\xe9.txt")).write_text("x\n")
    r.commit("a Latin-1 file name")
    out = subprocess.run([sys.executable, "-m", "layerlens", "analyze", "--format", "json",
                          str(tmp_path / "Dockerfile")], capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout.decode("utf-8"))  # strict: raises on invalid UTF-8
    assert any(p.startswith("caf") for p in doc["dockerfile"]["instructions"][1]["inputs"]
               ["paths"])


# --- Fault 8: submodules and LFS pointers in the context get no notice -------------------
# Found probing issue 11's list (item 2: "a defined, documented treatment and a one-line
# notice"): neither today's code nor main at b82f6cb says anything. A submodule counts by
# its recorded commit and an LFS pointer by its blob (README on main), but the user is not
# told; `cache/replay.submodule_note` exists and nothing calls it.

def with_submodule(r: Repo, tmp_path: Path) -> None:
    sub = Repo(tmp_path / "sub")
    sub.write("lib.py", "0\n")
    sub.commit()
    git(r.root, "-c", "protocol.file.allow=always", "submodule", "add", "-q",
        str(sub.root), "vendor/sub")


def with_lfs_pointer(r: Repo, _tmp_path: Path) -> None:
    r.write(".gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")
    r.write("model.bin", "version https://git-lfs.github.com/spec/v1\noid sha256:"
            + "4d7a2146" * 8 + "\nsize 12345678\n")


@pytest.mark.parametrize(("add", "word"), [(with_submodule, "submodule"),
                                           (with_lfs_pointer, "LFS")], ids=["submodule", "lfs"])
def test_submodule_and_lfs_pointer_get_a_notice(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], add, word: str) -> None:
    r = Repo(tmp_path / "repo")
    r.write("Dockerfile", "FROM alpine\nCOPY . /app\n")
    r.write("app.py", "0\n")
    add(r, tmp_path)
    r.commit()
    r.write("app.py", "1\n")
    r.commit()
    doc = analyze_json(capsys, r.root / "Dockerfile")
    assert any(word.lower() in n.lower() for n in doc["notices"]), doc["notices"]


# --- Fault: `--since` text git cannot read silently empties the window ---------------------
# Found by the new-user trial of issue 15 on uptime-kuma: `--since notadate` exited 0 with
# "fewer than two commits in the window". git's approxidate reads such text as *now*.

def test_since_git_cannot_read_is_an_error(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from layerlens.cli import main

    r = Repo(tmp_path)
    r.write("Dockerfile", "FROM alpine\nCOPY . /app\n")
    r.commit()
    assert main(["analyze", str(tmp_path / "Dockerfile"), "--since", "notadate"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--since 'notadate'" in err and "Traceback" not in err
    # a date git reads, however far back, is no error
    assert main(["analyze", str(tmp_path / "Dockerfile"), "--since", "20 years ago"]) == 0
