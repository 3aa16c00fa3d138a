"""A RUN's build seconds estimated from what it does, when nothing measured it.

The RUN model (layerlens/runmodel/) reads a RUN as simple commands; each command is put in
one class of work below and priced by the class's default. The estimate is the RUN's
fixed overhead plus the sum over its commands. A RUN the shell model cannot read at all
(no commands found) keeps the flat default of `cache/costs.py`.

Defaults, in seconds, for one step on a typical hosted CI runner (2-4 vCPUs, a warm
network, packages fetched from the distribution's or registry's CDN). They are stated
judgements, not measurements: no published table of per-step build times exists to take
them from, and the true figures vary by an order of magnitude with the project. What they
get right is the order between classes (an `echo` costs nothing beside the step itself, a
package install seconds to a minute, a compile more), which is what ranks layers and
fixes. Every figure priced from them says "estimate" and names its basis; `layerlens
measure` (a real build) or `--build-log` (a BuildKit log) replace them with real seconds.

Class (seconds): rationale.

* step overhead (0.5): start a container and snapshot its layer; a buildah
  `RUN busybox sleep 1` on vfs took 2.3 s here, BuildKit on overlayfs takes less.
* trivial: echo, mkdir, chmod, ln, useradd, cd, a2enmod, ... (0.05 each): a few syscalls
  or a few files linked or edited.
* sleep N (N): exact.
* index refresh: apt-get update, apk update, yum makecache (8): some MiB of indexes.
* OS packages: apt-get/apk/yum/dnf/zypper install or upgrade (10 + 2 per named
  package): resolve, download, unpack; dpkg triggers dominate small installs.
* language packages by name: pip install flask, npm install -g typescript (5 + 3 per
  named package): one resolver run, a download and unpack per package.
* language packages from a manifest: npm ci, pip install -r, bundle install, go mod
  download, cargo fetch, composer install, mvn dependency:go-offline (60): a lock file
  typically names hundreds of packages.
* compile or bundle: make, go build, cargo build, mvn package, gradle build, npm run
  build (a script whose name says build, compile, bundle, dist or prod; another `npm run`
  script is "any other command"), tsc, webpack, gcc, dotnet publish, test runs (120): the
  step CI users wait for; real projects range from seconds to tens of minutes.
  A build whose tool fetches the dependencies itself (see "Builds that download" below)
  is split into a download part and a compile part; the two add up to the 120.
* download: curl, wget, git clone (5): one archive or repository, warm network.
* unpack: tar, unzip, gunzip (2): local I/O on a downloaded archive.
* any other command: a project script, an unknown tool, `go generate` (which runs
  whatever generators the source names, usually small ones such as stringer) (20): the
  flat default layerlens used for every RUN before. A project script or `make [target]`
  whose file is in today's build context is followed one level instead (runmodel/follow.py) and
  priced by the commands it runs, today's version of the file standing for every
  replayed commit, as today's Dockerfile does.

Builds that download (issue 16). `go build`/`install`/`test`, `mvn package` (and
install, verify, compile, test), `gradle build` (and assemble, installDist, bootJar, jar,
shadowJar, test) and `cargo build`/`test` fetch every dependency the manifests name into
an empty tool cache before compiling. Their 120 s are split per ecosystem into
`DEPENDENCY_DOWNLOAD_SECONDS` and the rest, and the matching prefetch command (`go mod
download`, `mvn dependency:go-offline` or `dependency:resolve`, `gradle dependencies`,
`cargo fetch`) is priced at the same download figure, so that a prefetch layer plus a
build that no longer downloads costs what the build alone cost (plus one step overhead)
when both rebuild. The split, in seconds of the 120:

* go 60: module zips from proxy.golang.org, verified against go.sum, then every package
  of every module compiled (no build cache in a fresh layer); about half each.
* maven 60, gradle 60: a fresh ~/.m2 or ~/.gradle downloads plugins and the dependency
  tree (hundreds of jars, many small requests), and Java compiles fast; about half.
* cargo 30: crates are small compressed sources from a CDN; `cargo build` then compiles
  every dependency crate, which dominates a Rust build (the reason cargo-chef exists:
  its README names dependency compilation as the slow part); a quarter.

These are stated judgements like the table above, not measurements. The download part is
dropped (`cache/costs.py`, per replayed build) when an earlier layer of the same stage,
in the same working directory, ran the matching prefetch: the modules are then in the
build's filesystem whether that layer was cached or rebuilt in the same build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from layerlens.dockerfile.model import Instruction
from layerlens.runmodel.follow import Followed
from layerlens.runmodel.shell import Command

RUN_OVERHEAD_SECONDS = 0.5
TRIVIAL_SECONDS = 0.05
INDEX_REFRESH_SECONDS = 8.0
OS_INSTALL_SECONDS = 10.0
OS_PER_PACKAGE_SECONDS = 2.0
LANG_NAMED_SECONDS = 5.0
LANG_PER_PACKAGE_SECONDS = 3.0
LANG_MANIFEST_SECONDS = 60.0
COMPILE_SECONDS = 120.0
DOWNLOAD_SECONDS = 5.0
UNPACK_SECONDS = 2.0
UNKNOWN_COMMAND_SECONDS = 20.0

TRIVIAL = frozenset({
    "echo", "printf", "mkdir", "rmdir", "rm", "cp", "mv", "ln", "touch", "chmod", "chown",
    "chgrp", "cat", "true", "false", ":", "set", "export", "cd", "test", "[", "env", "ls",
    "tee", "sed", "grep", "useradd", "groupadd", "adduser", "addgroup", "usermod",
    "update-ca-certificates", "ldconfig", "id", "whoami", "which", "command", "exit",
    "unset", "umask", "install", "find", "head", "tail", "sort", "wc", "xargs", "basename",
    "dirname", "readlink", "realpath", "stat", "date", "uname", "locale-gen", "apt-mark",
    "npm-cache-clean", "setcap", "chsh", "mkfifo", "sync",
    # line-ending and text filters over a few files (kuard's `dos2unix build/build.sh`)
    "dos2unix", "unix2dos", "awk", "cut", "tr",
    # system configuration that links or edits a few files (FreshRSS's seven a2enmod and
    # a2dismod calls were priced as 140 s of unknown commands)
    "a2enmod", "a2dismod", "a2ensite", "a2dissite", "a2enconf", "a2disconf", "phpenmod",
    "phpdismod", "update-alternatives", "rc-update", "passwd", "chpasswd", "ulimit",
    "sysctl", "timedatectl", "dpkg-reconfigure", "update-locale",
    # conductor's `RUN pwd`; strip rewrites a few binaries in place (rust and go images)
    "pwd", "strip",
})
# A command run with nothing but a version query (`rustc --version`, `node -v`, `go version`)
# prints a line and exits: it was priced as the compile or install its name suggests.
VERSION_QUERY = frozenset({"--version", "-version", "-V", "-v", "version"})
OS_MANAGERS = {
    # manager -> (index refresh subcommands, install subcommands)
    "apt-get": ({"update"}, {"install", "upgrade", "dist-upgrade", "full-upgrade"}),
    "apt": ({"update"}, {"install", "upgrade", "dist-upgrade", "full-upgrade"}),
    "apk": ({"update"}, {"add", "upgrade"}),
    "yum": ({"makecache"}, {"install", "update", "upgrade", "groupinstall"}),
    "dnf": ({"makecache"}, {"install", "update", "upgrade", "groupinstall"}),
    "microdnf": ({"makecache"}, {"install", "update", "upgrade"}),
    "zypper": ({"refresh", "ref"}, {"install", "in", "update", "up"}),
}
# subcommands that install what a manifest in the working directory names
LANG_MANIFEST = {
    "npm": {"ci", "install", "i"}, "yarn": {"install", ""}, "pnpm": {"install", "i"},
    "bun": {"install", "i"}, "bundle": {"install", ""}, "composer": {"install", "update"},
    "poetry": {"install"}, "pipenv": {"install", "sync"}, "uv": {"sync"},
    "go": {"mod"}, "cargo": {"fetch"}, "dotnet": {"restore"},
    "mvn": {"dependency:go-offline", "dependency:resolve"}, "gradle": {"dependencies"},
}
# subcommands that install packages named on the command line
LANG_NAMED = {
    "pip": {"install"}, "pip3": {"install"}, "npm": {"install", "i", "add"},
    "yarn": {"add", "global"}, "pnpm": {"add"}, "gem": {"install"}, "go": {"install", "get"},
    "cargo": {"install"}, "composer": {"require", "global"}, "pipx": {"install"},
    "uv": {"pip", "tool"}, "conda": {"install", "create"}, "mamba": {"install", "create"},
}
COMPILE = {
    "make": None, "cmake": None, "ninja": None, "gcc": None, "g++": None, "cc": None,
    "c++": None, "clang": None, "javac": None, "tsc": None, "webpack": None, "vite": None,
    "esbuild": None, "rollup": None, "ng": {"build"}, "go": {"build", "test"},
    "cargo": {"build", "test", "install"}, "mvn": None, "mvnw": None, "./mvnw": None,
    "gradle": None, "gradlew": None, "./gradlew": None, "dotnet": {"build", "publish", "test"},
    "npm": {"run", "run-script", "build", "test"}, "yarn": {"build", "run", "test"},
    "pnpm": {"build", "run", "test"}, "bun": {"build", "run"}, "swift": {"build"},
    "python": {"setup.py"}, "python3": {"setup.py"}, "sbt": None, "bazel": None,
    "rustc": None, "mix": {"compile", "release"},
}
# `npm run NAME` compiles only when NAME says so; any other script is of unknown cost
SCRIPT_RUNNERS = frozenset({"npm", "yarn", "pnpm", "bun"})
BUILD_SCRIPT = re.compile(r"build|compile|bundle|dist|webpack|tsc|prod", re.IGNORECASE)
DOWNLOAD = frozenset({"curl", "wget", "git", "svn", "aria2c", "fetch"})
UNPACK = frozenset({"tar", "unzip", "gunzip", "gzip", "xz", "bunzip2", "zstd", "7z"})
MULTICALL = frozenset({"busybox", "toybox"})  # `busybox sleep 1` runs the applet named next
# Builds that download their dependencies, and the prefetch that does it beforehand
# (module docstring, "Builds that download").
DEPENDENCY_DOWNLOAD_SECONDS = {"go": 60.0, "maven": 60.0, "gradle": 60.0, "cargo": 30.0}
BUILD_GOALS = {
    "go": frozenset({"build", "install", "test"}),
    "maven": frozenset({"package", "install", "verify", "compile", "test"}),
    "gradle": frozenset({"build", "assemble", "installDist", "bootJar", "jar", "shadowJar",
                         "test"}),
    "cargo": frozenset({"build", "test"}),
}
ECOSYSTEM_OF_TOOL = {"go": "go", "mvn": "maven", "mvnw": "maven", "./mvnw": "maven",
                     "gradle": "gradle", "gradlew": "gradle", "./gradlew": "gradle",
                     "cargo": "cargo"}


@dataclass(frozen=True, slots=True)
class RunEstimate:
    seconds: float
    basis: str  # how it was estimated, for people and for JSON
    # (ecosystem, seconds) of each build command's dependency download: the part of
    # `seconds` an earlier prefetch layer makes unnecessary (cache/costs.py drops it)
    download: tuple[tuple[str, float], ...] = ()
    # ecosystems whose dependencies this RUN prefetches (`go mod download`, ...)
    prefetches: frozenset[str] = frozenset()


def dependency_role(name: str, args: list[str | None]) -> tuple[str, str] | None:
    """("build" or "prefetch", ecosystem) when the simple command `name args...` is a build
    that downloads its dependencies or the prefetch that fetches them first; else None.
    `go install pkg@version` names its module and is neither."""
    base = _basename(name)
    if base in MULTICALL and args and args[0]:
        return dependency_role(args[0], args[1:])
    eco = ECOSYSTEM_OF_TOOL.get(base)
    if eco is None:
        return None
    pos = [a for a in args if a is None or not a.startswith("-")]
    if eco == "go":
        if pos[:2] == ["mod", "download"]:
            return "prefetch", eco
        # `go build`/`test` refuse path@version (only `go install` takes it), so an
        # unknown word there (`go build $(LDFLAGS)` in a Makefile) names no other module
        # `go install` takes path@version only when every package argument has one, so a
        # local package (`./cmd/...`) beside unknown words (`$GO_FLAGS`) still builds here
        rest = pos[1:]
        if pos[:1] and pos[0] in BUILD_GOALS[eco] and (
                pos[0] != "install" or not any(a is None or "@" in a for a in rest) or (
                    not any(a and "@" in a for a in rest)
                    and any(a and a.startswith(".") for a in rest))):
            return "build", eco
        return None
    if eco == "cargo":
        if pos[:1] == ["fetch"]:
            return "prefetch", eco
        return ("build", eco) if pos[:1] and pos[0] in BUILD_GOALS[eco] else None
    if eco == "maven":
        if any(a in ("dependency:go-offline", "dependency:resolve") for a in pos):
            return "prefetch", eco
        return ("build", eco) if any(a in BUILD_GOALS[eco] for a in pos) else None
    if "dependencies" in pos:  # gradle
        return "prefetch", eco
    return ("build", eco) if any(a in BUILD_GOALS[eco] for a in pos) else None


def _basename(name: str) -> str:
    return name.rsplit("/", 1)[-1] if "/" in name and not name.startswith("./") else name


def _positional(words) -> list[str | None]:
    return [w.value for w in words if w.value is None or not w.value.startswith("-")]


def classify(name: str, args: list[str | None]) -> tuple[str, float]:
    """(class, seconds) of one simple command `name args...` (`args` holds None for a word
    whose value the shell model does not know)."""
    base = _basename(name)
    if base in MULTICALL and args and args[0]:
        return classify(args[0], args[1:])
    pos = [a for a in args if a is None or not a.startswith("-")]
    sub = pos[0] if pos else ""
    if base == "sleep":
        try:
            return "sleep", float(sub or 0)
        except ValueError:
            return "other", UNKNOWN_COMMAND_SECONDS
    if base in TRIVIAL or (base == "go" and sub == "env") or (
            args and all(a in VERSION_QUERY for a in args)):
        return "trivial", TRIVIAL_SECONDS
    if base in OS_MANAGERS:
        refresh, install = OS_MANAGERS[base]
        if sub in refresh:
            return "index refresh", INDEX_REFRESH_SECONDS
        if sub in install:
            n = sum(1 for a in pos[1:] if a)
            return f"OS packages ({n} named)", OS_INSTALL_SECONDS + OS_PER_PACKAGE_SECONDS * n
        return "trivial", TRIVIAL_SECONDS  # clean, autoremove, remove: local bookkeeping
    if base == "go" and sub == "install" and any(a and a.startswith(".") for a in pos[1:]) \
            and dependency_role(name, args) == ("build", "go"):
        return "compile or bundle", COMPILE_SECONDS  # `go install ./cmd/...`: a local build
    if base in COMPILE and (COMPILE[base] is None or sub in COMPILE[base]):
        if base not in SCRIPT_RUNNERS or sub not in ("run", "run-script") or (
                len(pos) > 1 and pos[1] and BUILD_SCRIPT.search(pos[1])):
            return "compile or bundle", COMPILE_SECONDS
        return "other", UNKNOWN_COMMAND_SECONDS  # `npm run sbom`: a script, unknown cost
    if base in ("python", "python3") and "-m" in args:
        mod = args[args.index("-m") + 1] if args.index("-m") + 1 < len(args) else None
        if mod in ("pip", "pip3"):
            rest = args[args.index("-m") + 2:]
            return classify("pip", rest)
    if base in LANG_NAMED and sub in LANG_NAMED[base]:
        # a word with a variable (`pkg@$VERSION`) still names one package
        names = [a for a in pos[1:] if a is None or (a and not a.startswith((".", "/"))
                 and not a.endswith((".txt", ".toml", ".cfg", ".lock")))]
        reads_file = any(a in ("-r", "--requirement", "-e", "--editable", "-c") for a in args) \
            or any(a in (".", "./") for a in pos[1:])
        if names and not reads_file:
            return f"language packages ({len(names)} named)", \
                LANG_NAMED_SECONDS + LANG_PER_PACKAGE_SECONDS * len(names)
        return "language packages from a manifest", LANG_MANIFEST_SECONDS
    if base in LANG_MANIFEST and sub in LANG_MANIFEST[base]:
        return "language packages from a manifest", LANG_MANIFEST_SECONDS
    if base in DOWNLOAD and (base != "git" or sub in ("clone", "fetch", "pull", "submodule")):
        return "download", DOWNLOAD_SECONDS
    if base == "git":
        return "trivial", TRIVIAL_SECONDS
    if base in UNPACK:
        return "unpack", UNPACK_SECONDS
    return "other", UNKNOWN_COMMAND_SECONDS


@lru_cache(maxsize=4096)
def estimate_run(ins: Instruction, followed: tuple[Followed, ...] = ()) -> RunEstimate | None:
    """The estimated build seconds of RUN `ins` from its commands, with the basis; None when
    the RUN model finds no command in it (the caller keeps its flat default).

    `followed` (runmodel/follow.py, from today's build context) replaces a command that runs
    a project script or `make` by the commands it runs: `RUN make` costs the `go build` in
    the Makefile's recipe, download part included. Today's version of the file prices every
    replayed commit, as today's Dockerfile does."""
    from layerlens.runmodel.effects import scripts_of

    parts: list[tuple[str, str, float]] = []  # (command, class, seconds)
    download: list[tuple[str, float]] = []
    prefetched: set[str] = set()  # by an earlier command of this RUN
    by_command = {f.command: f for f in followed}
    moved = False  # a `cd` of the RUN's shell ran: later commands may read other manifests
    n = 0
    for script in scripts_of(ins):
        cds: list[Command] = []  # `cd`s of this script so far
        for cmd in script.commands:
            f = by_command.get(n)
            n += 1
            here = moved or _after_cd(cmd, cds)
            if f is None:
                _price(cmd, here, parts, download, prefetched, None)
                if _is_cd(cmd):
                    cds.append(cmd)
                    moved = moved or cmd.subshell is None
                continue
            for sc in f.scripts:
                # the file runs in a shell of its own (each make recipe line in its own)
                inner: list[Command] = []
                for c in sc.commands:
                    _price(c, here or f.directory is not None or _after_cd(c, inner),
                           parts, download, prefetched, f.label)
                    if _is_cd(c):
                        inner.append(c)
    if not parts:
        return None
    total = RUN_OVERHEAD_SECONDS + sum(s for _, _, s in parts)
    by_class: dict[str, list[str]] = {}
    secs_of: dict[str, float] = {}
    for cmd, cls, s in parts:
        by_class.setdefault(cls, []).append(cmd)
        secs_of[cls] = secs_of.get(cls, 0.0) + s
    shown = "; ".join(f"{cls} {secs_of[cls]:g}s ({', '.join(dict.fromkeys(cmds))})"
                      for cls, cmds in by_class.items())
    split = "".join(f"; of which {eco} dependency download {s:g}s" for eco, s in download)
    return RunEstimate(total, f"RUN model: {shown}{split}; step overhead "
                       f"{RUN_OVERHEAD_SECONDS:g}s", tuple(download), frozenset(prefetched))


def _is_cd(cmd: Command) -> bool:
    return _basename(cmd.name or "") in ("cd", "pushd", "popd")


def _after_cd(cmd: Command, cds: list[Command]) -> bool:
    """A `cd` of the same script before `cmd` moved it: one of the script's own shell, or
    one in a subshell that `cmd` is inside of."""
    return any(d.subshell is None or d.subshell[0] <= cmd.start < d.subshell[1] for d in cds)


def _price(cmd: Command, moved: bool, parts: list[tuple[str, str, float]],
           download: list[tuple[str, float]], prefetched: set[str], via: str | None) -> None:
    """Price one simple command into `parts` (and its dependency download, or prefetch);
    `moved`: it runs after a `cd`, maybe by other manifests. `via` names the followed file
    the command comes from."""
    name = cmd.name
    if name is None:
        if cmd.words:
            parts.append((cmd.words[0].raw, "other", UNKNOWN_COMMAND_SECONDS))
        return
    args = [w.value for w in cmd.args]
    cls, secs = classify(name, args)
    role = dependency_role(name, args)
    if role is not None and role[0] == "prefetch":
        secs = DEPENDENCY_DOWNLOAD_SECONDS[role[1]]
        cls = f"{role[1]} dependency download"
        if not moved:
            prefetched.add(role[1])
    elif role is not None and cls == "compile or bundle":
        part = DEPENDENCY_DOWNLOAD_SECONDS[role[1]]
        if role[1] in prefetched:  # `go mod download && go build` in one RUN
            secs -= part
            cls = "compile or bundle (dependencies prefetched)"
        elif not moved:
            download.append((role[1], part))
    shown = _basename(name) if _basename(name) not in MULTICALL or not args \
        else f"{_basename(name)} {args[0]}"
    parts.append((shown if via is None else f"{shown} in {via}", cls, secs))
