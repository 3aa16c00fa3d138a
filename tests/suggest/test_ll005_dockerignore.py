"""LL005: .dockerignore entries, never for files build tools read; fixtures in fixtures/LL005."""

from __future__ import annotations

import pytest

from .helpers import by_rule, fixture_cases, run_fixture, static, with_history

DF = "FROM a\nWORKDIR /app\nCOPY . .\nRUN make\n"


def test_dockerignore_candidates_with_rebuilds(tmp_path) -> None:
    files = {"src/a.c": "1", "docs/x.md": "d", "tests/t.c": "t", ".dockerignore": ".git\n"}
    edits = [("docs/x.md", "d2"), ("tests/t.c", "t2"), ("src/a.c", "2"), ("docs/x.md", "d3")]
    rep = with_history(tmp_path, DF, files, edits, select={"LL005"})
    [s] = by_rule(rep, "LL005")
    assert s.fixable and s.dockerignore == ".git\ndocs\ntests\n.dockerignore\nDockerfile\n"
    assert "docs (documentation, 1 file, caused 2 rebuilds)" in s.message
    assert "(caused: the commits at which nothing else that is copied changed" in s.message
    assert s.savings.rebuilds_avoided == 3


def test_named_paths_are_not_ignored(tmp_path) -> None:
    df = "FROM a\nWORKDIR /app\nCOPY . .\nRUN make test -C tests\n"
    rep = static(tmp_path, df, {"tests/t.c": "t", "docs/x.md": "d"}, select={"LL005"})
    [s] = by_rule(rep, "LL005")
    assert "caused" not in s.message  # no history: nothing to explain
    assert "tests" not in s.dockerignore.split()
    assert "docs" in s.dockerignore.split()


def test_files_build_tools_read_are_never_offered(tmp_path) -> None:
    # black and locust: hatch-vcs reads .git, and pyproject names README.md.
    pyproject = ('[build-system]\nrequires = ["hatchling", "hatch-vcs"]\n'
                 '[project]\nname = "x"\nreadme = "README.md"\ndynamic = ["version"]\n'
                 '[tool.hatch.version]\nsource = "vcs"\n')
    df = "FROM python\nWORKDIR /src\nCOPY . .\nRUN pip install .\n"
    rep = with_history(tmp_path, df, {"pyproject.toml": pyproject, "README.md": "r",
                                      "docs/a.md": "d", "x/__init__.py": ""},
                       [("docs/a.md", "d2")], select={"LL005"})
    [s] = by_rule(rep, "LL005")
    offered = s.message.split(":", 1)[1]
    assert ".git " not in offered and "README.md" not in offered and "docs" in offered
    assert "hatch-vcs" in s.note and "pyproject.toml [project] readme" in s.note
    assert s.unsafe_reason


def test_git_kept_for_go_builds_and_git_commands(tmp_path) -> None:
    for run, why in (("go build -o /app .", "go build"), ("git describe --tags > /v", "git")):
        df = f"FROM golang\nWORKDIR /src\nCOPY . .\nRUN {run}\n"
        d = tmp_path / why.replace(" ", "_")
        rep = with_history(d, df, {"main.go": "package main\n", "docs/a.md": "d"},
                           [("docs/a.md", "d2")], select={"LL005"})
        [s] = by_rule(rep, "LL005")
        assert ".git " not in s.message.split(":", 1)[1] and why in s.note


def test_dockerfile_a_run_reads_is_not_offered(tmp_path) -> None:
    df = "FROM a\nWORKDIR /src\nCOPY . .\nRUN cp /src/Dockerfile /usr/share/doc/\n"
    rep = static(tmp_path, df, {"docs/a.md": "d"}, select={"LL005"})
    [s] = by_rule(rep, "LL005")
    assert "Dockerfile" not in s.dockerignore.split()


@pytest.mark.parametrize("case", fixture_cases("LL005"))
def test_fixtures(case: str, tmp_path) -> None:
    run_fixture(tmp_path, "LL005", case)


def test_message_names_the_ignore_file_it_edits(tmp_path) -> None:
    # BuildKit reads Dockerfile.dockerignore beside the Dockerfile before .dockerignore:
    # the fix edits that file, and the message must say so
    files = {"src/a.c": "1", "docs/x.md": "d", "Dockerfile.dockerignore": ".git\n",
             ".dockerignore": "nothing\n"}
    rep = static(tmp_path, DF, files, select={"LL005"})
    [s] = by_rule(rep, "LL005")
    assert s.message.startswith("add to Dockerfile.dockerignore: ")
    assert rep.ignore_path.name == "Dockerfile.dockerignore"
    rep = static(tmp_path / "plain", DF, {"src/a.c": "1", "docs/x.md": "d"}, select={"LL005"})
    assert by_rule(rep, "LL005")[0].message.startswith("add to .dockerignore: ")


def test_caused_counts_what_reached_a_copy_at_that_commit(tmp_path) -> None:
    # lemmy: `.git` "caused 156 rebuilds" of 5 avoided. Commits that changed a file since
    # deleted changed something copied at that commit, though today's copied set lacks it.
    from layerlens.analysis import AnalyzeOptions, analyze
    from layerlens.suggest.engine import suggest

    from ..integration.harness import Repo

    repo = Repo(tmp_path)
    repo.write("Dockerfile", "FROM a\nCOPY . /app\n")
    repo.write(".dockerignore", "Dockerfile\n.dockerignore\n")
    repo.write("app.py", "1")
    repo.write("old.py", "1")
    repo.commit()
    for k in range(2, 5):
        repo.write("old.py", str(k))
        repo.commit()
    (tmp_path / "old.py").unlink()
    repo.commit()
    repo.commit(allow_empty=True)  # only .git changes: the one rebuild it causes
    rep = suggest(analyze(AnalyzeOptions(tmp_path / "Dockerfile")), select={"LL005"})
    [s] = by_rule(rep, "LL005")
    assert ".git (version control metadata" in s.message
    assert "caused 1 rebuild)" in s.message, s.message
    assert s.savings is not None and s.savings.rebuilds_avoided == 1


@pytest.mark.parametrize(("run", "why"), [
    ("RUN git -C /app describe > /v", ".git (the RUN at line 3 runs git)"),
    # healthchecks, errbit: an instruction names .git (there, to delete it)
    ("RUN rm -rf /tmp/x/.git", ".git (the RUN at line 3 names .git)"),
])
def test_withheld_git_says_why_also_when_alone(tmp_path, run, why) -> None:
    files = {"app.py": "1", ".dockerignore": "Dockerfile\n.dockerignore\n"}
    rep = with_history(tmp_path, f"FROM a\nCOPY . /app\n{run}\n", files,
                       [("app.py", "2")], select={"LL005"}, unsafe_fixes=True)
    [s] = by_rule(rep, "LL005")
    assert s.fix_class == "hint" and s.dockerignore is None and s.lines == (2,)
    assert ".git (version control metadata" in s.message and "not offered" in s.message
    assert s.note == f"not offered, since the build may read them: {why}"
    assert rep.rewritten_ignore is None


def test_withheld_git_beside_offered_entries_says_why(tmp_path) -> None:
    files = {"app.py": "1", "docs/a.md": "d", ".dockerignore": "Dockerfile\n.dockerignore\n"}
    rep = with_history(tmp_path, "FROM a\nCOPY . /app\nRUN ./build.sh\n", files,
                       [("docs/a.md", "d2")], select={"LL005"})
    [s] = by_rule(rep, "LL005")
    assert "docs" in s.message and ".git (" not in s.message
    assert "not offered, since the build may read them: .git (the RUN at line 3 runs a " \
           "script (./build.sh) that may run git)" in s.note


def test_a_new_ignore_file_lists_itself_and_says_why(tmp_path) -> None:
    # healthchecks: no .dockerignore, and a COPY of the whole context: the file the fix
    # creates would itself be copied (and the next run would propose exactly that)
    rep = static(tmp_path, "FROM a\nCOPY . /app\n", {"docs/x.md": "d"}, select={"LL005"})
    [s] = by_rule(rep, "LL005")
    assert ".dockerignore (the new ignore file itself: the COPY of the whole context " \
           "would copy it)" in s.message
    assert s.dockerignore.splitlines()[-1] == ".dockerignore"


@pytest.mark.parametrize(("build_copy", "offered"), [
    ("COPY app.py /src/", True),  # the builder stage cannot see .git: its script cannot read it
    ("COPY . /src/", False),  # it can: withheld, and the note says why
])
def test_a_script_in_a_stage_without_git_does_not_withhold_it(tmp_path, build_copy,
                                                              offered) -> None:
    df = (f"FROM a AS build\n{build_copy}\nRUN ./build.sh\n"
          "FROM a\nCOPY --from=build /src /src\nCOPY . /app\n")
    files = {"app.py": "1", "build.sh": "b", ".dockerignore": "Dockerfile\n.dockerignore\n"}
    rep = with_history(tmp_path, df, files, [("app.py", "2")], select={"LL005"})
    [s] = by_rule(rep, "LL005")
    assert s.message.startswith("add to .dockerignore: .git (") is offered
    assert ("the RUN at line 3 runs a script (./build.sh)" in (s.note or "")) is not offered


def test_git_stages_follow_bases_copies_and_mounts() -> None:
    from layerlens.dockerfile import parse
    from layerlens.suggest.buildreads import git_stages

    df = parse("FROM a AS src\nCOPY . /s\n"
               "FROM src AS child\nRUN x\n"
               "FROM a AS taker\nCOPY --from=src /s /s\n"
               "FROM a AS mounter\nRUN --mount=type=bind,target=/c x\n"
               "FROM a AS clean\nCOPY app.py /\nRUN x\n")
    assert git_stages(df, {1}) == frozenset({0, 1, 2, 3})
    assert git_stages(df, set()) == frozenset({3})


def test_caused_is_counted_once_per_pattern_set_across_rounds(tmp_path, monkeypatch) -> None:
    # From the analysis's replay of today's file alone: a later round of the combined
    # rewrite (another text, the same analysis) asks the same question again.
    from dataclasses import replace

    from layerlens.analysis import AnalyzeOptions, analyze
    from layerlens.suggest.rule import Subject
    from layerlens.suggest.rules import ll005_dockerignore as ll005

    from ..integration.harness import Repo

    repo = Repo(tmp_path)
    repo.write("Dockerfile", "FROM a\nCOPY . /app\n")
    repo.write("docs/a.md", "1")
    repo.commit()
    for k in range(2, 4):
        repo.write("docs/a.md", str(k))
        repo.commit()
    analysis = analyze(AnalyzeOptions(tmp_path / "Dockerfile"))
    asked = []
    real = ll005._count_caused
    monkeypatch.setattr(ll005, "_count_caused", lambda h, p: asked.append(p) or real(h, p))
    today = Subject(analysis, analysis.dockerfile.source, None)
    later = Subject(analysis, analysis.dockerfile.source + "RUN true\n", "x\n")
    got = ll005._caused(today, ("docs", ".git"))
    assert got == {"docs": 2, ".git": 2}  # .git changes with docs at both commits
    assert ll005._caused(later, ("docs", ".git")) == got and asked == [("docs", ".git")]
    # alone, docs caused none: .git changed with it, and is copied
    assert ll005._caused(later, ("docs",)) == {"docs": 0} and len(asked) == 2
    # another history (`replace` shares the memo): asked again, not answered from the old
    assert ll005._caused(Subject(replace(analysis, history=None), today.text, None),
                         ("docs",)) == {}
    again = replace(analysis, history=analysis.history)
    assert again.derived(("LL005 caused", ("docs",)), lambda: "kept") == {"docs": 0}
    assert replace(analysis, history=None).derived(("LL005 caused", ("docs",)),
                                                   lambda: "made") == "made"
