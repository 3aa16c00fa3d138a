"""LL006: secrets in the context, ENV/ARG or layers; fixtures in fixtures/LL006."""

from __future__ import annotations

import pytest

from .helpers import by_rule, fixture_cases, run_fixture, static


def test_secrets_are_hints(tmp_path) -> None:
    df = "FROM a\nENV API_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\nCOPY . .\n"
    rep = static(tmp_path, df, {".env": "DB_PASSWORD=hunter2\n"}, select={"LL006"})
    msgs = [s.message for s in by_rule(rep, "LL006")]
    assert any("API_TOKEN" in m for m in msgs) and any(".env" in m for m in msgs)
    assert all(not s.fixable for s in rep.suggestions)
    assert not any("hunter2" in m or "ghp_abc" in m for m in msgs)


def test_template_files_are_not_secrets_unless_values_look_real(tmp_path) -> None:
    df = "FROM a\nCOPY . .\n"
    files = {".env.example": "DB_PASSWORD=changeme-please\nAPI_TOKEN=your-token-here\n",
             ".env.default": "SECRET_KEY=\n",
             "config/.env.dist": "GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n",
             # FreshRSS's template, named the other way round
             "Docker/freshrss/example.env": "ADMIN_PASSWORD=freshrss\n",
             "prod.env": "ADMIN_PASSWORD=hunter2\n"}
    rep = static(tmp_path, df, files, select={"LL006"})
    msgs = [s.message for s in by_rule(rep, "LL006")]
    assert not any(".env.example" in m or ".env.default" in m for m in msgs), msgs
    assert not any("example.env" in m for m in msgs), msgs
    assert any("config/.env.dist" in m for m in msgs), msgs
    assert any("prod.env" in m for m in msgs), msgs


@pytest.mark.parametrize("case", fixture_cases("LL006"))
def test_fixtures(case: str, tmp_path) -> None:
    run_fixture(tmp_path, "LL006", case)
