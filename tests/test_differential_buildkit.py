"""Differential test: our syntax pass against BuildKit's Go parser (the `dockerfile` wheel).

Generated Dockerfiles mix continuations, comments and blank lines inside continuations,
CRLF, trailing blanks after the escape, directives, heredocs, flags with quotes, JSON and
shell forms. Both parsers must agree on instruction boundaries, flags, forms, arguments and
heredoc bodies, and on which files are rejected.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerlens.dockerfile.stages import KNOWN_KEYWORDS
from layerlens.dockerfile.syntax import parse_source
from layerlens.errors import DockerfileError

gop = pytest.importorskip("dockerfile")
EXAMPLES = int(os.environ.get("LAYERLENS_EXAMPLES", "400"))

KEYWORDS = ["RUN", "run", "Copy", "ADD", "ENV", "LABEL", "ARG", "CMD", "ENTRYPOINT", "EXPOSE",
            "WORKDIR", "USER", "VOLUME", "SHELL", "STOPSIGNAL", "HEALTHCHECK", "FROM"]
FLAGS = ["--mount=type=cache,target=/root/.cache", "--from=build", '--chown="1000:1000"',
         "--link", "--network=none", "--chmod=755", "--platform=$BUILDPLATFORM",
         "--exclude=*.md", "--retries=3"]
WORDS = ["echo", "hi", "a=b", 'K="v w"', "x\\ y", "$HOME", "${A:-b}", "'q'", "#", "a#b",
         "&&", "]", '"-c"]', "C:\\path", "<<EOF", "--x", "=", "é", "\t"]
JSONS = ['["a", "b"]', '[ "python3" , "app.py" ]', '["unterminated"', "['single']",
         '["x", 1]', "[]"]
# Not generated: a JSON array followed by more text. The wheel's BuildKit reads it with a
# streaming decoder and ignores the rest; current BuildKit (json.Unmarshal) and we treat the
# whole line as shell form. Continuation lines below therefore never follow a JSON array.


@st.composite
def instruction(draw) -> list[str]:
    kw = draw(st.sampled_from(KEYWORDS))
    parts = [kw]
    parts += draw(st.lists(st.sampled_from(FLAGS), max_size=2))
    if draw(st.booleans()) and kw.lower() in ("run", "cmd", "entrypoint", "shell", "copy"):
        parts.append(draw(st.sampled_from(JSONS)))
    else:
        parts += draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=5))
    line = " ".join(parts)
    lines = [line]
    is_json = parts[-1] in JSONS
    for _ in range(0 if is_json else draw(st.integers(0, 2))):
        ending = draw(st.sampled_from(["\\", "\\  ", "\\\t"]))
        lines[-1] += " " + ending
        filler = draw(st.sampled_from(["", "# comment \\", "   # indented", "  "]))
        if filler and draw(st.booleans()):
            lines.append(filler)
        elif filler == "" and draw(st.booleans()):
            lines.append("")
        lines.append("    " + " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1,
                                                      max_size=3))))
    if kw.lower() in ("run", "copy") and draw(st.booleans()):
        name = draw(st.sampled_from(["EOF", "EOT", "FILE1"]))
        form = draw(st.sampled_from([f"<<{name}", f"<<-{name}", f"<<'{name}'", f'<<"{name}"']))
        lines = [f"{kw} {form} cat"]
        body = draw(st.lists(st.sampled_from(["FROM x", "echo $A", "\tindented", "", "ENV Y=1"]),
                             max_size=3))
        lines += body
        lines.append(("\t" if "-" in form and draw(st.booleans()) else "") + name)
    return lines


@st.composite
def dockerfile_text(draw) -> str:
    lines: list[str] = []
    if draw(st.booleans()):
        lines += draw(st.sampled_from([["# syntax=docker/dockerfile:1"], ["# escape=`"],
                                       ["# check=skip=all", "# escape=\\"], ["#escape = `"]]))
    lines.append("FROM alpine AS build")
    for ins in draw(st.lists(instruction(), min_size=1, max_size=6)):
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "# a comment", "   ", "  # x"])))
        lines += ins
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines)
    if draw(st.booleans()):
        text += newline
    if draw(st.integers(0, 9)) == 0:
        text = "\ufeff" + text
    return text


def _go(text: str):
    try:
        return gop.parse_string(text), None
    except gop.GoParseError as exc:
        return None, str(exc)


def _pairs_value(node) -> tuple[str, ...]:
    kw = node.keyword
    if kw in ("env", "label"):
        out: list[str] = []
        for i in range(0, len(node.args), 3):
            out += [node.args[i], node.args[i + 1]]
        return tuple(out)
    if kw == "healthcheck":
        return node.args
    return node.args


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dockerfile_text())
def test_agrees_with_buildkit(text: str) -> None:
    go, err = _go(text)
    try:
        ours = parse_source(text)
    except DockerfileError as exc:
        assert err is not None, f"we rejected ({exc}) what BuildKit accepts:\n{text!r}"
        return
    assert err is None, f"BuildKit rejected ({err}) what we accept:\n{text!r}"
    assert len(ours.nodes) == len(go), text
    for mine, theirs in zip(ours.nodes, go, strict=True):
        ctx = (text, mine, theirs)
        assert mine.keyword == theirs.cmd.lower(), ctx
        assert (mine.start_line, mine.end_line) == (theirs.start_line, theirs.end_line), ctx
        assert list(mine.flags) == list(theirs.flags), ctx
        assert mine.exec_form == theirs.json, ctx
        assert [(h.name, h.content) for h in mine.heredocs] == [
            (h.name, h.content) for h in theirs.heredocs
        ], ctx
        if mine.keyword in KNOWN_KEYWORDS and mine.keyword != "onbuild":
            assert _pairs_value(mine) == tuple(theirs.value), ctx
