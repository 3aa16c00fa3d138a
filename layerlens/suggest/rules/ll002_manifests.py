"""LL002: copy dependency manifests first and install from them before the broad COPY.

A broad `COPY . .` followed by a dependency install reinstalls every dependency whenever
any source file changes. Copying only the manifests first lets the install layer stay
cached until a manifest changes. The fix is made only when the install provably needs
just those files; otherwise the suggestion says what else it needs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from layerlens.context.patterns import go_clean
from layerlens.dockerfile.model import Dockerfile, Instruction
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
        if not w:
            continue
        if len(w) >= 2 and w[0] in ("python", "python3") and w[1:3] == ["-m", "pip"]:
            w = ["pip", *w[3:]]
        if w[:2] == ["uv", "pip"]:
            w = ["pip", *w[2:]]
        if not w:
            continue
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
                                                       ".npmrc"), ("node_modules",), None)
        if tool == "pnpm" and rest[:1] in (["install"], ["i"]):
            return Install("pnpm", ("package.json",), ("pnpm-lock.yaml", ".npmrc"),
                           ("node_modules",), None)
        if tool == "go" and rest[:2] == ["mod", "download"]:
            return Install("go", ("go.mod",), ("go.sum",), (), None)
        if tool == "cargo" and rest[:1] == ["fetch"]:
            return Install("cargo", ("Cargo.toml",), ("Cargo.lock",), (), None)
        if tool == "bundle" and rest[:1] == ["install"]:
            return Install("bundler", ("Gemfile",), ("Gemfile.lock",), ("vendor",), None)
        if tool == "composer" and rest[:1] == ["install"]:
            bad = None if "--no-scripts" in rest and ("--no-autoloader" in rest or
                                                      "--no-autoload" in rest) else (
                "`composer install` runs scripts and builds the autoloader from the source; "
                "add --no-scripts --no-autoloader to the early install")
            return Install("composer", ("composer.json",), ("composer.lock",), ("vendor",), bad)
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
                         workspaces: frozenset[str] = frozenset()) -> str | None:
    """Why an install from this package.json alone may need the source (None: it need not;
    workspaces are handled by the caller)."""
    data = read(rel)
    try:
        doc = json.loads(data.decode("utf-8")) if data is not None else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        return f"{rel} cannot be read"
    scripts = doc.get("scripts") or {}
    hooks = [h for h in ("preinstall", "install", "postinstall", "prepare") if h in scripts]
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
    try:
        doc = json.loads((read("package.json") or b"{}").decode("utf-8"))
    except ValueError:
        doc = {}
    ws = doc.get("workspaces") if isinstance(doc, dict) else None
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


def _workdir_at(df: Dockerfile, ins: Instruction) -> str:
    wd = "/"
    for i in df.stages[ins.stage].instructions[1:]:
        other = df.instructions[i]
        if other.index >= ins.index:
            break
        if other.keyword == "workdir" and other.expanded:
            w = other.expanded[0]
            wd = go_clean(w if w.startswith("/") else wd.rstrip("/") + "/" + w)
    return wd


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
            wd = _workdir_at(df, run)
            dest = copy.expanded[-1]
            dest_abs = go_clean(dest if dest.startswith("/")
                                else _workdir_at(df, copy) + "/" + dest)
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
                unsafe = _package_json_unsafe(read, "package.json", dirs)
                if patterns is not None:
                    if not ws and not unsafe:
                        unsafe = "workspaces are declared but no workspace package.json is copied"
                    for rel in ws:
                        unsafe = unsafe or _package_json_unsafe(read, rel, dirs)
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
            out.append(Suggestion(
                "LL002", title,
                f"copy {', '.join(files)} and run the {inst.ecosystem} install (line "
                f"{run.start_line}) before {copy.upper} at line {copy.start_line}",
                reason, lines, True, savings, dockerfile=new_text, safety="unsafe",
                unsafe_reason=f"the {inst.ecosystem} install is not a command with known "
                "effects: it might read a file only the broad COPY brings in, or write where "
                "that COPY then writes" + (workspace_note or ""),
            ))
    return out


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
    "Maven; Gradle and .NET as hints); unsafe, since the install tool may read more, except a "
    "Go, Maven or Cargo prefetch layer whose download cache provably stays out of the final "
    "image (layerlens/suggest/prefetch.py)", check)
