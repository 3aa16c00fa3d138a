"""LL011: keep package-manager caches in cache mounts, and read-only inputs in bind mounts.

A RUN that rebuilds downloads every package again. `RUN --mount=type=cache,target=DIR`
keeps the package manager's download cache across builds (BuildKit's cache mounts), so a
rebuild fetches only what changed; `RUN --mount=type=bind,source=F,target=F` lets an
install read a manifest without a COPY layer for it.

Hints, never applied: both change the image (the cache directory's files, or the bound
file, are no longer in the layer), need BuildKit (`docker build` with the legacy builder
fails on `--mount`), and their saving is download time on a rebuild, which the replay
cannot see (the cache key does not change). Cache directories are the tools' documented
defaults for root; another USER or a changed HOME/XDG_CACHE_HOME moves them.
"""

from __future__ import annotations

from layerlens.runmodel import scripts_of
from layerlens.suggest.model import Suggestion
from layerlens.suggest.rule import Rule, Subject

# tool -> (cache directories, source of the default)
CACHES: dict[str, tuple[tuple[str, ...], str]] = {
    "pip": (("/root/.cache/pip",), "pip docs, Caching: ~/.cache/pip on Linux"),
    "uv": (("/root/.cache/uv",), "uv docs, Caching: $XDG_CACHE_HOME/uv"),
    "npm": (("/root/.npm",), "npm-config(7), cache: ~/.npm"),
    "yarn": (("/usr/local/share/.cache/yarn",), "yarn v1 cache dir in the node images"),
    "pnpm": (("/root/.local/share/pnpm/store",), "pnpm store path: $XDG_DATA_HOME/pnpm/store"),
    "go": (("/root/.cache/go-build", "/go/pkg/mod"), "go help cache, go help gopath"),
    "cargo": (("/usr/local/cargo/registry",), "cargo home in the rust images: $CARGO_HOME"),
    "mvn": (("/root/.m2",), "Maven settings: ~/.m2/repository"),
    "gradle": (("/root/.gradle",), "Gradle user home: ~/.gradle"),
    "composer": (("/root/.cache/composer",), "composer docs: COMPOSER_CACHE_DIR, XDG"),
    "bundle": (("/usr/local/bundle/cache",), "bundler in the ruby images: $BUNDLE_PATH"),
    "apt-get": (("/var/cache/apt", "/var/lib/apt"), "apt.conf(5): Dir::Cache, Dir::State"),
    "apk": (("/var/cache/apk",), "apk-cache(8)"),
}
_ALIASES = {"pip3": "pip", "apt": "apt-get", "./mvnw": "mvn", "./gradlew": "gradle"}
_INSTALLS = {
    "pip": ("install",), "uv": ("pip", "sync"), "npm": ("ci", "install", "i"),
    "yarn": ("install", ""), "pnpm": ("install", "i"), "go": ("mod", "build", "install"),
    "cargo": ("build", "fetch", "install"), "mvn": None, "gradle": None,
    "composer": ("install", "update", "require"), "bundle": ("install",),
    "apt-get": ("install",), "apk": ("add",),
}


def _tools(ins) -> list[str]:
    found: list[str] = []
    for sc in scripts_of(ins):
        for cmd in sc.commands:
            words = [w.value or w.raw for w in cmd.words]
            if not words:
                continue
            if words[:3] in (["python", "-m", "pip"], ["python3", "-m", "pip"]):
                words = ["pip", *words[3:]]
            name = _ALIASES.get(words[0], words[0].rsplit("/", 1)[-1])
            subs = _INSTALLS.get(name, ())
            if name not in CACHES:
                continue
            sub = next((w for w in words[1:] if not w.startswith("-")), "")
            if (subs is None or sub in subs) and name not in found:
                found.append(name)
    return found


def _cache_dirs(tool: str, ins) -> tuple[tuple[str, ...], str]:
    """The tool's cache directories for this RUN, and the source of the rule. Bundler with
    BUNDLE_PATH set (in the RUN's environment) downloads gems into
    `$BUNDLE_PATH/ruby/<Ruby ABI version>/cache`, not the ruby images' /usr/local/bundle/cache
    (bundle-config(1), BUNDLE_PATH; maybe's Dockerfile sets it)."""
    if tool == "bundle":
        path = dict(ins.env).get("BUNDLE_PATH", "").rstrip("/")
        if path and path != "/usr/local/bundle":
            return ((f"{path}/ruby/<Ruby ABI version, e.g. 3.3.0>/cache",),
                    "bundle-config(1): with BUNDLE_PATH, gems are cached in "
                    "$BUNDLE_PATH/ruby/<version>/cache")
    return CACHES[tool]


def _bind_hint(df, stage: int, run) -> str | None:
    """When the RUN directly follows a COPY of a few files it names (a manifest COPY), the
    bind-mount form of that COPY: the files are read, not stored in a layer."""
    members = [df.instructions[i] for i in df.stages[stage].instructions[1:]]
    pos = members.index(run)
    if pos == 0:
        return None
    copy = members[pos - 1]
    if copy.keyword != "copy" or copy.from_stage is not None or copy.from_image is not None \
            or copy.heredocs or not copy.expanded or len(copy.expanded) > 4:
        return None
    srcs, dest = copy.expanded[:-1], copy.expanded[-1]
    names = [s.rstrip("/").rsplit("/", 1)[-1] for s in srcs]
    if any(any(ch in s for ch in "*?[") for s in srcs) or not all(
            n and n in run.original for n in names):
        return None
    binds = " ".join(f"--mount=type=bind,source={s},target={dest.rstrip('/')}/{n}"
                     if dest.endswith("/") or dest in (".", "./") else
                     f"--mount=type=bind,source={s},target={dest}" for s, n in zip(
                         srcs, names, strict=True))
    return (f"if {', '.join(srcs)} (line {copy.start_line}) is needed only by this install, "
            f"`RUN {binds} ...` reads it without a layer (the file then is not in the image)")


def check(subject: Subject) -> list[Suggestion]:
    df = subject.df
    summary = subject.summary(subject.text) if subject.history is not None else None
    out: list[Suggestion] = []
    for stage in sorted(df.needed_stages()):
        for idx in df.stages[stage].instructions[1:]:
            ins = df.instructions[idx]
            if ins.keyword != "run" or any(m.type == "cache" for m in ins.mounts):
                continue
            tools = _tools(ins)
            if not tools:
                continue
            st = summary.instructions.get(idx) if summary is not None else None
            if summary is not None and (st is None or not st.rebuilds):
                continue  # never rebuilt in the window: a warm cache would not be used
            dirs = {t: _cache_dirs(t, ins) for t in tools}
            mounts = " ".join(f"--mount=type=cache,target={d}" + (
                ",sharing=locked" if t in ("apt-get", "apk") else "")
                for t in tools for d in dirs[t][0])
            extra = []
            if "apt-get" in tools:
                extra.append("on Debian/Ubuntu images also remove "
                             "/etc/apt/apt.conf.d/docker-clean, which empties the apt cache")
            if "--no-cache-dir" in ins.original or "--no-cache" in ins.original:
                extra.append("and drop --no-cache/--no-cache-dir, which bypass the cache")
            bind = _bind_hint(df, stage, ins)
            if bind:
                extra.append(bind)
            sources = "; ".join(f"{t}: {dirs[t][1]}" for t in tools)
            note = (f"RUN {mounts} ... ({sources}). Not applied: the cached files leave the "
                    "image, `--mount` needs BuildKit, and the replay cannot price a warm cache"
                    + ("; " + "; ".join(extra) if extra else ""))
            rebuilt = f", rebuilt in {st.rebuilds} of {summary.builds} commits" if st else ""
            out.append(Suggestion(
                "LL011", RULE.title,
                f"the {', '.join(tools)} install at line {ins.start_line} downloads everything "
                f"again on each rebuild{rebuilt}: keep its cache in a cache mount",
                RULE.reason, (ins.start_line,), False, note=note))
    return out


RULE = Rule(
    "LL011", "cache-mounts",
    "Keep package-manager caches in RUN --mount=type=cache",
    "A rebuilt install downloads every package again; a BuildKit cache mount keeps the "
    "download cache between builds.", ("hint",),
    "RUN --mount=type=cache for package-manager caches (pip, uv, npm, yarn, pnpm, Go, Cargo, "
    "Maven, Gradle, Composer, Bundler, apt, apk) on RUNs that rebuild (hint: it changes the "
    "image, needs BuildKit, and the replay cannot price a warm cache)", check)
