"""The current Dockerfile is the subject: replayed as it is now over the window's context
changes, on histories shaped like real projects (Docker added late, files appearing later,
edits that moved COPY lines, builder stages, compose files, ONBUILD)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from layerlens.analysis import AnalyzeOptions, analyze
from layerlens.cache.timeline import HistoryOptions
from layerlens.cli import main
from layerlens.report import analysis_json
from layerlens.suggest.engine import suggest

from .harness import Repo

pytestmark = pytest.mark.integration

GOOD = ("FROM node:20\nWORKDIR /app\nCOPY package.json ./\nRUN npm install\nCOPY . .\n"
        "RUN npm run build\n")
MOVED = ("FROM node:20\nWORKDIR /app\nCOPY . .\nCOPY package.json ./\nRUN npm install\n"
         "RUN npm run build\n")


def _rates(a) -> dict[int, float | None]:
    return {a.dockerfile.instructions[i].start_line: s.change_rate
            for i, s in a.history.costs.instructions.items() if i >= 0}


def _assert_chain_never_decreases(a) -> None:
    """Within a stage, along its cache chain, a later operation rebuilds at least as often."""
    plan_stages: dict[int, list[float]] = {}
    for i, s in sorted(a.history.costs.instructions.items()):
        ins = a.dockerfile.instructions[i] if i >= 0 else None
        if ins is None or s.change_rate is None or ins.flag("link") is not None:
            continue
        plan_stages.setdefault(a.dockerfile.instructions[i].stage, []).append(s.change_rate)
    for rates in plan_stages.values():
        assert rates == sorted(rates), rates


def _node_project(root: Path) -> Repo:
    r = Repo(root)
    r.write(".dockerignore", ".git\n")
    r.write("package.json", '{"v": 0}\n')
    r.write("src/a.js", "0\n")
    return r


def test_dockerfile_younger_than_the_window(tmp_path: Path) -> None:
    # Projects add Docker after their first commit: the oldest commits have no Dockerfile.
    r = _node_project(tmp_path)
    r.commit()
    r.write("src/a.js", "1\n")
    r.commit()
    r.write("Dockerfile", GOOD)
    added = r.commit()
    for i in range(3):
        r.write("src/a.js", f"x{i}\n")
        r.commit()
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    assert a.history is not None
    assert a.history.replay.first == added
    assert a.history.setup.start == 2
    assert len(a.history.costs.commits) == 3
    assert any("was added (or moved there)" in n and added[:12] in n for n in a.notices)
    assert _rates(a)[3] == 0.0 and _rates(a)[5] == 1.0
    # as built, the commits before the Dockerfile existed build nothing, without a crash
    b = analyze(AnalyzeOptions(tmp_path / "Dockerfile", history=HistoryOptions(as_built=True)))
    assert b.history.as_built is not None
    errors = [c.error for c in b.history.as_built.costs.commits]
    assert errors[0] and "no Dockerfile" in errors[0]


def test_dockerfile_added_in_the_only_commit_window_has_unknown_rates(tmp_path: Path) -> None:
    r = _node_project(tmp_path)
    r.write("Dockerfile", GOOD)
    r.commit()
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    assert a.history.costs.commits == ()
    assert a.history.costs.mean_seconds is None
    assert all(s.change_rate is None for s in a.history.costs.instructions.values())
    doc = analysis_json(a)
    assert doc["replay"]["per_commit"]["rebuild_seconds"] is None
    assert all(i.get("change_rate") is None for i in doc["dockerfile"]["instructions"])
    assert any("nothing to replay" in n for n in a.notices)


def test_copy_source_that_appears_later_starts_the_window(tmp_path: Path) -> None:
    # umami's shape: the lock file the Dockerfile copies arrived after the Dockerfile.
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", "FROM alpine\nCOPY go.mod go.sum ./\nRUN go mod download\n"
            "COPY . .\n")
    r.write("go.mod", "module x\n")
    r.write("main.go", "0\n")
    r.commit()
    r.write("main.go", "1\n")
    r.commit()  # go.sum still absent: today's file cannot build here
    r.write("go.sum", "h1\n")
    arrived = r.commit()
    r.write("main.go", "2\n")
    r.commit()
    r.write("go.sum", "h2\n")
    r.commit()
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    assert a.history.replay.first == arrived
    assert [dict(c.rebuilt) for c in a.history.costs.commits] == [{0: 4}, {0: 2}]
    assert any("first builds at " + arrived[:12] in n for n in a.notices)
    _assert_chain_never_decreases(a)


def test_restarted_replay_equals_a_replay_from_the_first_build(tmp_path: Path) -> None:
    # analyze cuts the failed head off its first replay instead of replaying again; the
    # cut must equal a replay that starts where today's file first builds, root context
    # (.git changes at every commit) and a deletion included.
    from layerlens.cache.timeline import plan_of, replay_plan, restarted

    r = Repo(tmp_path)
    r.write("Dockerfile", "FROM alpine\nCOPY go.mod go.sum ./\nRUN go mod download\n"
            "COPY . .\nCOPY go.sum /x\n")
    r.write("go.mod", "module x\n")
    r.write("main.go", "0\n")
    r.commit()
    for i in range(3):
        r.write("main.go", f"{i + 1}\n")
        r.commit()
    r.write("go.sum", "h1\n")
    r.commit()
    for i in range(4):
        r.write("go.sum" if i % 2 else "b.go", f"{i}\n")
        if i == 2:
            (tmp_path / "b.go").unlink()
        r.commit()
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    setup = a.history.setup
    plan = plan_of(a.dockerfile, setup)
    whole = replay_plan(replace(setup, start=0), plan, a.matcher)
    assert whole.first_failed
    ok = next(i for i, c in enumerate(whole.commits) if not c.failed)
    fresh = replay_plan(replace(setup, start=ok + 1), plan, a.matcher)
    assert restarted(whole, ok, setup.history) == fresh
    assert a.history.replay == fresh
    assert len(fresh.commits) == 4


def test_a_failed_build_mid_window_is_left_out(tmp_path: Path) -> None:
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", "FROM alpine\nCOPY req.txt ./\nRUN install\nCOPY . .\n")
    r.write("req.txt", "a\n")
    r.write("main.py", "0\n")
    r.commit()
    r.write("main.py", "1\n")
    r.commit()
    (tmp_path / "req.txt").unlink()
    r.commit()  # the build fails: req.txt is absent
    r.write("req.txt", "b\n")
    r.commit()  # back, changed: a miss at the COPY against the last build that succeeded
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    commits = a.history.costs.commits
    assert [bool(c.failed) for c in commits] == [False, True, False]
    assert [dict(c.rebuilt) for c in commits] == [{0: 4}, {}, {0: 2}]
    assert a.history.costs.builds == 2
    rates = _rates(a)
    assert (rates[2], rates[3], rates[4]) == (0.5, 0.5, 1.0)
    assert any(":2: COPY sources are absent at 1 of 3" in n for n in a.notices)


def test_a_build_that_always_fails_has_unknown_rates(tmp_path: Path) -> None:
    # http-echo's shape: the Dockerfile copies a binary that CI builds first
    r = Repo(tmp_path)
    r.write("Dockerfile", "FROM scratch\nCOPY bin/app /app\n")
    r.write("main.go", "0\n")
    r.commit()
    r.write("main.go", "1\n")
    r.commit()
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    assert a.history.costs.builds == 0
    assert a.history.costs.mean_seconds is None
    assert all(s.change_rate is None for s in a.history.costs.instructions.values())
    assert any("fails at every commit" in n for n in a.notices)


def test_old_versions_of_the_file_do_not_blend_into_the_rates(tmp_path: Path) -> None:
    # juice-shop's shape: the history had COPY . . first; today's file copies the manifest
    # first. Rates along a chain can then never fall.
    r = _node_project(tmp_path)
    r.write("Dockerfile", MOVED)
    r.commit()
    for i in range(6):
        r.write("src/a.js", f"v{i}\n")
        r.commit()
    r.write("Dockerfile", GOOD)
    r.commit()
    for i in range(3):
        r.write("src/a.js", f"y{i}\n")
        r.commit()
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    rates = _rates(a)
    _assert_chain_never_decreases(a)
    # package.json never changed: the install never rebuilds, whatever the old file did;
    # every commit changes something `COPY . .` reads (the Dockerfile edit included).
    assert (rates[3], rates[4], rates[5], rates[6]) == (0.0, 0.0, 1.0, 1.0)


def test_unknown_push_sizes_are_unknown_not_zero(tmp_path: Path, capsys) -> None:
    r = _node_project(tmp_path)
    r.write("Dockerfile", GOOD)
    r.commit()
    r.write("src/a.js", "1\n")
    r.commit()
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    c = a.history.costs
    # the RUN layers' sizes are unknown without an image; the COPY's are known
    assert c.unknown_push_layers == 1
    assert c.mean_push_bytes is not None and c.mean_push_bytes > 0
    assert main(["analyze", str(tmp_path / "Dockerfile"), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["replay"]["push_bytes_complete"] is False
    assert doc["replay"]["unknown_size_layers"] == 1
    # a RUN-only rebuild: nothing known was pushed, so it is unknown, never 0
    r.write("Dockerfile", GOOD.replace("COPY . .\n", "COPY src src\n") + "RUN echo hi\n")
    r.commit()
    r.write(".dockerignore", ".git\nsrc\n")
    assert main(["analyze", str(tmp_path / "Dockerfile")]) == 0
    assert "push 0 B" not in capsys.readouterr().out


def test_builder_stage_layers_are_never_pushed(tmp_path: Path) -> None:
    r = _node_project(tmp_path)
    r.write("Dockerfile", "FROM node:20 AS build\nCOPY . /src\nRUN make\n"
            "FROM alpine\nCOPY --from=build /src/out /out\n")
    r.commit()
    r.write("src/a.js", "1\n")
    r.commit()
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    stats = a.history.costs.instructions
    copy_src = stats[1]
    assert copy_src.pushed is False and copy_src.expected_push_bytes == 0.0
    doc = analysis_json(a)
    entry = doc["dockerfile"]["instructions"][1]
    assert entry["cost"]["push_bytes"] == 0
    assert entry["cost"]["push_bytes_source"] == "not_in_final_image"


def test_suggest_before_equals_analyze(tmp_path: Path) -> None:
    r = _node_project(tmp_path)
    r.write("Dockerfile", MOVED)
    r.commit()
    for i in range(4):
        r.write("src/a.js", f"v{i}\n")
        r.commit()
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    rep = suggest(a)
    measured = [s for s in rep.suggestions if s.savings is not None and s.savings.commits]
    assert measured
    for s in measured:
        assert s.savings.before_seconds_per_commit == pytest.approx(
            a.history.costs.mean_seconds)


def test_target_selects_the_stage(tmp_path: Path, capsys) -> None:
    r = _node_project(tmp_path)
    r.write("Dockerfile", "FROM alpine AS dev\nCOPY . /src\nFROM alpine AS prod\n"
            "COPY package.json /p\n")
    r.commit()
    r.write("src/a.js", "1\n")
    r.commit()
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile", target="dev"))
    assert set(a.history.costs.instructions) == {1}
    assert a.history.costs.commits[0].rebuilt == ((0, 2),)
    b = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    assert set(b.history.costs.instructions) == {3}
    assert main(["analyze", str(tmp_path / "Dockerfile"), "--target", "nope"]) == 2
    err = capsys.readouterr().err
    assert "target stage 'nope' not found" in err and len(err.strip().splitlines()) == 1


def test_compose_file_gives_context_args_and_target(tmp_path: Path, capsys) -> None:
    r = Repo(tmp_path)
    r.write("app/main.py", "0\n")
    r.write("docker/Dockerfile", "FROM python:3.12 AS base\nARG FLAVOUR=plain\n"
            "COPY app/main.py /m\nFROM base AS final\nRUN echo $FLAVOUR\n")
    r.write("compose.yaml", "services:\n  web:\n    build:\n      context: .\n"
            "      dockerfile: docker/Dockerfile\n      target: base\n"
            "      args:\n        FLAVOUR: spicy\n")
    r.commit()
    assert main(["analyze", str(tmp_path / "docker" / "Dockerfile"), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["context"]["root"] == str(tmp_path)
    assert doc["replay"]["target"] == "base"
    assert any("compose.yaml builds this Dockerfile (service web)" in n
               for n in doc["notices"])
    assert main(["analyze", str(tmp_path / "docker" / "Dockerfile"), "--no-compose",
                 "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["context"]["root"] == str(tmp_path / "docker")
    assert any("--context" in n for n in doc["notices"])


def test_bake_file_gives_context(tmp_path: Path, capsys) -> None:
    r = Repo(tmp_path)
    r.write("app/main.py", "0\n")
    r.write("deploy/Dockerfile", "FROM python:3.12\nCOPY app /app\n")
    r.write("docker-bake.hcl", 'target "api" {\n  context = "."\n'
            '  dockerfile = "deploy/Dockerfile"\n  args = { A = "1" }\n}\n')
    r.commit()
    assert main(["analyze", str(tmp_path / "deploy" / "Dockerfile"), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["context"]["root"] == str(tmp_path)
    assert any("bake target api" in n for n in doc["notices"])


def test_onbuild_triggers_run_in_the_child_stage(tmp_path: Path) -> None:
    r = _node_project(tmp_path)
    r.write("Dockerfile", "FROM node:20 AS base\nONBUILD COPY src /src\n"
            "FROM base\nRUN build\n")
    r.commit()
    r.write("package.json", '{"v": 1}\n')
    r.commit()  # not read by the trigger
    r.write("src/a.js", "1\n")
    r.commit()  # read by the trigger: the child rebuilds from it
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    commits = a.history.costs.commits
    assert [dict(c.rebuilt) for c in commits] == [{}, {1: 2}]
    assert a.history.costs.instructions[3].change_rate == pytest.approx(1 / 2)


def test_check_fails_when_copy_all_moves_above_the_install(tmp_path: Path, capsys,
                                                            monkeypatch) -> None:
    # what the gate says, one finding per line (tests/test_text_width.py checks the layout)
    monkeypatch.setenv("COLUMNS", "400")
    r = _node_project(tmp_path)
    r.write(".dockerignore", ".git\n.layerlens-baseline.json\n")
    r.write("Dockerfile", GOOD)
    r.commit()
    for i in range(5):
        r.write("src/a.js", f"v{i}\n")
        r.commit()
    df = str(tmp_path / "Dockerfile")
    assert main(["baseline", df]) == 0
    assert main(["check", df]) == 0
    capsys.readouterr()
    # uncommitted: the file in front of the user is what is checked
    (tmp_path / "Dockerfile").write_text(MOVED)
    assert main(["check", df]) == 1
    out = capsys.readouterr().out
    # the text names FILE:LINE first, and the line once
    assert "Dockerfile:5: RUN npm install:" in out and "(line 5)" not in out
    # committed: the same
    r.commit()
    assert main(["check", df]) == 1
    assert "Dockerfile:5: RUN npm install:" in capsys.readouterr().out


def test_moved_dockerfile_and_context_start_where_it_arrived(tmp_path: Path) -> None:
    r = Repo(tmp_path)
    r.write("old/Dockerfile", "FROM alpine\nCOPY . /app\n")
    r.write("old/a.txt", "0\n")
    r.commit()
    r.write("old/a.txt", "1\n")
    r.commit()
    from .harness import git

    git(tmp_path, "mv", "old", "svc")
    moved = r.commit()
    r.write("svc/a.txt", "2\n")
    r.commit()
    a = analyze(AnalyzeOptions(tmp_path / "svc" / "Dockerfile"))
    assert a.history.replay.first == moved
    assert [dict(c.rebuilt) for c in a.history.costs.commits] == [{0: 2}]


def test_merges_symlinks_lfs_pointers_and_empty_windows(tmp_path: Path, capsys) -> None:
    from .harness import git

    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", "FROM alpine\nCOPY assets /assets\nCOPY . /app\n")
    r.write("assets/big.bin", "version https://git-lfs.github.com/spec/v1\noid sha256:"
            + "0" * 64 + "\nsize 999999999\n")
    r.write("main.c", "0\n")
    r.commit()
    (tmp_path / "link").symlink_to("main.c")
    r.commit()
    git(tmp_path, "checkout", "-q", "-b", "side")
    r.write("assets/big.bin", "version https://git-lfs.github.com/spec/v1\noid sha256:"
            + "1" * 64 + "\nsize 5\n")
    r.commit()
    git(tmp_path, "checkout", "-q", "main")
    r.write("main.c", "1\n")
    r.commit()
    git(tmp_path, "merge", "-q", "--no-ff", "-m", "merge", "side",
        env={"GIT_AUTHOR_DATE": "@1800000000 +0000", "GIT_COMMITTER_DATE": "@1800000000 +0000"})
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    # the merge counts by its first-parent diff: the LFS pointer changed under assets/
    assert [dict(c.rebuilt) for c in a.history.costs.commits] == [{0: 3}, {0: 3}, {0: 2}]
    # a window with no commits at all: unknown rates, a notice, no crash
    assert main(["analyze", str(tmp_path / "Dockerfile"), "--since", "2100-01-01",
                 "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["replay"]["per_commit"]["rebuild_seconds"] is None
    assert any("nothing to replay" in n for n in doc["notices"])


def test_scan_mines_the_repository_once(tmp_path: Path, monkeypatch, capsys) -> None:
    import subprocess as sp

    from layerlens.history import mine as mine_mod
    from layerlens.history.mine import MiningCache

    r = Repo(tmp_path)
    for svc in ("api", "web", "worker"):
        r.write(f"{svc}/Dockerfile", "FROM alpine\nCOPY x.txt /x\nCOPY . /app\n")
        r.write(f"{svc}/x.txt", "0\n")
    r.write("docs/readme.md", "0\n")
    r.commit()
    for i in range(3):
        r.write(f"{('api', 'web', 'worker')[i]}/x.txt", f"{i + 1}\n")
        r.write("docs/readme.md", f"{i + 1}\n")
        r.commit()
    cache = MiningCache()
    for svc in ("api", "web", "worker"):
        alone = analyze(AnalyzeOptions(tmp_path / svc / "Dockerfile"))
        shared = analyze(AnalyzeOptions(tmp_path / svc / "Dockerfile",
                                        history=HistoryOptions(mining=cache)))
        assert shared.history.costs == alone.history.costs
        assert shared.history.history.commits == alone.history.history.commits
    assert cache.passes == 1
    for svc in ("api", "web", "worker"):
        assert main(["baseline", str(tmp_path / svc / "Dockerfile")]) == 0
    calls = []
    real = sp.Popen

    def counting(cmd, *a, **kw):
        if "log" in cmd:
            calls.append(cmd)
        return real(cmd, *a, **kw)

    monkeypatch.setattr(mine_mod.subprocess, "Popen", counting)
    assert main(["scan", str(tmp_path), "--no-cache"]) == 0
    assert len(calls) == 1
    # with the on-disk cache warm (the baselines above mined it), scan mines nothing
    assert main(["scan", str(tmp_path)]) == 0
    assert len(calls) == 1


def test_copy_link_is_reused_when_earlier_layers_change(tmp_path: Path) -> None:
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", "FROM alpine\nCOPY src /src\nCOPY --link cfg.yml /etc/cfg.yml\n"
            "RUN build\n")
    r.write("src/a.c", "0\n")
    r.write("cfg.yml", "0\n")
    r.commit()
    r.write("src/a.c", "1\n")
    r.commit()  # the --link copy is reused; the RUN after it rebuilds
    r.write("cfg.yml", "1\n")
    r.commit()  # the --link copy and what follows rebuild
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    got = [sorted(a.dockerfile.instructions[i].start_line for i in c.rebuilt_instructions)
           for c in a.history.costs.commits]
    assert got == [[2, 4], [3, 4]]


def test_copy_from_a_rebuilt_stage_keys_on_content(tmp_path: Path) -> None:
    # issue 12, item 10: a README-only commit re-runs the build stage; the file the final
    # stage takes is made only from app.txt (a bounded `cat`), so its COPY --from hits, as
    # in BuildKit and buildah (tests/integration/test_cache_oracle.py)
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", "FROM alpine AS build\nCOPY . /src\nRUN cat /src/app.txt > /out.txt\n"
            "FROM alpine\nCOPY --from=build /out.txt /out.txt\n")
    r.write("app.txt", "1\n")
    r.write("README.md", "0\n")
    r.commit()
    r.write("README.md", "1\n")
    r.commit()
    r.write("app.txt", "2\n")
    r.commit()
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    assert [dict(c.rebuilt) for c in a.history.costs.commits] == [{0: 2}, {0: 2, 1: 5}]
    assert not any("upper bounds" in n for n in a.notices)


def test_copy_from_through_an_unknown_build_is_an_upper_bound(tmp_path: Path) -> None:
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", "FROM alpine AS build\nCOPY . /src\nRUN make -C /src > /out.txt\n"
            "FROM alpine\nCOPY --from=build /out.txt /out.txt\n")
    r.write("app.txt", "1\n")
    r.write("README.md", "0\n")
    r.commit()
    r.write("README.md", "1\n")
    r.commit()
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    assert dict(a.history.costs.commits[0].rebuilt) == {0: 2, 1: 5}
    assert any(":5: COPY takes files from another stage" in n and "upper bounds" in n
               for n in a.notices)


def test_several_copies_from_a_stage_share_one_notice(tmp_path: Path) -> None:
    # two stages take from the same unknown build: one notice naming both lines (line 9
    # is not a stage reference's own miss: line 8 before it already missed)
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", "FROM alpine AS build\nCOPY . /src\nRUN make -C /src\n"
            "FROM alpine AS docs\nRUN echo docs\nCOPY --from=build /out.txt /out.txt\n"
            "FROM alpine\nCOPY --from=build /lib.so /lib.so\n"
            "COPY --from=docs /out.txt /out.txt\n")
    r.write("app.txt", "1\n")
    r.commit()
    r.write("app.txt", "2\n")
    r.commit()
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    [n] = [n for n in a.notices if "upper bounds" in n]
    assert ":6,8: these 2 instructions take files from another stage" in n
    assert "line 6 at 1 commit, line 8 at 1 commit" in n and "from line 6 on" in n


def test_check_measures_as_the_baseline_was_made(tmp_path: Path, capsys, monkeypatch) -> None:
    # what the gate says, one finding per line (tests/test_text_width.py checks the layout)
    monkeypatch.setenv("COLUMNS", "400")
    # docker-php's and umami's shape in the trial: a baseline made with --context or
    # --since, then a plain `check`, must compare like with like
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n.layerlens-baseline.json\n")
    r.write("docker/Dockerfile", "FROM alpine\nCOPY app/req.txt /r\nRUN install\n"
            "COPY app /app\n")
    r.write("app/req.txt", "a\n")
    for i in range(6):
        r.write("app/main.py", f"{i}\n")
        r.commit()
    df = str(tmp_path / "docker" / "Dockerfile")
    assert main(["baseline", df, "--context", str(tmp_path), "--max-commits", "4",
                 "--no-compose"]) == 0
    doc = json.loads((tmp_path / "docker" / ".layerlens-baseline.json").read_text())
    assert doc["inputs"]["context"] == ".." and doc["inputs"]["max_commits"] == 4
    capsys.readouterr()
    assert main(["check", df, "--no-compose"]) == 0
    out = capsys.readouterr().out
    assert "as the baseline was made: --context" in out and "--max-commits 4" in out


def test_gate_outputs_survive_unwritable_summaries_and_odd_names(tmp_path: Path,
                                                                 capsys) -> None:
    import os

    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n.layerlens-baseline.json\n")
    r.write("Dockerfile", "FROM alpine\nCOPY src /src\n")
    r.write("src/a.txt", "0\n")
    r.commit()
    r.write("src/a.txt", "1\n")
    r.commit()
    df = str(tmp_path / "Dockerfile")
    assert main(["baseline", df]) == 0
    # a private key under a name with a control sequence and a byte that is not UTF-8: the
    # new LL006 finding names it
    odd = tmp_path / "src" / os.fsdecode(b"id_rsa\x01\x1b[2J\xff,a:b.pem")
    odd.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
                   "-----END OPENSSH PRIVATE KEY-----\n")
    r.commit()
    capsys.readouterr()
    # a summary that cannot be written is a warning; the verdict and annotations stand
    assert main(["check", df, "--format", "github", "--summary",
                 str(tmp_path / "no" / "such" / "s.md")]) == 1
    cap = capsys.readouterr()
    assert "::error" in cap.out and "cannot write the summary" in cap.err
    assert "\x1b" not in cap.out and "\\x1b" in cap.out
    for fmt in ("json", "sarif"):
        assert main(["check", df, "--format", fmt]) == 1
        out = capsys.readouterr().out
        doc = json.loads(out)
        assert "\\udcff" not in out and "\\\\xff" in out
        assert doc


def test_copy_from_a_stage_is_not_blamed_for_an_absent_context_file(tmp_path: Path,
                                                                    capsys) -> None:
    # shiori's shape: only the builder's COPY reads the (CI-built) context file; the
    # COPY --from lines take from the stage, so BuildKit fails at the builder's COPY alone
    r = Repo(tmp_path)
    r.write("Dockerfile", "FROM alpine AS builder\nCOPY dist/app /usr/bin/app\n"
                          "RUN chmod +x /usr/bin/app\nFROM scratch\n"
                          "COPY --from=builder /usr/bin/app /usr/bin/app\n")
    r.write("main.go", "0\n")
    r.commit()
    r.write("main.go", "1\n")
    r.commit()
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    absent = [n for n in a.notices if "COPY sources are absent" in n]
    assert len(absent) == 1 and "Dockerfile:2:" in absent[0], absent
    # a build that did not run has unknown costs, not 0
    assert main(["analyze", str(tmp_path / "Dockerfile"), "--format", "json"]) == 0
    replay = json.loads(capsys.readouterr().out)["replay"]
    assert replay["totals"]["rebuild_seconds"] is None
    for c in replay["commits"]:
        assert c["failed_instructions"] == [1]
        assert (c["rebuild_seconds"], c["push_bytes"], c["pull_bytes"]) == (None, None, None)


def test_a_wildcard_fails_the_build_only_while_its_directory_is_absent(tmp_path: Path) -> None:
    # FreshRSS's shape (COPY ./Docker/*.Apache.conf ...): the build fails while Docker/
    # is absent, and succeeds while it exists, even when the wildcard matches nothing
    r = Repo(tmp_path)
    r.write(".dockerignore", ".git\n")
    r.write("Dockerfile", "FROM alpine\nCOPY conf/*.conf /etc/\nCOPY . /app\n")
    r.write("main.py", "0\n")
    r.write("conf/README", "x\n")
    r.commit()  # conf/ exists, nothing matches: builds
    r.write("main.py", "1\n")
    r.commit()
    (tmp_path / "conf" / "README").unlink()
    r.commit()  # conf/ absent: fails
    r.write("conf/README", "y\n")
    r.commit()
    r.write("conf/a.conf", "y\n")
    r.commit()
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    failed = [bool(c.failed) for c in a.history.costs.commits]
    assert failed == [False, True, False, False], failed
    assert any(":2: COPY sources are absent at 1 of 4" in n for n in a.notices), a.notices
