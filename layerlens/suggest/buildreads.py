"""Files that build tools read from the context although no instruction names them.

Ignoring them in .dockerignore breaks the build or changes what it makes, so LL005 never
offers them. Sources:

* `.git`: read by `git` itself (`git describe`, `git rev-parse`); by Go's `go build`, which
  stamps VCS data when `-buildvcs` is auto, its default (go help buildflag); and by the
  Python build backends that take the version from git: setuptools-scm, hatch-vcs,
  versioneer, setuptools-git-versioning, poetry-dynamic-versioning, pdm's scm source.
* readme, license and changelog files named by package metadata: `pyproject.toml`
  ([project] readme/license, [tool.poetry] readme/license), `setup.cfg`
  (long_description = file:), `package.json` (readme, license file), `*.gemspec` (files
  named in it) and `Cargo.toml` ([package] readme, license-file).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from layerlens.dockerfile.model import Dockerfile, find_stage
from layerlens.runmodel import scripts_of

VCS_VERSIONING = re.compile(r"setuptools[_-]scm|hatch-vcs|versioneer|setuptools-git-versioning|"
                            r"poetry-dynamic-versioning|source\s*=\s*[\"']scm[\"']|"
                            r"source\s*=\s*[\"']vcs[\"']")
_PY_BUILDERS = frozenset({"pip", "pip3", "python", "python3", "uv", "poetry", "hatch", "pdm",
                          "pipx", "flit", "tox", "nox"})
_GO_VCS = frozenset({"build", "install", "run", "test", "generate", "vet", "list"})
_SCRIPT_RUNNERS = frozenset({"make", "just", "task", "rake", "bazel"})


# Reads a context file's text ("" when absent or unreadable). LL005 passes one that goes
# through `Analysis.context_file`, so each file is read once per analysis, not once per
# round of the combined rewrite; the default reads the disk (tests, other callers).
Reader = Callable[[str], str]


def _disk(root: Path) -> Reader:
    def read(rel: str) -> str:
        try:
            return (root / rel).read_text("utf-8", errors="replace")[:200_000]
        except OSError:
            return ""
    return read


def _read(root: Path, rel: str, read: Reader | None = None) -> str:
    return (read or _disk(root))(rel)


def _toml(root: Path, rel: str, read: Reader | None = None) -> dict:
    """The TOML document at `rel` ({} when absent or unreadable); tomllib is imported only
    when there is one (most contexts have neither pyproject.toml nor Cargo.toml)."""
    text = _read(root, rel, read)
    if not text:
        return {}
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}


def vcs_versioned(root: Path, read: Reader | None = None) -> str | None:
    """Which VCS versioning backend the Python project in `root` uses, if any."""
    for rel in ("pyproject.toml", "setup.cfg", "setup.py"):
        m = VCS_VERSIONING.search(_read(root, rel, read))
        if m:
            return f"{rel} uses {m.group(0)}"
    if (root / "versioneer.py").exists():
        return "versioneer.py takes the version from git"
    return None


def git_stages(df: Dockerfile, copy_git: set[int]) -> frozenset[int]:
    """The stages whose RUNs may see the context's `.git`: a stage that copies it (`copy_git`:
    the COPY/ADD instructions whose context files include it), binds the context into a RUN
    (`--mount=type=bind` without `from`, taken to include it), is based on such a stage, or
    takes files `--from` (COPY or mount) one. Conservative: a stage that copies .git and
    deletes it still counts, and so do the stages that copy from it. Not seen: an ONBUILD
    trigger of an outside base image that copies the context (deprecated `*-onbuild`
    images)."""
    sees: set[int] = set()
    changed = True
    while changed:  # a fixpoint: `--from` may name a later stage
        changed = False
        for st in df.stages:
            if st.index in sees:
                continue
            hit = st.base_stage is not None and st.base_stage in sees
            for i in st.instructions:
                if hit:
                    break
                ins = df.instructions[i]
                hit = i in copy_git or (ins.from_stage is not None and ins.from_stage in sees)
                for m in ins.mounts:
                    if m.type == "bind" and not m.from_:
                        hit = True
                    elif m.from_:
                        ref = find_stage(df.stages, m.from_)
                        hit = hit or (ref is not None and ref in sees)
            if hit:
                sees.add(st.index)
                changed = True
    return frozenset(sees)


def git_reader(df: Dockerfile, root: Path, read: Reader | None = None,
               stages: frozenset[int] | None = None) -> str | None:
    """Why a RUN of the build may read `.git`, or None when none is known to.

    A RUN that runs git, a Go build, a Python build of a VCS-versioned project, or a script
    runner (make, `./script`, `npm run`) whose script may run git. With `stages` (from
    `git_stages`), only a RUN in one of them counts: the others cannot see `.git`."""
    vcs = vcs_versioned(root, read)
    needed = df.needed_stages()
    for ins in df.instructions:
        if ins.keyword != "run" or ins.stage not in needed:
            continue
        if stages is not None and ins.stage not in stages:
            continue
        for sc in scripts_of(ins):
            for cmd in sc.commands:
                name = (cmd.name or "").rsplit("/", 1)[-1]
                words = [w.value or "" for w in cmd.words]
                sub = next((w for w in words[1:] if not w.startswith("-")), "")
                line = ins.start_line
                if name == "git":
                    return f"the RUN at line {line} runs git"
                if name == "go" and sub in _GO_VCS and "-buildvcs=false" not in words:
                    return f"the RUN at line {line} runs `go {sub}`, which stamps VCS data"
                if vcs and name in _PY_BUILDERS:
                    return f"the RUN at line {line} builds a Python package and {vcs}"
                if name in _SCRIPT_RUNNERS or (cmd.name or "").startswith("./") or (
                        name in ("npm", "yarn", "pnpm") and sub == "run"):
                    return f"the RUN at line {line} runs a script ({cmd.name}) that may run git"
    return None


def metadata_files(root: Path, read: Reader | None = None) -> dict[str, str]:
    """Context-relative files that package metadata names: path -> which metadata."""
    out: dict[str, str] = {}

    def add(value, where: str) -> None:
        if isinstance(value, str) and value and "\n" not in value:
            out.setdefault(value.lstrip("./"), where)
        elif isinstance(value, dict):
            add(value.get("file"), where)
            for v in value.get("files", []) if isinstance(value.get("files"), list) else []:
                add(v, where)
        elif isinstance(value, list):
            for v in value:
                add(v, where)

    py = _toml(root, "pyproject.toml", read)
    proj = py.get("project", {}) if isinstance(py.get("project"), dict) else {}
    add(proj.get("readme"), "pyproject.toml [project] readme")
    add(proj.get("license"), "pyproject.toml [project] license")
    add(proj.get("license-files"), "pyproject.toml [project] license-files")
    poetry = py.get("tool", {}).get("poetry", {}) if isinstance(py.get("tool"), dict) else {}
    if isinstance(poetry, dict):
        add(poetry.get("readme"), "pyproject.toml [tool.poetry] readme")
        if (root / str(poetry.get("license", ""))).is_file():
            add(poetry.get("license"), "pyproject.toml [tool.poetry] license")
    hatch = py.get("tool", {}).get("hatch", {}) if isinstance(py.get("tool"), dict) else {}
    if isinstance(hatch, dict) and "fancy-pypi-readme" in json.dumps(hatch.get("metadata", {})):
        for m in re.finditer(r"path\s*=\s*\"([^\"]+)\"", _read(root, "pyproject.toml", read)):
            add(m.group(1), "pyproject.toml hatch-fancy-pypi-readme")
    for m in re.finditer(r"file:\s*([^\s,]+)", _read(root, "setup.cfg", read)):
        add(m.group(1), "setup.cfg file:")
    for m in re.finditer(r"open\(\s*[\"']([^\"']+)[\"']", _read(root, "setup.py", read)):
        add(m.group(1), "setup.py opens it")
    try:
        pkg = json.loads(_read(root, "package.json", read) or "{}")
    except ValueError:
        pkg = {}
    if isinstance(pkg, dict):
        add(pkg.get("readmeFilename"), "package.json readmeFilename")
        lic = pkg.get("license")
        if isinstance(lic, str) and lic.startswith("SEE LICENSE IN "):
            add(lic[len("SEE LICENSE IN "):], "package.json license")
    cargo = _toml(root, "Cargo.toml", read)
    pk = cargo.get("package", {}) if isinstance(cargo.get("package"), dict) else {}
    add(pk.get("readme"), "Cargo.toml readme")
    add(pk.get("license-file"), "Cargo.toml license-file")
    if "readme" not in pk and (root / "Cargo.toml").exists():
        for cand in ("README.md", "README.txt", "README"):
            if (root / cand).exists():  # cargo's default readme (The Cargo Book, readme)
                add(cand, "Cargo.toml (default readme)")
                break
    for gemspec in sorted(root.glob("*.gemspec")):
        text = _read(root, gemspec.name, read)
        for m in re.finditer(r"[\"']((?:README|LICEN[SC]E|CHANGELOG|CHANGES)[^\"']*)[\"']",
                             text, re.I):
            add(m.group(1), f"{gemspec.name}")
    return out
