#!/usr/bin/env python3
"""The broad-COPY benchmark set (issue 16): what `suggest --write` saves on real Dockerfiles.

Every target below is a real Dockerfile from a public repository, at a named commit, that
copies the whole build context (`COPY . .`, `ADD . /app` ...) before a dependency install,
a build, or an install that reads nothing from the context. For each, this prints the
replayed rebuild cost of today's file (mean seconds per commit over the last N commits, the
current-file replay of `layerlens analyze`), after the safe fixes `suggest --write` applies,
and after `--unsafe-fixes`, with the rules applied, plus the rewrite an expert makes by hand
(the `expert` column, written down from reading each file). With --expert it also replays
that hand rewrite (EXPERT: a few edits of the file at the commit, `apply_edits`), paired
with today's file as the fixes are.

Work trees are clones of the `fetch` tool's mirrors, made here on first use:

    git clone /work/.mirror/OWNER+NAME/repo REPOS/NAME && git -C REPOS/NAME checkout COMMIT

Nothing fetched is committed; only the table of names, commits and paths is.

    .venv/bin/python bench/savings_real.py [--repos DIR] [--mirrors DIR] [--max-commits N]
        [--only SUBSTRING ...] [--expert] [--json OUT] [--render JSON]

Figures are what `layerlens suggest --format json` computes: the same analysis and the same
`suggest()` (in process, for speed), the rebuild cost priced with layerlens's documented
defaults unless a build log or image says better (marked estimated).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class EditError(ValueError):
    """An expert edit whose anchor is not the instruction it names: the file changed, or
    the edit list is wrong. Never caught per row: the table must not silently lose it."""


@dataclass(frozen=True)
class Move:
    """Move the instruction starting at `line` (keyword `kw`, all its continuation and
    heredoc lines) to just before the instruction starting at `before` (`before_kw`)."""

    line: int
    kw: str
    before: int
    before_kw: str


@dataclass(frozen=True)
class Insert:
    """Insert `text` (the expert's own lines) just before the instruction at `before`."""

    before: int
    before_kw: str
    text: str


@dataclass(frozen=True)
class Delete:
    """Delete the instruction starting at `line` (keyword `kw`)."""

    line: int
    kw: str


@dataclass(frozen=True)
class Replace:
    """Replace the instruction starting at `line` (keyword `kw`), all its lines, by `text`."""

    line: int
    kw: str
    text: str


@dataclass(frozen=True)
class AddFlag:
    """Add `flag` (e.g. `--mount=type=cache,target=/root/.m2`) right after the keyword of the
    instruction starting at `line` (`kw`), wherever that instruction ends up (it may also
    be moved); the rest of its text stays the file's own."""

    line: int
    kw: str
    flag: str


Edit = Move | Insert | Delete | Replace | AddFlag


@dataclass(frozen=True)
class Rewrite:
    """The expert's hand rewrite of one target, as edits of the file at its commit.

    Line numbers are 1-based lines of that file; every anchor names the keyword of the
    instruction that starts there, checked before anything is applied. `ignore` lines are
    appended to the target's .dockerignore (made if there is none)."""

    edits: tuple[Edit, ...]
    ignore: tuple[str, ...] = ()


def apply_edits(text: str, edits: tuple[Edit, ...]) -> str:
    """`text` with `edits` applied, every line number meaning a line of `text`.

    Units are instructions (start to end line, with continuations and heredocs, as
    layerlens parses them) and the single lines between them (comments, blanks), which
    stay where they are. Text inserted and instructions moved before the same anchor come
    in the order of `edits`. Raises EditError when an anchor is not the start of an
    instruction with the named keyword, an instruction is edited twice, or an anchor is
    itself moved or deleted."""
    from layerlens.dockerfile import parse

    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    spans = {i.start_line: (i.start_line, i.end_line, i.keyword.upper())
             for i in parse(text).instructions}

    def check(line: int, kw: str) -> None:
        got = spans.get(line)
        if got is None or got[2] != kw.upper():
            seen = lines[line - 1].strip()[:60] if 0 < line <= len(lines) else "past the end"
            raise EditError(f"line {line}: expected a {kw.upper()} instruction to start "
                            f"there, found {seen!r}")

    def block(t: str) -> list[str]:
        return [ln + "\n" for ln in t.rstrip("\n").split("\n")]

    flags: dict[int, list[str]] = {}
    for e in edits:  # flags first: a moved instruction carries its added flags along
        if isinstance(e, AddFlag):
            check(e.line, e.kw)
            flags.setdefault(e.line, []).append(e.flag)

    def own(line: int) -> list[str]:
        start, end, kw = spans[line]
        out = lines[start - 1:end]
        if line in flags:
            first = out[0]
            at = first.upper().index(kw) + len(kw)
            out = [first[:at] + " " + " ".join(flags[line]) + first[at:], *out[1:]]
        return out

    before: dict[int, list[str]] = {}
    replaced: dict[int, list[str]] = {}
    gone: set[int] = set()
    moved: set[int] = set()
    for e in edits:
        if isinstance(e, AddFlag):
            continue
        check(e.line if not isinstance(e, Insert) else e.before,
              e.kw if not isinstance(e, Insert) else e.before_kw)
        if isinstance(e, (Move, Insert)):
            check(e.before, e.before_kw)
        if isinstance(e, Insert):
            before.setdefault(e.before, []).extend(block(e.text))
            continue
        if e.line in gone or e.line in replaced or (isinstance(e, Replace) and e.line in flags):
            raise EditError(f"line {e.line}: edited twice")
        if isinstance(e, Replace):
            replaced[e.line] = block(e.text)
        else:
            gone.add(e.line)
        if isinstance(e, Move):
            before.setdefault(e.before, []).extend(own(e.line))
            moved.add(e.line)
    for line in flags:
        if line in gone and line not in moved:
            raise EditError(f"line {line}: a flag added to a deleted instruction")
    for anchor in before:
        if anchor in gone:
            raise EditError(f"line {anchor}: an anchor that is itself moved or deleted")
    out: list[str] = []
    n = 1
    while n <= len(lines):
        out += before.get(n, [])
        span = spans.get(n)
        end = span[1] if span else n
        if n in replaced:
            out += replaced[n]
        elif n not in gone:
            out += own(n) if span else lines[n - 1:end]
        n = end + 1
    return "".join(out)


@dataclass(frozen=True)
class Target:
    slug: str  # owner/name on GitHub
    commit: str  # the commit measured (its history is the replay window)
    dockerfile: str  # relative to the repository root
    context: str | None  # relative to the root; None: the Dockerfile's directory
    ecosystem: str
    expert: str  # the rewrite an expert makes by hand


T = Target
TARGETS: tuple[Target, ...] = (
    T("psf/black", "8947c48ef2077c3a301b03c1e814dc2e3f78436e", "Dockerfile", None, "python",
      "apt install and venv creation above `COPY . /src`; the pip/hatch build stays after it"),
    T("locustio/locust", "407343d0f5ab84a32f41f6f9a7c991188d10a55a", "Dockerfile", None,
      "python", "uv installer download (ADD + RUN sh) above `COPY . /build`; uv cache mount "
      "[mounts: no saving in the model]"),
    T("postmanlabs/httpbin", "f8ec666b4d1b654e4ff6aedd356f510dcac09f83", "Dockerfile", None,
      "python", "already installs from Pipfile first; `pip install /httpbin` of the project "
      "stays last (nothing to move); pip cache mount on both installs, without "
      "--no-cache-dir [no saving in the model]"),
    T("jupyterhub/jupyterhub", "44a02299c138542c64ef0587b210b8f1de18e6e2", "Dockerfile", None,
      "python", "copy package.json + lock + bower-lite (its postinstall) and jsx/package.json "
      "+ lock and `npm install` both, copy requirements.txt (not pyproject: it names the "
      "dependencies from there) and pip install it, then the source; wheel build stays "
      "after `COPY . .` [the model cannot see that setup.py's npm installs and the wheel's "
      "pip install then find everything installed: it prices them in full]"),
    T("juice-shop/juice-shop", "33518f5a0911e25d9df747b1e70fb7af279a755c", "Dockerfile", None,
      "node", "`npm install -g typescript` and the cyclonedx global install (with its ARG) "
      "above the COPY; the 9 rm/mkdir/chown/chmod RUNs in one; `npm install` stays after `COPY . "
      "/juice-shop` (its postinstall builds the frontend from the source, and there is no "
      "lockfile)"),
    T("ether/etherpad-lite", "b827f5b3d93bc79fc9014c7d9f8b900956b8af65", "Dockerfile", None,
      "node", "copy package.json, pnpm-lock and workspace manifests, `pnpm install`, then "
      "`COPY . .` (and .npmrc); pnpm store cache mount [no saving in the model]"),
    T("excalidraw/excalidraw", "4872083c044491b6d5c96ae134a75464f96d6831", "Dockerfile",
      None, "node", "copy package.json, yarn.lock and workspace package.json files, `yarn`, "
      "then `COPY . .`"),
    T("Netflix/conductor", "548f386c2c6c1e4d467b8551edbb6182881004ae",
      "docker/server/Dockerfile", ".", "java",
      "the conductor-community clone and Gradle build read nothing from the context: move "
      "them above `COPY . /conductor`; copy ui/package.json + yarn.lock and `yarn install` "
      "before it, not after"),
    T("openzipkin/zipkin", "878ce2a1fad54ca941d17fdcf2e1d924b148eb1f", "docker/Dockerfile",
      ".", "java", "copy the 17 reactor poms and `mvn dependency:go-offline` before the "
      "source; maven cache mount on it and the build [the model cannot see the Maven build "
      "(scripts run from /code, copied through the scratch stage): 3 unknown commands, so "
      "the prefetch is pure cost; the poms change at 2 commits of 3]"),
    T("GoogleCloudPlatform/microservices-demo", "34ffea9175946982c3088ed84994fe6019ad6e92",
      "src/adservice/Dockerfile", None, "java",
      "the second `chmod +x gradlew` cannot go (gradlew is mode 644 in git, and `COPY . .` "
      "puts it back unexecutable): fold it into the installDist RUN; gradle cache mount on "
      "both gradle RUNs (on installDist alone it would hide downloadRepos' ~/.gradle) "
      "[no saving in the model]"),
    T("kubernetes-up-and-running/kuard", "a27b6968777a865cea3af83713795b634c38858b",
      "Dockerfile", None, "go", "copy go.mod/go.sum, `GO111MODULE=on go mod download`; copy the "
      "client package.json + lock and npm install, then `COPY . .` [build.sh's own npm "
      "install is still priced in full]"),
    T("rclone/rclone", "c1b414e2cf6d63937caf102a49f43cc3637e9c4f", "Dockerfile", None, "go",
      "`apk add make bash gawk git` above `COPY . /go/src/...`; go.mod/go.sum + "
      "`go mod download` before the source; go build cache mount [no saving in the model]"),
    T("huginn/huginn", "9faad4aeee0d97570693377e0a281567e775abb4",
      "docker/single-process/Dockerfile", ".", "ruby",
      "copy package.json + lock and `npm install --production` before `COPY ./ /app/`"),
    T("huginn/huginn", "9faad4aeee0d97570693377e0a281567e775abb4",
      "docker/multi-process/Dockerfile", ".", "ruby",
      "copy package.json + lock and `npm install --production` before `COPY ./ /app/`"),
    T("rubygems/rubygems.org", "3c8ea0d4cbe85bd2a2bb5d22486247656a3dfb6c", "Dockerfile",
      None, "ruby", "gems already first (no package.json at this commit); asset precompile "
      "and bootsnap stay after `COPY . /app/`; little to move: the toxic_domains ADD above "
      "the final stage's `COPY --from=build` (not the versions_v2.list one: the context has "
      "its own config/versions_v2.list) [a URL ADD is priced 0.5 s]"),
    T("snipe/snipe-it", "5aa5c48018f25ae5eb8671bc278469e85d0ac054", "Dockerfile", None,
      "php", "copy composer.json/lock and `composer install --no-scripts --no-autoloader` "
      "before `COPY . /var/www/html` (the composer binary's COPY with them); `composer "
      "dump-autoload` after"),
    T("snipe/snipe-it", "5aa5c48018f25ae5eb8671bc278469e85d0ac054", "Dockerfile.alpine", None,
      "php", "copy composer.json/lock and `composer install --no-scripts --no-autoloader` "
      "before `COPY . /var/www/html` (the composer binary's COPY with them); `composer "
      "dump-autoload` after"),
    T("pixelfed/pixelfed", "3cb50af8a3d17f06a44f0e0c8a1678ed543fb5e0",
      "contrib/docker/Dockerfile.apache", ".", "php",
      "copy composer.json/lock, `composer install --no-scripts --no-autoloader`, then "
      "`COPY . /var/www/`; `composer dump-autoload --optimize` in place of the second install "
      "(as snipe-it)"),
    T("meilisearch/meilisearch", "5cb2f2e94befc717bbea60fec4a31ee64d2f60fd", "Dockerfile",
      None, "rust", "copy every Cargo.toml + Cargo.lock (+ rust-toolchain, .cargo, the "
      "external-crates path dependencies) with stub targets and `cargo fetch` above the "
      "ARGs (COMMIT_SHA changes at every build and is in every later RUN's environment); "
      "cargo registry and target cache mounts, the binaries copied out of the target mount "
      "[mounts: no saving in the model]"),
    T("lldap/lldap", "9cc54ab03c5a044bfe574e30a6b6245d45c8e7b9", "Dockerfile", None, "rust",
      "already cargo-chef; narrow the planner's `COPY . .` to the Cargo manifests (and stub "
      "targets: chef prepare needs them) [the saving is the model's upper bound: it counts "
      "`COPY --from=planner` changed whenever the planner rebuilt; BuildKit compares "
      "recipe.json's content, so today's file already skips `cargo chef cook`]"),
    T("valeriansaliou/sonic", "44ed77d8843404c6a77e45928fc4aae6e8fcb453", "Dockerfile", None,
      "rust", "the rustup/apt RUNs are already above; copy the workspace's Cargo.toml/lock "
      "(with stub targets) and `cargo fetch` before `COPY . /app`; drop `cargo clean`"),
    T("svenstaro/miniserve", "a576252731e2d28b427e4b317a9043bafc87ce84", "Dockerfile", None, "rust",
      "copy Cargo.toml/lock and `cargo fetch` before `COPY . $APP_HOME`; cargo registry "
      "and git cache mounts (a target mount would hide the binary the last stage copies) "
      "[no saving in the model]"),
)


# The expert rewrites of TARGETS, as edits of each file at its commit (`apply_edits`), keyed
# by (slug, dockerfile). Only the inserted lines are the expert's; the rest of each file is
# read from the work tree. A cache mount (`--mount=type=cache`) is written as the expert
# writes it, but the build-cache model prices a RUN by its commands whatever its mounts: a
# warm tool cache saves nothing in the replay (the mounted directory is no longer in a
# layer, which matters where a prefetch layer filled it: see the notes below).
def _copies(*dirs: str, chown: str = "") -> str:
    """`COPY dir/Cargo.toml dir/`-style lines: each path copied into its own directory."""
    flag = f"--chown={chown} " if chown else ""
    return "\n".join(f"COPY {flag}{p} {p.rsplit('/', 1)[0]}/" for p in dirs)


def _stubs(*files: str, then: str) -> str:
    """One RUN that makes empty target root files (all `cargo fetch` and `cargo chef
    prepare` read of them is that they exist), then runs `then`."""
    files = tuple(dict.fromkeys(files))
    dirs = sorted({f.rsplit("/", 1)[0] for f in files if "/" in f})
    dirs = [d for d in dirs if not any(o.startswith(d + "/") for o in dirs)]
    return (f"RUN mkdir -p {' '.join(dirs)} \\\n && touch {' '.join(files)} \\\n"
            f" && {then}")


_CARGO = "--mount=type=cache,target=/usr/local/cargo/registry " \
         "--mount=type=cache,target=/usr/local/cargo/git"
_MEILI_CRATES = ("meilisearch", "meilitool", "meilisearch-types", "meilisearch-auth",
                 "meili-snap", "index-scheduler", "dump", "file-store",
                 "permissive-json-pointer", "milli", "filter-parser", "flatten-serde-json",
                 "json-depth-checker", "fuzzers", "tracing-trace", "xtask", "build-info",
                 "openapi-generator", "http-client", "routes-macros", "routes")
# target root files of the workspace members (layerlens.suggest.prefetch.cargo_plan's list)
_MEILI_TARGETS = (
    "crates/meilisearch/src/lib.rs", "crates/meilisearch/src/main.rs",
    "crates/meilisearch/build.rs", "crates/meilitool/src/main.rs",
    "crates/filter-parser/src/main.rs", "crates/flatten-serde-json/src/main.rs",
    "crates/flatten-serde-json/benches/benchmarks.rs",
    "crates/json-depth-checker/benches/depth.rs", "crates/fuzzers/src/bin/fuzz-indexing.rs",
    "crates/tracing-trace/src/main.rs", "crates/tracing-trace/src/bin/trace-to-callstats.rs",
    "crates/tracing-trace/src/bin/trace-to-firefox.rs", "crates/xtask/src/main.rs",
    "crates/build-info/src/main.rs", "crates/build-info/build.rs",
    "crates/openapi-generator/src/main.rs",
    *(f"crates/{c}/src/lib.rs" for c in _MEILI_CRATES
      if c not in ("meilitool", "openapi-generator")),
)
_LLDAP_CRATES = ("access-control", "auth", "domain", "domain-handlers", "domain-model",
                 "frontend-options", "graphql-server", "ldap", "opaque-handler",
                 "sql-backend-handler", "test-utils", "validation")
_ZIPKIN_POMS = ("zipkin", "zipkin-tests", "zipkin-junit5", "zipkin-storage",
                "zipkin-storage/cassandra", "zipkin-storage/mysql-v1",
                "zipkin-storage/elasticsearch", "zipkin-collector", "zipkin-collector/core",
                "zipkin-collector/activemq", "zipkin-collector/kafka",
                "zipkin-collector/rabbitmq", "zipkin-collector/scribe",
                "zipkin-collector/pulsar", "zipkin-server", "zipkin-lens")
_EXCALIDRAW_PKGS = ("common", "element", "excalidraw", "fractional-indexing",
                    "laser-pointer", "math", "utils")

R = Rewrite
EXPERT: dict[tuple[str, str], Rewrite] = {
    ("psf/black", "Dockerfile"): R((Move(4, "COPY", 12, "RUN"),)),
    ("locustio/locust", "Dockerfile"): R((
        Move(32, "ADD", 23, "COPY"), Move(33, "RUN", 23, "COPY"),
        AddFlag(35, "RUN", "--mount=type=cache,target=/root/.cache/uv"))),
    ("postmanlabs/httpbin", "Dockerfile"): R((
        Replace(15, "RUN", "RUN --mount=type=cache,target=/root/.cache/pip \\\n"
                '    /bin/bash -c "pip3 install -r <(pipenv lock -r)"'),
        Replace(18, "RUN", "RUN --mount=type=cache,target=/root/.cache/pip pip3 install "
                "/httpbin"))),
    ("jupyterhub/jupyterhub", "Dockerfile"): R((
        Move(71, "ARG", 69, "COPY"),
        Insert(69, "COPY", "COPY package.json package-lock.json bower-lite ./\n"
               "RUN npm install --progress=false --unsafe-perm\n"
               "COPY jsx/package.json jsx/package-lock.json jsx/\n"
               "RUN cd jsx && npm install --progress=false --unsafe-perm\n"
               "COPY requirements.txt ./\n"
               "RUN --mount=type=cache,target=${PIP_CACHE_DIR} \\\n"
               "    python3 -m pip install -r requirements.txt"))),
    ("juice-shop/juice-shop", "Dockerfile"): R((
        Move(4, "RUN", 2, "COPY"), Move(18, "ARG", 2, "COPY"), Move(19, "RUN", 2, "COPY"),
        Replace(7, "RUN", "RUN rm -rf frontend/node_modules frontend/.angular "
                "frontend/src/assets \\\n"
                " && mkdir logs && chown -R 65532 logs \\\n"
                " && chgrp -R 0 ftp/ frontend/dist/ logs/ data/ i18n/ \\\n"
                " && chmod -R g=u ftp/ frontend/dist/ logs/ data/ i18n/ \\\n"
                " && { rm ftp/legal.md || true; } && { rm i18n/*.json || true; }"),
        *(Delete(n, "RUN") for n in range(8, 16)))),
    ("ether/etherpad-lite", "Dockerfile"): R((
        Insert(11, "COPY", "COPY package.json pnpm-workspace.yaml pnpm-lock.yaml .npmrc ./\n"
               + _copies(*(f"{d}/package.json" for d in ("admin", "bin", "doc", "src", "ui")))
               + "\nRUN --mount=type=cache,target=/root/.local/share/pnpm/store pnpm install"),
        Delete(12, "RUN"))),
    ("excalidraw/excalidraw", "Dockerfile"): R((
        Insert(5, "COPY", "COPY package.json yarn.lock .npmrc ./\n"
               + _copies("excalidraw-app/package.json",
                         *(f"packages/{p}/package.json" for p in _EXCALIDRAW_PKGS))),
        Move(9, "RUN", 5, "COPY"))),
    ("Netflix/conductor", "docker/server/Dockerfile"): R((
        *(Move(n, kw, 21, "COPY") for n, kw in (
            (30, "WORKDIR"), (31, "RUN"), (32, "WORKDIR"), (33, "RUN"), (35, "RUN"),
            (38, "WORKDIR"), (39, "RUN"), (42, "RUN"))),
        Insert(21, "COPY", "COPY ui/package.json ui/yarn.lock /conductor/ui/\n"
               "WORKDIR /conductor/ui\nRUN yarn install"),
        Replace(25, "RUN", "RUN cp -r node_modules/monaco-editor public/ && yarn build"))),
    ("openzipkin/zipkin", "docker/Dockerfile"): R((
        Insert(28, "COPY", "COPY pom.xml ./\n" + _copies(*(f"{d}/pom.xml" for d in _ZIPKIN_POMS))
               + "\nRUN --mount=type=cache,target=/root/.m2 \\\n"
               "    mvn -q --batch-mode dependency:go-offline -pl :zipkin-server --am"),
        AddFlag(41, "RUN", "--mount=type=cache,target=/root/.m2"))),
    ("GoogleCloudPlatform/microservices-demo", "src/adservice/Dockerfile"): R((
        AddFlag(25, "RUN", "--mount=type=cache,target=/root/.gradle"),
        Delete(28, "RUN"),
        Replace(29, "RUN", "RUN --mount=type=cache,target=/root/.gradle \\\n"
                "    chmod +x gradlew && ./gradlew installDist"))),
    ("kubernetes-up-and-running/kuard", "Dockerfile"): R((
        Insert(13, "COPY", "COPY go.mod go.sum ./\nRUN GO111MODULE=on go mod download\n"
               "COPY client/package.json client/package-lock.json client/\n"
               "RUN cd client && npm install --loglevel=error"),)),
    ("rclone/rclone", "Dockerfile"): R((
        Move(6, "RUN", 3, "COPY"),
        Insert(3, "COPY", "WORKDIR /go/src/github.com/rclone/rclone/\n"
               "COPY go.mod go.sum ./\nRUN go mod download"),
        AddFlag(7, "RUN", "--mount=type=cache,target=/root/.cache/go-build"))),
    ("huginn/huginn", "docker/single-process/Dockerfile"): R((
        Insert(33, "COPY", 'COPY --chown="$UID:0" package.json package-lock.json /app/'),
        Move(35, "RUN", 33, "COPY"))),
    ("huginn/huginn", "docker/multi-process/Dockerfile"): R((
        Insert(36, "COPY", 'COPY --chown="$UID:0" package.json package-lock.json /app/'),
        Move(38, "RUN", 36, "COPY"))),
    ("rubygems/rubygems.org", "Dockerfile"): R((Move(125, "ADD", 122, "COPY"),)),
    ("snipe/snipe-it", "Dockerfile"): R((
        Move(109, "COPY", 74, "COPY"),
        Insert(74, "COPY", "COPY composer.json composer.lock /var/www/html/\n"
               "RUN COMPOSER_CACHE_DIR=/dev/null composer install --no-dev --no-scripts "
               "--no-autoloader --working-dir=/var/www/html \\\n"
               " && rm -rf /var/www/html/vendor/*/*/.git"),
        Replace(113, "RUN", "RUN COMPOSER_CACHE_DIR=/dev/null composer dump-autoload --no-dev "
                "--working-dir=/var/www/html"))),
    ("snipe/snipe-it", "Dockerfile.alpine"): R((
        Move(71, "COPY", 51, "COPY"),
        Insert(51, "COPY", "COPY composer.json composer.lock /var/www/html/\n"
               "RUN COMPOSER_CACHE_DIR=/dev/null composer install --no-scripts "
               "--no-autoloader --working-dir=/var/www/html"),
        Replace(76, "RUN", "RUN COMPOSER_CACHE_DIR=/dev/null composer dump-autoload "
                "--working-dir=/var/www/html"))),
    ("pixelfed/pixelfed", "contrib/docker/Dockerfile.apache"): R((
        Insert(89, "COPY", "COPY composer.json composer.lock /var/www/\n"
               "RUN composer install --prefer-dist --no-interaction --no-ansi --no-scripts "
               "--no-autoloader"),
        Replace(91, "RUN", "RUN cp -r storage storage.skel \\\n"
                "  && composer dump-autoload --optimize --no-interaction --no-ansi \\\n"
                "  && rm -rf html && ln -s public html \\\n"
                "  && chown -R www-data:www-data /var/www"))),
    ("meilisearch/meilisearch", "Dockerfile"): R((
        # above the ARGs: a RUN has the build args in its environment, and COMMIT_SHA
        # changes at every build
        Insert(8, "ARG", "COPY Cargo.toml Cargo.lock rust-toolchain.toml ./\n"
               "COPY .cargo .cargo\nCOPY external-crates external-crates\n"
               + _copies(*(f"crates/{c}/Cargo.toml" for c in _MEILI_CRATES)) + "\n"
               + _stubs(*_MEILI_TARGETS, then="cargo fetch --locked").replace(
                   "RUN ", f"RUN {_CARGO} \\\n    ", 1)),
        AddFlag(16, "RUN", f"{_CARGO} --mount=type=cache,target=/target"),
        # the target cache mount leaves /target out of the layer: copy the two binaries out
        Insert(21, "FROM", "RUN --mount=type=cache,target=/target \\\n    mkdir -p /out && "
               "cp /target/release/meilisearch /target/release/meilitool /out/"),
        Replace(31, "COPY", "COPY    --from=compiler /out/meilisearch /bin/meilisearch"),
        Replace(32, "COPY", "COPY    --from=compiler /out/meilitool /bin/meilitool"))),
    ("lldap/lldap", "Dockerfile"): R((
        Replace(26, "COPY", "COPY --chown=app:app Cargo.toml Cargo.lock rust-toolchain.toml ./\n"
                + _copies(*(f"{d}/Cargo.toml" for d in (
                    "server", "app", "migration-tool", "set-password",
                    *(f"crates/{c}" for c in _LLDAP_CRATES))), chown="app:app") + "\n"
                + _stubs("server/src/main.rs", "app/src/lib.rs", "migration-tool/src/main.rs",
                         "set-password/src/main.rs",
                         *(f"crates/{c}/src/lib.rs" for c in _LLDAP_CRATES),
                         then="cargo chef prepare --recipe-path /tmp/recipe.json")),
        Delete(27, "RUN"))),
    ("valeriansaliou/sonic", "Dockerfile"): R((
        Insert(14, "COPY", "COPY Cargo.toml Cargo.lock rust-toolchain.toml ./\n"
               + _copies("core/Cargo.toml", "server/Cargo.toml", "client/Cargo.toml") + "\n"
               + _stubs("core/src/lib.rs", "server/src/main.rs", "server/benches/wikipedia.rs",
                        "server/benches/beir_quora.rs", "client/src/lib.rs",
                        "client/examples/search_concurrent_async.rs",
                        "client/examples/search_parallel_async.rs",
                        then="cargo fetch --locked")),
        Replace(16, "RUN", "RUN cargo build --locked --release"))),
    ("svenstaro/miniserve", "Dockerfile"): R((
        Insert(10, "COPY", "WORKDIR $APP_HOME\nCOPY Cargo.toml Cargo.lock ./\n"
               + _stubs("src/main.rs", "build.rs", then="cargo fetch --locked").replace(
                   "RUN ", f"RUN {_CARGO} \\\n    ", 1)),
        AddFlag(12, "RUN", _CARGO))),
}
assert set(EXPERT) == {(t.slug, t.dockerfile) for t in TARGETS}, "one rewrite per target"


@dataclass
class Row:
    slug: str
    commit: str
    dockerfile: str
    context: str | None
    ecosystem: str
    expert: str
    window: int | None = None
    before: float | None = None  # mean replayed rebuild seconds per commit, today's file
    safe: float | None = None  # after the safe fixes
    unsafe: float | None = None  # after safe + unsafe fixes
    safe_rules: tuple[str, ...] = ()
    unsafe_rules: tuple[str, ...] = ()
    # today's file over the commits at which the rewrite builds too, and how many commits
    # the rewrite fails at where today's file builds (cache/costs.py paired): the cut
    # compares the same commits
    safe_base: float | None = None
    unsafe_base: float | None = None
    safe_failed: int = 0
    unsafe_failed: int = 0
    # the expert's hand rewrite (EXPERT), paired with today's file the same way
    expert_s: float | None = None
    expert_base: float | None = None
    expert_failed: int = 0
    estimated: bool | None = None
    hints: int = 0
    cpu_seconds: float | None = None
    problem: str | None = None

    @property
    def safe_cut(self) -> float | None:
        return _cut(self.before if self.safe_base is None else self.safe_base, self.safe)

    @property
    def unsafe_cut(self) -> float | None:
        return _cut(self.before if self.unsafe_base is None else self.unsafe_base,
                    self.unsafe)

    @property
    def expert_cut(self) -> float | None:
        return _cut(self.before if self.expert_base is None else self.expert_base,
                    self.expert_s)


def _cut(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or before <= 0:
        return None
    return (before - after) / before


def work_tree(t: Target, repos: Path, mirrors: Path) -> Path:
    """A work tree of `t.slug` at `t.commit` under `repos` (cloned from the mirror)."""
    owner, name = t.slug.split("/", 1)
    wt = repos / f"{name}@{t.commit[:10]}"
    if not wt.is_dir():
        mirror = mirrors / f"{owner}+{name}" / "repo"
        if not mirror.is_dir():
            raise FileNotFoundError(f"no mirror {mirror}: fetch github:{t.slug} first")
        subprocess.run(["git", "clone", "-q", "--no-checkout", str(mirror), str(wt)],
                       check=True)
        subprocess.run(["git", "-C", str(wt), "checkout", "-q", "--detach", t.commit],
                       check=True)
    return wt


def expert_text(rw: Rewrite, source: str, ignore: str | None) -> tuple[str, str | None]:
    """(Dockerfile text, ignore-file text) of the rewrite `rw` of the file `source` whose
    .dockerignore is `ignore` (None: there is none). Raises EditError (see apply_edits)."""
    if rw.ignore:
        ignore = (ignore or "") + ("" if not ignore or ignore.endswith("\n") else "\n") \
            + "".join(p + "\n" for p in rw.ignore)
    return apply_edits(source, rw.edits), ignore


def measure(t: Target, wt: Path, max_commits: int, expert: bool = False) -> Row:
    from layerlens.analysis import analyze
    from layerlens.cache.costs import paired
    from layerlens.cli import _options, build_parser
    from layerlens.suggest.engine import suggest
    from layerlens.suggest.rule import Subject

    row = Row(t.slug, t.commit, t.dockerfile, t.context, t.ecosystem, t.expert)
    argv = ["suggest", str(wt / t.dockerfile), "--max-commits", str(max_commits)]
    if t.context is not None:
        argv += ["--context", str(wt / t.context)]
    ns = build_parser().parse_args(argv)
    start = resource.getrusage(resource.RUSAGE_SELF)
    analysis = analyze(_options(ns))
    if analysis.history is None:
        row.problem = "no history"
        return row
    base = analysis.replay_text(analysis.dockerfile.source)
    row.window = base.builds if base else None
    row.before = base.mean_seconds if base else None
    row.estimated = base.estimated if base else None
    for unsafe in (False, True):
        rep = suggest(analysis, unsafe_fixes=unsafe)
        if not unsafe:
            row.hints = sum(1 for s in rep.suggestions if s.fix_class == "hint")
        text = rep.rewritten if rep.rewritten is not None else analysis.dockerfile.source
        ignore = rep.rewritten_ignore
        after = Subject(analysis, text, ignore if ignore is not None
                        else analysis.ignore_text).summary(text) \
            if (rep.rewritten or ignore) else base
        pair = paired(base, after) if base and after else None
        val = pair.after_seconds if pair else None
        if unsafe:
            row.unsafe, row.unsafe_rules = val, rep.applied
            row.unsafe_base, row.unsafe_failed = (pair.before_seconds, pair.after_failed) \
                if pair else (None, 0)
        else:
            row.safe, row.safe_rules = val, rep.applied
            row.safe_base, row.safe_failed = (pair.before_seconds, pair.after_failed) \
                if pair else (None, 0)
    if expert:
        text, ignore = expert_text(EXPERT[(t.slug, t.dockerfile)], analysis.dockerfile.source,
                                   analysis.ignore_text)
        after = Subject(analysis, text, ignore).summary(text)
        pair = paired(base, after) if base and after else None
        row.expert_s = pair.after_seconds if pair else None
        row.expert_base, row.expert_failed = (pair.before_seconds, pair.after_failed) \
            if pair else (None, 0)
    end = resource.getrusage(resource.RUSAGE_SELF)
    row.cpu_seconds = round(end.ru_utime + end.ru_stime - start.ru_utime - start.ru_stime, 2)
    return row


def _fmt(v: float | None) -> str:
    return "unknown" if v is None else f"{v:.1f}"


def _pct(v: float | None) -> str:
    return "unknown" if v is None else f"{v:.0%}"


def _fails(n: int) -> str:
    """A rewrite's failed builds, where today's file builds: its seconds and cut are over
    the other commits."""
    return f" ({n} fail)" if n else ""


def render(rows: list[Row]) -> str:
    """The markdown table of `rows`; the expert columns and their mean and median only when
    some row has an expert figure (a run with --expert)."""
    ex = any(r.expert_s is not None for r in rows)
    out = ["| repository | commit | Dockerfile | eco | window | before s | safe s | unsafe s "
           + ("| expert s " if ex else "")
           + "| safe cut | unsafe cut " + ("| expert cut " if ex else "")
           + "| safe fixes | unsafe fixes | expert rewrite |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|" + ("---|---|" if ex else "")]
    for r in rows:
        if r.problem:
            out.append(f"| {r.slug} | {r.commit[:10]} | {r.dockerfile} | {r.ecosystem} | "
                       f"{r.problem} |||||||{'||' if ex else ''}| {r.expert} |")
            continue
        out.append(
            f"| {r.slug} | {r.commit[:10]} | {r.dockerfile}"
            f"{' (-C ' + r.context + ')' if r.context else ''} | {r.ecosystem} | {r.window} | "
            f"{_fmt(r.before)} | {_fmt(r.safe)}{_fails(r.safe_failed)} | "
            f"{_fmt(r.unsafe)}{_fails(r.unsafe_failed)} | "
            + (f"{_fmt(r.expert_s)}{_fails(r.expert_failed)} | " if ex else "")
            + f"{_pct(r.safe_cut)} | {_pct(r.unsafe_cut)} | "
            + (f"{_pct(r.expert_cut)} | " if ex else "")
            + f"{','.join(r.safe_rules) or '-'} | "
            f"{','.join(r.unsafe_rules) or '-'} | {r.expert} |")
    cuts = [r.safe_cut for r in rows if r.safe_cut is not None]
    ucuts = [r.unsafe_cut for r in rows if r.unsafe_cut is not None]
    ecuts = [r.expert_cut for r in rows if r.expert_cut is not None]
    if cuts:
        out.append("")
        out.append(f"Mean cut over {len(cuts)} Dockerfiles: safe {sum(cuts) / len(cuts):.1%}, "
                   f"with --unsafe-fixes {sum(ucuts) / len(ucuts):.1%}; median safe "
                   f"{sorted(cuts)[len(cuts) // 2]:.1%}, unsafe "
                   f"{sorted(ucuts)[len(ucuts) // 2]:.1%}.")
    if ecuts:
        out.append(f"Expert rewrites, over {len(ecuts)} Dockerfiles: mean cut "
                   f"{sum(ecuts) / len(ecuts):.1%}, median {sorted(ecuts)[len(ecuts) // 2]:.1%}.")
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repos", default="/tmp/layerlens-bench-repos",
                    help="where work trees are (made on first use)")
    ap.add_argument("--mirrors", default="/work/.mirror")
    ap.add_argument("--max-commits", type=int, default=200)
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--json", help="write the rows as JSON here")
    ap.add_argument("--render", help="print the table of a JSON file written by --json")
    ap.add_argument("--expert", action="store_true",
                    help="also replay each target's expert rewrite (EXPERT)")
    ns = ap.parse_args()
    if ns.render:
        data = json.loads(Path(ns.render).read_text())
        rows = [Row(**{k: (tuple(v) if k.endswith("_rules") else v) for k, v in d.items()})
                for d in data]
        print(render(rows), end="")
        return 0
    repos = Path(ns.repos)
    repos.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    for t in TARGETS:
        if ns.only and not any(s in f"{t.slug}/{t.dockerfile}" for s in ns.only):
            continue
        t0 = time.monotonic()
        try:
            row = measure(t, work_tree(t, repos, Path(ns.mirrors)), ns.max_commits,
                          ns.expert)
        except EditError:
            raise  # an expert edit that no longer fits its file is a bug in EXPERT
        except Exception as exc:  # a bench row, not a crash of the whole table
            row = Row(t.slug, t.commit, t.dockerfile, t.context, t.ecosystem, t.expert,
                      problem=f"{type(exc).__name__}: {exc}"[:200])
        rows.append(row)
        print(f"{t.slug} {t.dockerfile}: before {_fmt(row.before)} safe {_fmt(row.safe)} "
              f"unsafe {_fmt(row.unsafe)} "
              f"{'expert ' + _fmt(row.expert_s) + ' ' if ns.expert else ''}"
              f"{row.safe_rules} {row.unsafe_rules} "
              f"{row.problem or ''} ({time.monotonic() - t0:.1f} s wall, "
              f"{row.cpu_seconds} s CPU)", file=sys.stderr, flush=True)
    if ns.json:
        Path(ns.json).write_text(json.dumps([asdict(r) for r in rows], indent=1))
    print(render(rows), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
