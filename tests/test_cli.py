"""The command line: exit codes, one-line errors, stable JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from layerlens.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "layerlens", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_help_does_not_import_heavy_modules() -> None:
    code = ("import sys; from layerlens.cli import build_parser; build_parser(); "
            "heavy = [m for m in ('textual', 'networkx', 'humanize', 'dockerfile_parse') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_analyze_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "app.py").write_text("print(1)\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nCOPY app.py /app/\n"
                                         'CMD ["python", "/app/app.py"]\n')
    assert main(["analyze", str(tmp_path), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    copy = doc["dockerfile"]["instructions"][1]
    assert copy["keyword"] == "copy" and copy["stage"] == 0
    assert copy["inputs"] == {"paths": ["app.py"], "files": 1, "bytes": 9,
                              "sources": [{"text": "app.py", "kind": "context", "files": 1,
                                           "missing": False}]}
    assert copy["text"] == "COPY app.py /app/"
    assert doc["dockerfile"]["stages"][0]["base"] == "python:3.12"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "no such file"),
        (b"", "no instructions"),
        (b"\x00\x01\x02binary\xff\xfe", "unknown instruction"),
        (b"FROM a\nRUN <<EOF\nnever\n", "unterminated heredoc"),
        (b"FROM a\nENV ONLY\n", "ENV must have two arguments"),
    ],
)
def test_bad_dockerfile_one_line_exit_2(tmp_path: Path, content: bytes | None,
                                        fragment: str) -> None:
    df = tmp_path / "Dockerfile"
    if content is not None:
        df.write_bytes(content)
    res = run("analyze", str(df))
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert str(df) in lines[0] and fragment in lines[0]
    assert "Traceback" not in res.stderr


def test_bad_dockerignore_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM a\nCOPY . .\n")
    (tmp_path / ".dockerignore").write_text("# c\nok\n[abc\n")
    res = run("analyze", str(tmp_path))
    assert res.returncode == 2
    assert f"{tmp_path / '.dockerignore'}:3:" in res.stderr


def test_usage_error_exit_2() -> None:
    res = run("analyze", "--format", "yaml")
    assert res.returncode == 2


def test_output_file_written_atomically(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM a\n")
    out = tmp_path / "report.json"
    out.write_text("old")
    out.chmod(0o640)
    assert main(["analyze", str(tmp_path), "--format", "json", "-o", str(out)]) == 0
    assert json.loads(out.read_text())["schema"] == 1
    assert out.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []


@pytest.mark.integration
def test_demo_sample(tmp_path: Path) -> None:
    res = run("demo", "pyweb", "--dir", str(tmp_path / "pyweb"))
    assert res.returncode == 0, res.stderr
    assert "COPY . ." in res.stdout
