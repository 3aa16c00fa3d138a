from __future__ import annotations

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
