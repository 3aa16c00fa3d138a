from __future__ import annotations

import pytest

from layerlens.dockerfile import parse
from layerlens.suggest.rules.ll002_manifests import detect

from .helpers import by_rule, fixture_cases, run_fixture, static

PIP = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"


@pytest.mark.parametrize(("cmd", "eco", "manifests"), [
    ("pip install --no-cache-dir -r requirements.txt", "pip", ("requirements.txt",)),
    ("python -m pip install -r req/base.txt -c constraints.txt", "pip",
     ("req/base.txt", "constraints.txt")),
    ("pip-sync requirements.txt", "pip-tools", ("requirements.txt",)),
    ("poetry install --no-root", "poetry", ("pyproject.toml",)),
    ("pipenv install --deploy", "pipenv", ("Pipfile",)),
    ("uv sync --frozen --no-install-project", "uv", ("pyproject.toml",)),
    ("npm ci", "npm", ("package.json",)),
    ("yarn install --frozen-lockfile", "yarn", ("package.json",)),
    ("pnpm install", "pnpm", ("package.json",)),
    ("go mod download", "go", ("go.mod",)),
    ("cargo fetch", "cargo", ("Cargo.toml",)),
    ("bundle install", "bundler", ("Gemfile",)),
    ("composer install --no-scripts --no-autoloader", "composer", ("composer.json",)),
    ("mvn -B dependency:go-offline", "maven", ("pom.xml",)),
])
def test_ecosystems(cmd: str, eco: str, manifests: tuple[str, ...]) -> None:
    inst = detect(cmd)
    assert inst is not None and inst.ecosystem == eco and inst.manifests == manifests
    assert inst.unsafe is None


@pytest.mark.parametrize("cmd", ["pip install .", "pip install -e . -r requirements.txt",
                                 "poetry install", "uv sync", "composer install",
                                 "./gradlew dependencies", "dotnet restore"])
def test_installs_that_need_the_source_are_flagged(cmd: str) -> None:
    inst = detect(cmd)
    assert inst is None or inst.unsafe is not None or not inst.manifests


def test_pip_fixed(tmp_path) -> None:
    rep = static(tmp_path, PIP, {"requirements.txt": "flask\n-r extra.txt\n", "extra.txt": "x\n",
                                 "app.py": "1\n"})
    [s] = by_rule(rep, "LL002")
    assert s.fixable
    lines = [i.original for i in parse(s.dockerfile).instructions]
    assert lines[2:5] == ["COPY requirements.txt extra.txt ./",
                          "RUN pip install -r requirements.txt", "COPY . ."]


def test_requirements_with_local_paths_not_rewritten(tmp_path) -> None:
    rep = static(tmp_path, PIP, {"requirements.txt": "-e ./lib\nflask\n"})
    [s] = by_rule(rep, "LL002")
    assert not s.fixable and "local paths" in s.note


def test_npm_postinstall_not_rewritten(tmp_path) -> None:
    df = "FROM node\nWORKDIR /a\nCOPY . .\nRUN npm ci\n"
    rep = static(tmp_path, df, {"package.json": '{"scripts": {"postinstall": "x"}}',
                                "package-lock.json": "{}", ".dockerignore": "node_modules\n"})
    [s] = by_rule(rep, "LL002")
    assert not s.fixable and "postinstall" in s.note


def test_node_modules_in_context_not_rewritten(tmp_path) -> None:
    df = "FROM node\nWORKDIR /a\nCOPY . .\nRUN npm ci\n"
    rep = static(tmp_path, df, {"package.json": "{}", "package-lock.json": "{}",
                                "node_modules/x/index.js": "1"})
    [s] = by_rule(rep, "LL002")
    assert not s.fixable and "node_modules" in s.note


def test_chown_carried_to_the_manifest_copy(tmp_path) -> None:
    df = "FROM golang\nWORKDIR /src\nCOPY --chown=1000:1000 . .\nRUN go mod download\n"
    rep = static(tmp_path, df, {"go.mod": "module x\n", "go.sum": ""})
    [s] = by_rule(rep, "LL002")
    assert "COPY --chown=1000:1000 go.mod go.sum ./" in s.dockerfile


@pytest.mark.parametrize("case", fixture_cases("LL002"))
def test_fixtures(case: str, tmp_path) -> None:
    run_fixture(tmp_path, "LL002", case)


PNPM_WS = "FROM node\nWORKDIR /app\nCOPY . .\nRUN pnpm install\nRUN pnpm run build\n"


def _ws_files(**extra: str) -> dict[str, str]:
    files = {"package.json": '{"dependencies": {"core": "link:src"}}',
             "pnpm-lock.yaml": "lockfileVersion: 9\n",
             "pnpm-workspace.yaml": "packages:\n  - src\n  - 'plugins/*'\n  - '!plugins/old'\n",
             "src/package.json": '{"name": "core"}', "src/index.js": "x\n",
             "plugins/a/package.json": '{"name": "a"}', "plugins/old/package.json": "{}",
             "docs/package.json": "{}"}
    files.update(extra)
    return files


def test_workspaces_copy_every_workspace_manifest(tmp_path) -> None:
    [s] = by_rule(static(tmp_path, PNPM_WS, _ws_files()), "LL002")
    assert s.fix_class == "unsafe" and "2 workspace package.json" in s.unsafe_reason
    lines = [ln for ln in s.dockerfile.splitlines() if ln.startswith("COPY")]
    assert "COPY src/package.json src/" in lines
    assert "COPY plugins/a/package.json plugins/a/" in lines
    assert not any("plugins/old" in ln or "docs/" in ln for ln in lines)  # negated, unlisted
    assert any("pnpm-workspace.yaml" in ln for ln in lines)
    text = s.dockerfile
    assert text.index("RUN pnpm install") < text.index("COPY . .")


def test_npm_workspaces_from_package_json(tmp_path) -> None:
    files = {"package.json": '{"workspaces": ["packages/*"]}', "package-lock.json": "{}",
             "packages/x/package.json": '{"name": "x"}'}
    [s] = by_rule(static(tmp_path, PNPM_WS.replace("pnpm install", "npm ci"), files), "LL002")
    assert s.fix_class == "unsafe" and "COPY packages/x/package.json packages/x/" in s.dockerfile


@pytest.mark.parametrize(("extra", "note"), [
    ({"package.json": '{"dependencies": {"core": "link:../elsewhere"}}'}, "local paths"),
    ({"plugins/a/package.json": '{"scripts": {"postinstall": "node build.js"}}'},
     "postinstall"),
    ({"src/node_modules/x/index.js": "x"}, "src/node_modules"),
])
def test_workspaces_that_need_more_stay_hints(tmp_path, extra, note) -> None:
    [s] = by_rule(static(tmp_path, PNPM_WS, _ws_files(**extra)), "LL002")
    assert s.fix_class == "hint" and note in s.note


GO = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nARG V\nRUN go build -o /app ./cmd\n"
GO_FILES = {"go.mod": "module x\n\ngo 1.22\n", "go.sum": "x h1:a=\n",
            "cmd/main.go": "package main\n"}


def test_go_build_gets_a_module_download_layer(tmp_path) -> None:
    [s] = by_rule(static(tmp_path, GO, GO_FILES), "LL002")
    assert s.fix_class == "unsafe" and "go mod download" in s.unsafe_reason
    assert "COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n" in s.dockerfile


@pytest.mark.parametrize(("files", "dockerfile", "note"), [
    ({**GO_FILES, "go.mod": "module x\nreplace y => ./y\n"}, GO, "local directories"),
    ({"Cargo.toml": "[package]\nname='x'\n[dependencies]\ny = { path = '../y' }\n",
      "src/main.rs": "fn main(){}\n"},
     "FROM rust\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n", "cargo-chef"),
    ({"build.gradle": "", "src/A.java": ""},
     "FROM gradle\nWORKDIR /app\nCOPY . .\nRUN ./gradlew build\n", "buildSrc"),
    ({"pom.xml": "<project><modules><module>a</module></modules></project>"},
     "FROM maven\nWORKDIR /app\nCOPY . .\nRUN mvn -B package\n", "multi-module"),
])
def test_prefetch_hints(tmp_path, files, dockerfile, note) -> None:
    [s] = by_rule(static(tmp_path, dockerfile, files), "LL002")
    assert s.fix_class == "hint" and note in s.note


def test_maven_and_composer_prefetch(tmp_path) -> None:
    [m] = by_rule(static(tmp_path / "m", "FROM maven\nWORKDIR /app\nCOPY . .\nRUN mvn -B package\n",
                         {"pom.xml": "<project/>"}), "LL002")
    assert "COPY pom.xml ./\nRUN mvn -B dependency:go-offline\nCOPY . .\n" in m.dockerfile
    [c] = by_rule(static(tmp_path / "c", "FROM php\nWORKDIR /app\nCOPY . .\nRUN composer "
                         "install --no-dev --optimize-autoloader\n",
                         {"composer.json": "{}", "composer.lock": "{}"}), "LL002")
    assert ("COPY composer.json composer.lock ./\nRUN composer install --no-dev --no-scripts "
            "--no-autoloader\nCOPY . .\n") in c.dockerfile


@pytest.mark.parametrize(("files", "dockerfile"), [
    ({**GO_FILES, "vendor/modules.txt": ""}, GO),  # vendored: nothing to download
    (GO_FILES, GO.replace("COPY . .", "COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .")),
    (GO_FILES, GO.replace("ARG V\n", "WORKDIR /elsewhere\n")),  # builds elsewhere
])
def test_no_prefetch(tmp_path, files, dockerfile) -> None:
    assert by_rule(static(tmp_path, dockerfile, files), "LL002") == []


@pytest.mark.parametrize(("gemfile", "fix"), [
    ("source 'https://rubygems.org'\ngem 'rails'\n", "unsafe"),
    ("source 'https://rubygems.org'\ngemspec\n", "hint"),
    ("gem 'mine', path: 'vendor/gems/mine'\n", "hint"),
])
def test_bundler_gemspec_and_paths(tmp_path, gemfile, fix) -> None:
    [s] = by_rule(static(tmp_path, "FROM ruby\nWORKDIR /app\nCOPY . .\nRUN bundle install\n",
                         {"Gemfile": gemfile, "Gemfile.lock": "GEM\n"}), "LL002")
    assert s.fix_class == fix
