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


def test_env_overrides_arg_of_same_name() -> None:
    df = parse("FROM a\nENV X=env\nARG X=arg\nENV Y=$X\n")
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
