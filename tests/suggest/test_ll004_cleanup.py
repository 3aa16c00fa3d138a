"""LL004 folds through the RUN's syntax tree (issue 12, items 5 and 6)."""

from __future__ import annotations

import pytest

from layerlens.dockerfile import parse

from .helpers import by_rule, fixture_cases, run_fixture, static

INSTALL = "apt-get update && apt-get install -y curl"


def _fold(tmp_path, df: str):
    [s] = by_rule(static(tmp_path, df, select={"LL004"}), "LL004")
    return s


def test_fold_lands_before_a_trailing_comment(tmp_path) -> None:
    s = _fold(tmp_path, f"FROM debian\nRUN {INSTALL} # tools\nRUN rm -rf /var/lib/apt/lists/*\n")
    assert s.fixable
    assert s.dockerfile == (f"FROM debian\nRUN {INSTALL} && rm -rf /var/lib/apt/lists/* "
                            "# tools\n")
    run = parse(s.dockerfile).instructions[1]
    assert "rm -rf" in run.args[0].split("#")[0]


def test_fold_honours_the_escape_directive(tmp_path) -> None:
    df = (f"# escape=`\nFROM debian\nRUN {INSTALL}\nRUN rm -rf /var/lib/apt/lists/*\n")
    s = _fold(tmp_path, df)
    assert s.dockerfile == (f"# escape=`\nFROM debian\nRUN {INSTALL} `\n"
                            "    && rm -rf /var/lib/apt/lists/*\n")
    assert parse(s.dockerfile).instructions[1].args[0].endswith("rm -rf /var/lib/apt/lists/*")


def test_fold_into_a_heredoc_run(tmp_path) -> None:
    df = ("FROM debian\nRUN <<EOF\nset -e\napt-get update\napt-get install -y curl  # tools\n"
          "EOF\nRUN apt-get clean && rm -rf /var/lib/apt/lists/*\n")
    s = _fold(tmp_path, df)
    assert s.fixable
    assert ("apt-get install -y curl && apt-get clean && rm -rf /var/lib/apt/lists/*  # tools\n"
            "EOF\n") in s.dockerfile
    assert len(parse(s.dockerfile).instructions) == 2


def test_mixed_cleanup_run_is_folded(tmp_path) -> None:
    df = (f"FROM debian\nRUN {INSTALL}\nRUN apt-get autoremove -y && apt-get clean \\\n"
          "    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*\n")
    s = _fold(tmp_path, df)
    assert s.fixable and "apt lists" in s.message and "apt cache" in s.message
    assert s.dockerfile.endswith("&& apt-get autoremove -y && apt-get clean && rm -rf "
                                 "/var/lib/apt/lists/* /var/cache/apt/archives/*\n")


def test_exec_form_install_gets_a_hint(tmp_path) -> None:
    df = ('FROM debian\nRUN ["sh", "-c", "apt-get update && apt-get install -y curl"]\n'
          "RUN rm -rf /var/lib/apt/lists/*\n")
    s = _fold(tmp_path, df)
    assert not s.fixable and "exec-form" in s.note


def test_unbounded_run_in_between_blocks_the_fold(tmp_path) -> None:
    df = (f"FROM debian\nRUN {INSTALL}\nRUN ./configure\nRUN rm -rf /var/lib/apt/lists/*\n")
    s = _fold(tmp_path, df)
    assert not s.fixable and "may read those files" in s.note


def test_deleted_dir_an_install_created_is_not_copied_then_deleted(tmp_path) -> None:
    # node_modules is in .dockerignore: `npm ci` made it, no COPY brought it in.
    df = ("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build && "
          "rm -rf node_modules tests\n")
    rep = static(tmp_path, df, {".dockerignore": "node_modules\n", "package.json": "{}",
                                "node_modules/x/i.js": "1", "tests/t.js": "1"},
                 select={"LL004"})
    msgs = [s.message for s in by_rule(rep, "LL004")]
    assert any("removes tests," in m for m in msgs)
    assert not any("node_modules" in m for m in msgs)


def test_builder_stages_are_never_said_to_be_pushed(tmp_path) -> None:
    df = (f"FROM debian AS build\nRUN {INSTALL}\nRUN rm -rf /var/lib/apt/lists/*\n"
          "COPY . /src\nRUN pip install -r /src/req.txt && rm -rf /src/tests\n"
          "FROM scratch\nCOPY --from=build /usr/bin/curl /curl\n")
    rep = static(tmp_path, df, {"req.txt": "x\n", "tests/t.py": "1"}, select={"LL004"})
    sugs = by_rule(rep, "LL004")
    assert [s.lines for s in sugs] == [(2, 3)]  # no copied-then-deleted, no cache hints
    assert "pushed and pulled" not in sugs[0].reason and "never pushed" in sugs[0].reason


def test_diff_applies_from_the_repository_root(tmp_path) -> None:
    import subprocess
    import sys

    from ..integration.harness import Repo

    repo = Repo(tmp_path)
    df = f"FROM debian\nRUN {INSTALL}\nRUN rm -rf /var/lib/apt/lists/*\n"
    repo.write("deploy/Dockerfile", df)
    repo.commit()
    out = subprocess.run([sys.executable, "-m", "layerlens", "suggest", "deploy/Dockerfile",
                          "--diff", "--no-history", "--exit-zero"], cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout
    assert "--- a/deploy/Dockerfile\n+++ b/deploy/Dockerfile\n" in out
    patch = out[out.index("--- a/"):]
    subprocess.run(["git", "apply", "-"], input=patch, cwd=tmp_path, text=True, check=True)
    assert "&& rm -rf /var/lib/apt/lists/*" in (tmp_path / "deploy/Dockerfile").read_text()


def test_cleanup_folded_into_its_run(tmp_path) -> None:
    df = ("FROM debian\nRUN apt-get update && apt-get install -y curl\nCOPY x /x\n"
          "RUN rm -rf /var/lib/apt/lists/*\n")
    rep = static(tmp_path, df, {"x": "1"}, select={"LL004"})
    [s] = by_rule(rep, "LL004")
    assert s.fixable
    ins = parse(s.dockerfile).instructions
    assert [i.keyword for i in ins] == ["from", "run", "copy"]
    assert ins[1].args[0].rstrip().endswith("&& rm -rf /var/lib/apt/lists/*")


def test_cleanup_not_folded_past_another_use(tmp_path) -> None:
    df = ("FROM debian\nRUN apt-get update && apt-get install -y curl\n"
          "RUN apt-get install -y git\nRUN rm -rf /var/lib/apt/lists/*\n")
    [s] = by_rule(static(tmp_path, df, select={"LL004"}), "LL004")
    assert not s.fixable and "in between" in s.note


def test_copied_then_removed_and_cache_hints(tmp_path) -> None:
    df = ("FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt "
          "&& rm -rf tests docs\n")
    rep = static(tmp_path, df, {"requirements.txt": "x\n", "tests/t.py": "1"},
                 select={"LL004"})
    msgs = [s.message for s in by_rule(rep, "LL004")]
    assert any("removes tests, which COPY at line 3 brought in" in m for m in msgs)
    assert any("--no-cache-dir" in m for m in msgs)
    assert all(not s.fixable for s in by_rule(rep, "LL004"))


@pytest.mark.parametrize("case", fixture_cases("LL004"))
def test_fixtures(case: str, tmp_path) -> None:
    run_fixture(tmp_path, "LL004", case)


def test_cache_hints_read_commands_not_text(tmp_path) -> None:
    df = ("FROM python\nRUN python -m pip install --no-cache-dir flask && pip install gunicorn\n"
          "RUN PIP_NO_CACHE_DIR=1 pip install rich\nRUN echo 'pip install x' > /notes\n"
          "RUN apk add --no-cache curl\nRUN npm ci && npm cache clean --force\n")
    rep = static(tmp_path, df, select={"LL004"})
    assert [s.lines for s in by_rule(rep, "LL004")] == [(2,)]
