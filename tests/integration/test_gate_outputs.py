"""Gate and suggest output read by machines: SARIF (against the OASIS 2.1.0 schema and GitHub's
upload rules), GitHub workflow commands, JUnit XML and Markdown, from a repository whose
names hold spaces, commas and colons and whose Dockerfile holds control characters."""

from __future__ import annotations

import json
import os
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
import xmlschema

from layerlens.cli import main
from layerlens.gate.check import CheckResult, Finding, Unmeasured
from layerlens.gate.output import as_github, as_junit, as_markdown, md_escape, xml_text

from ..conftest import DATA
from .harness import Repo

pytestmark = pytest.mark.integration

SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
JUNIT = xmlschema.XMLSchema10(DATA / "junit-10.xsd")
DF = ("# syntax=docker/dockerfile:1\n\nFROM python:3.12\nWORKDIR /app\nCOPY . /app\n"
      "RUN pip install -r requirements.txt\nENV AWS_SECRET_ACCESS_KEY=abc\n")


def _repo(tmp_path: Path) -> tuple[Repo, Path]:
    r = Repo(tmp_path / "my repo,x:y")
    r.write("svc dir/Dockerfile", DF)
    r.write("svc dir/requirements.txt", "flask\n")
    r.write("svc dir/app.py", "print(1)\n")
    r.commit()
    r.write("svc dir/app.py", "print(2)\n")
    r.commit()
    return r, r.root / "svc dir" / "Dockerfile"


def _github_rules(log: dict) -> None:
    """GitHub code scanning's documented SARIF limits and requirements."""
    assert len(log["runs"]) <= 20
    for run in log["runs"]:
        rules = run["tool"]["driver"]["rules"]
        assert len(rules) <= 25_000 and len(run["results"]) <= 25_000
        ids = [r["id"] for r in rules]
        assert len(ids) == len(set(ids))
        for rule in rules:
            assert rule["help"]["text"] and rule["shortDescription"]["text"]
        for res in run["results"]:
            assert res["ruleId"] in ids and ids[res["ruleIndex"]] == res["ruleId"]
            assert res["message"]["text"]
            assert 1 <= len(res["locations"]) <= 1000
            phys = res["locations"][0]["physicalLocation"]
            assert phys["region"]["startLine"] >= 1
            art = phys["artifactLocation"]
            assert art["uriBaseId"] == "%SRCROOT%"
            assert not art["uri"].startswith(("/", "file:")) and ".." not in art["uri"]
            assert res["partialFingerprints"]["layerlens/v1"]


def _sarif(capsys, argv: list[str]) -> dict:
    capsys.readouterr()
    main(argv)
    log = json.loads(capsys.readouterr().out)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    _github_rules(log)
    return log


def test_sarif_from_suggest_and_check_validates(tmp_path: Path, capsys, monkeypatch) -> None:
    r, df = _repo(tmp_path)
    main(["baseline", str(df)])
    r.write("svc dir/big.bin", os.urandom(3 * 1024 * 1024))  # the context grows
    r.commit()
    logs = []
    for cwd, arg in ((tmp_path, os.path.relpath(df, tmp_path)), (df.parent, "Dockerfile"),
                     (Path("/"), str(df))):
        monkeypatch.chdir(cwd)
        logs.append((_sarif(capsys, ["suggest", arg, "--format", "sarif", "--exit-zero"]),
                     _sarif(capsys, ["check", arg, "--format", "sarif"])))
    for sug, chk in logs:
        for log in (sug, chk):
            uris = {res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    for res in log["runs"][0]["results"]}
            assert uris == {"svc%20dir/Dockerfile"}  # whatever the cwd and the path given
        assert sug == logs[0][0] and chk == logs[0][1]
    sug, chk = logs[0]
    assert {x["ruleId"] for x in sug["runs"][0]["results"]} >= {"LL006"}
    rules = {x["ruleId"] for x in chk["runs"][0]["results"]}
    assert "budget/total_size" in rules
    # a finding without a line points at the first instruction (line 3, after the comment)
    image_wide = [x for x in chk["runs"][0]["results"] if x["ruleId"] == "budget/total_size"]
    assert image_wide[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 3

    # alerts keep their identity when lines move
    before = {(x["ruleId"], x["partialFingerprints"]["layerlens/v1"]): x["locations"][0][
        "physicalLocation"]["region"]["startLine"] for x in sug["runs"][0]["results"]}
    r.write("svc dir/Dockerfile", "# a new comment\n# and another\n" + DF)
    r.commit()
    monkeypatch.chdir(tmp_path)
    after = _sarif(capsys, ["suggest", str(df), "--format", "sarif", "--exit-zero"])
    moved = {(x["ruleId"], x["partialFingerprints"]["layerlens/v1"]): x["locations"][0][
        "physicalLocation"]["region"]["startLine"] for x in after["runs"][0]["results"]}
    common = set(before) & set(moved)
    assert common and all(moved[k] == before[k] + 2 for k in common)


def test_check_sarif_lists_unmeasured_budgets(tmp_path: Path, capsys) -> None:
    _, df = _repo(tmp_path)
    main(["baseline", str(df)])
    # a one-commit window has nothing to replay: the rates the baseline holds are unmeasured
    log = _sarif(capsys, ["check", str(df), "--max-commits", "1", "--format", "sarif"])
    assert [x["level"] for x in log["runs"][0]["results"]
            if x["ruleId"] == "budget/unmeasured"] == ["error", "error"]
    log = _sarif(capsys, ["check", str(df), "--max-commits", "1", "--format", "sarif",
                          "--allow-unmeasured"])
    assert [x["level"] for x in log["runs"][0]["results"]
            if x["ruleId"] == "budget/unmeasured"] == ["note", "note"]


def _result(dockerfile_text: str) -> CheckResult:
    f = Finding("layer_size", f"{dockerfile_text} (line 4)", 4, 10.0, 5_000_000.0,
                "growth over 1.0 MiB and 10%", f"{dockerfile_text} (line 4): layer size grew",
                dockerfile_text)
    u = Unmeasured("rebuild_seconds", "per commit", None, "growth over 5s",
                   "shallow clone: only 1 commit")
    return CheckResult((f,), (), (f,), ("a note, with: 100% | `ticks`",), (u,))


NASTY = "COPY a|b `x` \x1b[31mred\x00 50%,done: c\r\nd \udcff *e* <b>"


def _unescape(s: str) -> str:
    for code, ch in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        s = s.replace(code, ch)
    return s


def test_github_commands_escape_properties_and_messages() -> None:
    name = "svc,a:b/Docker%file"
    res = _result(NASTY)
    lines = as_github(res, name).splitlines()
    assert len(lines) == 3  # no raw line break survives inside a command
    messages = []
    for line in lines:
        assert line.startswith("::") and "\r" not in line
        kind, _, rest = line[2:].partition(" ")
        props, _, message = rest.partition("::")
        assert kind in ("error", "notice")
        parsed = dict(p.split("=", 1) for p in props.split(","))  # splits only where meant
        assert parsed["file"] == "svc%2Ca%3Ab/Docker%25file"
        assert _unescape(parsed["file"]) == name
        messages.append(_unescape(message))
    assert ",line=4," in lines[0]
    assert messages == [res.violations[0].message, res.unmeasured[0].message, res.notices[0]]


def test_junit_has_no_forbidden_characters_and_parses() -> None:
    xml = as_junit(_result(NASTY), "dir,with:colon/Dockerfile")
    root = ET.fromstring(xml.encode("utf-8"))  # an XML 1.0 parser: rejects what XML forbids
    JUNIT.validate(xml)
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "2" and suite.get("tests") == "2"
    cases = suite.findall("testcase")
    assert [c.find("failure") is not None for c in cases] == [True, True]
    assert "\\x1b" in cases[0].get("name") and "\\x00" in cases[0].get("name")
    assert xml_text("a\x00b\ufffe\udcffc\td") == "a\\x00b\\xfffe\\xdcffc\td"
    allowed = CheckResult((), (), (), (), _result("x").unmeasured, True)
    xml = as_junit(allowed, "Dockerfile")
    JUNIT.validate(xml)
    assert ET.fromstring(xml).find("testsuite/testcase/skipped") is not None


def test_markdown_escapes_pipes_and_backticks() -> None:
    md = as_markdown(_result(NASTY), "my|repo/`Dockerfile`")
    table = [x for x in md.splitlines() if x.startswith("| layer_size")]
    assert len(table) == 1
    cells = [c for c in table[0].replace("\\|", "").split("|")]
    assert len(cells) == 7  # 5 columns: the pipe in the Dockerfile text did not add one
    assert "`" not in md.replace("\\`", "")
    assert "\x1b" not in md and "\x00" not in md
    assert md_escape("a|b`c") == "a\\|b\\`c"
    assert "not measured" in md and "checked: layer_size (1)" in md
