"""The bad-input matrix: one clear line and exit code 2 (or a warning and a useful result),
never a traceback; writes are atomic; nothing runs but git/docker/podman, never a shell."""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from layerlens.errors import LayerlensError
from layerlens.fsutil import atomic_write_text

from .conftest import IMAGES

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "layerlens", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def one_line_error(res: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


@pytest.mark.parametrize(("name", "content", "fragment"), [
    ("directory", None, "no such file"),
    ("not-utf8", b"FROM a\nRUN echo \xff\xfe\nFOO\n", ":3: unknown instruction"),
    ("nul bytes", b"\x00\x01garbage\nFROM a\n", ":1: unknown instruction"),
    ("only comments", b"# hello\n\n", "no instructions"),
    ("bad escape", b"# escape=x\nFROM a\n", ":1: invalid escape"),
    ("unterminated continuation ok", None, None),
])
def test_dockerfile_matrix(tmp_path: Path, name: str, content: bytes | None,
                           fragment: str | None) -> None:
    df = tmp_path / "Dockerfile"
    if name == "directory":
        df.mkdir()
    elif content is not None:
        df.write_bytes(content)
    else:
        df.write_bytes(b"FROM a\nRUN echo a \\\n")  # ends inside a continuation: accepted
        assert cli("analyze", str(df), "--no-history").returncode == 0
        return
    one_line_error(cli("analyze", str(df), "--no-history"), fragment)


def test_long_line_and_many_instructions(tmp_path: Path) -> None:
    df = tmp_path / "Dockerfile"
    df.write_bytes(b"FROM a\nRUN " + b"x" * 70_000 + b"\n")
    one_line_error(cli("analyze", str(df), "--no-history"), ":2:", "max allowed size")
    df.write_text("FROM a\n" + "ENV A=1\n" * 100_000)
    res = cli("analyze", str(df), "--no-history", "--format", "json")
    assert res.returncode == 0 and len(json.loads(res.stdout)["dockerfile"]["instructions"]) \
        == 100_001


def test_dockerignore_matrix(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM a\nCOPY . .\n")
    ig = tmp_path / ".dockerignore"
    ig.write_bytes(b"\x00\x01binary")
    one_line_error(cli("analyze", str(tmp_path), "--no-history"), ".dockerignore", "binary")
    ig.write_bytes(b"docs\n\xff\xfe\n")  # not UTF-8: read as bytes, like the builder
    assert cli("analyze", str(tmp_path), "--no-history").returncode == 0
    ig.unlink()
    ig.mkdir()
    one_line_error(cli("analyze", str(tmp_path), "--no-history"), "is a directory")


def test_context_matrix(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM a\nCOPY . .\n")
    (tmp_path / "loop").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "up").symlink_to("..")
    assert cli("analyze", str(tmp_path), "--no-history").returncode == 0
    one_line_error(cli("analyze", str(tmp_path), "--context", str(tmp_path / "nope"),
                       "--no-history"), "does not exist")
    one_line_error(cli("analyze", str(tmp_path), "--context", str(tmp_path / "Dockerfile"),
                       "--no-history"), "not a directory")


def test_many_files_context(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM a\nCOPY . .\n")
    for d in range(100):
        sub = tmp_path / f"d{d}"
        sub.mkdir()
        for f in range(200):
            (sub / f"f{f}").write_bytes(b"")
    res = cli("analyze", str(tmp_path), "--no-history", "--format", "json")
    assert res.returncode == 0
    assert json.loads(res.stdout)["context"]["files"] == 100 * 200 + 1  # and the Dockerfile


def test_dockerfile_outside_any_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (tmp_path / "Dockerfile").write_text("FROM a\nCOPY . .\n")
    res = cli("analyze", str(tmp_path / "Dockerfile"), "--context", str(repo))
    assert res.returncode == 0 and "no commits" in res.stdout


def test_bad_cli_values(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM a\n")
    one_line_error(cli("analyze", str(tmp_path), "--base-refresh", "soon"), "duration")
    one_line_error(cli("analyze", str(tmp_path), "--pullers", "-1"), "pullers")
    one_line_error(cli("analyze", str(tmp_path), "--build-arg", "=x"), "NAME=VALUE")
    one_line_error(cli("analyze", str(tmp_path), "--build-log", str(tmp_path / "none")),
                   "build log")


def test_failed_write_leaves_the_original(tmp_path: Path) -> None:
    target = tmp_path / "ro" / "Dockerfile"
    target.parent.mkdir()
    target.write_text("FROM a\n")
    target.chmod(0o644)
    os.chmod(target.parent, 0o555)
    try:
        if os.geteuid() == 0:
            # root ignores directory permissions; simulate a full disk instead
            with pytest.raises(LayerlensError):
                atomic_write_text(target / "not-a-dir", "x")
        else:
            with pytest.raises(LayerlensError):
                atomic_write_text(target, "changed")
    finally:
        os.chmod(target.parent, 0o755)
    assert target.read_text() == "FROM a\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["Dockerfile"]


def test_concurrent_writers_never_tear(tmp_path: Path) -> None:
    target = tmp_path / "baseline.json"
    docs = [json.dumps({"writer": i, "pad": "x" * 200_000}) for i in range(8)]

    def write(i: int) -> None:
        for _ in range(5):
            atomic_write_text(target, docs[i])

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert json.loads(target.read_text())["writer"] in range(8)
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.json"]


def test_parallel_cli_baselines(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM a\nCOPY x /x\n")
    (tmp_path / "x").write_text("1")
    procs = [subprocess.Popen([sys.executable, "-m", "layerlens", "baseline", str(tmp_path),
                               "--no-history"], stderr=subprocess.DEVNULL) for _ in range(4)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    json.loads((tmp_path / ".layerlens-baseline.json").read_text())


def test_only_git_docker_podman_are_run_and_never_through_a_shell() -> None:
    allowed = {"git", "docker", "podman"}
    for path in (ROOT / "layerlens").rglob("*.py"):
        tree = ast.parse(path.read_text())
        # commands built in a variable first: `cmd = ["git", ...]`
        lists = {t.id: n.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                 and isinstance(n.value, ast.List) for t in n.targets if isinstance(t, ast.Name)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            if name in ("system", "popen") and getattr(fn.value, "id", "") == "os":
                pytest.fail(f"{path}: os.{name}")
            if name not in ("run", "Popen", "check_output", "call"):
                continue
            if not (isinstance(fn, ast.Attribute) and getattr(fn.value, "id", "") ==
                    "subprocess"):
                continue
            for kw in node.keywords:
                assert not (kw.arg == "shell" and getattr(kw.value, "value", False)), path
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Name):
                first = lists.get(first.id)
            assert isinstance(first, ast.List), f"{path}:{node.lineno}: not an argument list"
            head = first.elts[0] if first.elts else None
            literal = head.value if isinstance(head, ast.Constant) else None
            assert literal in allowed or isinstance(head, ast.Name), (path, node.lineno)


def test_help_lists_the_commands() -> None:
    res = cli("--help")
    assert res.returncode == 0 and "analyze" in res.stdout


def test_unreadable_inputs_are_one_line(tmp_path: Path) -> None:
    # /proc/self/mem refuses plain reads even for root: a file that exists but cannot be read
    one_line_error(cli("analyze", "/proc/self/mem", "--context", str(tmp_path),
                       "--no-history"), "/proc/self/mem", "cannot read")


@pytest.mark.parametrize("content", [b"", b"\x00\xff\x00garbage" * 100,
                                     b"#1 [stage-0 1/1] R"])
def test_bad_build_logs(tmp_path: Path, content: bytes) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "Dockerfile").write_text("FROM a\nRUN x\n")
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c",
                    "user.email=t@e", "commit", "-qm", "x", "--allow-empty"], check=True)
    log = tmp_path / "build.log"
    log.write_bytes(content)
    res = cli("analyze", str(tmp_path), "--build-log", str(log))
    if content.startswith(b"#1"):
        # a truncated log still names a step: a warning, and estimates stay estimates
        # (words joined again: the notice wraps at the width, and where depends on the path)
        assert res.returncode == 0 and "timed 0 of" in " ".join(res.stdout.split())
    else:
        one_line_error(res, "build.log")


def test_duplicate_archive_entries_warn(tmp_path: Path) -> None:
    import tarfile

    src_tar = IMAGES / "test-oci-gzip-image.tar"
    out = tmp_path / "dup.tar"
    with tarfile.open(src_tar) as a, tarfile.open(out, "w") as b:
        members = a.getmembers()
        for m in members:
            b.addfile(m, a.extractfile(m) if m.isfile() else None)
        index = next(m for m in members if m.name == "index.json")
        b.addfile(index, a.extractfile(index))  # the same entry twice
    res = cli("image", str(out))
    assert res.returncode == 0 and "duplicate archive entry 'index.json'" in res.stdout


def test_tui_without_a_terminal_is_one_line(tmp_path: Path) -> None:
    # a pipe for stdin and stdout: textual would write escape codes and wait forever
    (tmp_path / "Dockerfile").write_text("FROM a\n")
    res = subprocess.run([sys.executable, "-m", "layerlens", "tui", str(tmp_path)],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    one_line_error(res, "needs a terminal")


def test_a_fifo_or_device_as_dockerfile_or_ignore_file_is_refused(tmp_path: Path) -> None:
    # found by a new-user trial: a FIFO hung the read, /dev/zero grew to 2.4 GB in 10 s
    fifo = tmp_path / "fifo.Dockerfile"
    os.mkfifo(fifo)
    one_line_error(cli("analyze", str(fifo)), "fifo.Dockerfile", "FIFO, not a regular file")
    one_line_error(cli("analyze", "/dev/zero"), "/dev/zero", "device, not a regular file")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    os.mkfifo(tmp_path / ".dockerignore")
    one_line_error(cli("analyze", str(tmp_path / "Dockerfile")), ".dockerignore",
                   "not a regular file")


def test_output_into_a_fifo_writes_through_it(tmp_path: Path) -> None:
    # `-o` renamed a file over a FIFO or a device node (as root, over /dev/null itself)
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY a /a\n")
    (tmp_path / "a").write_text("1")
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    res = cli("analyze", str(tmp_path / "Dockerfile"), "--format", "json", "-o", str(fifo))
    reader.join(timeout=60)
    assert res.returncode == 0, res.stderr
    assert got and json.loads(got[0])["dockerfile"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_output_to_a_full_device_is_an_error_not_a_success(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    res = cli("analyze", str(tmp_path / "Dockerfile"), "-o", "/dev/full")
    one_line_error(res, "/dev/full", "No space left on device")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
