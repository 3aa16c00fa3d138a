from __future__ import annotations

import json
import subprocess
import sys

from .helpers import by_rule, static, with_history

DF = "FROM a\nWORKDIR /app\nCOPY . .\nRUN make\n"


def test_pragma_and_select_ignore(tmp_path) -> None:
    df = ("FROM debian\n# layerlens ignore=LL004\nRUN apt-get update && apt-get install -y x\n"
          "RUN rm -rf /var/lib/apt/lists/*\n")
    assert by_rule(static(tmp_path / "a", df), "LL004") == []
    df2 = "# layerlens ignore=LL005\n" + DF
    assert by_rule(static(tmp_path / "b", df2, {"x": "1"}), "LL005") == []
    assert by_rule(static(tmp_path / "c", DF, {"x": "1"}, ignore={"LL005"}), "LL005") == []


def test_cli_formats_and_exit_codes(tmp_path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM a\nCOPY x /x\n")
    (tmp_path / "x").write_text("1")
    base = [sys.executable, "-m", "layerlens", "suggest", str(tmp_path)]
    res = subprocess.run(base, capture_output=True, text=True)
    assert res.returncode == 0 and "nothing to suggest" in res.stdout
    (tmp_path / "Dockerfile").write_text(DF)
    res = subprocess.run([*base, "--format", "json"], capture_output=True, text=True)
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    assert {"suggestions", "rewritten"} <= set(doc)
    assert {"rule", "title", "lines", "fixable", "savings"} <= set(doc["suggestions"][0])
    res = subprocess.run([*base, "--format", "sarif", "--exit-zero"], capture_output=True,
                         text=True)
    assert res.returncode == 0
    sarif = json.loads(res.stdout)
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]


def test_write_applies_no_unsafe_fix_without_the_flag(tmp_path) -> None:
    files = {"src/a.c": "1", "docs/x.md": "d", ".dockerignore": ".git\n"}
    edits = [("docs/x.md", f"d{i}") for i in range(4)]
    rep = with_history(tmp_path, DF, files, edits)
    assert any(s.fix_class == "unsafe" for s in rep.suggestions)
    assert "LL005" not in rep.applied and rep.rewritten_ignore is None
    rep2 = with_history(tmp_path / "u", DF, files, edits, unsafe_fixes=True)
    assert "LL005" in rep2.applied and "docs" in rep2.rewritten_ignore.split()


def test_readme_rules_table_is_generated_from_the_rules() -> None:
    from pathlib import Path

    from layerlens.suggest.rules import RULES, rules_table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert rules_table() in readme
    for r in RULES:  # metadata declared once, complete
        assert r.title and r.reason and r.docs and set(r.fixes) <= {"safe", "unsafe", "hint"}


def test_verify_sets_per_build_args_the_user_left_unset(tmp_path) -> None:
    # a new-user trial: LL003 moved ARG GIT_SHA past a RUN that stamps it, and --verify,
    # building both sides with GIT_SHA empty, called the images identical
    from layerlens.analysis import AnalyzeOptions, analyze
    from layerlens.suggest.engine import verify_build_args

    (tmp_path / "Dockerfile").write_text("FROM a\nARG GIT_SHA\nARG BUILD_DATE\nRUN stamp\n")
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile", build_args={"BUILD_DATE": "today"}))
    args = verify_build_args(a)
    assert args["BUILD_DATE"] == "today"
    assert args["GIT_SHA"] and args["GIT_SHA"] != ""
