"""Flags, stages and validation of the Dockerfile model."""

from __future__ import annotations

import pytest

from layerlens.dockerfile import DockerfileError, parse


def test_typed_flags_and_mounts() -> None:
    df = parse(
        "FROM alpine AS b\n"
        "RUN --mount=type=cache,target=/root/.cache --mount=type=bind,source=req.txt,"
        "target=/r --network=none pip install -r /r\n"
        "COPY --link --chmod=755 --exclude=*.md --exclude=docs . /src\n"
    )
    run = df.instructions[1]
    assert [m.type for m in run.mounts] == ["cache", "bind"]
    assert run.mounts[1].source == "req.txt"
    assert run.flag("network").value == "none"
    copy = df.instructions[2]
    assert copy.flag("link").value is None
    assert copy.flag_values("exclude") == ("*.md", "docs")


def test_copy_from_resolution() -> None:
    df = parse("FROM a AS Build\nRUN x\nFROM b\nCOPY --from=BUILD /x /x\n"
               "COPY --from=0 /x /y\nCOPY --from=nginx:1 /a /b\n")
    assert df.instructions[3].from_stage == 0
    assert df.instructions[4].from_stage == 0
    assert df.instructions[5].from_image == "nginx:1"
    assert df.needed_stages() == {0, 1}


def test_unused_stage_not_needed() -> None:
    df = parse("FROM a AS unused\nRUN x\nFROM b AS used\nRUN y\nFROM c\nCOPY --from=used / /\n")
    assert df.needed_stages() == {1, 2}


def test_build_arg_overrides_and_platform() -> None:
    df = parse("ARG V=1\nFROM alpine:$V\nARG V\nARG TARGETARCH\nENV W=$V-$TARGETARCH\n",
               build_args={"V": "9"}, platform="linux/arm64")
    assert df.stages[0].base == "alpine:9"
    assert dict(df.stages[0].env) == {"W": "9-arm64"}


def test_env_and_arg_of_same_name_later_one_wins() -> None:
    # BuildKit's dispatchArg adds an ARG's value to the state's env (AddEnv), and expansions
    # read that env: an ARG after an ENV shadows it until the next ENV. The image config's
    # Env keeps the ENV value. (The classic builder let ENV always win; BuildKit does not.)
    df = parse("FROM a\nENV X=env\nARG X=arg\nENV Y=$X\nENV X=env2\nENV Z=$X\n")
    env = dict(df.stages[0].env)
    assert (env["Y"], env["X"], env["Z"]) == ("arg", "env2", "env2")
    df = parse("FROM a\nARG X=arg\nENV X=env\nENV Y=$X\n")
    assert dict(df.stages[0].env)["Y"] == "env"
    df = parse("FROM a\nENV X=env\nARG X\nENV Y=$X\n")  # no value: nothing shadowed
    assert dict(df.stages[0].env)["Y"] == "env"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("RUN x\n", 1, "before the first FROM"),
        ("FROM a\nFOO bar\n", 2, "unknown instruction"),
        ("FROM a\nCOPY --form=x a b\n", 2, "unknown flag: form"),
        ("FROM a\nCOPY --from a b\n", 2, "Missing a value"),
        ("FROM a\nCOPY a\n", 2, "at least two arguments"),
        ("FROM a AS x\nFROM b AS X\n", 2, "duplicate stage name"),
        ("FROM a AS 1x\n", 1, "invalid name"),
        ("FROM a b\n", 1, "one or three"),
        ("FROM a\nSHELL sh -c\n", 2, "JSON"),
        ("FROM a\nHEALTHCHECK WAT x\n", 2, "HEALTHCHECK"),
        ("FROM a\nENV A=${B\n", 2, "failed to process"),
        ("FROM a AS x\nCOPY --from=y / /\nFROM b AS y\nCOPY --from=x / /\n", 1, "circular"),
        ("\n\n# only a comment\n", 3, "no instructions"),
        ("ARG A=1\n", 1, "no stages"),
        ("FROM a\nRUN --mount=type=nope,target=/x x\n", 2, "mount type"),
        ("FROM a\nRUN " + "x" * 70000 + "\n", 2, "max allowed size"),
    ],
)
def test_rejected(text: str, line: int, fragment: str) -> None:
    with pytest.raises(DockerfileError) as info:
        parse(text, "Dfile")
    err = info.value
    assert fragment in str(err)
    assert err.line == line
    assert str(err).startswith("Dfile:")


def test_heredoc_chomp_body() -> None:
    df = parse("FROM a\nRUN <<-EOF\n\techo hi\n\tEOF\n")
    h = df.instructions[1].heredocs[0]
    assert h.chomp and h.body == "echo hi\n"
    assert df.instructions[1].end_line == 4


def test_text_is_as_written() -> None:
    src = "FROM a\nRUN echo a \\\n    # c\n    b\n"
    df = parse(src)
    assert df.instructions[1].text == "RUN echo a \\\n    # c\n    b"


# -- readings settled against BuildKit's source (moby/buildkit frontend/dockerfile) ----------

def test_onbuild_trigger_flags_and_keyword_are_not_checked_until_a_child_builds() -> None:
    # parseOnBuild (instructions/parse.go) checks only ONBUILD, FROM and MAINTAINER
    # triggers and ONBUILD's own flags; the trigger is kept as text (OnbuildCommand.Expression)
    df = parse("FROM a\nONBUILD COPY --chown=1000:1000 --bogus=1 . /app\nONBUILD FOO bar\n")
    triggers = [i.onbuild for i in df.instructions if i.keyword == "onbuild"]
    assert triggers == ["COPY --chown=1000:1000 --bogus=1 . /app", "FOO bar"]
    assert all(i.flags == () for i in df.instructions if i.keyword == "onbuild")
    with pytest.raises(DockerfileError, match="unknown flag: chown"):
        parse("FROM a\nONBUILD --chown=1 COPY a b\n")
    with pytest.raises(DockerfileError, match="ONBUILD ONBUILD"):
        parse("FROM a\nONBUILD ONBUILD RUN x\n")
    with pytest.raises(DockerfileError, match="FROM isn't allowed"):
        parse("FROM a\nONBUILD FROM b\n")


def test_backslash_in_flag_value_under_backtick_escape() -> None:
    # extractBuilderFlags (parser/split_command.go) uses the directive's escape token
    df = parse("# escape=`\nFROM a\nRUN --mount=type=bind,source=C:\\src,target=/s dir\n"
               "COPY --chown=a`:b x y\n")
    run, copy = df.instructions[1], df.instructions[2]
    assert run.flag("mount").value == "type=bind,source=C:\\src,target=/s"
    assert run.mounts[0].source == "C:\\src"
    assert copy.flag("chown").value == "a:b"
    df = parse("FROM a\nCOPY --chown=a\\:b x y\n")  # default escape: still an escape
    assert df.instructions[1].flag("chown").value == "a:b"


def test_redeclared_arg_keeps_its_place_and_its_value() -> None:
    # d.buildArgs appends; runCommandString shows each key once, at its first place, with
    # the value the state's env holds: a redeclaration without a value keeps the old one
    df = parse("FROM a\nARG A=1\nARG B=2\nARG A=3\nRUN x\n")
    assert df.stages[0].args == (("A", "3"), ("B", "2"))
    df = parse("FROM a\nARG A=1\nARG A\nENV E=$A\n")
    assert df.stages[0].args == (("A", "1"),)
    assert dict(df.stages[0].env)["E"] == "1"
    df = parse("ARG A=g\nFROM a\nARG A=1\nARG A\nENV E=$A\n")  # the global value comes back
    assert df.stages[0].args == (("A", "g"),) and dict(df.stages[0].env)["E"] == "g"
