"""The gate on git as CI runners present it, each situation a real repository made here:
a checkout owned by another user, GIT_DIR leaked into a hook in a linked worktree, shallow
clones of depth 1 and 2, blobless clones (online and offline)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from layerlens.analysis import AnalyzeOptions, analyze
from layerlens.history.mine import GitRefused, find_repo

from .harness import Repo, git

pytestmark = pytest.mark.integration

LL = [sys.executable, "-m", "layerlens"]


def _project(root: Path, commits: int = 6) -> Repo:
    """A context whose app changes every commit and whose Dockerfile changed once."""
    r = Repo(root)
    git(root, "config", "uploadpack.allowFilter", "true")
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", "FROM a\nCOPY dep /dep\nCOPY app /app\nRUN make\n")
    r.write("dep", "1")
    for i in range(commits):
        r.write("app", str(i) * (i + 1))
        if i == commits // 2:
            r.write("Dockerfile", "FROM a\nCOPY dep /dep\nRUN make\nCOPY app /app\n")
        r.commit()
    return r


def _run(*args: str | Path, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # a wide COLUMNS: these tests read what the gate says, one finding per line, not how it
    # is laid out (tests/test_text_width.py checks that)
    return subprocess.run([*LL, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "COLUMNS": "400", **(env or {})})


def _baseline(repo: Path) -> Path:
    res = _run("baseline", repo)
    assert res.returncode == 0, res.stderr
    doc = json.loads((repo / ".layerlens-baseline.json").read_text())
    assert doc["replay"] and doc["replay"]["commits"] >= 2
    return repo / ".layerlens-baseline.json"


def _checked(out: str) -> dict[str, float]:
    doc = json.loads(out)
    return {f"{f['metric']} {f['subject']}": f["current"] for f in doc["checked"]}


def _clone(src: Path, dst: Path, *flags: str) -> Path:
    subprocess.run(["git", "clone", "-q", *flags, f"file://{src}", str(dst)], check=True)
    return dst


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to own a checkout as another uid")
def test_checkout_owned_by_another_user_names_safe_directory(tmp_path: Path) -> None:
    r = _project(tmp_path / "proj")
    bl = _baseline(r.root)
    full = _run("check", r.root, "--format", "json")
    assert full.returncode == 0, full.stdout + full.stderr
    for dirpath, dirnames, filenames in os.walk(r.root):
        for name in [*dirnames, *filenames, "."]:
            os.lchown(os.path.join(dirpath, name), 54321, 54321)
    bl.chmod(0o644)

    with pytest.raises(GitRefused) as info:
        find_repo(r.root)
    assert "safe.directory" in str(info.value)

    res = _run("analyze", r.root)
    assert res.returncode == 2
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1
    assert "dubious ownership" in err and f"safe.directory {r.root}" in err
    assert "not a git repository" not in err and "Traceback" not in err

    res = _run("check", r.root)
    assert res.returncode == 1
    assert "rebuild_seconds" in res.stdout and "push_bytes" in res.stdout
    assert "dubious ownership" in res.stdout and "safe.directory" in res.stdout
    assert _run("check", r.root, "--allow-unmeasured").returncode == 0

    # the remedy, given the way CI passes configuration (GIT_CONFIG_COUNT/KEY/VALUE): the
    # same figures as before the ownership changed
    trusted = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory",
               "GIT_CONFIG_VALUE_0": str(r.root)}
    res = _run("check", r.root, "--format", "json", env=trusted)
    assert res.returncode == 0, res.stdout
    assert _checked(res.stdout) == _checked(full.stdout)


def test_git_dir_leaked_into_a_hook_in_a_linked_worktree(tmp_path: Path) -> None:
    main = Repo(tmp_path / "main")
    main.write("svc/.dockerignore", "out.json\n")
    main.write("svc/Dockerfile", "FROM a\nCOPY lib /lib\nCOPY app /app\n")
    main.write("svc/lib", "lib")
    main.write("svc/app", "app")
    main.commit()
    wt = tmp_path / "wt"
    git(main.root, "worktree", "add", "-q", "-b", "feature", str(wt))
    sub = Repo.__new__(Repo)
    sub.root, sub._clock = wt, 1_700_000_000
    for i in range(4):
        sub.write("svc/.dockerignore", "out.json\n")
        sub.write("svc/Dockerfile", "FROM a\nCOPY lib /lib\nCOPY app /app\n")
        sub.write("svc/lib", "lib" if i < 2 else "lib2")
        sub.write("svc/app", f"app {i}")
        sub.commit()
    shell = _run("analyze", "svc", "--format", "json", cwd=wt)
    assert shell.returncode == 0, shell.stderr
    # A real pre-commit hook: git runs it with GIT_DIR (and GIT_INDEX_FILE, GIT_PREFIX...)
    # pointing at the worktree's git directory, from the worktree's top level.
    hook_out = tmp_path / "hook.json"
    hooks = Path(git(main.root, "rev-parse", "--git-common-dir").strip())
    if not hooks.is_absolute():
        hooks = main.root / hooks
    hook = hooks / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\nenv | grep '^GIT_' > {tmp_path / 'hook.env'}\n"
                    f"cd svc && {sys.executable} -m layerlens analyze . --format json "
                    f"> {hook_out}\n")
    hook.chmod(0o755)
    sub.write("other.txt", "unrelated")
    sub.commit()
    leaked = (tmp_path / "hook.env").read_text()
    assert "GIT_DIR=" in leaked or "GIT_INDEX_FILE=" in leaked  # the situation is real
    from_hook = json.loads(hook_out.read_text())
    from_shell = json.loads(shell.stdout)
    assert from_hook["replay"] is not None and from_hook["replay"]["window_commits"] == 5
    assert from_hook["replay"] == from_shell["replay"]
    for key in ("files", "bytes", "excluded_files"):
        assert from_hook["context"][key] == from_shell["context"][key], key


@pytest.mark.parametrize("depth", [1, 2])
def test_shallow_clone_fails_the_gate_naming_the_budgets(tmp_path: Path, depth: int) -> None:
    src = _project(tmp_path / "src")
    _baseline(src.root)
    src.commit("baseline")
    dst = _clone(src.root, tmp_path / f"depth{depth}", "--depth", str(depth))
    info = find_repo(dst)
    assert info is not None and info.shallow

    res = _run("check", dst)
    assert res.returncode == 1, res.stdout
    fails = [x for x in res.stdout.splitlines() if "FAIL" in x]
    assert {("rebuild_seconds" in x, "push_bytes" in x) for x in fails} == {
        (True, False), (False, True)}
    assert all("shallow clone" in x and "fetch-depth: 0" in x for x in fails)
    assert "tighten" not in res.stdout

    res = _run("check", dst, "--format", "json")
    doc = json.loads(res.stdout)
    assert doc["ok"] is False
    rates = {"rebuild_seconds", "layer_rebuild_seconds", "push_bytes"}
    assert {u["metric"] for u in doc["unmeasured"]} == rates
    assert {f["metric"] for f in doc["checked"]} >= {"total_size", "layer_size"}
    assert not any(f["metric"] in rates for f in doc["checked"])

    res = _run("check", dst, "--format", "markdown")
    assert "not measured" in res.stdout and "shallow clone" in res.stdout

    res = _run("check", dst, "--allow-unmeasured")
    assert res.returncode == 0 and "not measured (allowed)" in res.stdout
    (dst / ".layerlens.toml").write_text("[check]\nallow_unmeasured = true\n")
    assert _run("check", dst).returncode == 0

    # a baseline made in the shallow clone records no rates: a later full history is not
    # judged against a truncated window
    res = _run("baseline", dst, "-o", tmp_path / "shallow-baseline.json")
    assert json.loads((tmp_path / "shallow-baseline.json").read_text())["replay"] is None


def test_shorter_history_is_no_reason_to_tighten(tmp_path: Path) -> None:
    src = _project(tmp_path / "src", commits=8)
    _baseline(src.root)
    res = _run("check", src.root, "--max-commits", "3", "--format", "json")
    doc = json.loads(res.stdout)
    assert not any(f["metric"] in ("rebuild_seconds", "push_bytes")
                   for f in doc["improvements"])
    assert any("shorter history is no reason to tighten" in n for n in doc["notices"])
    assert not any("run `layerlens baseline` to tighten" in n for n in doc["notices"])


def test_blobless_clone_gives_the_full_clone_figures(tmp_path: Path) -> None:
    src = _project(tmp_path / "src")
    _baseline(src.root)
    src.commit("baseline")
    full = _clone(src.root, tmp_path / "full")
    blobless = _clone(src.root, tmp_path / "blobless", "--filter=blob:none")
    missing = git(blobless, "rev-list", "--objects", "--missing=print", "--all")
    assert any(x.startswith("?") for x in missing.splitlines())  # really partial
    want = _run("check", full, "--format", "json")
    got = _run("check", blobless, "--format", "json")
    assert want.returncode == got.returncode == 0, got.stdout + got.stderr
    assert _checked(got.stdout) == _checked(want.stdout)
    assert any(k.startswith("rebuild_seconds") for k in _checked(got.stdout))
    # --as-built reads the old Dockerfile versions: fetched in one request, same figures
    built_full = _run("analyze", full, "--as-built", "--format", "json")
    built = _run("analyze", blobless, "--as-built", "--format", "json")
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout)["replay"]["as_built"] == json.loads(built_full.stdout)[
        "replay"]["as_built"]

    # offline: replaying the current Dockerfile needs no old blob, so the figures stand
    offline = _clone(src.root, tmp_path / "offline", "--filter=blob:none")
    git(offline, "remote", "set-url", "origin", f"file://{tmp_path / 'gone'}")
    res = _run("check", offline, "--format", "json")
    assert res.returncode == 0 and _checked(res.stdout) == _checked(want.stdout)
    # --as-built reads every old Dockerfile version: they cannot be fetched, one line, and
    # the gate fails naming the budgets
    res = _run("analyze", offline, "--as-built")
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "partial clone" in res.stderr and "Traceback" not in res.stderr
    res = _run("check", offline, "--as-built")
    assert res.returncode == 1 and "partial clone" in res.stdout
    assert "budget rebuild_seconds" in res.stdout


def test_no_image_where_the_baseline_had_one(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM a\nCOPY app /app\n")
    (tmp_path / "app").write_text("x")
    baseline = {"schema": 1, "dockerfile": "Dockerfile", "image": True,
                "layers": [{"key": "stage 0: COPY app /app", "line": 2, "size_bytes": 1,
                            "compressed_bytes": None, "shadowed_bytes": 0}],
                "totals": {"context_bytes": 1, "size_bytes": 5_000_000,
                           "compressed_bytes": None, "shadowed_bytes": 0, "efficiency": 1.0,
                           "wasted_bytes": 0, "user_wasted_percent": 0.0},
                "replay": None, "suggestions": []}
    (tmp_path / ".layerlens-baseline.json").write_text(json.dumps(baseline))
    res = _run("check", tmp_path, "--no-history")
    assert res.returncode == 1
    fails = [x for x in res.stdout.splitlines() if "FAIL" in x]
    assert any("budget total_size" in x and "no image" in x for x in fails)
    assert any("budget layer_size" in x and "no image" in x for x in fails)
    assert _run("check", tmp_path, "--no-history", "--allow-unmeasured").returncode == 0
    # the context bytes are still compared: a grown context fails on its own
    (tmp_path / "app").write_bytes(os.urandom(3 * 1024 * 1024))
    res = _run("check", tmp_path, "--no-history", "--allow-unmeasured")
    assert res.returncode == 1 and "the build context copied" in res.stdout


def test_leaked_git_dir_is_dropped_from_git_calls(tmp_path: Path) -> None:
    one = _project(tmp_path / "one")
    other = Repo(tmp_path / "other")
    other.write("x", "1")
    other.commit()
    env = {"GIT_DIR": str(other.root / ".git"), "GIT_WORK_TREE": str(other.root),
           "GIT_INDEX_FILE": str(other.root / ".git" / "index"), "GIT_PREFIX": "sub/"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        info = find_repo(one.root)
        res = analyze(AnalyzeOptions(one.root / "Dockerfile"))
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert info is not None and info.toplevel == one.root and info.prefix == ""
    assert res.history is not None and res.history.window == 6
