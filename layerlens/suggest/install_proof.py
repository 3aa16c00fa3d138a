"""When moving a dependency install above a broad COPY provably keeps the final image.

LL002 (layerlens/suggest/rules/ll002_manifests.py) turns

    COPY . .                    COPY <manifests> ./
    RUN <install>        into   RUN <install>
                                COPY . .

The final filesystem is the same exactly when (1) the install reads nothing but what the
inserted COPY brings, (2) it writes nothing the broad COPY then replaces, and (3) the files
both COPYs bring end up byte- and metadata-identical (the rule checks that the inserted COPY
carries the broad one's --chown/--chmod/--link and destination). This module decides (1)
and (2) per package manager from the manifests themselves and from what the broad COPY
brings (`have`: paths relative to its source, after .dockerignore, from the Analysis'
one context scan). Each check returns None when proven, or one sentence saying why not;
the rule docstring lists the sources.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

Reader = Callable[[str], bytes | None]  # a copied file's bytes by path, None when absent

# npm runs these scripts of the root package (and of each workspace) on `npm install` /
# `npm ci` (docs.npmjs.com/cli/using-npm/scripts, "npm ci" and "npm install" lists).
NPM_ROOT_HOOKS = ("preinstall", "install", "postinstall", "prepublish", "preprepare",
                  "prepare", "postprepare", "dependencies")
# Directories a package manager or its caches may create under $HOME; when the broad COPY
# brings one and HOME is the destination, it would replace what the install wrote there.
_HOME_DIRS = (".cache", ".npm", ".yarn", ".composer", ".local", ".config", ".bundle", ".gem",
              ".pnpm-store")


@dataclass(frozen=True)
class Move:
    """What the proof needs to know about one install to be moved.

    `args` are the install command's words after the tool; `have` the paths the broad COPY
    brings, relative to its source; `read` reads one of them (None for any other path);
    `workspaces` the workspace directories whose package.json files are copied too; `env`
    the variables the Dockerfile and the command line set for the install (the base
    image's are unknown)."""

    ecosystem: str
    args: tuple[str, ...]
    have: Collection[str]
    read: Reader
    workspaces: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)


def _under(have: Collection[str], d: str) -> bool:
    return any(p == d or p.startswith(d + "/") for p in have)


def json_object(read: Reader, rel: str) -> dict | None:
    """The JSON object in the context file REL (package.json, a lockfile, composer.json),
    or None when it is absent, not UTF-8, not JSON, or not an object."""
    data = read(rel)
    try:
        doc = json.loads(data.decode("utf-8")) if data is not None else None
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _home_dirs(have: Collection[str]) -> str | None:
    for d in _HOME_DIRS:
        if _under(have, d):
            return (f"the context holds {d}/, where the install may write (a cache or config "
                    "under $HOME) and the broad COPY would then replace it")
    return None


def unproven(m: Move) -> str | None:
    """None when the move keeps the final image, else why it may not (one sentence)."""
    check = _CHECKS.get(m.ecosystem)
    if check is None:
        return f"layerlens has no proof that a {m.ecosystem} install reads only its manifests"
    return check(m) or _home_dirs(m.have)


def _node_common(m: Move, lock: str | None, scripts_off: bool) -> str | None:
    """Checks shared by npm, yarn and pnpm: root and workspace lifecycle scripts, native
    builds npm runs by default, workspace bins, node_modules in the context."""
    if lock is None:
        return f"no {m.ecosystem} lockfile is copied, so the install resolves versions anew"
    for rc in (".npmrc", ".yarnrc"):
        bad = _rc_paths(rc, (m.read(rc) or b"").decode("utf-8", errors="replace"))
        if bad:
            return bad
    for d in ("", *m.workspaces):
        pj = f"{d}/package.json" if d else "package.json"
        doc = json_object(m.read, pj) or {}
        if not scripts_off:
            hooks = [h for h in NPM_ROOT_HOOKS if h in (doc.get("scripts") or {})]
            if hooks:
                return (f"{pj} runs {', '.join(hooks)} during the install, which may read "
                        "files only the broad COPY brings; --ignore-scripts would skip them")
            gyp = f"{d}/binding.gyp" if d else "binding.gyp"
            if gyp in m.have:
                return (f"{gyp} makes the install run `node-gyp rebuild`, which reads the "
                        "source")
        if d and (doc.get("bin") or (doc.get("directories") or {}).get("bin")):
            return (f"workspace {d} declares bin, whose files the install links and makes "
                    "executable before the broad COPY brings them")
    for d in ("", *m.workspaces):
        nm = f"{d}/node_modules" if d else "node_modules"
        if _under(m.have, nm):
            return (f"the context holds {nm}/, which the install writes and the broad COPY "
                    "would then replace: add it to .dockerignore")
    return None


def _rc_paths(rel: str, text: str) -> str | None:
    """A setting of .npmrc (`key=value`) or .yarnrc (`key "value"`) naming a relative path,
    such as `cache=./.npm` or `yarn-offline-mirror "./offline"`: the install would read or
    write files in the project that the manifest COPY does not bring."""
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        value = re.split(r"\s*=\s*|\s+", line, maxsplit=1)[1:] or [""]
        v = value[0].strip().strip("\"'")
        if v.startswith((".", "~")) or ("/" in v and not v.startswith(("/", "$")) and
                                        "://" not in v):
            return f"{rel} line {n} names a path relative to the project ({v[:40]})"
    return None


def _npm(m: Move) -> str | None:
    verb = m.args[0] if m.args else ""
    if verb != "ci" and "--no-save" not in m.args:
        return ("`npm install` may rewrite package-lock.json (npm 7 and later save the tree "
                "they install), which the broad COPY would then replace; `npm ci` never "
                "writes it")
    lock = next((f for f in ("npm-shrinkwrap.json", "package-lock.json") if f in m.have), None)
    scripts_off = "--ignore-scripts" in m.args
    bad = _node_common(m, lock, scripts_off)
    if bad or lock is None:
        return bad
    doc = json_object(m.read, lock)
    packages = doc.get("packages") if doc else None
    if not isinstance(packages, dict):
        return (f"{lock} has no packages map (lockfileVersion 1, or unreadable), so which "
                "packages run install scripts is unknown")
    ws = set(m.workspaces)
    for key, meta in packages.items():
        if not isinstance(meta, dict):
            continue
        if meta.get("hasInstallScript") and not scripts_off:
            name = key.rsplit("node_modules/", 1)[-1] or "the root package"
            return (f"{lock} marks {name} as running an install script, which may read "
                    "the project's files")
        resolved = meta.get("resolved")
        if isinstance(resolved, str) and resolved.startswith("file:"):
            return f"{lock} installs {key} from a local file ({resolved})"
        if meta.get("link") and isinstance(resolved, str) and resolved not in ws:
            return f"{lock} links {key} to {resolved}, which is not a copied workspace"
    return None


def _yarn(m: Move) -> str | None:
    doc = json_object(m.read, "package.json") or {}
    pm = str(doc.get("packageManager") or "")
    if ".yarnrc.yml" in m.have or _under(m.have, ".yarn") or re.match(r"yarn@[2-9]", pm):
        return ("Yarn 2 and later read .yarnrc.yml and .yarn/ (releases, plugins, patches) "
                "and write .pnp.cjs and .yarn/ into the project")
    if not {"--frozen-lockfile", "--pure-lockfile"} & set(m.args):
        return ("`yarn install` may rewrite yarn.lock, which the broad COPY would then "
                "replace; --frozen-lockfile never writes it")
    scripts_off = "--ignore-scripts" in m.args
    if not scripts_off:
        return ("yarn.lock does not record which packages run install scripts, which may "
                "read the project's files; --ignore-scripts would skip them")
    return _node_common(m, "yarn.lock" if "yarn.lock" in m.have else None, scripts_off)


def _pnpm(m: Move) -> str | None:
    if "--frozen-lockfile" not in m.args:
        return ("`pnpm install` may rewrite pnpm-lock.yaml, which the broad COPY would then "
                "replace; --frozen-lockfile never writes it")
    scripts_off = "--ignore-scripts" in m.args
    if not scripts_off:
        return ("pnpm-lock.yaml (version 9) does not record which packages run install "
                "scripts, which may read the project's files; --ignore-scripts would skip them")
    if ".pnpmfile.cjs" in m.have:
        return ".pnpmfile.cjs hooks run project code during the install, which may read any file"
    doc = json_object(m.read, "package.json") or {}
    ws = (m.read("pnpm-workspace.yaml") or b"").decode("utf-8", errors="replace")
    if "patchedDependencies" in json.dumps(doc.get("pnpm") or {}) or \
            "patchedDependencies" in ws:
        return "patchedDependencies makes pnpm read patch files the manifests do not include"
    return _node_common(m, "pnpm-lock.yaml" if "pnpm-lock.yaml" in m.have else None,
                        scripts_off)


# A requirement-file line that names only index packages: `name[extras] specifiers ;
# marker`, or `name @ https://...`, optionally with --hash options (PEP 508; pip's
# "Requirements File Format").
_PIP_REQ = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,\s-]*\])?\s*"
    r"(@\s*(https?|git\+https?|git\+ssh)://\S+|[<>=!~,.*\sA-Za-z0-9+-]*)?"
    r"(;[^#]*)?(\s+--hash[=\s]\S+)*$")
_PIP_OPTS = re.compile(
    r"^(-r|--requirement|-c|--constraint|--hash|--require-hashes|--pre|--prefer-binary|"
    r"--only-binary|--no-binary|--trusted-host|--use-feature)\b|"
    r"^(-i|--index-url|--extra-index-url)[=\s]+https?://")


# pip reads a requirement named like an archive as a file in the working directory
# (pip's req_install._get_url_from_path: is_archive_file, then os.path.isfile)
_ARCHIVE = re.compile(r"\.(whl|zip|tar|tgz|tar\.gz|tar\.bz2|tbz|tar\.xz|txz|tlz|tar\.lz|"
                      r"tar\.lzma)(\s|;|$)", re.I)


def _index_requirement(line: str) -> bool:
    return bool(_PIP_REQ.match(line)) and not _ARCHIVE.search(line.split("@", 1)[0])


def pip_line_unproven(rel: str, text: str) -> str | None:
    """Why a requirement file may need files besides itself (None: only index packages
    and the options above)."""
    logical = re.sub(r"\\\n", " ", text)
    for n, line in enumerate(logical.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if not line or _PIP_OPTS.match(line) or _index_requirement(line):
            continue
        return f"{rel} line {n} (`{line[:40]}`) may name a local path or option"
    return None


def _pip(m: Move) -> str | None:
    args = list(m.args[1:]) if m.args[:1] == ("install",) else list(m.args)
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-r", "--requirement", "-c", "--constraint", "-i", "--index-url",
                 "--extra-index-url", "--trusted-host"):
            i += 2
            continue
        if a.split("=", 1)[0] in ("-t", "--target", "--prefix", "--root", "--src", "-f",
                                  "--find-links", "--no-index", "-e", "--editable"):
            return f"pip's {a.split('=', 1)[0]} reads or writes paths of its own"
        if not a.startswith("-") and not _index_requirement(a):
            return f"`{a}` may be a local path"
        i += 1
    for p in m.have:
        base = p.rsplit("/", 1)[-1]
        if base == "pyvenv.cfg" or "/site-packages/" in f"/{p}":
            return (f"the context holds {p.rsplit('/', 1)[0] or p}, a Python environment "
                    "the install may write into and the broad COPY would then replace")
    return None


def _bundler(m: Move) -> str | None:
    if "Gemfile.lock" not in m.have:
        return "no Gemfile.lock is copied, so bundler resolves versions anew"
    frozen = {"--frozen", "--deployment"} & set(m.args) or any(
        m.env.get(k, "").lower() in ("true", "1") for k in ("BUNDLE_FROZEN", "BUNDLE_DEPLOYMENT"))
    if not frozen:
        return ("`bundle install` may rewrite Gemfile.lock (platforms, BUNDLED WITH), which "
                "the broad COPY would then replace; run it with BUNDLE_FROZEN=true")
    if "--binstubs" in " ".join(m.args):
        return "--binstubs writes bin/, which the broad COPY brings"
    if _under(m.have, ".bundle") or _under(m.have, "vendor/bundle"):
        return ("the context holds .bundle/ or vendor/bundle/, bundler's local config and "
                "install path, which the install writes and the broad COPY would replace")
    gemfile = (m.read("Gemfile") or b"").decode("utf-8", errors="replace")
    for n, line in enumerate(gemfile.splitlines(), 1):
        s = line.split("#", 1)[0].strip()
        plain = _GEMFILE_DSL.match(s) and not re.search(r"\b(path|file):|\bgemspec\b", s)
        if not s or plain:
            continue
        return (f"Gemfile line {n} (`{s[:40]}`) is Ruby beyond the plain gem DSL and may "
                "read other files")
    lock = (m.read("Gemfile.lock") or b"").decode("utf-8", errors="replace")
    if re.search(r"^PATH$", lock, re.M):
        return "Gemfile.lock installs gems from local paths (a PATH section)"
    return None


# The plain Gemfile DSL (bundler.io/guides/gemfile.html): sources, gems, groups, platforms,
# a literal ruby version, and block ends.
_GEMFILE_DSL = re.compile(
    r"^(source\s+['\"]https?://[^'\"]+['\"](\s+do)?|gem\s+['\"][\w.-]+['\"][^`#{}]*|"
    r"(group|platforms?)\s+[:\w,\s]+do|ruby\s+['\"][\d.]+['\"]|end|"
    r"git_source\(:\w+\)\s*\{[^`]*\})$")


def _composer(m: Move) -> str | None:
    if "composer.lock" not in m.have:
        return "no composer.lock is copied, so composer resolves versions anew and writes one"
    if not ("--no-scripts" in m.args and {"--no-autoloader", "--no-autoload"} & set(m.args)):
        return ("`composer install` runs scripts and dumps the autoloader from the source; "
                "only --no-scripts --no-autoloader installs read the manifests alone")
    if any(a.startswith(("--working-dir", "-d")) for a in m.args):
        return "--working-dir installs elsewhere than the broad COPY's destination"
    doc = json_object(m.read, "composer.json")
    if doc is None:
        return "composer.json cannot be read"
    repos = doc.get("repositories") or []
    for r in repos.values() if isinstance(repos, dict) else repos:
        if isinstance(r, dict) and (r.get("type") in ("path", "artifact") or not re.match(
                r"^(https?://|git@|ssh://|git://)", str(r.get("url", "https://")))):
            return "composer.json has a path or artifact repository, read from the source"
    cfg = doc.get("config") or {}
    vendor = str(cfg.get("vendor-dir", "vendor"))
    if vendor.startswith("/") or ".." in vendor or "{" in vendor:
        return f"vendor-dir {vendor} is outside what layerlens can check"
    bindir = str(cfg.get("bin-dir", f"{vendor}/bin"))
    if not bindir.startswith(vendor.rstrip("/") + "/"):
        return f"bin-dir {bindir} puts the install's links outside the vendor directory"
    if _under(m.have, vendor):
        return (f"the context holds {vendor}/, which the install writes and the broad COPY "
                "would then replace: add it to .dockerignore")
    if "--no-plugins" not in m.args:
        lock = json_object(m.read, "composer.lock") or {}
        kinds = ["packages"] + ([] if "--no-dev" in m.args else ["packages-dev"])
        plugins = [p.get("name", "?") for k in kinds for p in lock.get(k) or []
                   if isinstance(p, dict) and p.get("type") == "composer-plugin"]
        if plugins:
            return (f"composer.lock holds the plugin {plugins[0]}, whose code runs during the "
                    "install even with --no-scripts; --no-plugins would skip it")
    return None


def _unproven_python_env(m: Move) -> str | None:
    return (f"`{m.ecosystem}` manages a virtual environment whose place and settings "
            "layerlens does not model, so the move is not proven")


_CHECKS: dict[str, Callable[[Move], str | None]] = {
    "npm": _npm, "yarn": _yarn, "pnpm": _pnpm, "pip": _pip, "pip-tools": _pip,
    "bundler": _bundler, "composer": _composer,
    "poetry": _unproven_python_env, "pipenv": _unproven_python_env,
    "uv": _unproven_python_env,
}
