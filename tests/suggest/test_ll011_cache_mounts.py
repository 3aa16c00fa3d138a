from __future__ import annotations

import pytest

from .helpers import by_rule, static, with_history


@pytest.mark.parametrize(("run", "targets"), [
    ("pip install -r requirements.txt", ["/root/.cache/pip"]),
    ("python -m pip install flask", ["/root/.cache/pip"]),
    ("npm ci", ["/root/.npm"]),
    ("go mod download && go build ./...", ["/root/.cache/go-build", "/go/pkg/mod"]),
    ("apt-get update && apt-get install -y gcc", ["/var/cache/apt", "/var/lib/apt"]),
    ("./mvnw -B package", ["/root/.m2"]),
])
def test_installs_get_a_cache_mount_hint(tmp_path, run, targets) -> None:
    [s] = by_rule(static(tmp_path, f"FROM a\nRUN {run}\n"), "LL011")
    assert s.fix_class == "hint"
    for t in targets:
        assert f"--mount=type=cache,target={t}" in s.note
    assert "needs BuildKit" in s.note and "leave the image" in s.note


@pytest.mark.parametrize("run", ["npm run build", "pip freeze", "make",
                                 "--mount=type=cache,target=/root/.npm npm ci"])
def test_no_hint(tmp_path, run) -> None:
    assert by_rule(static(tmp_path, f"FROM a\nRUN {run}\n"), "LL011") == []


def test_apt_and_no_cache_flags_are_explained(tmp_path) -> None:
    [s] = by_rule(static(tmp_path, "FROM debian\nRUN apt-get install -y x\n"
                                   "RUN pip install --no-cache-dir y\n"), "LL011")[:1]
    assert "docker-clean" in s.note
    pip = by_rule(static(tmp_path / "b", "FROM a\nRUN pip install --no-cache-dir y\n"), "LL011")
    assert "drop --no-cache" in pip[0].note


def test_manifest_copy_gets_a_bind_mount_hint(tmp_path) -> None:
    [s] = by_rule(static(tmp_path, "FROM a\nWORKDIR /app\nCOPY requirements.txt .\n"
                                   "RUN pip install -r requirements.txt\n",
                         {"requirements.txt": "flask\n"}), "LL011")
    assert "--mount=type=bind,source=requirements.txt,target=./requirements.txt" in s.note \
        or "--mount=type=bind,source=requirements.txt,target=." in s.note


def test_only_runs_that_rebuild_in_the_window(tmp_path) -> None:
    df = "FROM a\nRUN pip install flask\nCOPY app.py /app/\nRUN pip install -r /app/app.py\n"
    edits = [("app.py", f"v = {i}\n") for i in range(1, 4)]
    rep = with_history(tmp_path, df, {"app.py": "v = 0\n"}, edits, select={"LL011"})
    assert [s.lines for s in by_rule(rep, "LL011")] == [(4,)]


def test_bundler_cache_follows_bundle_path(tmp_path) -> None:
    # maybe: ENV BUNDLE_PATH=/bundle, so gems are cached under /bundle/ruby/<version>/cache
    [s] = by_rule(static(tmp_path, "FROM ruby:3.3\nENV BUNDLE_PATH=/bundle\n"
                                   "RUN bundle install\n"), "LL011")
    assert "--mount=type=cache,target=/bundle/ruby/<Ruby ABI version" in s.note
    assert "/usr/local/bundle/cache" not in s.note
    [d] = by_rule(static(tmp_path / "d", "FROM ruby:3.3\nRUN bundle install\n"), "LL011")
    assert "--mount=type=cache,target=/usr/local/bundle/cache" in d.note
