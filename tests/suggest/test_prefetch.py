"""Dependency prefetch layers and when inserting one is safe (layerlens/suggest/prefetch.py).

One condition per test: the prefetching stage must be a builder the final image takes only
non-cache paths from, the manifests alone must drive the download, and nothing between the
inserted layer and the build may change how the tool runs.
"""

from __future__ import annotations

import pytest

from layerlens.dockerfile import parse
from layerlens.suggest.prefetch import cache_dirs, final_image_doubt

from .helpers import by_rule, static

MULTI = """\
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app ./cmd
FROM scratch
COPY --from=build /out/app /app
ENTRYPOINT ["/app"]
"""
FILES = {"go.mod": "module x\n\ngo 1.22\n", "go.sum": "x h1:a=\n",
         "cmd/main.go": "package main\n"}


def _one(tmp_path, dockerfile: str, files: dict[str, str] | None = None):
    [s] = by_rule(static(tmp_path, dockerfile, FILES if files is None else files), "LL002")
    return s


def test_builder_stage_whose_binary_alone_is_copied_is_safe(tmp_path) -> None:
    s = _one(tmp_path, MULTI)
    assert s.fix_class == "safe", s.unsafe_reason
    assert "COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n" in s.dockerfile
    assert s.note and s.note.startswith("safe:")


@pytest.mark.parametrize(("dockerfile", "why"), [
    # single stage: the final image holds the module cache
    ("FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/app ./cmd\n",
     "part of the final image"),
    # the final stage copies the module cache
    (MULTI.replace("COPY --from=build /out/app /app", "COPY --from=build /go /go"),
     "overlaps the download cache /go/pkg"),
    # ... or the whole working directory, where the manifests were written too
    (MULTI.replace("COPY --from=build /out/app /app", "COPY --from=build /src /src"),
     "holds the directory /src"),
    (MULTI.replace("FROM scratch\n", "FROM build\n"), "part of the final image"),
    (MULTI.replace("FROM scratch\n", "FROM build AS mid\nFROM scratch\n")
     .replace("COPY --from=build", "COPY --from=mid"), "inherits its download cache"),
    (MULTI.replace('ENTRYPOINT ["/app"]', "RUN --mount=from=build,target=/b true"),
     "mounts build"),
    # GOMODCACHE set by the Dockerfile, and the final stage copies it
    (MULTI.replace("WORKDIR /src", "ENV GOMODCACHE=/out/mod\nWORKDIR /src")
     .replace("/out/app /app", "/out /out"), "overlaps the download cache /out/mod"),
    # a non-root user without HOME: the cache's place is unknown
    (MULTI.replace("WORKDIR /src", "USER builder\nWORKDIR /src"), "does not set (HOME)"),
    # an ENV between the inserted layer and the build changes how go runs
    (MULTI.replace("RUN CGO", "ENV GOFLAGS=-mod=mod\nRUN CGO"), "ENV GOFLAGS"),
    (MULTI.replace("RUN CGO", "USER 1000\nRUN CGO"), "another user"),
    (MULTI.replace("RUN CGO", "RUN --mount=type=secret,id=netrc CGO"), "--mount"),
])
def test_unsafe_when_the_final_image_may_see_it(tmp_path, dockerfile, why) -> None:
    s = _one(tmp_path, dockerfile)
    assert s.fix_class == "unsafe" and why in s.unsafe_reason, s.unsafe_reason


@pytest.mark.parametrize(("files", "why"), [
    ({k: v for k, v in FILES.items() if k != "go.sum"}, "no go.sum"),
    ({**FILES, "go.work": "go 1.22\nuse .\n"}, "go.work"),
])
def test_unsafe_when_the_manifests_may_not_drive_the_download(tmp_path, files, why) -> None:
    s = _one(tmp_path, MULTI, files)
    assert s.fix_class == "unsafe" and why in s.unsafe_reason


@pytest.mark.parametrize("replace", ["replace y => ./y", "replace (\n\ty v1 => ../y\n)",
                                     "replace y => /abs/y"])
def test_local_replace_stays_a_hint(tmp_path, replace) -> None:
    s = _one(tmp_path, MULTI, {**FILES, "go.mod": f"module x\n\n{replace}\n"})
    assert s.fix_class == "hint" and "local directories" in s.note


def test_remote_replace_is_fine(tmp_path) -> None:
    s = _one(tmp_path, MULTI, {**FILES, "go.mod": "module x\nreplace y => z v1.2.3\n"})
    assert s.fix_class == "safe"


def test_a_cache_mount_already_keeps_the_downloads(tmp_path) -> None:
    df = MULTI.replace("RUN CGO", "RUN --mount=type=cache,target=/go/pkg/mod CGO")
    assert by_rule(static(tmp_path, df, FILES), "LL002") == []


MAVEN = """\
FROM maven:3 AS build
WORKDIR /app
COPY . .
RUN mvn -B package -DskipTests
FROM eclipse-temurin:21-jre
COPY --from=build /app/target/app.jar /app.jar
"""


def test_maven_builder_is_safe(tmp_path) -> None:
    s = _one(tmp_path, MAVEN, {"pom.xml": "<project><version>1.0</version></project>"})
    assert s.fix_class == "safe", s.unsafe_reason
    assert "COPY pom.xml ./\nRUN mvn -B dependency:go-offline\nCOPY . .\n" in s.dockerfile


@pytest.mark.parametrize(("files", "why"), [
    ({"pom.xml": "<project><version>1.0-SNAPSHOT</version></project>"}, "SNAPSHOT"),
    ({"pom.xml": "<project><dependencies><dependency><version>[1.0,2.0)</version>"
                 "</dependency></dependencies></project>"}, "version ranges"),
    ({"pom.xml": "<project><parent><artifactId>p</artifactId></parent></project>"},
     "<parent>"),
    ({"pom.xml": "<project/>", ".mvn/extensions.xml": "<extensions/>"}, "extensions.xml"),
])
def test_maven_doubts(tmp_path, files, why) -> None:
    s = _one(tmp_path, MAVEN, files)
    assert s.fix_class == "unsafe" and why in s.unsafe_reason


def test_maven_wrapper_copies_the_script(tmp_path) -> None:
    s = _one(tmp_path, MAVEN.replace("mvn -B", "./mvnw -B"),
             {"pom.xml": "<project/>", "mvnw": "#!/bin/sh\n",
              ".mvn/wrapper/maven-wrapper.properties": "x=y\n"})
    assert "COPY pom.xml mvnw ./\nCOPY .mvn/wrapper/maven-wrapper.properties .mvn/wrapper/\n" \
        "RUN ./mvnw -B dependency:go-offline\n" in s.dockerfile


def test_workdir_set_right_after_the_copy_is_set_before_the_prefetch(tmp_path) -> None:
    # rclone's shape: COPY . /abs, then WORKDIR /abs: the same WORKDIR goes first
    df = MULTI.replace("WORKDIR /src\nCOPY . .\n", "COPY . /src/\nWORKDIR /src\n")
    s = _one(tmp_path, df)
    assert s.fix_class == "safe", s.unsafe_reason
    assert "WORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . /src/\n" \
        "WORKDIR /src\n" in s.dockerfile


@pytest.mark.parametrize("change", [
    "COPY . /src/\nRUN ls\nWORKDIR /src\n",  # another instruction would move with it
    "USER 1000\nENV HOME=/h\nCOPY . /src/\nWORKDIR /src\n",  # not root: its own mkdir
])
def test_workdir_set_later_after_the_copy_is_a_hint(tmp_path, change) -> None:
    s = _one(tmp_path, MULTI.replace("WORKDIR /src\nCOPY . .\n", change))
    assert s.fix_class == "hint" and "working directory" in s.note


def test_cache_dirs_read_env_and_arg_values() -> None:
    df = parse("FROM x AS b\nARG GP=/gp\nENV GOPATH=$GP GOCACHE=/gc\nCOPY . .\nRUN go build\n")
    copy, run = df.instructions[3], df.instructions[4]
    dirs, why = cache_dirs("go", copy, run, None)
    assert why is None and dirs == ("/gp/pkg", "/gc")
    dirs, why = cache_dirs("go", df.instructions[1], run, None)  # before the ENV: defaults
    assert why is None and set(dirs) == {"/go/pkg", "/root/go/pkg", "/root/.cache/go-build"}
    m = parse("FROM x\nENV MAVEN_OPTS=-Dmaven.repo.local=/r\nCOPY . .\nRUN mvn package\n")
    assert cache_dirs("maven", m.instructions[2], m.instructions[3], None)[1]


def test_wildcard_copy_from_is_judged_by_its_literal_prefix() -> None:
    df = parse(MULTI.replace("/out/app /app", "/go/p* /x/"))
    why = final_image_doubt(df, 0, frozenset({1}), frozenset({0, 1}), ("/go/pkg",), "/src")
    assert why is not None and "/go" in why


SONIC = """\
FROM rust:slim AS build
WORKDIR /app
COPY . /app
RUN cargo clean && cargo build --locked --release
FROM gcr.io/distroless/cc
COPY --from=build /app/target/release/sonic /usr/local/bin/sonic
"""
WORKSPACE = {
    "Cargo.toml": '[workspace]\nmembers = ["core", "server"]\n[workspace.dependencies]\n'
                  'core = { path = "core" }\n',
    "Cargo.lock": "version = 4\n",
    "core/Cargo.toml": '[package]\nname = "core"\n',
    "core/src/lib.rs": "",
    "core/src/index.rs": "",
    "server/Cargo.toml": '[package]\nname = "sonic"\nbuild = "build.rs"\n'
                         '[[bench]]\nname = "speed"\n',
    "server/build.rs": "",
    "server/src/main.rs": "",
    "server/benches/speed.rs": "",
    "server/src/routes.rs": "",
}


def test_cargo_workspace_copies_manifests_and_target_roots(tmp_path) -> None:
    s = _one(tmp_path, SONIC, WORKSPACE)
    assert s.fix_class == "safe", s.unsafe_reason or s.note
    copies = [line for line in s.dockerfile.splitlines() if line.startswith("COPY ")
              and "--from" not in line and line != "COPY . /app"]
    got = {w for line in copies for w in line.split()[1:-1]}
    assert got == {"Cargo.toml", "Cargo.lock", "core/Cargo.toml", "core/src/lib.rs",
                   "server/Cargo.toml", "server/build.rs", "server/src/main.rs",
                   "server/benches/speed.rs"}  # never the other sources
    assert "RUN cargo fetch\nCOPY . /app\n" in s.dockerfile


@pytest.mark.parametrize(("change", "why"), [
    ({"server/Cargo.toml": '[package]\nname = "s"\n[dependencies]\nx = { path = "../x" }\n'},
     "local path ../x"),
    ({"Cargo.toml": '[workspace]\nmembers = ["core", "plugins/*"]\n'}, "plugins/*"),
    ({"server/benches/speed.rs": None}, "server/benches/speed.rs"),
    ({f"crates/c{i}/Cargo.toml": '[package]\nname = "c"\n' for i in range(9)}
     | {f"crates/c{i}/src/lib.rs": "" for i in range(9)}
     | {"Cargo.toml": '[workspace]\nmembers = ["core", "server", "crates/*"]\n'},
     "would need"),
])
def test_cargo_hints(tmp_path, change, why) -> None:
    files = {k: v for k, v in {**WORKSPACE, **change}.items() if v is not None}
    s = _one(tmp_path, SONIC, files)
    assert s.fix_class == "hint" and why in s.note and "cargo-chef" in s.note, s.note


@pytest.mark.parametrize(("change", "why"), [
    ({"Cargo.lock": None}, "no Cargo.lock"),
    ({".cargo/config.toml": "[source]\n"}, ".cargo/"),
    ({"Dockerfile": None}, "part of the final image"),
])
def test_cargo_doubts(tmp_path, change, why) -> None:
    files = {k: v for k, v in {**WORKSPACE, **change}.items()
             if v is not None and k != "Dockerfile"}
    df = SONIC.split("FROM gcr")[0].replace(" AS build", "") if "Dockerfile" in change \
        else SONIC
    s = _one(tmp_path, df, files)
    assert s.fix_class == "unsafe" and why in s.unsafe_reason, s.unsafe_reason


# A build run through a project script or `make` (runmodel/follow.py): the prefetch is
# offered for the build inside, with the same proof, and anything the file does that the
# inserted prefetch would not makes it unsafe (or a hint).
SCRIPTED = MULTI.replace("RUN CGO_ENABLED=0 go build -o /out/app ./cmd", "RUN ./build.sh")
SCRIPT = "#!/bin/sh\nset -e\n(cd web && echo assets)\ngo build -o /out/app ./cmd\n"


def test_a_build_inside_a_project_script_gets_the_safe_prefetch(tmp_path) -> None:
    s = _one(tmp_path, SCRIPTED, {**FILES, "build.sh": SCRIPT})
    assert s.fix_class == "safe", s.unsafe_reason
    assert "(in build.sh)" in s.message
    assert "COPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN ./build.sh\n" in \
        s.dockerfile


def test_a_build_inside_a_make_target_gets_the_prefetch(tmp_path) -> None:
    files = {**FILES, "Makefile": "all: app\napp:\n\tgo build -o /out/app ./cmd\n"}
    s = _one(tmp_path, SCRIPTED.replace("./build.sh", "make"), files)
    assert s.fix_class == "safe", s.unsafe_reason
    assert "(in make all (Makefile))" in s.message


def test_without_the_file_nothing_is_offered(tmp_path) -> None:
    assert by_rule(static(tmp_path, SCRIPTED, FILES), "LL002") == []


@pytest.mark.parametrize(("script", "why"), [
    ("export GOFLAGS=-mod=mod\ngo build ./cmd\n", "runs with GOFLAGS set"),
    ("GOPATH=/tmp/gp go build ./cmd\n", "runs with GOPATH set"),
    ("go mod download\ngo build ./cmd\n", "downloads the go dependencies itself"),
])
def test_a_script_that_changes_the_tool_is_unsafe(tmp_path, script, why) -> None:
    s = _one(tmp_path, SCRIPTED, {**FILES, "build.sh": script})
    assert s.fix_class == "unsafe" and why in (s.unsafe_reason or "")


def test_conditional_recipe_lines_and_command_variables_are_unsafe(tmp_path) -> None:
    mk = "all:\n\tgo build ./cmd\nifeq ($(OS),x)\n\tgo env -w GOFLAGS=-x\nendif\n"
    s = _one(tmp_path, SCRIPTED.replace("./build.sh", "make"), {**FILES, "Makefile": mk})
    assert s.fix_class == "unsafe" and "conditional" in (s.unsafe_reason or "")
    s = _one(tmp_path / "e", SCRIPTED.replace("./build.sh", "GOFLAGS=-x make"),
             {**FILES, "Makefile": "all:\n\tgo build ./cmd\n"})
    assert s.fix_class == "unsafe" and "GOFLAGS" in (s.unsafe_reason or "")


@pytest.mark.parametrize(("run", "files", "why"), [
    ("./build.sh", {"build.sh": "cd cmd\ngo build .\n"}, "changes directory"),
    ("make -C tools", {"tools/Makefile": "all:\n\tgo build .\n"}, "builds in tools"),
])
def test_a_build_in_another_directory_is_a_hint(tmp_path, run, files, why) -> None:
    s = _one(tmp_path, SCRIPTED.replace("./build.sh", run), {**FILES, **files})
    assert s.fix_class == "hint" and why in (s.note or "")
