"""bench/savings_real.py's expert rewrites: edits applied to a file by its line numbers.

The benchmark records each expert rewrite as a few edits of the fetched Dockerfile (never a
copy of it); these tests pin how the edits apply and that a stale anchor fails loudly."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "bench" / "savings_real.py"
_spec = importlib.util.spec_from_file_location("savings_real", _PATH)
assert _spec is not None and _spec.loader is not None
sr = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("savings_real", sr)
_spec.loader.exec_module(sr)

DOCKERFILE = """\
FROM golang:alpine AS build
# the whole context
COPY . /src
WORKDIR /src
RUN apk add --no-cache \\
    make git
RUN make
FROM alpine
COPY --from=build /src/app /app
"""


def test_move_insert_and_flag_keep_the_files_own_lines() -> None:
    got = sr.apply_edits(DOCKERFILE, (
        sr.Move(5, "RUN", 3, "COPY"),
        sr.Insert(3, "COPY", "WORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download"),
        sr.AddFlag(7, "run", "--mount=type=cache,target=/root/.cache/go-build"),
    ))
    assert got == """\
FROM golang:alpine AS build
# the whole context
RUN apk add --no-cache \\
    make git
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . /src
WORKDIR /src
RUN --mount=type=cache,target=/root/.cache/go-build make
FROM alpine
COPY --from=build /src/app /app
"""


def test_a_moved_instruction_carries_its_added_flag() -> None:
    got = sr.apply_edits(DOCKERFILE, (
        sr.AddFlag(7, "RUN", "--network=none"), sr.Move(7, "RUN", 4, "WORKDIR")))
    assert "COPY . /src\nRUN --network=none make\nWORKDIR /src\n" in got


def test_replace_and_delete_take_whole_instructions() -> None:
    got = sr.apply_edits(DOCKERFILE, (
        sr.Replace(5, "RUN", "RUN apk add make"), sr.Delete(4, "WORKDIR")))
    assert got.splitlines()[2:5] == ["COPY . /src", "RUN apk add make", "RUN make"]


def test_no_edits_is_the_file_itself() -> None:
    assert sr.apply_edits(DOCKERFILE, ()) == DOCKERFILE


@pytest.mark.parametrize("edit", [
    sr.Delete(3, "RUN"),  # line 3 is a COPY
    sr.Delete(6, "RUN"),  # a continuation line, not where an instruction starts
    sr.Delete(2, "COPY"),  # a comment
    sr.Delete(40, "RUN"),  # past the end
    sr.Move(7, "RUN", 6, "RUN"),  # the target anchor is inside a continuation
    sr.Insert(9, "RUN", "RUN true"),
])
def test_a_stale_anchor_fails_loudly(edit) -> None:
    with pytest.raises(sr.EditError):
        sr.apply_edits(DOCKERFILE, (edit,))


def test_an_instruction_edited_twice_or_an_anchor_moved_away_fails() -> None:
    with pytest.raises(sr.EditError, match="twice"):
        sr.apply_edits(DOCKERFILE, (sr.Delete(7, "RUN"), sr.Replace(7, "RUN", "RUN x")))
    with pytest.raises(sr.EditError, match="anchor"):
        sr.apply_edits(DOCKERFILE, (sr.Insert(7, "RUN", "RUN x"), sr.Delete(7, "RUN")))
    with pytest.raises(sr.EditError, match="deleted"):
        sr.apply_edits(DOCKERFILE, (sr.AddFlag(7, "RUN", "--network=none"),
                                    sr.Delete(7, "RUN")))


def test_ignore_lines_are_appended_to_the_ignore_file() -> None:
    rw = sr.Rewrite((), ignore=("docs/", "*.md"))
    assert sr.expert_text(rw, DOCKERFILE, ".git") == (DOCKERFILE, ".git\ndocs/\n*.md\n")
    assert sr.expert_text(rw, DOCKERFILE, None)[1] == "docs/\n*.md\n"
    assert sr.expert_text(sr.Rewrite(()), DOCKERFILE, None)[1] is None

