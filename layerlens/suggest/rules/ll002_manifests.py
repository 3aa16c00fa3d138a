"""LL002: copy dependency manifests first and install from them before the broad COPY.

A broad `COPY . .` followed by a dependency install reinstalls every dependency whenever
any source file changes. Copying only the manifests first lets the install layer stay
cached until a manifest changes. The fix is made only when the install provably needs
just those files; otherwise the suggestion says what else it needs.

When the move is a SAFE fix (issue 16). Moving `RUN <install>` above `COPY . .` behind
`COPY <manifests> ./` leaves the final image identical exactly when the install reads
only what the inserted COPY brings, writes nothing the broad COPY then replaces, and the
files both COPYs bring end up the same. Every condition below must hold, each read from
the Analysis (its one context scan and .dockerignore), never from the disk behind it;
anything short of them is an unsafe fix whose reason names the first condition that
failed ("when in doubt, it is not safe"):

- Shape (here): the RUN is the install alone (`set -e` aside; no `&&` tail, redirect or
  compound, which could read the source), mounts no part of the build context, and runs
  where the broad COPY lands; the broad COPY has no flag besides --chown/--chmod/--link,
  and the inserted COPY carries those and the same destination, so the manifests it brings
  are byte- and metadata-identical to the ones the broad COPY then rewrites. Manifests are
  regular files at the destination's top level: a COPY of `ws/package.json` would create
  `ws/` itself, and the scan does not record the context directory's mode to prove the
  broad COPY leaves it the same (BuildKit and buildah also differ on --chown of created
  parents), so workspace layouts stay unsafe. No package-manager variable in ENV or on the
  command line (NPM_CONFIG_*, PIP_*, BUNDLE_*, COMPOSER ...) names a path under the
  destination, and the tool itself is not run from there (`./bin/bundle`).
- npm: `npm ci`, which "will never write to package.json or any of the package-locks"
  (docs.npmjs.com/cli/commands/npm-ci), or `npm install --no-save` (`save=false` "will
  also prevent writing to package-lock.json", docs.npmjs.com/cli/commands/npm-install); a
  package-lock.json or npm-shrinkwrap.json among the copied files, with a `packages` map
  (lockfileVersion 2+) in which no package has `hasInstallScript: true` ("a flag to
  indicate that the package has a preinstall, install, or postinstall script",
  docs.npmjs.com/cli/configuring-npm/package-lock-json), none is resolved from `file:`
  and every link is a copied workspace; no root lifecycle script that `npm install`/`ci`
  runs (preinstall, install, postinstall, prepublish, preprepare, prepare, postprepare,
  dependencies: docs.npmjs.com/cli/using-npm/scripts, "Life Cycle Operation Order") and
  no binding.gyp (npm then defaults `install` to `node-gyp rebuild`, same page, "Default
  Values"), unless --ignore-scripts; .npmrc copied when present, with no setting naming a
  project-relative path (`cache=./x`, `node-options=--require ./y`; likewise .yarnrc's
  `yarn-path`, `yarn-offline-mirror`); node_modules/ absent from what the broad COPY
  brings (excluded by .dockerignore or not in the context). A `prepare` that only runs
  husky, with no .git brought in, does not block the move but keeps it unsafe.
- Yarn 1: --frozen-lockfile or --pure-lockfile (classic.yarnpkg.com/en/docs/cli/install:
  neither writes yarn.lock) and --ignore-scripts, since yarn.lock does not record install
  scripts; no Yarn 2+ (.yarnrc.yml, .yarn/, packageManager yarn@2+), which reads
  .yarn/releases and plugins and writes .pnp.cjs into the project. pnpm:
  --frozen-lockfile and --ignore-scripts (pnpm-lock.yaml 9 no longer records
  requiresBuild; pnpm.io/cli/install), no patchedDependencies (patch files,
  pnpm.io/package_json) and no .pnpmfile.cjs (hooks running project code).
- pip / pip-sync: every requirement file, with its nested -r/-c files, names only index
  packages (PEP 508 names, versions, markers, `name @ https://...`, --hash) and index
  options (pip.pypa.io/en/stable/reference/requirements-file-format/); no name that looks
  like an archive, which pip reads as a local file (req_install `_get_url_from_path`); no
  -e, --find-links, --target/--prefix/--root/--src, or local path on the command line; no
  virtualenv (pyvenv.cfg, site-packages) in the context for the install to write into.
- Bundler: Gemfile and Gemfile.lock copied; frozen (--frozen/--deployment or
  BUNDLE_FROZEN/BUNDLE_DEPLOYMENT true: "do not allow the Gemfile.lock to be updated",
  bundler.io/man/bundle-install.1.html, bundle-config.1.html); the Gemfile is the plain
  DSL of bundler.io/guides/gemfile.html (source, gem, group, platforms, a literal ruby)
  with no gemspec, path:, file:, eval_gemfile or other Ruby that could read files; no
  PATH section in the lock; no --binstubs; no .bundle/ or vendor/bundle/ in the context.
  Gem native extensions build in the gem's own directory (RubyGems runs extconf.rb there).
- Composer: composer.lock copied; --no-scripts and --no-autoloader, so the later
  `composer dump-autoload` and scripts stay after the broad COPY (`composer help
  install`; getcomposer.org/doc/03-cli.md#install-i); plugins still run with
  --no-scripts (composer 2.1.2 changelog: "using --no-plugins is the way to disable
  plugins"), so no `composer-plugin` package in the lock unless --no-plugins; no path or
  artifact repository (getcomposer.org/doc/05-repositories.md#path); the vendor-dir
  absent from the context and the bin-dir inside it; no --working-dir; auth.json copied
  when present.
- Poetry, Pipenv, uv: not proven (their virtualenv place and settings are not modelled).
- Every ecosystem: no tool cache or config directory ($HOME/.cache, .npm, .composer ...)
  in what the broad COPY brings, in case $HOME is the destination.

The package-manager conditions are in layerlens/suggest/install_proof.py; each is a unit
test in tests/suggest/test_ll002_manifests.py, and tests/integration/test_ll002_safe_move.py
builds a proven move and a refused one with buildah.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from layerlens.context.patterns import go_clean
from layerlens.dockerfile.model import Dockerfile, Instruction
from layerlens.suggest.install_proof import json_object
from layerlens.suggest.model import Suggestion
from layerlens.suggest.rewrite import insert_before, move_before
from layerlens.suggest.rule import Rule, Subject

_BETWEEN_OK = frozenset({"label", "expose", "cmd", "entrypoint", "healthcheck", "stopsignal",
                         "volume", "maintainer", "onbuild"})


@dataclass(frozen=True)
class Install:
    ecosystem: str
    manifests: tuple[str, ...]  # paths relative to the RUN's working directory
    optional: tuple[str, ...]  # copied too when present in the context
    writes: tuple[str, ...]  # directories the install creates in the working directory
    unsafe: str | None  # why the install may need more than the manifests
    args: tuple[str, ...] = ()  # the install command's words after the tool name


def _segments(run: str) -> list[list[str]]:
    """The words of each simple command, from the RUN model (a non-literal word as written)."""
    from layerlens.runmodel import parse_script

    return [[w.value if w.value is not None else w.raw for w in c.words]
            for c in parse_script(run).commands]


def detect(run: str) -> Install | None:
    """The dependency install a shell command line performs, if it is one layerlens knows."""
    return _detect(_segments(run))


def detect_instruction(ins: Instruction) -> Install | None:
    """The same for a RUN in any form: shell, exec, or a heredoc program."""
    from layerlens.runmodel import scripts_of

    return _detect([[w.value if w.value is not None else w.raw for w in c.words]
                    for sc in scripts_of(ins) for c in sc.commands])


def _detect(segments: list[list[str]]) -> Install | None:
    for w in segments:
        found = _detect_one(w)
        if found is not None:
            return found
    return None


def _detect_one(w: list[str]) -> Install | None:
    from dataclasses import replace

    got = _detect_words(w)
    if got is None:
        return None
    if len(w) >= 2 and w[0] in ("python", "python3") and w[1:3] == ["-m", "pip"]:
        w = ["pip", *w[3:]]
    if w[:2] == ["uv", "pip"]:
        w = ["pip", *w[2:]]
    return replace(got, args=tuple(w[1:]))


def _detect_words(w: list[str]) -> Install | None:
    if not w:
        return None
    if len(w) >= 2 and w[0] in ("python", "python3") and w[1:3] == ["-m", "pip"]:
        w = ["pip", *w[3:]]
    if w[:2] == ["uv", "pip"]:
        w = ["pip", *w[2:]]
    if not w:
        return None
    tool, rest = w[0].rsplit("/", 1)[-1], w[1:]
    if tool in ("pip", "pip3") and rest[:1] == ["install"]:
        return _pip(rest[1:])
    if tool == "pip-sync":
        files = [a for a in rest if not a.startswith("-")] or ["requirements.txt"]
        return Install("pip-tools", tuple(files), (), (), None)
    if tool == "poetry" and rest[:1] == ["install"]:
        bad = None if "--no-root" in rest else "`poetry install` without --no-root " \
            "installs the project itself, which needs its source"
        return Install("poetry", ("pyproject.toml",), ("poetry.lock", "poetry.toml"), (),
                       bad)
    if tool == "pipenv" and rest[:1] in (["install"], ["sync"]):
        return Install("pipenv", ("Pipfile",), ("Pipfile.lock",), (), None)
    if tool == "uv" and rest[:1] == ["sync"]:
        bad = None if "--no-install-project" in rest else "`uv sync` without " \
            "--no-install-project installs the project itself, which needs its source"
        return Install("uv", ("pyproject.toml",), ("uv.lock",), (".venv",), bad)
    if tool == "npm" and rest[:1] in (["ci"], ["install"], ["i"]):
        if any(not a.startswith("-") for a in rest[1:]):
            return None  # `npm install pkg` adds packages: no manifest
        return Install("npm", ("package.json",), ("package-lock.json", "npm-shrinkwrap.json",
                                                  ".npmrc"), ("node_modules",), None)
    if tool == "yarn" and (not rest or rest[0] == "install" or rest[0].startswith("--")):
        return Install("yarn", ("package.json",), ("yarn.lock", ".yarnrc", ".yarnrc.yml",
                                                   ".npmrc", ".yarnclean"), ("node_modules",),
                       None)
    if tool == "pnpm" and rest[:1] in (["install"], ["i"]):
        return Install("pnpm", ("package.json",), ("pnpm-lock.yaml", ".npmrc",
                                                    ".pnpmfile.cjs"),
                       ("node_modules",), None)
    if tool == "go" and rest[:2] == ["mod", "download"]:
        return Install("go", ("go.mod",), ("go.sum",), (), None)
    if tool == "cargo" and rest[:1] == ["fetch"]:
        return Install("cargo", ("Cargo.toml",), ("Cargo.lock",), (), None)
    if tool == "bundle" and rest[:1] == ["install"]:
        return Install("bundler", ("Gemfile",), ("Gemfile.lock",), ("vendor/bundle",),
                       None)
    if tool == "composer" and rest[:1] == ["install"]:
        bad = None if "--no-scripts" in rest and ("--no-autoloader" in rest or
                                                  "--no-autoload" in rest) else (
            "`composer install` runs scripts and builds the autoloader from the source; "
            "add --no-scripts --no-autoloader to the early install")
        return Install("composer", ("composer.json",), ("composer.lock", "auth.json"),
                       ("vendor",), bad)
    if tool in ("mvn", "./mvnw") and any(a.startswith("dependency:") for a in rest):
        return Install("maven", ("pom.xml",), (), (), None)
    if tool in ("gradle", "./gradlew"):
        return Install("gradle", ("build.gradle",), (), (), "Gradle builds read settings, "
                       "build scripts and buildSrc; copy them first by hand")
    if tool == "dotnet" and rest[:1] == ["restore"]:
        return Install("dotnet", (), (), (), "`dotnet restore` reads every project file "
                       "(*.csproj) and Directory.*.props; copy those first by hand")
    return None


def _pip(args: list[str]) -> Install | None:
    files: list[str] = []
    unsafe = None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-r", "--requirement", "-c", "--constraint") and i + 1 < len(args):
            files.append(args[i + 1])
            i += 2
            continue
        for flag in ("--requirement=", "--constraint=", "-r", "-c"):
            if a.startswith(flag) and len(a) > len(flag):
                files.append(a[len(flag):])
                break
        else:
            if a in ("-e", "--editable") or a in (".", "./") or a.startswith(("./", "/", "../")):
                unsafe = f"`pip install {a}` installs from local source"
        i += 1
    if not files:
        return None  # `pip install flask`: nothing to copy first
    return Install("pip", tuple(files), (), (), unsafe)


_LOCAL_REQ = re.compile(r"^\s*(-e|--editable|\.|/|file:|[^#\s]*@\s*file://)", re.M)
_NESTED_REQ = re.compile(r"^\s*(?:-r|--requirement|-c|--constraint)\s*=?\s*(\S+)", re.M)


def _pip_closure(read: Callable[[str], bytes | None],
                 first: list[str]) -> tuple[list[str], str | None]:
    """Requirement files and the ones they include; a reason when they name local paths."""
    seen: list[str] = []
    todo = list(first)
    while todo:
        rel = go_clean(todo.pop(0))
        if rel in seen:
            continue
        seen.append(rel)
        data = read(rel)
        if data is None:
            return seen, f"{rel} is not in the build context"
        text = data.decode("utf-8", errors="replace")
        if _LOCAL_REQ.search(text):
            return seen, f"{rel} installs from local paths, which need more than the manifests"
        base = rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""
        todo += [go_clean(base + m) for m in _NESTED_REQ.findall(text)]
    return seen, None


def _package_json_unsafe(read: Callable[[str], bytes | None], rel: str = "package.json",
                         workspaces: frozenset[str] = frozenset(),
                         scripts_off: bool = False, no_git: bool = False) -> str | None:
    """Why an install from this package.json alone may need the source (None: it need not;
    workspaces are handled by the caller). `no_git`: the broad COPY brings no .git, so a
    `prepare` that only sets up husky's git hooks does the same with or without the source
    (husky skips its install outside a Git repository: "husky install" before v9 checks
    `git rev-parse`, v9's `husky` returns ".git can't be found"; typicode.github.io/husky);
    it stays an unsafe fix, since it is still a lifecycle script."""
    doc = json_object(read, rel)
    if doc is None:
        return f"{rel} cannot be read"
    scripts = doc.get("scripts") or {}
    hooks = [] if scripts_off else [h for h in ("preinstall", "install", "postinstall",
                                                "prepare") if h in scripts]
    if no_git and hooks == ["prepare"] and scripts.get("prepare") in ("husky", "husky install"):
        hooks = []
    if hooks:
        return (f"{rel} runs {', '.join(hooks)} scripts during install, which may need "
                "the source")
    for sec in ("dependencies", "devDependencies", "optionalDependencies"):
        for spec in (doc.get(sec) or {}).values():
            if isinstance(spec, str) and spec.startswith(("file:", "link:", "./", "../")):
                base = rel.rsplit("/", 1)[0] if "/" in rel else ""
                target = go_clean(base + "/" + spec.split(":", 1)[-1]).strip("/")
                if target not in workspaces:  # a link to a workspace is a workspace link
                    return f"{rel} depends on local paths"
    return None


def _workspace_patterns(read: Callable[[str], bytes | None]) -> list[str] | None:
    """Workspace globs from package.json ("workspaces": [...] or {"packages": [...]}) and
    pnpm-workspace.yaml ("packages:"); None when the project has none."""
    import yaml

    pats: list[str] = []
    found = False
    doc = json_object(read, "package.json") or {}
    ws = doc.get("workspaces")
    if isinstance(ws, dict):
        ws = ws.get("packages")
    if isinstance(ws, list):
        found = True
        pats += [p for p in ws if isinstance(p, str)]
    data = read("pnpm-workspace.yaml")
    if data is not None:
        found = True
        try:
            y = yaml.safe_load(data.decode("utf-8", errors="replace"))
        except yaml.YAMLError:
            y = None
        got = y.get("packages") if isinstance(y, dict) else None
        pats += [p for p in (got or []) if isinstance(p, str)]
    return pats if found else None


def _workspace_manifests(patterns: list[str], have: set[str], prefix: str) -> list[str]:
    """`<dir>/package.json` of every workspace directory the globs match in the copied
    files (relative to the install's directory), in a stable order. Negated globs drop
    matches, as npm, yarn and pnpm read them."""
    from fnmatch import fnmatchcase

    dirs = sorted({p[len(prefix):-len("/package.json")] for p in have
                   if p.startswith(prefix) and p.endswith("/package.json")})
    keep: list[str] = []
    for d in dirs:
        if "node_modules" in d.split("/"):
            continue
        hit = False
        for pat in patterns:
            neg = pat.startswith("!")
            pat = go_clean(pat.lstrip("!").rstrip("/")).lstrip("./") or "."
            if fnmatchcase(d, pat) or (pat.endswith("/**") and d.startswith(pat[:-3] + "/")):
                hit = not neg
        if hit:
            keep.append(d + "/package.json")
    return keep


def _broad_copy(df: Dockerfile, stage: int, run: Instruction) -> Instruction | None:
    """The COPY of a whole directory that the install RUN directly follows."""
    members = [df.instructions[i] for i in df.stages[stage].instructions[1:]]
    pos = next(k for k, ins in enumerate(members) if ins.index == run.index)
    for k in range(pos - 1, -1, -1):
        ins = members[k]
        if ins.keyword in _BETWEEN_OK:
            continue
        if ins.keyword == "copy" and ins.from_stage is None and ins.from_image is None and \
                not ins.heredocs:
            return ins
        return None
    return None



def _prefetch_suggestions(subject: Subject) -> list[Suggestion]:
    """Builds after a broad COPY with no install to move: insert a dependency prefetch
    layer before the COPY (layerlens/suggest/prefetch.py, which also proves it safe)."""
    from layerlens.suggest.prefetch import suggestions

    def moved_here(run: Instruction) -> bool:
        inst = detect_instruction(run)
        return inst is not None and not (inst.ecosystem == "composer" and inst.unsafe)

    return suggestions(subject, RULE, moved_here)


def check(subject: Subject) -> list[Suggestion]:
    df = subject.df
    out: list[Suggestion] = _prefetch_suggestions(subject)
    for stage in sorted(df.needed_stages()):
        for idx in df.stages[stage].instructions[1:]:
            run = df.instructions[idx]
            if run.keyword != "run" or not run.args:
                continue
            inst = detect_instruction(run)
            if inst is None or (inst.ecosystem == "composer" and inst.unsafe):
                continue  # composer with scripts: a prefetch layer (above) instead
            copy = _broad_copy(df, stage, run)
            if copy is None:
                continue
            srcs = copy.expanded[:-1]
            if len(srcs) != 1:
                continue
            src = go_clean("/" + srcs[0])[1:]
            if src and src not in subject.context.dirs:
                continue
            wd = df.workdir_at(run)
            dest = copy.expanded[-1]
            dest_abs = go_clean(dest if dest.startswith("/")
                                else df.workdir_at(copy) + "/" + dest)
            if dest_abs != wd:
                continue  # the install runs elsewhere than where the source lands
            prefix = src + "/" if src else ""
            inputs = subject.inputs.get(copy.index)
            have = set(inputs.paths) if inputs else set()
            unsafe = inst.unsafe
            manifests = list(inst.manifests)
            def read(rel: str, prefix: str = prefix) -> bytes | None:
                return subject.analysis.context_file(go_clean(prefix + rel))

            if inst.ecosystem in ("pip", "pip-tools") and not unsafe:
                manifests, unsafe = _pip_closure(read, manifests)
            workspace_note = None
            if inst.ecosystem == "bundler" and not unsafe:
                gemfile = (read("Gemfile") or b"").decode("utf-8", errors="replace")
                if re.search(r"^\s*(gemspec\b|.*\bpath:|eval_gemfile\b)", gemfile, re.M):
                    unsafe = ("the Gemfile reads a gemspec, local paths or other Gemfiles "
                              "(gemspec, path:, eval_gemfile), which need more than the "
                              "manifests")
            if inst.ecosystem in ("npm", "yarn", "pnpm") and not unsafe:
                patterns = _workspace_patterns(read)
                ws = _workspace_manifests(patterns, have, prefix) if patterns is not None else []
                dirs = frozenset(w.rsplit("/", 1)[0] for w in ws)
                off = "--ignore-scripts" in inst.args
                no_git = not any(p == prefix + ".git" or p.startswith(prefix + ".git/")
                                 for p in have)
                unsafe = _package_json_unsafe(read, "package.json", dirs, off, no_git)
                if patterns is not None:
                    if not ws and not unsafe:
                        unsafe = "workspaces are declared but no workspace package.json is copied"
                    for rel in ws:
                        unsafe = unsafe or _package_json_unsafe(read, rel, dirs, off)
                    for d in sorted(dirs):
                        nm = prefix + d + "/node_modules/"
                        if not unsafe and any(p.startswith(nm) for p in have):
                            unsafe = (f"the context holds {d}/node_modules/, which the install "
                                      "creates and the broad COPY would overwrite: add it to "
                                      ".dockerignore first")
                    manifests += ws + (["pnpm-workspace.yaml"] if read("pnpm-workspace.yaml")
                                       is not None else [])
                    workspace_note = (f"; it also copies {len(ws)} workspace package.json "
                                      "files, and workspace packages have no source during "
                                      "the install (links resolve after the COPY)")
            files = [m for m in manifests if prefix + m in have]
            missing = [m for m in manifests if prefix + m not in have]
            files += [o for o in inst.optional if prefix + o in have]
            if missing and not unsafe:
                unsafe = f"{', '.join(missing)} not in what {copy.upper} brings in"
            for w in inst.writes:
                if any(p == prefix + w or p.startswith(prefix + w + "/") for p in have) \
                        and not unsafe:
                    unsafe = (f"the context holds {w}/, which the install creates and the broad "
                              f"COPY would overwrite: add {w} to .dockerignore first")
            title, reason = RULE.title, RULE.reason
            lines = (copy.start_line, run.start_line)
            if unsafe or not files:
                out.append(Suggestion("LL002", title,
                                      f"{inst.ecosystem} install at line {run.start_line} runs "
                                      f"after {copy.upper} at line {copy.start_line}",
                                      reason, lines, False, note=unsafe or "no manifest found"))
                continue
            new_text = _rewrite(df, copy, run, files)
            savings = subject.measure(new_text)
            why = _unproven(subject, run, copy, inst, prefix, have, files, manifests)
            out.append(Suggestion(
                "LL002", title,
                f"copy {', '.join(files)} and run the {inst.ecosystem} install (line "
                f"{run.start_line}) before {copy.upper} at line {copy.start_line}",
                reason, lines, True, savings, dockerfile=new_text,
                safety="unsafe" if why else "safe",
                unsafe_reason=(why + (workspace_note or "")) if why else None,
            ))
    return out


_COPY_FLAGS_KEPT = frozenset({"chown", "chmod", "link"})
# Package-manager settings from the environment; one naming a file in the destination
# makes the install read a file the manifest COPY does not bring.
_TOOL_ENV = ("NPM_CONFIG_", "YARN_", "PNPM_", "PIP_", "BUNDLE_", "COMPOSER_", "UV_",
             "POETRY_", "PIPENV_")


def _unproven(subject: Subject, run: Instruction, copy: Instruction, inst: Install,
              prefix: str, have: set[str], files: list[str],
              manifests: list[str]) -> str | None:
    """Why moving `run` above `copy` may change the final image (None: proven the same).

    Shape checks here (the RUN is the install alone, the COPY's flags carry over, the copied
    manifests are regular files at the destination's top level); what the package manager
    reads and writes in layerlens/suggest/install_proof.py."""
    from layerlens.runmodel import scripts_of
    from layerlens.suggest.install_proof import Move, pip_line_unproven, unproven

    scripts = scripts_of(run)
    # `set -e` / `set -o pipefail` only change how the shell treats failures
    cmds = [c for sc in scripts for c in sc.commands
            if not (c.name == "set" and all((w.value or "").startswith(("-", "+")) or
                                            w.value in ("pipefail", "errexit", "xtrace")
                                            for w in c.args))]
    if len(cmds) != 1 or any(sc.errors or sc.compound for sc in scripts) or cmds[0].redirects:
        return ("the RUN does more than the install, and the rest may read files only the "
                "broad COPY brings")
    wd = subject.df.workdir_at(run)
    tool = cmds[0].name or ""
    if "/" in tool and (not tool.startswith("/") or tool == wd or
                        tool.startswith(wd.rstrip("/") + "/")):
        return f"the RUN runs {tool}, a program the broad COPY may bring"
    if any(m.type == "bind" and m.from_ is None for m in run.mounts):
        return "the RUN bind-mounts the build context, which the move does not change"
    other = sorted(f.name for f in copy.flags if f.name not in _COPY_FLAGS_KEPT)
    if other:
        return (f"{copy.upper} --{other[0]} is not carried to the manifest COPY, so its "
                "files may differ")
    rel_have = frozenset(p[len(prefix):] for p in have if p.startswith(prefix))

    def read(rel: str) -> bytes | None:
        if rel not in rel_have:
            return None  # only what the broad COPY brings, as the install would see it
        return subject.analysis.context_file(prefix + rel, limit=64 << 20)

    if inst.ecosystem in ("pip", "pip-tools"):
        for rel in manifests:
            bad = pip_line_unproven(rel, (read(rel) or b"").decode("utf-8", "replace"))
            if bad:
                return bad
    workspaces = tuple(sorted({f.rsplit("/", 1)[0] for f in manifests
                               if f.endswith("/package.json")}))
    env = dict(run.env)
    env.update((k, v.value or "") for k, v in cmds[0].assignments if v is not None)
    for k, v in sorted(env.items()):
        tool_var = k.upper().startswith(_TOOL_ENV) or k.upper() == "COMPOSER"
        if tool_var and ("/" in v or k.upper() == "COMPOSER") and (
                not v.startswith("/") or v == wd or v.startswith(wd.rstrip("/") + "/")):
            return f"{k}={v} points the install at a path the broad COPY may bring"
    bad = unproven(Move(inst.ecosystem, inst.args, rel_have, read, workspaces, env))
    if bad:
        return bad
    nested = [f for f in files if "/" in f]
    if nested:
        return (f"the manifest COPY creates {nested[0].rsplit('/', 1)[0]}/ before the broad "
                "COPY brings it, and the context scan does not record that directory's mode "
                "to prove it ends the same")
    links = {f.path for f in subject.context.files if f.link is not None}
    bad_link = next((f for f in files if prefix + f in links), None)
    if bad_link is not None:
        return f"{bad_link} is a symbolic link, whose target the manifest COPY may not bring"
    return None


def _manifest_copies(copy: Instruction, files: list[str]) -> list[str]:
    """COPY lines bringing `files` (relative to the broad COPY's source) to the same place
    under its destination, one per directory, with the broad COPY's owner and mode."""
    flags = [f.raw for f in copy.flags if f.name in ("chown", "chmod", "link")]
    by_dir: dict[str, list[str]] = {}
    for f in files:
        d = f.rsplit("/", 1)[0] + "/" if "/" in f else "./"
        by_dir.setdefault(d, []).append(f)
    src_prefix = go_clean("/" + copy.expanded[0])[1:]
    lines = []
    for d, fs in by_dir.items():
        srcs = [(src_prefix + "/" + f) if src_prefix else f for f in fs]
        kw = copy.original.split(None, 1)[0]
        lines.append(" ".join([kw, *flags, *srcs, d]))
    return lines


def _rewrite(df: Dockerfile, copy: Instruction, run: Instruction, files: list[str]) -> str:
    from layerlens.dockerfile import parse

    lines = _manifest_copies(copy, files)
    text = insert_before(df, copy, lines)
    df2 = parse(text, df.path)
    shift = len(lines)
    run2 = next(i for i in df2.instructions if i.start_line == run.start_line + shift)
    copy2 = next(i for i in df2.instructions if i.start_line == copy.start_line + shift)
    return move_before(df2, run2, copy2)


RULE = Rule(
    "LL002", "manifests-first",
    "Copy dependency manifests first and install before the broad COPY",
    "Every change to any copied file reinstalls all dependencies; with the manifests copied "
    "first the install layer stays cached until they change.", ("safe", "unsafe", "hint"),
    "copy dependency manifests first and install from them before the broad `COPY . .` (pip, "
    "pip-tools, Poetry, Pipenv, uv, npm, yarn, pnpm, Go modules, Cargo, Bundler, Composer, "
    "Maven; Gradle and .NET as hints); safe where the install provably reads only the copied "
    "manifests and writes nothing the broad COPY replaces (`npm ci` with a lockfile and no "
    "install scripts, index-only pip requirements, frozen Bundler, Composer --no-scripts "
    "--no-autoloader ...), and for a Go, Maven or Cargo prefetch layer whose download cache "
    "provably stays out of the final image (layerlens/suggest/prefetch.py), also when the "
    "build runs inside a project script or `make` target of the context (followed one level, "
    "layerlens/runmodel/follow.py); unsafe otherwise",
    check)
