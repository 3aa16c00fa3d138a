"""`suggest --write` never writes through a symbolic link: lemmy's `.dockerignore` links to
`.gitignore`, and an LL005 fix written through it changed what git ignores. The whole write
is refused, with one line naming the link, and nothing changes."""

from __future__ import annotations

import os
from pathlib import Path

from ..integration.harness import Repo
from ..test_hostile_input import cli, one_line_error

DF = "FROM a\nWORKDIR /app\nCOPY . .\nRUN make\n"


def _repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path)
    r.write("Dockerfile", DF)
    r.write(".gitignore", ".git\nbuild/\n")
    os.symlink(".gitignore", tmp_path / ".dockerignore")
    r.write("src/a.c", "0")
    r.write("docs/x.md", "0")
    r.commit()
    for k in range(1, 6):
        r.write("docs/x.md", str(k))
        r.commit()
    return r


def test_a_linked_ignore_file_is_not_written_through(tmp_path: Path) -> None:
    _repo(tmp_path)
    before = (tmp_path / ".gitignore").read_text()
    res = cli("suggest", str(tmp_path / "Dockerfile"), "--unsafe-fixes", "--write",
              "--select", "LL005")
    one_line_error(res, ".dockerignore", "symbolic link to .gitignore", "nothing was written")
    assert (tmp_path / ".gitignore").read_text() == before
    assert (tmp_path / ".dockerignore").is_symlink()
    assert (tmp_path / "Dockerfile").read_text() == DF


def test_without_write_the_fix_is_still_reported(tmp_path: Path) -> None:
    _repo(tmp_path)
    res = cli("suggest", str(tmp_path / "Dockerfile"), "--unsafe-fixes", "--select", "LL005")
    assert res.returncode == 1, res.stderr
    assert "LL005" in res.stdout and "docs" in res.stdout
