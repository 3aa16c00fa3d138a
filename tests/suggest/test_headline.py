"""The headline `suggest` leads with: per-commit rebuild time and push bytes now, with the
safe fixes and with --unsafe-fixes, and per layer the share of builds that rebuild it; all
read from the replays the engine ran (layerlens/suggest/headline.py)."""

from __future__ import annotations

import pytest

from layerlens.suggest.output import headline_json, report_json, report_text

from .helpers import static, with_history

DF = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\n"
FILES = {"package.json": '{"name": "x"}\n', "package-lock.json": "{}\n", "src/a.js": "1\n",
         ".dockerignore": ".git\n"}
EDITS = [("src/a.js", "2\n"), ("src/a.js", "3\n"), ("package.json", '{"name": "y"}\n'),
         ("src/a.js", "4\n")]


def test_headline_figures_are_the_engine_replays(tmp_path) -> None:
    rep = with_history(tmp_path / "s", DF, FILES, EDITS)
    doc = headline_json(rep)
    assert doc is not None and doc["builds"] == 4
    cur, safe, unsafe = (doc["variants"][k] for k in ("current", "safe", "unsafe"))
    before = rep.variants[0].subject.analysis.history.costs
    assert cur["rebuild_seconds_per_commit"] == before.mean_seconds  # exact, not rounded
    assert cur["fixes"] == [] and "LL002" in unsafe["fixes"]
    assert "LL002" not in safe["fixes"]  # unsafe: measured for the headline, not applied
    assert rep.rewritten is None or "package.json" not in rep.rewritten.split("COPY . .")[0]
    assert unsafe["rebuild_seconds_per_commit"] < safe["rebuild_seconds_per_commit"]
    assert all(v["estimated"] for v in (cur, safe, unsafe))
    # With --unsafe-fixes the same rewrite is applied, and its measured total agrees.
    rep2 = with_history(tmp_path / "u", DF, FILES, EDITS, unsafe_fixes=True)
    total = rep2.total_savings
    assert total is not None
    assert total.after_seconds_per_commit == pytest.approx(unsafe["rebuild_seconds_per_commit"])
    assert headline_json(rep2)["variants"]["unsafe"]["fixes"] == unsafe["fixes"]
    layers = {r["instruction"]: r for r in doc["layers"]}
    npm_ci = layers["RUN npm ci"]
    assert npm_ci["rebuild_share_current"] == 1.0
    assert npm_ci["rebuild_share_unsafe"] == pytest.approx(1 / 4)  # only package.json's edit
    new = [r for r in doc["layers"] if r["line_current"] is None]
    assert new and all(r["rebuild_share_current"] is None for r in new)


def test_text_leads_with_the_headline(tmp_path) -> None:
    rep = with_history(tmp_path, DF, FILES, EDITS)
    text = report_text(rep, "Dockerfile", None)
    first = text.splitlines()[:4]
    assert first[0].startswith("Dockerfile: per commit, over 4 replayed builds")
    assert first[1].lstrip().startswith("now") and "rebuild" in first[1]
    assert first[2].lstrip().startswith("with the safe fixes")
    assert first[3].lstrip().startswith("with --unsafe-fixes") and "LL002" in first[3]
    assert "RUN npm ci" in text and "100% -> 100% -> 25%" in text
    assert report_json(rep)["headline"] == headline_json(rep)


def test_without_history_the_headline_says_unknown(tmp_path) -> None:
    rep = static(tmp_path, DF, FILES)
    assert headline_json(rep) is None
    assert report_text(rep, "Dockerfile", None).startswith(
        "Dockerfile: per-commit rebuild time unknown (no git history)")


def test_a_rewrite_that_fails_at_old_commits_is_compared_over_the_rest(tmp_path) -> None:
    # the lockfile arrives at the third commit: the rewrite copies it by name, so it fails
    # to build before that; its change is over the commits at which both build
    files = {k: v for k, v in FILES.items() if k != "package-lock.json"}
    edits = [("src/a.js", "2\n"), ("package-lock.json", "{}\n"), ("src/a.js", "3\n"),
             ("src/a.js", "4\n"), ("src/a.js", "5\n")]
    rep = with_history(tmp_path, DF, files, edits)
    assert "COPY package.json package-lock.json" in rep.variants[2].subject.text
    unsafe = headline_json(rep)["variants"]["unsafe"]
    assert unsafe["failed_builds"] == 1 and unsafe["builds"] == 4
    cur = rep.variants[0].subject.analysis.history.costs
    assert cur.builds == 5
    after = rep.variants[2].costs
    both = [b.rebuild_seconds for b, a in zip(cur.commits, after.commits, strict=True)
            if not a.failed]
    assert len(both) == 4
    assert unsafe["current_rebuild_seconds_per_commit"] == pytest.approx(sum(both) / 4)
    text = report_text(rep, "Dockerfile", None)
    assert "(the --unsafe-fixes rewrite fails to build at 1 commit where today's file" in text


def test_copy_from_a_rebuilt_stage_makes_the_headline_an_upper_bound(tmp_path) -> None:
    # healthchecks and lemmy: the headline counted a COPY --from as rebuilt at every commit
    # without the "upper bounds" notice analyze gives
    df = ("FROM a AS build\nWORKDIR /src\nCOPY . .\nRUN make\n"
          "FROM b\nCOPY --from=build /src/out /out\n")
    rep = with_history(tmp_path, df, {"a.c": "0", ".dockerignore": ".git\n"},
                       [("a.c", "1"), ("a.c", "2")])
    assert headline_json(rep)["upper_bounds_from_line"] == 6
    text = report_text(rep, "Dockerfile", None)
    assert "(upper bounds from line 6 on: the COPY --from at line 6 counts as rebuilt" in text


def test_no_upper_bound_without_a_stage_reference(tmp_path) -> None:
    rep = with_history(tmp_path, DF, FILES, EDITS)
    assert headline_json(rep)["upper_bounds_from_line"] is None
    assert "upper bounds" not in report_text(rep, "Dockerfile", None)


def test_when_today_s_file_never_builds_the_headline_says_no_build_replayed(tmp_path) -> None:
    # shiori's shape: the binary is built by CI, so every replayed build fails at its COPY
    df = ("FROM alpine AS builder\nCOPY dist/app /usr/bin/app\nRUN chmod +x /usr/bin/app\n"
          "FROM scratch\nCOPY --from=builder /usr/bin/app /usr/bin/app\n")
    rep = with_history(tmp_path, df, {"main.go": "0\n"}, [("main.go", "1\n"), ("main.go", "2\n")])
    doc = headline_json(rep)
    assert doc["builds"] == 0 and doc["no_build_replayed"] is True
    assert doc["current_failed_builds"] == 2
    assert all(v["failed_builds"] is None for v in doc["variants"].values())
    text = report_text(rep, "Dockerfile", None)
    assert "today's file fails to build at all 2 replayed commits" in " ".join(text.split())
