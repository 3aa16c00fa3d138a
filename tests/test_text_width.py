"""Every text output fits COLUMNS (issue 15): each command run on the bundled samples at 60,
80 and 200 columns prints no line wider than that, except the lines of a unified diff
(`git apply` needs them whole). Also the colour switches: --color and NO_COLOR."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from layerlens.cli import main
from layerlens.samples import SAMPLES, unpack
from layerlens.textfit import cells, diff_start

from .conftest import IMAGES, ROOT

pytestmark = pytest.mark.integration  # git unpacks the samples

WIDTHS = (60, 80, 200)
IMAGE = IMAGES / "test-docker-image.tar"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("samples")
    return {name: unpack(name, root / name) for name in SAMPLES}


def _run(capsys, monkeypatch, columns: int, *args: str | Path) -> tuple[int, str, str]:
    monkeypatch.setenv("COLUMNS", str(columns))
    capsys.readouterr()
    code = main([str(a) for a in args])
    got = capsys.readouterr()
    return code, got.out, got.err


def _too_wide(text: str, columns: int) -> list[str]:
    lines = text.splitlines()
    return [x for x in lines[: diff_start(lines)] if cells(x) > columns]


def _commands(repo: Path) -> list[tuple[str | Path, ...]]:
    return [
        ("analyze", repo),
        ("analyze", repo, "--image", IMAGE),
        ("suggest", repo),
        ("suggest", repo, "--diff", "--unsafe-fixes"),
        ("baseline", repo),
        ("check", repo),
        # tight budgets, so the report has FAIL lines to lay out
        ("check", repo, "--budget", "total_size.max=1KiB", "--budget",
         "rebuild_seconds.max=1", "--budget", "layer_size.max=1"),
        ("scan", repo, "--budget", "rebuild_seconds.max=1"),
        ("check", repo, "--baseline", repo / "no-such-baseline.json"),  # an error
    ]


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_text_command_fits_columns(samples, capsys, monkeypatch, name: str,
                                         columns: int) -> None:
    repo = samples[name]
    widest = 0
    for args in _commands(repo):
        code, out, err = _run(capsys, monkeypatch, columns, *args)
        assert code in (0, 1, 2), (args, err)
        assert out or err, args
        # errors stay one line in a pipe (the standard for bad input), so stderr is held
        # to the width only for the commands that succeed
        streams = [out] + ([err] if code != 2 else [])
        for text in streams:
            assert not _too_wide(text, columns), (args, _too_wide(text, columns))
        widest = max([widest, *(cells(x) for x in out.splitlines()[:diff_start(
            out.splitlines())])])
    # the layout follows the width: at 200 columns the reports use more than 80 of them
    if columns == 200:
        assert widest > 80


@pytest.mark.parametrize("columns", WIDTHS)
def test_image_demo_and_list_fit_columns(samples, capsys, monkeypatch, tmp_path,
                                         columns: int) -> None:
    for args in (("image", IMAGE), ("image", IMAGE, "--dockerfile",
                                    ROOT / "tests/data/images/test-image.Dockerfile"),
                 ("demo", "--list"), ("demo", "gokuard", "--dir", tmp_path / f"k{columns}")):
        code, out, err = _run(capsys, monkeypatch, columns, *args)
        assert code == 0, (args, err)
        assert out.strip()
        for text in (out, err):
            assert not _too_wide(text, columns), (args, _too_wide(text, columns))


def test_the_diff_is_printed_whole(samples, capsys, monkeypatch) -> None:
    # the one exception to the width: a unified diff `git apply` must get intact
    code, out, _ = _run(capsys, monkeypatch, 60, "suggest", samples["pyweb"], "--diff",
                          "--unsafe-fixes")
    assert code == 1
    lines = out.splitlines()
    start = diff_start(lines)
    assert start < len(lines) and lines[start].startswith("--- a/")
    body = "\n".join(lines[start:]) + "\n"
    res = subprocess.run(["git", "apply", "--check", "-"], input=body, text=True,
                         capture_output=True, cwd=samples["pyweb"])
    assert res.returncode == 0, res.stderr


def test_color_switch_in_a_pipe(samples, capsys, monkeypatch, tmp_path) -> None:
    repo = samples["gokuard"]
    monkeypatch.delenv("NO_COLOR", raising=False)
    _, auto, _ = _run(capsys, monkeypatch, 80, "suggest", repo)
    _, never, _ = _run(capsys, monkeypatch, 80, "suggest", repo, "--color=never")
    _, always, _ = _run(capsys, monkeypatch, 80, "suggest", repo, "--color", "always")
    assert "\x1b[" not in auto and "\x1b[" not in never  # a pipe is not a terminal
    assert "\x1b[" in always
    assert ANSI.sub("", always) == never  # colour adds escapes, never moves text
    # the flag before the command works too, and beats NO_COLOR (https://no-color.org)
    monkeypatch.setenv("NO_COLOR", "1")
    _, before, _ = _run(capsys, monkeypatch, 80, "--color=always", "analyze", repo)
    assert "\x1b[" in before
    # a report written to a file never holds escapes
    out = tmp_path / "report.txt"
    _run(capsys, monkeypatch, 80, "analyze", repo, "--color=always", "-o", out)
    assert "\x1b[" not in out.read_text()


def _on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run layerlens with stdout on a pseudo-terminal; what it printed there."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "layerlens", *args], stdout=follower,
                              stderr=subprocess.DEVNULL, env=env, timeout=120)
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not data:
                break
            chunks.append(data)
        assert proc.returncode in (0, 1)
        return b"".join(chunks).decode("utf-8", "replace")
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)


def test_color_on_a_terminal_honours_no_color(samples) -> None:
    repo = str(samples["gokuard"])
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    env["COLUMNS"] = "80"
    assert "\x1b[" in _on_a_terminal(["analyze", repo], env)
    assert "\x1b[" not in _on_a_terminal(["analyze", repo], {**env, "NO_COLOR": "1"})
    assert "\x1b[" in _on_a_terminal(["analyze", repo, "--color=always"],
                                     {**env, "NO_COLOR": "1"})
    assert "\x1b[" not in _on_a_terminal(["analyze", repo, "--color=never"], env)
    # NO_COLOR set but empty does not count (no-color.org)
    assert "\x1b[" in _on_a_terminal(["analyze", repo], {**env, "NO_COLOR": ""})


def test_an_error_wraps_on_a_terminal_and_stays_one_line_in_a_pipe(tmp_path) -> None:
    missing = tmp_path / ("a-rather-long-directory-name/" * 4) / "Dockerfile"
    env = {**os.environ, "COLUMNS": "60"}
    res = subprocess.run([sys.executable, "-m", "layerlens", "analyze", str(missing)],
                         capture_output=True, text=True, env=env)
    assert res.returncode == 2 and len(res.stderr.splitlines()) == 1
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "layerlens", "analyze", str(missing)],
                              stdout=subprocess.DEVNULL, stderr=follower, env=env,
                              timeout=60)
        os.close(follower)
        follower = -1
        data = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert proc.returncode == 2
    lines = ANSI.sub("", data.decode()).replace("\r", "").splitlines()
    assert len(lines) > 1 and all(cells(x) <= 60 for x in lines), lines
    # the same message, only broken into lines (a long path is folded)
    assert "".join("".join(lines).split()) == "".join(res.stderr.split())
