"""Which context files each COPY/ADD brings in."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from layerlens.analysis import AnalyzeOptions, analyze


def make(root: Path, files: dict[str, str], dockerfile: str, ignore: str | None = None) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (root / "Dockerfile").write_text(dockerfile)
    if ignore is not None:
        (root / ".dockerignore").write_text(ignore)
    return root / "Dockerfile"


def inputs(tmp_path: Path, files, dockerfile, ignore=None, **kw):
    df = make(tmp_path, files, dockerfile, ignore)
    res = analyze(AnalyzeOptions(df, **kw))
    return {res.dockerfile.instructions[i].start_line: v for i, v in res.inputs.items()}, res


FILES = {"src/a.py": "aa", "src/b.py": "bbb", "src/sub/c.txt": "c", "README.md": "r",
         "req.txt": "flask", "docs/x.md": "x", "node_modules/m/i.js": "m"}


def test_broad_copy_respects_dockerignore(tmp_path: Path) -> None:
    got, _res = inputs(tmp_path, FILES, "FROM a\nCOPY . /app\n", "node_modules\ndocs\n")
    assert got[2].paths == (".dockerignore", "Dockerfile", "README.md", "req.txt", "src/a.py",
                            "src/b.py", "src/sub/c.txt")
    assert got[2].bytes == sum(os.path.getsize(tmp_path / p) for p in got[2].paths)


def test_glob_and_dirs(tmp_path: Path) -> None:
    got, _ = inputs(tmp_path, FILES, "FROM a\nCOPY src/*.py req.txt /app/\nCOPY src /s\n"
                    "COPY ./src/../README.md /r\nCOPY /src/sub/ /x\n")
    assert got[2].paths == ("req.txt", "src/a.py", "src/b.py")
    assert got[3].paths == ("src/a.py", "src/b.py", "src/sub/c.txt")
    assert got[4].paths == ("README.md",)
    assert got[5].paths == ("src/sub/c.txt",)


def test_exclude_flag_and_glob_dir(tmp_path: Path) -> None:
    got, _ = inputs(tmp_path, FILES, "FROM a\nCOPY --exclude=**/*.txt src /s\nCOPY s?c /d\n"
                    "COPY --exclude=*.txt src /t\n")
    assert got[2].paths == ("src/a.py", "src/b.py")
    assert got[3].files == 3
    # Like .dockerignore, `*` does not cross directories, so sub/c.txt stays.
    assert got[4].paths == ("src/a.py", "src/b.py", "src/sub/c.txt")


def test_non_context_sources(tmp_path: Path) -> None:
    got, res = inputs(
        tmp_path, FILES,
        "FROM a AS b\nFROM c\nCOPY --from=b /x /x\nADD https://e.com/a.tgz /a\n"
        "ADD https://github.com/moby/buildkit.git#v0.10.1 /bk\nCOPY <<EOF /f\nhi\nEOF\n"
        "COPY missing.txt /m\n")
    assert [s.kind for s in got[3].sources] == ["stage"]
    assert [s.kind for s in got[4].sources] == ["url"]
    assert [s.kind for s in got[5].sources] == ["git"]
    assert [s.kind for s in got[6].sources] == ["heredoc"]
    assert got[9].sources[0].missing
    assert any("missing.txt" in n for n in res.notices)


def test_dockerfile_specific_ignore_wins(tmp_path: Path) -> None:
    make(tmp_path, FILES, "FROM a\nCOPY . .\n", "src\n")
    (tmp_path / "Dockerfile.dockerignore").write_text("docs\n")
    res = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    paths = next(iter(res.inputs.values())).paths
    assert "src/a.py" in paths and "docs/x.md" not in paths


def test_symlink_loop_is_listed_not_followed(tmp_path: Path) -> None:
    make(tmp_path, {"d/f": "1"}, "FROM a\nCOPY . .\n")
    os.symlink("../d", tmp_path / "d" / "loop")
    res = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    paths = next(iter(res.inputs.values())).paths
    assert "d/loop" in paths


def test_build_arg_in_source(tmp_path: Path) -> None:
    got, _ = inputs(tmp_path, FILES, "FROM a\nARG F=req.txt\nCOPY $F /x\n",
                    build_args={"F": "README.md"})
    assert got[3].paths == ("README.md",)


@pytest.mark.parametrize("src", ["src/[ab].py", "src/?.py"])
def test_bracket_and_question(tmp_path: Path, src: str) -> None:
    got, _ = inputs(tmp_path, FILES, f"FROM a\nCOPY {src} /x\n")
    assert got[2].paths == ("src/a.py", "src/b.py")


def test_tab_stripping_heredoc_sources_are_not_context_files(tmp_path: Path) -> None:
    # `COPY <<-EOT` and `<<-"EOT"` are heredocs, not missing files (issue 12).
    df = ('FROM a\nCOPY <<-EOT /etc/x\n\thello\n\tEOT\nCOPY <<-"EOF2" /etc/y\n\thi\n\tEOF2\n'
          "COPY <<EOT3 /etc/z\nz\nEOT3\n")
    got, res = inputs(tmp_path, {}, df)
    assert not any("matches no file" in n for n in res.notices), res.notices
    assert all(v.files == 0 for v in got.values())


def test_an_empty_wildcard_fails_only_when_its_directory_is_absent(tmp_path: Path) -> None:
    # BuildKit copies with AllowEmptyWildcard, but walks the directory before the first
    # wildcard segment: absent, `lstat DIR: no such file or directory` (moby/buildkit#2933)
    got, res = inputs(tmp_path, FILES, "FROM a\nCOPY src/*.conf /x/\nCOPY *.conf /y/\n"
                                       "COPY Docker/*.conf /z/\n")
    assert [(s.matched, s.missing) for s in got[2].sources] == [(0, False)]
    assert [(s.matched, s.missing) for s in got[3].sources] == [(0, False)]
    assert [(s.matched, s.missing) for s in got[4].sources] == [(0, True)]
    text = " ".join(" ".join(res.notices).split())
    assert "'src/*.conf' matches no file in the build context: BuildKit copies nothing" in text
    assert "'Docker/*.conf' matches no file, and its directory 'Docker' is not in the " \
           "build context (the build would fail" in text
