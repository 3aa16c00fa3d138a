"""Dependency prefetch layers for builds that follow a broad COPY (LL002, per ecosystem).

`COPY . .` then `RUN go build` downloads every module on every source edit. The expert
rewrite copies the manifests first and fetches the dependencies in a layer of their own:

    COPY go.mod go.sum ./
    RUN go mod download
    COPY . .
    RUN go build ...

`prefetch(run)` says which ecosystem a build RUN belongs to and what to insert;
`suggestions(subject, rule)` makes LL002's suggestions from it. Sources of the commands:
`go help mod download`; Maven Dependency Plugin, `dependency:go-offline`; `composer help
install` (--no-scripts, --no-autoloader: no project code runs and no autoloader is built
from the absent source); The Cargo Book, `cargo fetch` (which needs the manifests and the
targets' root files: `cargo_plan` copies them when they are few, else a hint names
cargo-chef). Gradle (settings, build scripts, buildSrc) gets a hint naming the recipe.

When the fix is safe (`final_image_doubt`, `manifest_doubt`). An inserted prefetch adds
the tool's download cache to the stage's filesystem, so it is safe only where the final
image provably cannot see that, and the build's output provably does not depend on it:

* The stage is a builder: not the target or a stage the target is built FROM, no needed
  stage is built FROM it or mounts it (`RUN --mount=from=`), and every `COPY --from` of
  it takes paths outside the tool's caches and strictly below the working directory the
  prefetch ran in (where it also wrote the copied manifests), or elsewhere. The caches:
  Go's GOMODCACHE (default GOPATH/pkg/mod, GOPATH default $HOME/go; the official golang
  images set GOPATH=/go) and GOCACHE ($HOME/.cache/go-build); Maven's local repository
  ($HOME/.m2, the official images' MAVEN_CONFIG=/root/.m2); CARGO_HOME and RUSTUP_HOME
  ($HOME/.cargo, $HOME/.rustup; the rust images' /usr/local/cargo, /usr/local/rustup).
  ENV and ARG values are read from the parsed Dockerfile; a value layerlens cannot know
  (a non-root USER without HOME, `maven.repo.local` in MAVEN_OPTS) makes it unsafe. A
  base image's own ENV cannot be read; the official images' values are assumed.
* The build's output does not depend on the cache being warm. Go: the module cache holds
  each module version once, verified against go.sum, and a build selects the same
  versions from go.mod whether they were downloaded now or earlier ("Go Modules
  Reference", sections "Module cache" and "Authenticating modules"). Maven: released
  artifacts in a repository are immutable (Maven Central's publishing requirements), so a
  warm ~/.m2 resolves the same jars; SNAPSHOT versions and version ranges re-resolve over
  time, and make it unsafe. Cargo: registry and git dependencies are pinned and
  checksummed by Cargo.lock, and `cargo fetch` only downloads them so that "subsequent
  Cargo commands will be able to run offline" (The Cargo Book, `cargo fetch`).
* The prefetch reads only the copied manifests, with the environment and mounts the
  build has. Go: go.sum is in the context (the broad COPY then overwrites any go.sum
  entries `go mod download` added), no go.work, no vendor/ directory (the build uses no
  download at all), no `replace` to a local directory. Maven: one pom.xml, no <modules>,
  no <parent> (resolved from ../pom.xml), no .mvn/ files beyond the wrapper's. Cargo
  (`cargo_plan`): Cargo.lock present, no .cargo/ configuration, every workspace member's
  manifest and every target's root file copied (at most MAX_CARGO_FILES), no path
  dependency outside the members. No ENV,
  ARG or USER between the inserted layer and the build changes what the tool reads, and
  the build RUN has no --mount or --network option the prefetch would lack.

When in doubt it is not safe: the suggestion stays an unsafe fix with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from layerlens.context.inputs import has_wildcard
from layerlens.context.patterns import go_clean
from layerlens.dockerfile.model import Dockerfile, Instruction, find_stage
from layerlens.runmodel import scripts_of
from layerlens.runmodel.follow import Followed, follow_run

if TYPE_CHECKING:
    from layerlens.suggest.model import Suggestion
    from layerlens.suggest.rule import Rule, Subject


@dataclass(frozen=True)
class Prefetch:
    ecosystem: str
    manifests: tuple[str, ...]  # must be in the context
    optional: tuple[str, ...]  # copied too when present
    command: str | None  # the prefetch RUN's command; None: a hint only
    hint: str | None = None  # why there is no automatic fix, or the recipe
    already: tuple[str, ...] = ()  # a RUN containing one of these already prefetches
    via: Followed | None = None  # the build is in this project script or Makefile


def _argv(ins: Instruction, followed: tuple[Followed, ...] = ()
          ) -> list[tuple[list[str], Followed | None]]:
    """Each simple command of RUN `ins` as words (raw text where unknown), a command that
    runs a followed project script or Makefile replaced by the commands it runs."""
    by = {f.command: f for f in followed}
    out: list[tuple[list[str], Followed | None]] = []
    n = 0
    for sc in scripts_of(ins):
        for c in sc.commands:
            f = by.get(n)
            n += 1
            if f is not None:
                out += [([w.value if w.value is not None else w.raw for w in cc.words], f)
                        for s in f.scripts for cc in s.commands if cc.words]
            elif c.words:
                out.append(([w.value if w.value is not None else w.raw for w in c.words],
                            None))
    return out


def prefetch(run: Instruction, followed: tuple[Followed, ...] = ()) -> Prefetch | None:
    """The prefetch a build RUN would profit from, or None when it is no build layerlens
    knows (or already is a prefetch). `followed` (runmodel/follow.py): the project scripts
    and Makefiles the RUN runs, whose builds count as the RUN's (`Prefetch.via`)."""
    for w, via in _argv(run, followed):
        got = _prefetch_of(w)
        if got is not None:
            return replace(got, via=via) if via is not None else got
    return None


def _prefetch_of(w: list[str]) -> Prefetch | None:
    """The prefetch for the one command `w` (its words), or None."""
    if w:
        tool = w[0].rsplit("/", 1)[-1]
        rest = [a for a in w[1:] if not a.startswith("-")]
        if tool == "go" and rest[:1] in (["build"], ["install"], ["test"]):
            return Prefetch("go", ("go.mod",), ("go.sum",), "go mod download",
                            already=("go mod download",))
        if tool in ("mvn", "mvnw") and any(g in rest for g in (
                "package", "install", "verify", "compile")):
            launcher = w[0] if w[0].startswith("./") else "mvn"
            # the wrapper script and its properties must be there for `./mvnw` to start
            return Prefetch("maven", ("pom.xml", *(("mvnw",) if launcher != "mvn" else ())),
                            (".mvn/wrapper/maven-wrapper.properties",)
                            if launcher != "mvn" else (), f"{launcher} -B dependency:go-offline",
                            already=("dependency:go-offline", "dependency:resolve"))
        if tool == "composer" and rest[:1] == ["install"] and "--no-scripts" not in w:
            keep = [a for a in w[2:] if a.startswith("--") and a.split("=", 1)[0] in (
                "--no-dev", "--prefer-dist", "--ignore-platform-reqs", "--no-interaction")]
            return Prefetch("composer", ("composer.json",), ("composer.lock",),
                            " ".join(["composer", "install", *keep, "--no-scripts",
                                      "--no-autoloader"]),
                            already=("--no-autoloader",))
        if tool == "cargo" and rest[:1] == ["build"]:
            # `cargo fetch` reads the targets' root files too: cargo_plan lists them
            return Prefetch("cargo", ("Cargo.toml",), ("Cargo.lock",), "cargo fetch",
                            already=("cargo fetch", "cargo chef"))
        if tool in ("gradle", "gradlew") and any(g in rest for g in (
                "build", "assemble", "installDist", "bootJar", "jar", "shadowJar")):
            return Prefetch("gradle", ("build.gradle",), (), None,
                            hint="copy settings.gradle(.kts), the build scripts, gradle/ and "
                            "buildSrc/ first and run a dependency-resolving task (e.g. "
                            "`gradle dependencies`) before the broad COPY",
                            already=("dependencies", "downloadRepos"))
    return None


def followed_doubt(pf: Prefetch) -> tuple[str | None, str | None]:
    """(hint note, unsafe doubt) for a prefetch whose build runs inside a project script or
    Makefile (`pf.via`): the file is followed one level only, so anything it does that the
    inserted prefetch would not (run elsewhere, set the tool's variables, fetch by itself,
    lines layerlens cannot evaluate) is a doubt, and a build in another directory a hint."""
    f = pf.via
    if f is None:
        return None, None
    if f.directory is not None:
        return (f"`{f.label}` builds in {f.directory} (make -C): copy that directory's "
                "manifests and prefetch there"), None
    from layerlens.cache.runcost import dependency_role
    from layerlens.runmodel.follow import assigned_names

    for sc in f.scripts:
        cds = []
        for c in sc.commands:
            words = [w.value for w in c.args]
            role = dependency_role(c.name, words) if c.name else None
            moved = any(d.subshell is None or d.subshell[0] <= c.start < d.subshell[1]
                        for d in cds)
            if role is not None and role[1] == pf.ecosystem and moved:
                return (f"`{f.label}` changes directory before its {pf.ecosystem} build: "
                        "copy the manifests it reads and prefetch there"), None
            if (c.name or "").rsplit("/", 1)[-1] in ("cd", "pushd", "popd"):
                cds.append(c)
    for sc in f.scripts:
        for c in sc.commands:
            role = dependency_role(c.name, [w.value for w in c.args]) if c.name else None
            if role == ("prefetch", pf.ecosystem):
                return None, f"`{f.label}` downloads the {pf.ecosystem} dependencies itself"
    names = [*f.env, *assigned_names(f.scripts)]
    # GO_FLAGS and the like are the script's own: no Go variable has an underscore there
    hit = next((k for k in names if _TOOL_VARS.match(k) and not k.startswith("GO_")), None)
    if hit is not None:
        return None, (f"`{f.label}` runs with {hit} set, which changes how the tool runs and "
                      "the inserted prefetch would not see")
    if f.doubts:
        return None, f"`{f.label}`: {f.doubts[0]}"
    return None, None


# Variables that change where the tool puts its cache or what it downloads: set between
# the inserted prefetch and the build, they make the prefetch read differently.
_TOOL_VARS = re.compile(r"^(GO\w*|CGO_\w+|CARGO\w*|RUSTUP\w*|MAVEN\w*|MVN\w*|GRADLE\w*|"
                        r"JAVA\w*|HOME|USER|PATH|https?_proxy|HTTPS?_PROXY|no_proxy|NO_PROXY|"
                        r"NETRC)$")


def _user_at(df: Dockerfile, ins: Instruction) -> str | None:
    """The USER in force at `ins` (through the stage's base stages); None: root, as far as
    the Dockerfile says (a base image's own USER cannot be read)."""
    chain = []
    cur: int | None = ins.stage
    while cur is not None and cur not in chain:
        chain.append(cur)
        cur = df.stages[cur].base_stage
    user = None
    for st in reversed(chain):
        for i in df.stages[st].instructions[1:]:
            other = df.instructions[i]
            if st == ins.stage and other.index >= ins.index:
                break
            if other.keyword == "user" and other.expanded:
                user = other.expanded[0]
    return None if user is None or user.split(":", 1)[0] in ("root", "0") else user


def cache_dirs(ecosystem: str, at: Instruction, run: Instruction, user: str | None
               ) -> tuple[tuple[str, ...], str | None]:
    """(absolute directories the ecosystem's prefetch writes its cache to, reason they are
    unknown or None) for a prefetch inserted before `at` (whose ENV and ARG values it
    runs with) as `user` (None: root), for the build RUN `run`. Defaults: `go help
    environment` (GOPATH defaults to $HOME/go, GOMODCACHE to GOPATH/pkg/mod, GOCACHE to
    $HOME/.cache/go-build) and the golang images' GOPATH=/go;
    Maven's local repository ${user.home}/.m2/repository and the maven images'
    MAVEN_CONFIG=/root/.m2; CARGO_HOME ($HOME/.cargo) and RUSTUP_HOME ($HOME/.rustup), the
    rust images' /usr/local/cargo and /usr/local/rustup (a rust-toolchain file makes the
    prefetch install that toolchain)."""
    env = dict(at.build_args)
    env.update(at.env)
    home = env.get("HOME") or (None if user else "/root")
    for k in ("HOME", "GOPATH", "GOMODCACHE", "GOCACHE", "MAVEN_CONFIG", "MAVEN_OPTS",
              "CARGO_HOME", "RUSTUP_HOME"):
        if "$" in (env.get(k) or ""):
            return (), f"{k} is set to a value layerlens cannot expand"
    if home is None:
        return (), (f"the download cache lies in the home directory of USER {user}, which "
                    "the Dockerfile does not set (HOME)")
    out: list[str] = []
    if ecosystem == "go":
        gopaths = [p for p in (env.get("GOPATH") or "").split(":") if p] or \
            ["/go", home + "/go"]
        out += [env["GOMODCACHE"]] if env.get("GOMODCACHE") else [
            p.rstrip("/") + "/pkg" for p in gopaths]
        out.append(env.get("GOCACHE") or home + "/.cache/go-build")
    elif ecosystem == "maven":
        if "maven.repo.local" in (env.get("MAVEN_OPTS") or "") + " ".join(
                w for c, _ in _argv(run) for w in c):
            return (), "the Maven local repository is moved with maven.repo.local"
        out += [home + "/.m2", "/root/.m2"] + ([env["MAVEN_CONFIG"]] if env.get("MAVEN_CONFIG")
                                               else [])
    elif ecosystem == "cargo":
        out += [env["CARGO_HOME"]] if env.get("CARGO_HOME") else [
            "/usr/local/cargo", home + "/.cargo"]
        out += [env["RUSTUP_HOME"]] if env.get("RUSTUP_HOME") else [
            "/usr/local/rustup", home + "/.rustup"]
    else:
        return (), f"layerlens does not model where the {ecosystem} cache lies"
    if any(not p.startswith("/") for p in out):
        return (), "the download cache's location is a relative path"
    return tuple(dict.fromkeys(go_clean(p) for p in out)), None


def _overlaps(a: str, b: str) -> bool:
    a2, b2 = a.rstrip("/") + "/", b.rstrip("/") + "/"
    return a2.startswith(b2) or b2.startswith(a2)


def final_image_doubt(df: Dockerfile, stage: int, pushed: frozenset[int],
                      needed: frozenset[int], caches: tuple[str, ...], workdir: str
                      ) -> str | None:
    """Why a layer added to `stage` (writing the tool caches `caches` and the manifests in
    `workdir`) might reach the final image; None when it provably does not (see the module
    docstring). `pushed`: the target and the stages it is FROM; `needed`: the stages the
    build runs."""
    label = df.stages[stage].name or f"stage {stage}"
    if stage in pushed:
        return f"{label} is part of the final image, which would hold the download cache"
    for other in sorted(needed):
        if other == stage:
            continue
        st = df.stages[other]
        olabel = st.name or f"stage {other}"
        if st.base_stage == stage:
            return f"{olabel} is built FROM {label} and inherits its download cache"
        for i in st.instructions[1:]:
            ins = df.instructions[i]
            for m in ins.mounts:
                if m.from_ is not None and find_stage(df.stages, m.from_) == stage:
                    return f"a RUN of {olabel} mounts {label}, download cache included"
            if ins.from_stage != stage:
                continue
            for src in ins.expanded[:-1]:
                path = go_clean("/" + src)
                if has_wildcard(path):
                    path = go_clean(re.split(r"[*?\[]", path, maxsplit=1)[0].rsplit("/", 1)[0]
                                    or "/")
                hit = next((c for c in caches if _overlaps(path, c)), None)
                if hit is not None:
                    return (f"{olabel} copies {path} from {label}, which overlaps the "
                            f"download cache {hit}")
                if (workdir.rstrip("/") + "/").startswith(path.rstrip("/") + "/"):
                    return (f"{olabel} copies {path} from {label}, which holds the directory "
                            f"{workdir} where the prefetch also wrote")
    return None


_REPLACE_LOCAL = re.compile(r"=>\s*(\.{1,2}/|\.{1,2}\s|/)", re.M)


def manifest_doubt(ecosystem: str, read: Callable[[str], bytes | None], have: set[str],
                   prefix: str) -> str | None:
    """Why a prefetch from the copied manifests alone might read or resolve differently
    from the build (module docstring); None when it provably does not. `read` reads a
    context file (the Analysis' context), `have` is what the broad COPY brings in and
    `prefix` the COPY's source directory ('' or 'dir/')."""
    if ecosystem == "go":
        if prefix + "go.sum" not in have:
            return ("there is no go.sum: `go mod download` may write one that the broad COPY "
                    "would not replace")
        if prefix + "go.work" in have:
            return "a go.work makes the build read the workspace's other modules"
        text = (read(prefix + "go.mod") or b"").decode("utf-8", errors="replace")
        if _REPLACE_LOCAL.search(text):
            return "go.mod replaces modules with local directories the download needs"
        return None
    if ecosystem == "maven":
        text = (read(prefix + "pom.xml") or b"").decode("utf-8", errors="replace")
        if "<modules>" in text:
            return ("a multi-module build: copy every module's pom.xml first, then run "
                    "dependency:go-offline")
        if "<parent>" in text:
            return "pom.xml names a <parent>, which Maven reads from ../pom.xml first"
        if "SNAPSHOT" in text or re.search(r"<version>\s*[\[(]", text):
            return ("pom.xml uses SNAPSHOT versions or version ranges, which a cached download "
                    "layer would not re-resolve")
        extra = [p for p in have if p.startswith(prefix + ".mvn/")
                 and p != prefix + ".mvn/wrapper/maven-wrapper.properties"
                 and not p.startswith(prefix + ".mvn/wrapper/")]
        if extra:
            return f"{extra[0]} configures Maven and is not among the copied manifests"
        return None
    return f"layerlens does not prove {ecosystem} prefetches safe"


def _between_doubt(df: Dockerfile, copy: Instruction, run: Instruction) -> str | None:
    """Why the build might run the tool differently from a prefetch inserted before
    `copy`: a USER or tool variable set in between, or a mount or network option."""
    for i in df.stages[run.stage].instructions[1:]:
        ins = df.instructions[i]
        if ins.index <= copy.index:
            continue
        if ins.index >= run.index:
            break
        if ins.keyword == "user":
            return f"USER at line {ins.start_line} runs the build as another user"
        if ins.keyword in ("env", "arg"):
            hit = next((k for k, _ in ins.pairs if _TOOL_VARS.match(k)), None)
            if hit is not None:
                return (f"{ins.upper} {hit} at line {ins.start_line} changes how the build "
                        "runs the tool, and the prefetch would not see it")
    if run.mounts or run.flag("network") is not None or run.flag("security") is not None:
        return "the build RUN has --mount or --network options the prefetch would lack"
    return None



# Why the build's output does not depend on the cache being warm (module docstring).
_WARM_SAME = {
    "go": "go verifies every cached module against go.sum",
    "maven": "the released artifacts pom.xml names are immutable in their repository",
    "cargo": "Cargo.lock pins and checksums every crate the build reads",
}

# At most this many files are copied for a `cargo fetch`: each target root file (src/lib.rs,
# src/main.rs) is edited like any source, and every edit of one reruns the download.
MAX_CARGO_FILES = 16
CARGO_HINT = ("build the dependencies first with cargo-chef (`cargo chef cook` on a recipe "
              "of the manifests), or copy the manifests with stub targets and build them")
_DEP_TABLES = ("dependencies", "dev-dependencies", "build-dependencies")


def _cargo_paths(doc: dict) -> list[str]:
    """`path =` values of a manifest's dependency, workspace and [patch] tables."""
    tables: list[dict] = [doc.get(t) or {} for t in _DEP_TABLES]
    tables += [(doc.get("workspace") or {}).get("dependencies") or {}]
    for tgt in (doc.get("target") or {}).values():
        if isinstance(tgt, dict):
            tables += [tgt.get(t) or {} for t in _DEP_TABLES]
    tables += [v for v in (doc.get("patch") or {}).values() if isinstance(v, dict)]
    return [spec["path"] for t in tables if isinstance(t, dict) for spec in t.values()
            if isinstance(spec, dict) and isinstance(spec.get("path"), str)]


def cargo_plan(read: Callable[[str], bytes | None], have: set[str], prefix: str
               ) -> tuple[list[str], str | None, str | None]:
    """(files `cargo fetch` needs, relative to the broad COPY's source; a doubt that makes
    the fix unsafe; a hint when no fix is offered) for the manifest at `prefix`Cargo.toml.

    Cargo loads every workspace member's manifest, and a manifest names its targets by
    files that must exist (src/lib.rs, src/main.rs, src/bin/*.rs, explicit [[bin]], [lib],
    [[bench]], [[test]], [[example]] paths) (The Cargo Book, "Cargo Targets", "Target
    auto-discovery"; "Workspaces"). Those, the manifests, Cargo.lock and a rust-toolchain
    file are copied when they are at most MAX_CARGO_FILES and all in the context; a path
    dependency outside the members or a glob it cannot expand makes it a hint."""
    import tomllib
    from fnmatch import fnmatchcase

    def load(rel: str) -> dict | None:
        data = read(prefix + rel)
        try:
            return tomllib.loads(data.decode("utf-8")) if data is not None else None
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None

    root = load("Cargo.toml")
    if root is None:
        return [], None, f"{prefix}Cargo.toml cannot be read as TOML; {CARGO_HINT}"
    files = ["Cargo.toml"]
    pkgs: list[str] = [""] if "package" in root else []
    ws = root.get("workspace") if isinstance(root.get("workspace"), dict) else None
    if ws is not None:
        dirs = sorted({p[len(prefix):-len("/Cargo.toml")] for p in have
                       if p.startswith(prefix) and p.endswith("/Cargo.toml")})
        excl = [go_clean(e).strip("/") for e in ws.get("exclude") or [] if isinstance(e, str)]
        for pat in ws.get("members") or []:
            if not isinstance(pat, str):
                return [], None, f"a workspace member layerlens cannot read; {CARGO_HINT}"
            pat = go_clean(pat).strip("/")
            hits = [d for d in dirs if fnmatchcase(d, pat) and d not in excl]
            if not hits:
                return [], None, (f"workspace member {pat} has no Cargo.toml in what the "
                                  f"COPY brings in; {CARGO_HINT}")
            pkgs += [d for d in hits if d not in pkgs]
    if not pkgs:
        return [], None, f"{prefix}Cargo.toml declares no package; {CARGO_HINT}"
    for d in pkgs:
        base = d + "/" if d else ""
        doc = root if not d else load(base + "Cargo.toml")
        if doc is None:
            return [], None, f"{base}Cargo.toml cannot be read as TOML; {CARGO_HINT}"
        if d:
            files.append(base + "Cargo.toml")
        for dep in _cargo_paths(doc):
            tgt = go_clean("/" + base + dep).strip("/")
            if tgt not in pkgs:
                return [], None, (f"{base}Cargo.toml depends on the local path {dep}, outside "
                                  f"the workspace members; {CARGO_HINT}")
        pkg = doc.get("package") or {}
        name = pkg.get("name") if isinstance(pkg, dict) else None
        want: list[str] = []
        lib = doc.get("lib") if isinstance(doc.get("lib"), dict) else None
        if lib is not None and isinstance(lib.get("path"), str):
            want.append(lib["path"])
        elif base + "src/lib.rs" in {p[len(prefix):] for p in have if p.startswith(prefix)}:
            want.append("src/lib.rs")
        rels = {p[len(prefix):] for p in have if p.startswith(prefix)}
        if base + "src/main.rs" in rels:
            want.append("src/main.rs")
        want += [p[len(prefix + base):] for p in sorted(have)
                 if p.startswith(prefix + base + "src/bin/") and p.endswith(".rs")]
        for kind, dflt in (("bin", "src/bin"), ("bench", "benches"), ("test", "tests"),
                           ("example", "examples")):
            for t in doc.get(kind) or []:
                if not isinstance(t, dict):
                    continue
                if isinstance(t.get("path"), str):
                    want.append(t["path"])
                elif kind == "bin" and t.get("name") == name:
                    want.append("src/main.rs")
                elif isinstance(t.get("name"), str):
                    want.append(f"{dflt}/{t['name']}.rs")
        if isinstance(pkg, dict) and isinstance(pkg.get("build"), str):
            want.append(pkg["build"])
        elif base + "build.rs" in rels:
            want.append("build.rs")
        if not want:
            return [], None, f"{base or 'the'} package has no target file; {CARGO_HINT}"
        for w in dict.fromkeys(go_clean("/" + base + w).strip("/") for w in want):
            if w not in rels:
                return [], None, (f"target file {w} is not in what the COPY brings in; "
                                  f"{CARGO_HINT}")
            if w not in files:
                files.append(w)
    rels = {p[len(prefix):] for p in have if p.startswith(prefix)}
    files += [t for t in ("rust-toolchain.toml", "rust-toolchain") if t in rels]
    doubt = None
    if "Cargo.lock" in rels:
        files.insert(1, "Cargo.lock")
    else:
        doubt = ("there is no Cargo.lock: `cargo fetch` resolves and writes one that the "
                 "broad COPY would not replace")
    if any(r.startswith(".cargo/") for r in rels):
        doubt = doubt or ".cargo/ configures sources and registries and is not copied first"
    if len(files) > MAX_CARGO_FILES:
        return [], None, (f"`cargo fetch` would need {len(files)} files (manifests and "
                          f"target roots) copied first; {CARGO_HINT}")
    return files, doubt, None


def suggestions(subject: Subject, rule: Rule,
                skip: Callable[[Instruction], bool]) -> list[Suggestion]:
    """LL002's prefetch suggestions: for each build RUN after a broad COPY (that `skip`,
    the rule's own install moves, does not take), insert the dependency prefetch before
    the COPY. A fix, safe when `final_image_doubt`, `manifest_doubt` and the environment
    checks find no doubt, else unsafe with the first doubt as its reason; a hint when the
    ecosystem has no automatic prefetch or the manifests are incomplete."""
    from layerlens.suggest.model import Suggestion
    from layerlens.suggest.rewrite import insert_before
    from layerlens.suggest.rules.ll002_manifests import _manifest_copies
    from layerlens.suggest.rules.ll009_context_free_first import broad_copy

    df = subject.df
    target = subject.analysis.options.target
    tgt = find_stage(df.stages, target) if target is not None else None
    needed = df.needed_stages(tgt)
    out: list[Suggestion] = []
    for stage in sorted(needed):
        members = [df.instructions[i] for i in df.stages[stage].instructions[1:]]
        for pos, run in enumerate(members):
            if run.keyword != "run" or skip(run):
                continue
            pf = prefetch(run, follow_run(df, run, subject.analysis.context_file,
                                          subject.inputs))
            if pf is None:
                continue
            before = members[:pos + 1]
            if any(a in m.original for m in before if m.keyword == "run" for a in pf.already):
                continue  # the stage prefetches already
            if any(m.type == "cache" for m in run.mounts):
                continue  # a cache mount keeps the downloads between builds already
            copy = next((m for m in reversed(before[:-1]) if broad_copy(m)), None)
            wd = df.workdir_at(run)
            if copy is None or wd != go_clean(
                    copy.expanded[-1] if copy.expanded[-1].startswith("/")
                    else df.workdir_at(copy) + "/" + copy.expanded[-1]):
                continue
            prefix = go_clean("/" + copy.expanded[0])[1:]
            prefix = prefix + "/" if prefix else ""
            inputs = subject.inputs.get(copy.index)
            have = set(inputs.paths) if inputs else set()
            if any(p == prefix + "vendor" or p.startswith(prefix + "vendor/") for p in have) \
                    and pf.ecosystem == "go":
                continue  # vendored modules: go build downloads nothing
            missing = [m for m in pf.manifests if prefix + m not in have]
            if missing and pf.command is not None:
                continue

            def read(rel: str) -> bytes | None:
                return subject.analysis.context_file(rel)

            files = [*pf.manifests, *(o for o in pf.optional if prefix + o in have)]
            note = pf.hint
            if pf.ecosystem == "cargo":
                files, doubt, note = cargo_plan(read, have, prefix)
            else:
                doubt = manifest_doubt(pf.ecosystem, read, have, prefix) \
                    if pf.command is not None else None
            if note is None and doubt is not None and (
                    "local directories" in doubt or "multi-module" in doubt):
                note = doubt  # the prefetch would fail: a hint, not a fix
            if note is None and pf.via is not None:
                via_note, via_doubt = followed_doubt(pf)
                note = via_note
                doubt = doubt or via_doubt
            set_wd: list[str] = []
            if note is None and df.workdir_at(copy) != wd:
                cpos = members.index(copy)
                # `COPY . /src` then `WORKDIR /src`: the same WORKDIR set before the copy
                # changes the directory of no other instruction (only the inserted ones run
                # between the two); as root it creates the directory the COPY would create
                if members[cpos + 1].keyword == "workdir" and \
                        df.workdir_at(members[cpos + 2]) == wd and \
                        _user_at(df, copy) is None and "$" not in wd and "\n" not in wd:
                    set_wd = [f"WORKDIR {wd}"]
                else:
                    note = (f"the working directory becomes {wd} after {copy.upper} at line "
                            f"{copy.start_line}: set it before, then copy the manifests and "
                            "prefetch there")
            title, lines = rule.title, (copy.start_line, run.start_line)
            where = f" (in {pf.via.label})" if pf.via is not None else ""
            msg = (f"{pf.ecosystem} build at line {run.start_line}{where} downloads its "
                   "dependencies "
                   f"after {copy.upper} at line {copy.start_line}: fetch them in a layer of "
                   "their own, from the manifests, before it")
            if note is not None or pf.command is None:
                out.append(Suggestion(rule.id, title, msg, rule.reason, lines, False,
                                      note=note))
                continue
            if doubt is None:
                doubt = _between_doubt(df, copy, run)
            if doubt is None:
                caches, doubt = cache_dirs(pf.ecosystem, copy, run, _user_at(df, copy))
                if doubt is None:
                    doubt = final_image_doubt(df, stage, subject.pushed_stages, needed,
                                              caches, wd)
            new_text = insert_before(df, copy, [*set_wd, *_manifest_copies(copy, files),
                                                f"RUN {pf.command}"])
            savings = subject.measure(new_text)
            out.append(Suggestion(
                rule.id, title, msg, rule.reason, lines, True, savings, dockerfile=new_text,
                safety="unsafe" if doubt else "safe",
                unsafe_reason=None if doubt is None else (
                    f"`{pf.command}` adds a layer with the {pf.ecosystem} download cache to "
                    f"the stage, and it is not provably absent from the final image: {doubt}"),
                note=None if doubt else (
                    "safe: the download cache stays in a builder stage the final image "
                    "takes only other paths from, and " + _WARM_SAME[pf.ecosystem])))
    return out
