"""Dependency prefetch layers for builds that follow a broad COPY (LL002, per ecosystem).

`COPY . .` then `RUN go build` downloads every module on every source edit. The expert
rewrite copies the manifests first and fetches the dependencies in a layer of their own:

    COPY go.mod go.sum ./
    RUN go mod download
    COPY . .
    RUN go build ...

`prefetch(run)` says which ecosystem a build RUN belongs to and what to insert. Sources of
the commands: `go help mod download`; Maven Dependency Plugin, `dependency:go-offline`;
`composer help install` (--no-scripts, --no-autoloader: no project code runs and no
autoloader is built from the absent source). Rust (`cargo fetch` needs the targets'
source files to read the manifest) and Gradle (settings, build scripts, buildSrc) get
hints naming the recipe instead (cargo-chef, or a dummy `src/main.rs`).
"""

from __future__ import annotations

from dataclasses import dataclass

from layerlens.dockerfile.model import Instruction
from layerlens.runmodel import scripts_of


@dataclass(frozen=True)
class Prefetch:
    ecosystem: str
    manifests: tuple[str, ...]  # must be in the context
    optional: tuple[str, ...]  # copied too when present
    command: str | None  # the prefetch RUN's command; None: a hint only
    hint: str | None = None  # why there is no automatic fix, or the recipe
    already: tuple[str, ...] = ()  # a RUN containing one of these already prefetches


def _argv(ins: Instruction) -> list[list[str]]:
    return [[w.value if w.value is not None else w.raw for w in c.words]
            for sc in scripts_of(ins) for c in sc.commands if c.words]


def prefetch(run: Instruction) -> Prefetch | None:
    """The prefetch a build RUN would profit from, or None when it is no build layerlens
    knows (or already is a prefetch)."""
    for w in _argv(run):
        tool = w[0].rsplit("/", 1)[-1]
        rest = [a for a in w[1:] if not a.startswith("-")]
        if tool == "go" and rest[:1] in (["build"], ["install"], ["test"]):
            return Prefetch("go", ("go.mod",), ("go.sum",), "go mod download",
                            already=("go mod download",))
        if tool in ("mvn", "mvnw") and any(g in rest for g in (
                "package", "install", "verify", "compile")):
            launcher = w[0] if w[0].startswith("./") else "mvn"
            return Prefetch("maven", ("pom.xml",), (".mvn/wrapper/maven-wrapper.properties",)
                            if launcher != "mvn" else (), f"{launcher} -B dependency:go-offline",
                            already=("dependency:go-offline", "dependency:resolve"))
        if tool == "composer" and rest[:1] == ["install"] and "--no-scripts" not in w:
            keep = [a for a in w[2:] if a.startswith("--") and a.split("=", 1)[0] in (
                "--no-dev", "--prefer-dist", "--ignore-platform-reqs", "--no-interaction")]
            return Prefetch("composer", ("composer.json",), ("composer.lock",),
                            " ".join(["composer", "install", *keep, "--no-scripts",
                                      "--no-autoloader"]),
                            already=("--no-autoloader",))
        if tool == "cargo" and rest[:1] in (["build"], ["install"]):
            return Prefetch("cargo", ("Cargo.toml",), ("Cargo.lock",), None,
                            hint="`cargo fetch` needs the targets' source files to read the "
                            "manifest: build the dependencies first with cargo-chef (`cargo "
                            "chef cook` on a recipe of the manifests), or copy Cargo.toml and "
                            "Cargo.lock with a stub src/main.rs and run `cargo build` on it",
                            already=("cargo fetch", "cargo chef"))
        if tool in ("gradle", "gradlew") and any(g in rest for g in (
                "build", "assemble", "installDist", "bootJar", "jar", "shadowJar")):
            return Prefetch("gradle", ("build.gradle",), (), None,
                            hint="copy settings.gradle(.kts), the build scripts, gradle/ and "
                            "buildSrc/ first and run a dependency-resolving task (e.g. "
                            "`gradle dependencies`) before the broad COPY",
                            already=("dependencies", "downloadRepos"))
    return None
