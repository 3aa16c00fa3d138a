"""The GitHub Action (action.yml) and the pre-commit hooks (.pre-commit-hooks.yaml), run.

Both files are read as their runners read them and executed against a small git repository:

* the Action's `run:` steps go through bash as a composite Action's do (`bash --noprofile
  --norc -eo pipefail FILE`), with `${{ inputs.* }}` and `${{ github.action_path }}`
  substituted and the runner's variables set. Its install step really builds and installs
  layerlens from the Action's own folder into a fresh venv; to keep CI offline, the
  `python3` it finds is a stand-in whose venvs can see this environment's packages (the
  dependencies and setuptools), and pip is told to use no index.
* each hook's `entry` runs with its `args` and, when `pass_filenames` is true, the staged
  files that match `files`, as pre-commit would; the console script must be one the
  package declares, which is how `language: python` finds it. (A real `pre-commit
  try-repo` needs an index to install into its own environment, so it is not run here.)
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e", "GIT_CONFIG_NOSYSTEM": "1"}

pytestmark = pytest.mark.integration


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with a Dockerfile, its context and a committed baseline."""
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    (r / "app.txt").write_text("hello\n")
    (r / "Dockerfile").write_text("FROM scratch\nCOPY app.txt /\n")
    (r / ".dockerignore").write_text(".git\n.layerlens-baseline.json\n")
    git(r, "add", "-A")
    git(r, "commit", "-qm", "app")
    res = subprocess.run([str(BIN / "layerlens"), "baseline", "Dockerfile"], cwd=r,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    git(r, "add", "-A")
    git(r, "commit", "-qm", "baseline")
    return r


def grow(r: Path) -> None:
    """Stage a Dockerfile change that brings 16 MiB more into the image (a sparse file)."""
    with open(r / "big.bin", "wb") as fh:
        fh.truncate(16 * 1024 * 1024)
    (r / "Dockerfile").write_text("FROM scratch\nCOPY app.txt /\nCOPY big.bin /\n")
    git(r, "add", "-A")


# --- the Action ------------------------------------------------------------------------

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _substitute(text: str, inputs: dict[str, str], action_path: Path) -> str:
    def value(m: re.Match[str]) -> str:
        expr = m[1]
        if expr == "github.action_path":
            return str(action_path)
        if expr.startswith("inputs.") and expr[7:] in inputs:
            return inputs[expr[7:]]
        raise AssertionError(f"action.yml uses an expression this test cannot evaluate: {expr}")
    return _EXPR.sub(value, text)


def action_steps(overrides: dict[str, str],
                 action_path: Path = ROOT) -> list[tuple[str, dict[str, str]]]:
    """(script, env) of every step, as the runner would run them."""
    spec = yaml.safe_load((ROOT / "action.yml").read_text())
    assert spec["runs"]["using"] == "composite"
    inputs = {k: str(v.get("default", "")) for k, v in spec["inputs"].items()}
    unknown = set(overrides) - set(inputs)
    assert not unknown, f"action.yml has no inputs {unknown}"
    inputs.update(overrides)
    steps = []
    for step in spec["runs"]["steps"]:
        assert step.get("shell") == "bash" and "run" in step, step
        env = {k: _substitute(str(v), inputs, action_path)
               for k, v in (step.get("env") or {}).items()}
        steps.append((_substitute(step["run"], inputs, action_path), env))
    return steps


_PYTHON3_STANDIN = """#!{python}
# Offline stand-in for the runner's python3: a venv made with it also sees the packages of
# the test environment (pip included, so ensurepip is skipped), so `pip install ACTION_PATH`
# needs no index.
import os, subprocess, sys
args = sys.argv[1:]
if args[:2] == ["-m", "venv"]:
    args = [*args[:2], "--without-pip", *args[2:]]
code = subprocess.call([{python!r}, *args])
if code == 0 and args[:2] == ["-m", "venv"]:
    site = subprocess.check_output([os.path.join(args[-1], "bin", "python"), "-c",
                                    "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                   text=True).strip()
    with open(os.path.join(site, "_test_env.pth"), "w") as fh:
        fh.write("import sys; sys.path.insert(1, {purelib!r})\\n")
sys.exit(code)
"""


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The runner's environment, after the Action's install step has run once."""
    tmp = tmp_path_factory.mktemp("runner")
    # the Action's checkout, as `uses:` lays it out (pip builds in it, so not this one)
    action = tmp / "action"
    shutil.copytree(ROOT, action, symlinks=True, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"))
    shim = tmp / "shim"
    shim.mkdir()
    py3 = shim / "python3"
    py3.write_text(_PYTHON3_STANDIN.format(python=sys.executable,
                                           purelib=sysconfig.get_path("purelib")))
    py3.chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "VIRTUAL_ENV", "PYTHON", "LAYERLENS_"))}
    # no venv of this project on PATH: the Action must use the layerlens it installed
    path = [p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != BIN]
    env.update({"PATH": os.pathsep.join([str(shim), *path]), "RUNNER_TEMP": str(tmp),
                "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",
                "GITHUB_ACTION_PATH": str(action), "GITHUB_ACTIONS": "true"})
    install, step_env = action_steps({}, action)[0]
    res = run_step(install, step_env, env, tmp)
    assert res.returncode == 0, res.stdout + res.stderr
    return env


def run_step(script: str, step_env: dict[str, str], env: dict[str, str],
             cwd: Path) -> subprocess.CompletedProcess[str]:
    f = Path(env["RUNNER_TEMP"]) / "step.sh"
    f.write_text(script)
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(f)],
                          cwd=cwd, env={**env, **step_env}, capture_output=True, text=True,
                          timeout=300)


def run_action(runner: dict[str, str], repo: Path,
               **inputs: str) -> tuple[subprocess.CompletedProcess[str], str]:
    summary = repo.parent / "summary.md"
    env = {**runner, "GITHUB_WORKSPACE": str(repo), "GITHUB_STEP_SUMMARY": str(summary)}
    script, step_env = action_steps(inputs, Path(runner["GITHUB_ACTION_PATH"]))[1]
    res = run_step(script, step_env, env, repo)
    return res, summary.read_text() if summary.exists() else ""


def test_action_installs_from_its_own_checkout(runner: dict[str, str]) -> None:
    venv = Path(runner["RUNNER_TEMP"]) / "layerlens-venv"
    out = subprocess.run([str(venv / "bin" / "python"), "-c",
                          "import importlib.metadata as m, layerlens; "
                          "print(m.version('layerlens-docker'), layerlens.__file__)"],
                         capture_output=True, text=True, check=True, cwd=runner["RUNNER_TEMP"])
    version, where = out.stdout.split()
    assert version == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    # a real (non-editable) install into the Action's venv, not this checkout
    assert Path(where).is_relative_to(venv)
    action = Path(runner["GITHUB_ACTION_PATH"])
    install, env = action_steps({}, action)[0]
    assert "$ACTION_PATH" in install and env["ACTION_PATH"] == str(action)
    # never the PyPI name `layerlens`, an unrelated project
    assert not re.search(r"pip install[^\n]*\blayerlens\b", install)


def test_action_passes_within_budget_and_fails_past_it(runner: dict[str, str],
                                                       repo: Path) -> None:
    res, summary = run_action(runner, repo)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "::error" not in res.stdout and "within budget" in summary
    grow(repo)
    res, summary = run_action(runner, repo)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "::error file=Dockerfile" in res.stdout and "COPY big.bin" in res.stdout
    assert summary.strip(), "the Markdown summary goes to $GITHUB_STEP_SUMMARY"


def test_action_inputs_scan_and_args(runner: dict[str, str], repo: Path) -> None:
    (repo / "svc").mkdir()
    (repo / "svc" / "Dockerfile.prod").write_text("FROM scratch\nCOPY app.txt /\n")
    (repo / "svc" / "app.txt").write_text("svc\n")
    res = subprocess.run([str(BIN / "layerlens"), "baseline", "svc/Dockerfile.prod"],
                         cwd=repo, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    res, _ = run_action(runner, repo, dockerfile="scan", args="--max-commits 5")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "::error" not in res.stdout and "svc/Dockerfile.prod" in res.stdout
    res, _ = run_action(runner, repo, dockerfile="svc/Dockerfile.prod",
                        args="--budget total_size.max=1")
    assert res.returncode == 1, res.stdout + res.stderr
    res, _ = run_action(runner, repo, dockerfile="missing/Dockerfile")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    # quoted args stay one argument (a gate trial: they were word-split, quotes kept)
    res, _ = run_action(runner, repo, dockerfile="svc/Dockerfile.prod",
                        args='--budget "total_size.max=1"')
    assert res.returncode == 1, res.stdout + res.stderr
    # an image with scan is refused, not silently dropped
    res, _ = run_action(runner, repo, dockerfile="scan", image="img.tar")
    assert res.returncode == 2 and "::error" in res.stdout and "scan" in res.stdout


# --- the pre-commit hooks ----------------------------------------------------------------

def hooks() -> dict[str, dict]:
    return {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}


def run_hook(hook: dict, repo: Path) -> subprocess.CompletedProcess[str] | None:
    """Run one hook as pre-commit does on the staged files; None when it would be skipped."""
    staged = git(repo, "diff", "--cached", "--name-only", "-z").split("\0")
    files = [f for f in staged if f and re.search(hook.get("files", ""), f)
             and not re.search(hook.get("exclude", "^$"), f)]
    if not files and not hook.get("always_run", False):
        return None
    cmd = [*shlex.split(hook["entry"]), *hook.get("args", [])]
    if hook.get("pass_filenames", True):
        cmd += files
    env = {**os.environ, "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")])}
    return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=300)


def test_hooks_are_python_console_scripts() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert set(hooks()) == {"layerlens-check", "layerlens-suggest"}
    for hook in hooks().values():
        assert hook["language"] == "python"
        assert shlex.split(hook["entry"])[0] in scripts


@pytest.mark.parametrize(("path", "runs"), [
    ("Dockerfile", True), ("svc/Dockerfile.prod", True), ("api.dockerfile", True),
    ("Containerfile", True), ("app.txt", False), ("docs/Dockerfiles.md", False),
])
def test_hook_file_patterns(path: str, runs: bool) -> None:
    assert bool(re.search(hooks()["layerlens-check"]["files"], path)) is runs


def test_hooks_on_a_commit(repo: Path) -> None:
    check, suggest = hooks()["layerlens-check"], hooks()["layerlens-suggest"]
    # an unrelated file staged: neither hook runs
    (repo / "app.txt").write_text("hello again\n")
    git(repo, "add", "app.txt")
    assert run_hook(check, repo) is None and run_hook(suggest, repo) is None
    # a harmless Dockerfile edit passes both
    (repo / "Dockerfile").write_text("FROM scratch\nLABEL team=web\nCOPY app.txt /\n")
    git(repo, "add", "Dockerfile")
    for hook in (check, suggest):
        res = run_hook(hook, repo)
        assert res is not None and res.returncode == 0, (hook["id"], res and res.stderr)
    # 16 MiB more: check blocks the commit, suggest never does (--exit-zero)
    grow(repo)
    res = run_hook(check, repo)
    assert res is not None and res.returncode == 1, res and (res.stdout + res.stderr)
    assert "COPY big.bin" in res.stdout
    res = run_hook(suggest, repo)
    assert res is not None and res.returncode == 0, res.stderr
