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


# --- Issue 16: the move is a safe fix exactly where the final image provably stays the same
# (layerlens/suggest/install_proof.py); each condition below fails on its own.

NPM = "FROM node\nWORKDIR /a\nCOPY . .\nRUN npm ci\nRUN npm run build\n"
LOCK = {"lockfileVersion": 3, "packages": {"": {"name": "x"},
                                           "node_modules/a": {"version": "1.0.0"}}}


def _npm_files(lock: dict | None = None, **extra: str) -> dict[str, str]:
    import json

    files = {"package.json": '{"name": "x", "dependencies": {"a": "1.0.0"}}',
             "package-lock.json": json.dumps(lock or LOCK), ".dockerignore": "node_modules\n",
             "src/index.js": "x\n"}
    files.update(extra)
    return files


def _ll002(tmp_path, dockerfile: str, files: dict[str, str]):
    [s] = by_rule(static(tmp_path, dockerfile, files), "LL002")
    return s


def test_npm_ci_with_a_clean_lock_is_safe(tmp_path) -> None:
    s = _ll002(tmp_path, NPM, _npm_files())
    assert s.fix_class == "safe" and s.unsafe_reason is None
    assert "COPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n" in s.dockerfile


@pytest.mark.parametrize(("dockerfile", "files", "reason"), [
    (NPM.replace("npm ci", "npm install"), _npm_files(), "may rewrite package-lock.json"),
    (NPM, {k: v for k, v in _npm_files().items() if k != "package-lock.json"},
     "no npm lockfile"),
    (NPM, _npm_files({"lockfileVersion": 3, "packages": {
        "node_modules/esbuild": {"hasInstallScript": True}}}),
     "marks esbuild as running an install script"),
    (NPM, _npm_files({"lockfileVersion": 1, "dependencies": {}}), "no packages map"),
    (NPM, _npm_files({"lockfileVersion": 3, "packages": {
        "node_modules/v": {"resolved": "file:vendor/v.tgz"}}}), "from a local file"),
    (NPM, _npm_files(**{"package.json": '{"scripts": {"prepublish": "tsc"}}'}),
     "runs prepublish"),
    (NPM, _npm_files(**{"binding.gyp": "{}"}), "node-gyp rebuild"),
    (NPM.replace("RUN npm ci", "RUN npm ci && npm run lint"), _npm_files(),
     "does more than the install"),
    (NPM.replace("RUN npm ci", "RUN npm ci > ci.log"), _npm_files(),
     "does more than the install"),
    (NPM.replace("RUN npm ci", "RUN --mount=type=bind,target=/ctx npm ci"), _npm_files(),
     "bind-mounts the build context"),
    (NPM.replace("COPY . .", "COPY --exclude=docs . ."), _npm_files(), "--exclude"),
    (NPM, _npm_files(**{".cache/x": "1"}), ".cache/"),
    (NPM.replace("RUN npm ci", "ENV NPM_CONFIG_USERCONFIG=/a/ci.npmrc\nRUN npm ci")
     .replace("WORKDIR /a\nCOPY . .\nENV", "WORKDIR /a\nENV").replace(
         "RUN npm ci\nRUN npm run", "COPY . .\nRUN npm ci\nRUN npm run"),
     _npm_files(), "NPM_CONFIG_USERCONFIG"),
])
def test_npm_move_unsafe_when_not_proven(tmp_path, dockerfile, files, reason) -> None:
    s = _ll002(tmp_path, dockerfile, files)
    assert s.fix_class == "unsafe" and reason in s.unsafe_reason, s.unsafe_reason


@pytest.mark.parametrize("cmd", ["npm ci --ignore-scripts", "npm install --no-save"])
def test_npm_scripts_off_or_no_save_is_safe(tmp_path, cmd) -> None:
    files = _npm_files({"lockfileVersion": 3, "packages": {
        "node_modules/esbuild": {"hasInstallScript": True}}})
    s = _ll002(tmp_path, NPM.replace("npm ci", cmd), files)
    assert s.fix_class == ("safe" if "ignore-scripts" in cmd else "unsafe")
    s2 = _ll002(tmp_path / "2", NPM.replace("npm ci", cmd), _npm_files(
        **{"package.json": '{"scripts": {"postinstall": "x"}, "dependencies": {}}'}))
    assert s2.fix_class == ("safe" if "ignore-scripts" in cmd else "hint")


def test_npm_symlinked_manifest_is_unsafe(tmp_path) -> None:
    import os

    files = _npm_files()
    files["real.json"] = files.pop("package.json")
    static(tmp_path, "FROM x\n", files)
    os.symlink("real.json", tmp_path / "package.json")
    s = _ll002(tmp_path, NPM, {})
    assert s.fix_class == "unsafe" and "symbolic link" in s.unsafe_reason


def test_chown_copy_is_safe_and_carried(tmp_path) -> None:
    s = _ll002(tmp_path, NPM.replace("COPY . .", "COPY --chown=1000:1000 --link . ."),
               _npm_files())
    assert s.fix_class == "safe"
    assert "COPY --chown=1000:1000 --link package.json package-lock.json ./" in s.dockerfile


YARN = "FROM node\nWORKDIR /a\nCOPY . .\nRUN yarn install {}\n"
YARN_FILES = {"package.json": '{"dependencies": {"a": "1"}}', "yarn.lock": "a@1:\n",
              ".dockerignore": "node_modules\n"}


@pytest.mark.parametrize(("flags", "extra", "fix", "reason"), [
    ("--frozen-lockfile --ignore-scripts", {}, "safe", None),
    ("--frozen-lockfile", {}, "unsafe", "does not record which packages run install"),
    ("--ignore-scripts", {}, "unsafe", "may rewrite yarn.lock"),
    ("--frozen-lockfile --ignore-scripts", {".yarnrc.yml": "nodeLinker: pnp\n"}, "unsafe",
     "Yarn 2"),
])
def test_yarn(tmp_path, flags, extra, fix, reason) -> None:
    s = _ll002(tmp_path, YARN.format(flags), {**YARN_FILES, **extra})
    assert s.fix_class == fix and (reason is None or reason in s.unsafe_reason)


@pytest.mark.parametrize(("flags", "pj", "fix", "reason"), [
    ("--frozen-lockfile --ignore-scripts", "{}", "safe", None),
    ("", "{}", "unsafe", "may rewrite pnpm-lock.yaml"),
    ("--frozen-lockfile", "{}", "unsafe", "does not record which packages"),
    ("--frozen-lockfile --ignore-scripts",
     '{"pnpm": {"patchedDependencies": {"a@1": "patches/a.patch"}}}', "unsafe",
     "patchedDependencies"),
])
def test_pnpm(tmp_path, flags, pj, fix, reason) -> None:
    df = f"FROM node\nWORKDIR /a\nCOPY . .\nRUN pnpm install {flags}\n"
    s = _ll002(tmp_path, df, {"package.json": pj, "pnpm-lock.yaml": "lockfileVersion: 9\n",
                              ".dockerignore": "node_modules\n"})
    assert s.fix_class == fix and (reason is None or reason in s.unsafe_reason)


def test_pnpmfile_hooks_are_unsafe(tmp_path) -> None:
    df = "FROM node\nWORKDIR /a\nCOPY . .\nRUN pnpm install --frozen-lockfile --ignore-scripts\n"
    s = _ll002(tmp_path, df, {"package.json": "{}", "pnpm-lock.yaml": "lockfileVersion: 9\n",
                              ".dockerignore": "node_modules\n",
                              ".pnpmfile.cjs": "module.exports = {}\n"})
    assert s.fix_class == "unsafe" and ".pnpmfile.cjs" in s.unsafe_reason


def test_workspace_manifests_in_subdirectories_stay_unsafe(tmp_path) -> None:
    files = {"package.json": '{"workspaces": ["packages/*"]}', "package-lock.json":
             '{"lockfileVersion": 3, "packages": {}}', ".dockerignore": "node_modules\n",
             "packages/x/package.json": '{"name": "x"}'}
    s = _ll002(tmp_path, NPM, files)
    assert s.fix_class == "unsafe" and "creates packages/x/" in s.unsafe_reason


@pytest.mark.parametrize(("req", "cmd", "extra", "fix", "reason"), [
    ("flask==3.0.3\nblack[d]>=24 ; python_version>'3.8' --hash=sha256:ab\n", "", {}, "safe",
     None),
    ("-i https://pypi.org/simple\nx @ https://example.com/x-1.tar.gz\n", "", {}, "safe", None),
    ("wheels/x-1.0-py3-none-any.whl\n", "", {}, "unsafe", "line 1"),
    ("x-1.0.tar.gz\n", "", {}, "unsafe", "line 1"),
    ("--find-links ./wheels\nx\n", "", {}, "unsafe", "line 1"),
    ("flask\n", " --target deps", {}, "unsafe", "--target"),
    ("flask\n", " dist/app.whl", {}, "unsafe", "local path"),
    ("flask\n", "", {".venv/pyvenv.cfg": "home = /usr\n"}, "unsafe", "Python environment"),
])
def test_pip(tmp_path, req, cmd, extra, fix, reason) -> None:
    df = PIP.replace("requirements.txt", "requirements.txt" + cmd)
    s = _ll002(tmp_path, df, {"requirements.txt": req, "app.py": "1\n", **extra})
    assert s.fix_class == fix and (reason is None or reason in s.unsafe_reason), s.unsafe_reason


BUNDLE = "FROM ruby\nWORKDIR /app\nENV BUNDLE_FROZEN=true\nCOPY . .\nRUN bundle install\n"
GEMFILE = ("source 'https://rubygems.org'\nruby '3.3.0'\ngem 'rails', '~> 7.1'\n"
           "group :development, :test do\n  gem 'rspec'\nend\n")


@pytest.mark.parametrize(("dockerfile", "gemfile", "lock", "fix", "reason"), [
    (BUNDLE, GEMFILE, "GEM\n", "safe", None),
    (BUNDLE.replace("ENV BUNDLE_FROZEN=true\n", ""), GEMFILE, "GEM\n", "unsafe",
     "may rewrite Gemfile.lock"),
    (BUNDLE, GEMFILE + "require_relative 'lib/helper'\n", "GEM\n", "unsafe", "line 7"),
    (BUNDLE, GEMFILE.replace("'3.3.0'", "file: '.ruby-version'"), "GEM\n", "unsafe",
     "line 2"),
    (BUNDLE, GEMFILE, "PATH\n  remote: engines/x\n", "unsafe", "PATH section"),
])
def test_bundler(tmp_path, dockerfile, gemfile, lock, fix, reason) -> None:
    s = _ll002(tmp_path, dockerfile, {"Gemfile": gemfile, "Gemfile.lock": lock, "app.rb": ""})
    assert s.fix_class == fix and (reason is None or reason in s.unsafe_reason), s.unsafe_reason


COMPOSER = ("FROM php\nWORKDIR /app\nCOPY . .\nRUN composer install --no-dev --no-scripts "
            "--no-autoloader{}\nRUN composer dump-autoload --optimize\n")


@pytest.mark.parametrize(("flags", "cjson", "lock", "fix", "reason"), [
    ("", "{}", '{"packages": [{"name": "a/b", "type": "library"}]}', "safe", None),
    ("", "{}", '{"packages": [{"name": "a/p", "type": "composer-plugin"}]}', "unsafe",
     "plugin a/p"),
    (" --no-plugins", "{}", '{"packages": [{"name": "a/p", "type": "composer-plugin"}]}',
     "safe", None),
    ("", '{"repositories": [{"type": "path", "url": "packages/*"}]}', "{}", "unsafe",
     "path or artifact repository"),
    ("", '{"config": {"vendor-dir": "../v"}}', "{}", "unsafe", "vendor-dir"),
    ("", '{"config": {"bin-dir": "bin"}}', "{}", "unsafe", "bin-dir bin"),
    ("", '{"config": {"vendor-dir": "lib/v", "bin-dir": "lib/v/bin"}}', "{}", "safe", None),
])
def test_composer(tmp_path, flags, cjson, lock, fix, reason) -> None:
    s = _ll002(tmp_path, COMPOSER.format(flags),
               {"composer.json": cjson, "composer.lock": lock, ".dockerignore": "vendor\n"})
    assert s.fix_class == fix and (reason is None or reason in s.unsafe_reason), s.unsafe_reason
    text = s.dockerfile
    assert text.index("RUN composer install") < text.index("COPY . .") < text.index(
        "RUN composer dump-autoload")


@pytest.mark.parametrize("cmd", ["poetry install --no-root", "uv sync --frozen "
                                 "--no-install-project", "pipenv sync"])
def test_python_environment_managers_stay_unsafe(tmp_path, cmd) -> None:
    files = {"pyproject.toml": "[project]\nname='x'\n", "poetry.lock": "", "uv.lock": "",
             "Pipfile": "[packages]\n", "Pipfile.lock": "{}"}
    s = _ll002(tmp_path, PIP.replace("pip install -r requirements.txt", cmd), files)
    assert s.fix_class == "unsafe" and "virtual environment" in s.unsafe_reason


@pytest.mark.parametrize(("rc", "text", "fix"), [
    (".npmrc", "registry=https://registry.npmjs.org/\n//r.example/:_authToken=${T}\n"
     "save-exact=true\n", "safe"),
    (".npmrc", "cache=./.npm-cache\n", "unsafe"),
    (".yarnrc", 'yarn-offline-mirror "./offline"\n', "unsafe"),
])
def test_npm_config_files_naming_project_paths(tmp_path, rc, text, fix) -> None:
    s = _ll002(tmp_path, NPM, _npm_files(**{rc: text}))
    assert s.fix_class == fix, s.unsafe_reason
    if fix == "unsafe":
        assert f"{rc} line" in s.unsafe_reason


@pytest.mark.parametrize(("ignore", "fix"), [(".git\nnode_modules\n", "unsafe"),
                                             ("node_modules\n", "hint")])
def test_husky_prepare_without_git_is_an_unsafe_fix(tmp_path, ignore, fix) -> None:
    """`prepare: husky install` only sets up git hooks; with no .git in what the COPY brings
    it does nothing in either order, but it is a lifecycle script: unsafe, never safe."""
    files = _npm_files(**{"package.json": '{"scripts": {"prepare": "husky install"}, '
                                          '"devDependencies": {"husky": "8.0.3"}}',
                          ".dockerignore": ignore, ".git/HEAD": "ref: refs/heads/main\n"})
    s = _ll002(tmp_path, NPM, files)
    assert s.fix_class == fix
    reason = s.unsafe_reason if fix == "unsafe" else s.note
    assert "prepare" in reason


@pytest.mark.parametrize("tool", ["./bin/bundle", "bin/bundle", "/app/bin/bundle"])
def test_install_tool_from_the_context_is_unsafe(tmp_path, tool) -> None:
    s = _ll002(tmp_path, BUNDLE.replace("RUN bundle", f"RUN {tool}"),
               {"Gemfile": GEMFILE, "Gemfile.lock": "GEM\n", "bin/bundle": "#!/bin/sh\n"})
    assert s.fix_class == "unsafe" and f"runs {tool}" in s.unsafe_reason


def test_install_tool_by_absolute_path_elsewhere_is_safe(tmp_path) -> None:
    s = _ll002(tmp_path, BUNDLE.replace("RUN bundle", "RUN /usr/local/bin/bundle"),
               {"Gemfile": GEMFILE, "Gemfile.lock": "GEM\n"})
    assert s.fix_class == "safe", s.unsafe_reason
