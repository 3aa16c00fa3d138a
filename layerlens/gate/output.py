"""Check reports: text, JSON, SARIF, GitHub annotations, JUnit XML, Markdown.

Every format says what was checked and what could not be (`unmeasured`), and each one is
written for the parser that reads it: GitHub workflow commands escape properties as well as
messages, JUnit XML drops the characters XML 1.0 forbids, Markdown escapes the punctuation
a Dockerfile's text could use to break a table or open a code span.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from layerlens.gate.check import CheckResult, Finding, Unmeasured
from layerlens.gate.config import METRICS


def _exact(metric: str, v: float | None) -> float | int | None:
    # bytes are whole numbers in JSON (31865938, not 31865938.0), as in the baseline
    return int(v) if v is not None and METRICS[metric][0] == "bytes" else v


def _finding_json(f: Finding) -> dict[str, Any]:
    return {"metric": f.metric, "subject": f.subject, "line": f.line,
            "baseline": _exact(f.metric, f.baseline), "current": _exact(f.metric, f.current),
            "growth": _exact(f.metric, f.growth), "budget": f.budget, "message": f.message}


def _unmeasured_json(u: Unmeasured) -> dict[str, Any]:
    return {"metric": u.metric, "subject": u.subject, "line": u.line, "budget": u.budget,
            "reason": u.reason, "message": u.message}


def as_json(res: CheckResult, dockerfile: str) -> str:
    return json.dumps({
        "dockerfile": dockerfile, "ok": res.ok,
        "violations": [_finding_json(f) for f in res.violations],
        "unmeasured": [_unmeasured_json(u) for u in res.unmeasured],
        "allow_unmeasured": res.allow_unmeasured,
        "improvements": [_finding_json(f) for f in res.improvements],
        "checked": [_finding_json(f) for f in res.checked],
        "notices": list(res.notices),
    }, indent=2) + "\n"


def _headline(res: CheckResult) -> str:
    parts = []
    if res.violations:
        parts.append(f"{len(res.violations)} over budget")
    if res.failing_unmeasured:
        n = len(res.failing_unmeasured)
        parts.append(f"{n} budget{'s' if n != 1 else ''} could not be measured")
    if not parts:
        # nothing compared is no pass to boast of: say so (the notes say what was absent)
        parts.append("within budget" if res.checked else "nothing measured to compare")
    tail = f"{len(res.checked)} checked"
    if res.unmeasured:
        tail += f", {len(res.unmeasured)} not measured"
        if res.allow_unmeasured:
            tail += " (allowed)"
    return f"{', '.join(parts)} ({tail})"


def as_text(res: CheckResult, dockerfile: str, width: int = 80) -> str:
    """The gate's verdict for people: the headline, then each broken or unmeasured budget,
    improvement and note, wrapped to WIDTH cells (names made safe for a terminal)."""
    from layerlens.jsonout import safe_text
    from layerlens.textfit import elide_middle, wrap

    shown = safe_text(dockerfile)
    head = _headline(res)
    out = wrap(f"{elide_middle(shown, max(20, width - len(head) - 2))}: {head}", width,
               indent="  ")

    def item(tag: str, text: str) -> None:
        out.extend(wrap(safe_text(text), width, first=f"  {tag} ", indent="      "))

    for f in res.violations:
        where = f"{dockerfile}:{f.line}: " if f.line else f"{dockerfile}: "
        # FILE:LINE leads already: the subject's own "(line N)" would say it twice
        msg = f.message.replace(f" (line {f.line})", "", 1) if f.line else f.message
        item("FAIL", f"{where}{msg} [budget: {f.budget}]")
    for u in res.unmeasured:
        where = f"{dockerfile}:{u.line}: " if u.line else f"{dockerfile}: "
        tag = "not measured (allowed)" if res.allow_unmeasured else "FAIL"
        item(tag, f"{where}budget {u.metric} ({u.budget}): {u.message}")
    if res.failing_unmeasured:
        out.extend(wrap("(pass --allow-unmeasured, or set allow_unmeasured = true, to accept "
                        "budgets that cannot be measured here)", width, first="  ",
                        indent="   "))
    for f in res.improvements:
        item("better:", f.message)
    for n in res.notices:
        item("note:", n)
    return "\n".join(out) + "\n"


# GitHub workflow commands (actions/toolkit, packages/core/src/command.ts): the message is
# escaped with escapeData (%, CR, LF); property values with escapeProperty, which also
# escapes ':' and ',' (they delimit properties).
def _gh_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(s: str) -> str:
    return _gh_data(s).replace(":", "%3A").replace(",", "%2C")


def _gh_command(kind: str, props: dict[str, str | int | None], message: str) -> str:
    body = ",".join(f"{k}={_gh_prop(str(v))}" for k, v in props.items() if v is not None)
    return f"::{kind} {body}::{_gh_data(message)}" if body else f"::{kind}::{_gh_data(message)}"


def as_github(res: CheckResult, dockerfile: str) -> str:
    lines = []
    for f in res.violations:
        lines.append(_gh_command("error", {"file": dockerfile, "line": f.line,
                                           "title": f"layerlens {f.metric}"}, f.message))
    for u in res.unmeasured:
        kind = "warning" if res.allow_unmeasured else "error"
        lines.append(_gh_command(kind, {"file": dockerfile, "line": u.line,
                                        "title": f"layerlens {u.metric} not measured"},
                                 u.message))
    for n in res.notices:
        lines.append(_gh_command("notice", {"file": dockerfile, "title": "layerlens"}, n))
    return "\n".join(lines) + ("\n" if lines else "")


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~])")


def md_escape(s: str) -> str:
    """Text from a Dockerfile made inert in GitHub-flavoured Markdown: every ASCII
    punctuation mark that could start markup is backslash-escaped (CommonMark 2.4; GFM
    honours `\\|` inside table cells), line breaks become spaces so a table row stays one
    line, and other control characters go."""
    s = re.sub(r"[\r\n\t]+", " ", s)
    s = "".join(ch for ch in s if ch >= " " and ch != "\x7f")
    return _MD_SPECIAL.sub(r"\\\1", s)


def as_markdown(res: CheckResult, dockerfile: str) -> str:
    icon = ":white_check_mark:" if res.ok else ":x:"
    out = [f"### layerlens check: {md_escape(dockerfile)}: {md_escape(_headline(res))} {icon}",
           ""]
    if res.violations:
        out += ["| metric | where | baseline | now | budget |", "|---|---|---|---|---|"]
        for f in res.violations:
            out.append(f"| {f.metric} | {md_escape(f.subject)} | {_num(f.baseline)} | "
                       f"{_num(f.current)} | {md_escape(f.budget)} |")
        out.append("")
        out += [f"- {md_escape(f.message)}" for f in res.violations]
        out.append("")
    if res.unmeasured:
        state = "not measured (allowed)" if res.allow_unmeasured else "not measured: failing"
        out += [f"**{state}**", "", "| budget | where | reason |", "|---|---|---|"]
        for u in res.unmeasured:
            out.append(f"| {u.metric} ({md_escape(u.budget)}) | {md_escape(u.subject)} | "
                       f"{md_escape(u.reason)} |")
        out.append("")
    measured = sorted({f.metric for f in res.checked})
    out.append("checked: " + (", ".join(f"{m} ({sum(1 for f in res.checked if f.metric == m)})"
                                         for m in measured) or "nothing"))
    if res.improvements:
        out.append("")
        out += [f"- better: {md_escape(f.message)}" for f in res.improvements]
    out += [f"- note: {md_escape(n)}" for n in res.notices]
    return "\n".join(out) + "\n"


def _num(v: float | None) -> str:
    if v is None:
        return "\\-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.4g}"


# XML 1.0 section 2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
# [#x10000-#x10FFFF]. Anything else (C0 controls, lone surrogates from undecodable file
# names, U+FFFE/U+FFFF) makes the document ill-formed; it is shown as \xNN instead.
_XML_BAD = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(s: str) -> str:
    return _XML_BAD.sub(lambda m: f"\\x{ord(m.group()):02x}", s)


def as_junit(res: CheckResult, dockerfile: str) -> str:
    """JUnit XML in the common shape (the Jenkins xunit `junit-10.xsd`, which GitLab and
    most CI readers accept): <testsuites><testsuite file=...> with one <testcase> per
    comparison; a broken budget is a <failure>, a budget that could not be measured is a
    <failure> too, or <skipped> when unmeasured budgets are allowed."""
    suites = ET.Element("testsuites")
    suites.append(_junit_suite(res, dockerfile))
    return _junit_doc(suites)


def _junit_suite(res: CheckResult, dockerfile: str) -> ET.Element:
    failures = len(res.violations) + len(res.failing_unmeasured)
    skipped = len(res.unmeasured) - len(res.failing_unmeasured)
    suite = ET.Element("testsuite", {
        "name": xml_text(f"layerlens {dockerfile}"),
        "tests": str(len(res.checked) + len(res.unmeasured)), "failures": str(failures),
        "errors": "0", "skipped": str(skipped), "file": xml_text(dockerfile)})
    failing = {id(f) for f in res.violations}
    for f in res.checked:
        where = f" (line {f.line})" if f.line and f"line {f.line}" not in f.subject else ""
        case = ET.SubElement(suite, "testcase", {
            "classname": f"layerlens.{f.metric}",
            "name": xml_text(f"{f.metric}: {f.subject}{where}")})
        if id(f) in failing:
            el = ET.SubElement(case, "failure", {"message": xml_text(f.message),
                                                 "type": "budget"})
            el.text = xml_text(f"budget: {f.budget}")
    for u in res.unmeasured:
        case = ET.SubElement(suite, "testcase", {
            "classname": f"layerlens.{u.metric}", "name": xml_text(f"{u.metric}: {u.subject}")})
        if res.allow_unmeasured:
            ET.SubElement(case, "skipped", {"message": xml_text(u.message)})
        else:
            ET.SubElement(case, "failure", {"message": xml_text(u.message),
                                            "type": "unmeasured"})
    return suite


def _junit_doc(suites: ET.Element) -> str:
    for attr in ("tests", "failures", "errors"):
        suites.set(attr, str(sum(int(s.get(attr, "0")) for s in suites)))
    ET.indent(suites)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(suites, encoding="unicode") + "\n")


_RULE_HELP = ("Fails when {what} breaks its budget. Budgets live in [check.budgets] of "
              ".layerlens.toml (or [tool.layerlens.check.budgets] in pyproject.toml) or come "
              "from --budget {metric}.LIMIT=VALUE; `layerlens baseline` records new figures.")


def sarif_rules() -> list:
    from layerlens.sarif import SarifRule

    rules = [SarifRule(f"budget/{m}", m.replace("_", "-"), f"{spec[1].capitalize()} over budget",
                       _RULE_HELP.format(what=spec[1], metric=m))
             for m, spec in METRICS.items()]
    rules.append(SarifRule(
        "budget/unmeasured", "unmeasured", "A budget that could not be measured",
        "A budget applies (the baseline has the figure, or it sets a max or min) but this run "
        "could not measure it: no image, no or shallow git history, or git refused the "
        "repository. A gate that cannot measure does not pass; fetch the full history, pass "
        "--image, or accept it with --allow-unmeasured (allow_unmeasured = true)."))
    rules.append(SarifRule(
        "budget/new-suggestion", "new-suggestion", "A new suggestion of a rule in fail_on_new",
        "The Dockerfile gained a finding of a rule listed in fail_on_new (--fail-on) that the "
        "baseline does not have. See `layerlens suggest` for the finding and its fix."))
    return rules


def as_sarif(res: CheckResult, dockerfile: str) -> str:
    from layerlens.sarif import SarifResult, sarif_log

    results = []
    for f in res.violations:
        rule = "budget/new-suggestion" if f.metric == "suggestion" else f"budget/{f.metric}"
        results.append(SarifResult(rule, "error", f.message, f.line, f"{f.metric} {f.key}",
                                   {"baseline": f.baseline, "current": f.current,
                                    "budget": f.budget}))
    for u in res.unmeasured:
        results.append(SarifResult("budget/unmeasured",
                                   "note" if res.allow_unmeasured else "error", u.message,
                                   u.line, f"{u.metric} {u.key}",
                                   {"metric": u.metric, "budget": u.budget, "reason": u.reason}))
    return json.dumps(sarif_log(sarif_rules(), results, Path(dockerfile), res.first_line),
                      indent=2) + "\n"


FORMATS = {"text": as_text, "json": as_json, "github": as_github, "markdown": as_markdown,
           "junit": as_junit, "sarif": as_sarif}


def combine(fmt: str, results: list[tuple[str, CheckResult | str]], skipped: list[str],
            width: int = 80) -> str:
    """One report for `scan`: each Dockerfile's result (or its one-line error) and the
    Dockerfiles it skipped. JSON, SARIF and JUnit stay one document each (a JSON object, one
    SARIF run, one <testsuites>); the line formats are concatenated."""
    why = "not checked: under a skipped directory and without a baseline"
    if fmt == "json":
        docs: list[dict[str, Any]] = []
        for shown, r in results:
            docs.append(json.loads(as_json(r, shown)) if isinstance(r, CheckResult)
                        else {"dockerfile": shown, "ok": False, "error": r})
        return json.dumps({
            "ok": all(d["ok"] for d in docs), "dockerfiles": docs,
            "skipped": [{"dockerfile": p, "reason": why} for p in skipped],
        }, indent=2) + "\n"
    if fmt == "sarif":
        from layerlens.sarif import sarif_log

        logs = [json.loads(as_sarif(r, shown)) for shown, r in results
                if isinstance(r, CheckResult)]
        merged = logs[0] if logs else sarif_log(sarif_rules(), [], Path(results[0][0]))
        for other in logs[1:]:
            merged["runs"][0]["results"] += other["runs"][0]["results"]
        return json.dumps(merged, indent=2) + "\n"
    if fmt == "junit":
        suites = ET.Element("testsuites")
        for shown, r in results:
            if isinstance(r, CheckResult):
                suites.append(_junit_suite(r, shown))
            else:
                suite = ET.SubElement(suites, "testsuite", {
                    "name": xml_text(f"layerlens {shown}"), "tests": "1", "failures": "0",
                    "errors": "1", "skipped": "0", "file": xml_text(shown)})
                case = ET.SubElement(suite, "testcase", {"classname": "layerlens.check",
                                                         "name": xml_text(shown)})
                ET.SubElement(case, "error", {"message": xml_text(r)})
        for p in skipped:
            suite = ET.SubElement(suites, "testsuite", {
                "name": xml_text(f"layerlens {p}"), "tests": "1", "failures": "0",
                "errors": "0", "skipped": "1", "file": xml_text(p)})
            case = ET.SubElement(suite, "testcase", {"classname": "layerlens.scan",
                                                     "name": xml_text(p)})
            ET.SubElement(case, "skipped", {"message": why})
        return _junit_doc(suites)
    out = []
    for shown, r in results:
        if isinstance(r, CheckResult):
            out.append(as_text(r, shown, width) if fmt == "text" else FORMATS[fmt](r, shown))
        elif fmt == "github":
            out.append(_gh_command("error", {"file": shown, "title": "layerlens"}, r) + "\n")
        elif fmt == "markdown":
            out.append(f"### layerlens check: {md_escape(shown)}: error :x:\n\n"
                       f"{md_escape(r)}\n")
        else:
            out.append(_wrapped(f"{shown}: error: {r}", width))
    for p in skipped:
        if fmt == "github":
            out.append(_gh_command("notice", {"file": p, "title": "layerlens scan"}, why) + "\n")
        elif fmt == "markdown":
            out.append(f"- skipped {md_escape(p)}: {md_escape(why)}\n")
        else:
            out.append(_wrapped(f"{p}: skipped ({why})", width))
    return "".join(out)


def _wrapped(text: str, width: int) -> str:
    from layerlens.jsonout import safe_text
    from layerlens.textfit import wrap

    return "\n".join(wrap(safe_text(text), width, indent="  ")) + "\n"
