"""Check reports: text, JSON, SARIF, GitHub annotations, JUnit XML, Markdown."""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from layerlens.gate.check import CheckResult, Finding


def _finding_json(f: Finding) -> dict[str, Any]:
    return {"metric": f.metric, "subject": f.subject, "line": f.line, "baseline": f.baseline,
            "current": f.current, "growth": f.growth, "budget": f.budget, "message": f.message}


def as_json(res: CheckResult, dockerfile: str) -> str:
    return json.dumps({
        "dockerfile": dockerfile, "ok": res.ok,
        "violations": [_finding_json(f) for f in res.violations],
        "improvements": [_finding_json(f) for f in res.improvements],
        "notices": list(res.notices),
    }, indent=2) + "\n"


def as_text(res: CheckResult, dockerfile: str) -> str:
    out = []
    if res.ok:
        out.append(f"{dockerfile}: within budget ({len(res.checked)} checks)")
    else:
        out.append(f"{dockerfile}: {len(res.violations)} over budget")
    for f in res.violations:
        where = f"{dockerfile}:{f.line}: " if f.line else f"{dockerfile}: "
        out.append(f"  FAIL {where}{f.message} [budget: {f.budget}]")
    for f in res.improvements:
        out.append(f"  better: {f.message}")
    out += [f"  note: {n}" for n in res.notices]
    return "\n".join(out) + "\n"


def as_github(res: CheckResult, dockerfile: str) -> str:
    def esc(s: str) -> str:
        return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    lines = []
    for f in res.violations:
        loc = f"file={dockerfile}" + (f",line={f.line}" if f.line else "")
        lines.append(f"::error {loc},title=layerlens {f.metric}::{esc(f.message)}")
    for n in res.notices:
        lines.append(f"::notice file={dockerfile},title=layerlens::{esc(n)}")
    return "\n".join(lines) + ("\n" if lines else "")


def as_markdown(res: CheckResult, dockerfile: str) -> str:
    head = "within budget :white_check_mark:" if res.ok else \
        f"{len(res.violations)} over budget :x:"
    out = [f"### layerlens check: `{dockerfile}` {head}", ""]
    if res.violations:
        out += ["| metric | where | baseline | now | budget |", "|---|---|---|---|---|"]
        for f in res.violations:
            out.append(f"| {f.metric} | {f.subject.replace('|', '/')} | "
                       f"{_num(f.baseline)} | {_num(f.current)} | {f.budget} |")
        out.append("")
        out += [f"- {f.message}" for f in res.violations]
    if res.improvements:
        out.append("")
        out += [f"- better: {f.message}" for f in res.improvements]
    out += [f"- note: {n}" for n in res.notices]
    return "\n".join(out) + "\n"


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.4g}"


def as_junit(res: CheckResult, dockerfile: str) -> str:
    cases = []
    for f in res.checked:
        name = quoteattr(f"{f.metric}: {f.subject}")
        body = ""
        if f in res.violations:
            body = f"<failure message={quoteattr(f.message)}>{escape(f.budget)}</failure>"
        cases.append(f'  <testcase classname="layerlens.{f.metric}" name={name}>{body}'
                     "</testcase>")
    suite = quoteattr("layerlens " + dockerfile)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name={suite} '
            f'tests="{len(res.checked)}" failures="{len(res.violations)}">\n'
            + "\n".join(cases) + "\n</testsuite>\n")


def as_sarif(res: CheckResult, dockerfile: str) -> str:
    from layerlens import __version__

    results = []
    for f in res.violations:
        loc: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": dockerfile}}}
        if f.line:
            loc["physicalLocation"]["region"] = {"startLine": f.line}
        results.append({"ruleId": f"budget/{f.metric}", "level": "error",
                        "message": {"text": f.message}, "locations": [loc]})
    return json.dumps({"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
                       "version": "2.1.0", "runs": [{"tool": {"driver": {
                           "name": "layerlens", "version": __version__}},
                           "results": results}]}, indent=2) + "\n"


FORMATS = {"text": as_text, "json": as_json, "github": as_github, "markdown": as_markdown,
           "junit": as_junit, "sarif": as_sarif}
