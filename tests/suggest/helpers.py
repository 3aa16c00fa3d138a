from __future__ import annotations

import json
import shutil
from pathlib import Path

from layerlens.analysis import AnalyzeOptions, analyze
from layerlens.suggest.engine import suggest

from ..integration.harness import Repo


def static(tmp_path: Path, dockerfile: str, files: dict[str, str] | None = None, **kw):
    """Suggestions without history (a plain directory)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    for rel, text in (files or {}).items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (tmp_path / "Dockerfile").write_text(dockerfile)
    return suggest(analyze(AnalyzeOptions(tmp_path / "Dockerfile")), **kw)


def with_history(tmp_path: Path, dockerfile: str, files: dict[str, str],
                 edits: list[tuple[str, str]], **kw):
    """Suggestions over a real git history: one commit per (path, new text) edit."""
    repo = Repo(tmp_path)
    repo.write("Dockerfile", dockerfile)
    for rel, text in files.items():
        repo.write(rel, text)
    repo.commit()
    for rel, text in edits:
        repo.write(rel, text)
        repo.commit()
    return suggest(analyze(AnalyzeOptions(tmp_path / "Dockerfile")), **kw)


def by_rule(rep, rule: str):
    return [s for s in rep.suggestions if s.rule == rule]


FIXTURES = Path(__file__).parent / "fixtures"


def fixture_cases(rule: str) -> list[str]:
    """The fixture cases of a rule: directories under fixtures/<RULE>/, each a build context
    with a Dockerfile and expected.json (the rule's suggestions, as ruff and hadolint keep
    theirs). Regenerate an expectation with LAYERLENS_UPDATE_FIXTURES=1, then review it."""
    return sorted(d.name for d in (FIXTURES / rule).iterdir() if d.is_dir())


def _as_json(s) -> dict:
    return {"lines": list(s.lines), "fix": s.fix_class, "message": s.message,
            "unsafe_reason": s.unsafe_reason, "note": s.note, "dockerfile": s.dockerfile,
            "dockerignore": s.dockerignore}


def run_fixture(tmp_path: Path, rule: str, case: str) -> None:
    """Suggest (no history) over a copy of the case and compare with expected.json."""
    import os

    src = FIXTURES / rule / case
    ctx = tmp_path / case
    shutil.copytree(src, ctx, ignore=shutil.ignore_patterns("expected.json"))
    rep = suggest(analyze(AnalyzeOptions(ctx / "Dockerfile", history=_no_history())),
                  select={rule})
    got = [_as_json(s) for s in by_rule(rep, rule)]
    expected_path = src / "expected.json"
    if os.environ.get("LAYERLENS_UPDATE_FIXTURES"):
        expected_path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
    assert got == json.loads(expected_path.read_text())


def _no_history():
    from layerlens.cache.timeline import HistoryOptions

    return HistoryOptions(enabled=False)
