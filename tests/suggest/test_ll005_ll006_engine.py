from __future__ import annotations

import json
import subprocess
import sys

from .helpers import by_rule, static, with_history

DF = "FROM a\nWORKDIR /app\nCOPY . .\nRUN make\n"


def test_dockerignore_candidates_with_rebuilds(tmp_path) -> None:
    files = {"src/a.c": "1", "docs/x.md": "d", "tests/t.c": "t", ".dockerignore": ".git\n"}
    edits = [("docs/x.md", "d2"), ("tests/t.c", "t2"), ("src/a.c", "2"), ("docs/x.md", "d3")]
    rep = with_history(tmp_path, DF, files, edits, select={"LL005"})
    [s] = by_rule(rep, "LL005")
    assert s.fixable and s.dockerignore == ".git\ndocs\ntests\n.dockerignore\nDockerfile\n"
    assert "docs (documentation, 1 file, caused 2 rebuild(s))" in s.message
    assert s.savings.rebuilds_avoided == 3


def test_named_paths_are_not_ignored(tmp_path) -> None:
    df = "FROM a\nWORKDIR /app\nCOPY . .\nRUN make test -C tests\n"
    rep = static(tmp_path, df, {"tests/t.c": "t", "docs/x.md": "d"}, select={"LL005"})
    [s] = by_rule(rep, "LL005")
    assert "tests" not in s.dockerignore.split()
    assert "docs" in s.dockerignore.split()


def test_secrets_are_hints(tmp_path) -> None:
    df = "FROM a\nENV API_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\nCOPY . .\n"
    rep = static(tmp_path, df, {".env": "DB_PASSWORD=hunter2\n"}, select={"LL006"})
    msgs = [s.message for s in by_rule(rep, "LL006")]
    assert any("API_TOKEN" in m for m in msgs) and any(".env" in m for m in msgs)
    assert all(not s.fixable for s in rep.suggestions)
    assert not any("hunter2" in m or "ghp_abc" in m for m in msgs)


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


def test_files_build_tools_read_are_never_offered(tmp_path) -> None:
    # black and locust: hatch-vcs reads .git, and pyproject names README.md.
    pyproject = ('[build-system]\nrequires = ["hatchling", "hatch-vcs"]\n'
                 '[project]\nname = "x"\nreadme = "README.md"\ndynamic = ["version"]\n'
                 '[tool.hatch.version]\nsource = "vcs"\n')
    df = "FROM python\nWORKDIR /src\nCOPY . .\nRUN pip install .\n"
    rep = with_history(tmp_path, df, {"pyproject.toml": pyproject, "README.md": "r",
                                      "docs/a.md": "d", "x/__init__.py": ""},
                       [("docs/a.md", "d2")], select={"LL005"})
    [s] = by_rule(rep, "LL005")
    offered = s.message.split(":", 1)[1]
    assert ".git " not in offered and "README.md" not in offered and "docs" in offered
    assert "hatch-vcs" in s.note and "pyproject.toml [project] readme" in s.note
    assert s.unsafe_reason


def test_git_kept_for_go_builds_and_git_commands(tmp_path) -> None:
    for run, why in (("go build -o /app .", "go build"), ("git describe --tags > /v", "git")):
        df = f"FROM golang\nWORKDIR /src\nCOPY . .\nRUN {run}\n"
        d = tmp_path / why.replace(" ", "_")
        rep = with_history(d, df, {"main.go": "package main\n", "docs/a.md": "d"},
                           [("docs/a.md", "d2")], select={"LL005"})
        [s] = by_rule(rep, "LL005")
        assert ".git " not in s.message.split(":", 1)[1] and why in s.note


def test_dockerfile_a_run_reads_is_not_offered(tmp_path) -> None:
    df = "FROM a\nWORKDIR /src\nCOPY . .\nRUN cp /src/Dockerfile /usr/share/doc/\n"
    rep = static(tmp_path, df, {"docs/a.md": "d"}, select={"LL005"})
    [s] = by_rule(rep, "LL005")
    assert "Dockerfile" not in s.dockerignore.split()


def test_write_applies_no_unsafe_fix_without_the_flag(tmp_path) -> None:
    files = {"src/a.c": "1", "docs/x.md": "d", ".dockerignore": ".git\n"}
    edits = [("docs/x.md", f"d{i}") for i in range(4)]
    rep = with_history(tmp_path, DF, files, edits)
    assert any(s.fix_class == "unsafe" for s in rep.suggestions)
    assert "LL005" not in rep.applied and rep.rewritten_ignore is None
    rep2 = with_history(tmp_path / "u", DF, files, edits, unsafe_fixes=True)
    assert "LL005" in rep2.applied and "docs" in rep2.rewritten_ignore.split()


def test_template_files_are_not_secrets_unless_values_look_real(tmp_path) -> None:
    df = "FROM a\nCOPY . .\n"
    files = {".env.example": "DB_PASSWORD=changeme-please\nAPI_TOKEN=your-token-here\n",
             ".env.default": "SECRET_KEY=\n",
             "config/.env.dist": "GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n"}
    rep = static(tmp_path, df, files, select={"LL006"})
    msgs = [s.message for s in by_rule(rep, "LL006")]
    assert not any(".env.example" in m or ".env.default" in m for m in msgs), msgs
    assert any("config/.env.dist" in m for m in msgs), msgs


def test_readme_rules_table_is_generated_from_the_rules() -> None:
    from pathlib import Path

    from layerlens.suggest.rules import RULES, rules_table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert rules_table() in readme
    for r in RULES:  # metadata declared once, complete
        assert r.title and r.reason and r.docs and set(r.fixes) <= {"safe", "unsafe", "hint"}
