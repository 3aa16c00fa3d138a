"""One SARIF 2.1.0 writer for `suggest --format sarif` and `check --format sarif`.

Shaped for GitHub code scanning's upload rules (docs.github.com, "SARIF support for code
scanning"): every `ruleId` is described in `tool.driver.rules` with help text; every result
has a physical location with a `region` (`startLine` >= 1: results without a line point at
the Dockerfile's first instruction); artifact URIs are relative to the repository root with
`uriBaseId` `%SRCROOT%`, whatever the working directory and however the path was given; and
`partialFingerprints` hash the rule, the file and a line-free key (the instruction text), so
an alert keeps its identity when lines move. Checked against the OASIS SARIF 2.1.0 JSON schema
in the tests (tests/data/sarif-schema-2.1.0.json).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "layerlens/v1"


@dataclass(frozen=True, slots=True)
class SarifRule:
    id: str
    name: str  # PascalCase-free short name, e.g. "reorder" or "layer-size"
    summary: str  # one sentence: shortDescription
    help: str  # what it means and what to do: help.text


@dataclass(frozen=True, slots=True)
class SarifResult:
    rule_id: str
    level: str  # "error", "warning" or "note"
    message: str
    line: int | None  # 1-based; None: the Dockerfile's first instruction
    key: str  # line-free identity for partialFingerprints (e.g. the instruction text)
    properties: dict[str, Any] = field(default_factory=dict)


def repo_root(path: Path) -> Path | None:
    """The nearest directory above `path` holding `.git` (a directory, or the file of a linked
    worktree or submodule). Found without running git, so it works where git refuses."""
    d = Path(os.path.realpath(path)).parent
    for parent in (d, *d.parents):
        if (parent / ".git").exists():
            return parent
    return None


def artifact_location(path: Path) -> dict[str, Any]:
    """`{"uri": ..., "uriBaseId": "%SRCROOT%"}` relative to the repository root; outside any
    repository, an absolute `file://` URI. Percent-encoded per RFC 3986 from the file
    name's bytes (spaces, `%`, `#`, non-UTF-8 names)."""
    real = os.path.realpath(path)
    root = repo_root(path)
    if root is not None:
        rel = os.path.relpath(real, root).replace(os.sep, "/")
        return {"uri": quote(os.fsencode(rel), safe="/"), "uriBaseId": SRCROOT}
    return {"uri": "file://" + quote(os.fsencode(real), safe="/")}


def fingerprint(rule_id: str, uri: str, key: str) -> str:
    h = hashlib.sha256("\0".join((rule_id, uri, " ".join(key.split()))).encode(
        "utf-8", "surrogateescape"))
    return h.hexdigest()[:32]


def sarif_log(rules: list[SarifRule], results: list[SarifResult], dockerfile: Path,
              first_line: int = 1) -> dict[str, Any]:
    """A SARIF log with one run. Every result's rule must be in `rules` (ValueError
    otherwise: an undescribed ruleId is rejected by code scanning)."""
    from layerlens import __version__

    index = {r.id: i for i, r in enumerate(rules)}
    art = artifact_location(dockerfile)
    out = []
    seen: dict[tuple[str, str], int] = {}
    for r in results:
        # two findings of one rule on one instruction stay two alerts
        n = seen[(r.rule_id, r.key)] = seen.get((r.rule_id, r.key), 0) + 1
        key = r.key if n == 1 else f"{r.key} #{n}"
        if r.rule_id not in index:
            raise ValueError(f"SARIF result for undeclared rule {r.rule_id!r}")
        line = r.line if r.line and r.line >= 1 else max(1, first_line)
        res: dict[str, Any] = {
            "ruleId": r.rule_id, "ruleIndex": index[r.rule_id], "level": r.level,
            "message": {"text": r.message or r.rule_id},
            "locations": [{"physicalLocation": {"artifactLocation": dict(art),
                                                "region": {"startLine": line}}}],
            "partialFingerprints": {FINGERPRINT: fingerprint(r.rule_id, art["uri"], key)},
        }
        if r.properties:
            res["properties"] = r.properties
        out.append(res)
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "layerlens", "version": __version__,
                "rules": [{"id": r.id, "name": r.name,
                           "shortDescription": {"text": r.summary},
                           "fullDescription": {"text": r.help},
                           "help": {"text": r.help}} for r in rules],
            }},
            "results": out,
        }],
    }
