"""A RUN followed into the project script or Makefile it runs (layerlens/runmodel/follow.py).

One case per test: a script, a make target with its prerequisites, `-C`/`-f`, an absent
file, the recursion bound, and the fallbacks when a file does not parse."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from layerlens.analysis import AnalyzeOptions, analyze_static
from layerlens.runmodel.follow import MAX_DEPTH, follow_run, make_recipes


def _follow(tmp_path: Path, run: str, files: dict[str, str], *, copy: str = "COPY . .",
            read: bool = True):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (tmp_path / "Dockerfile").write_text(f"FROM golang:1.22\nWORKDIR /src\n{copy}\n{run}\n")
    a = analyze_static(AnalyzeOptions(tmp_path / "Dockerfile"))
    ins = a.dockerfile.instructions[-1]
    return follow_run(a.dockerfile, ins, a.context_file if read else None, a.inputs)


def _commands(f) -> list[str]:
    return [" ".join(w.raw for w in c.words) for sc in f.scripts for c in sc.commands]


def test_a_project_script_is_followed(tmp_path) -> None:
    [f] = _follow(tmp_path, "RUN build/build.sh",
                  {"build/build.sh": "#!/bin/bash\nset -e\ngo build -o /out/app ./cmd\n"})
    assert f.path == "build/build.sh" and f.command == 0
    assert _commands(f) == ["set -e", "go build -o /out/app ./cmd"]


def test_a_script_run_by_a_shell_is_followed_but_not_inline_text(tmp_path) -> None:
    files = {"scripts/x.sh": "cargo build --release\n"}
    [f] = _follow(tmp_path, "RUN apk add make && bash -e scripts/x.sh", files)
    assert f.command == 1 and _commands(f) == ["cargo build --release"]
    assert _follow(tmp_path / "c", "RUN sh -c 'scripts/x.sh'", files) == ()


def test_a_script_brought_by_a_file_copy_is_followed(tmp_path) -> None:
    [f] = _follow(tmp_path, "RUN /usr/local/bin/b.sh", {"b.sh": "go build ./...\n"},
                  copy="COPY b.sh /usr/local/bin/")
    assert f.path == "b.sh"


def test_an_absent_or_unread_file_is_not_followed(tmp_path) -> None:
    assert _follow(tmp_path, "RUN ./build.sh", {"x.go": "package x\n"}) == ()
    # present, but the caller gave no reader: nothing is opened behind the Analysis' back
    assert _follow(tmp_path / "r", "RUN ./build.sh", {"build.sh": "go build\n"},
                   read=False) == ()
    # not a shell program
    assert _follow(tmp_path / "p", "RUN ./build.py", {"build.py": "#!/usr/bin/python3\n"}) == ()


def test_after_a_cd_the_path_is_not_followed(tmp_path) -> None:
    assert _follow(tmp_path, "RUN cd sub && ./build.sh",
                   {"sub/build.sh": "go build\n", "build.sh": "go build\n"}) == ()


def test_a_script_that_does_not_parse_is_not_followed(tmp_path) -> None:
    assert _follow(tmp_path, "RUN ./build.sh", {"build.sh": "if then fi (((\n"}) == ()


MAKEFILE = """\
.PHONY: all deps
GOFLAGS_X = -trimpath
LDFLAGS = -X main.v=$(VERSION)

all: deps bin
\t@echo done

deps:
\tgo generate ./...

bin:
\tgo build $(GOFLAGS_X) $(LDFLAGS) -o $@ ./cmd
ifeq ($(OS),windows)
\tcp bin bin.exe
endif

other:
\tcargo build
"""


def test_the_default_target_is_followed_after_its_prerequisites(tmp_path) -> None:
    [f] = _follow(tmp_path, "RUN make", {"Makefile": MAKEFILE})
    assert f.path == "Makefile" and f.label == "make all (Makefile)"
    # prerequisites first, in order; $(GOFLAGS_X) is trivially defined, $(LDFLAGS) is not
    # ($(VERSION) inside), $@ is the target
    assert _commands(f) == ["go generate ./...", "go build -trimpath ${MAKE_LDFLAGS} -o bin ./cmd",
                            "echo done"]
    assert all(sc.commands for sc in f.scripts)  # one shell per recipe line
    assert f.doubts and "conditional" in f.doubts[0]  # the ifeq lines are left out


def test_a_named_target_with_command_line_variables(tmp_path) -> None:
    [f] = _follow(tmp_path, "RUN make -j4 LDFLAGS=-s other", {"Makefile": MAKEFILE})
    assert _commands(f) == ["cargo build"] and f.doubts == ()
    [f] = _follow(tmp_path / "v", "RUN make LDFLAGS=-s bin", {"Makefile": MAKEFILE})
    assert _commands(f)[0] == "go build -trimpath -s -o bin ./cmd"


def test_make_dash_c_and_dash_f(tmp_path) -> None:
    [f] = _follow(tmp_path, "RUN make -C sub other", {"sub/Makefile": MAKEFILE})
    assert f.path == "sub/Makefile" and f.directory == "sub"
    [f] = _follow(tmp_path / "f", "RUN make -f build.mk other", {"build.mk": MAKEFILE})
    assert f.path == "build.mk" and f.directory is None
    # GNU make reads GNUmakefile before Makefile
    [f] = _follow(tmp_path / "g", "RUN make", {"GNUmakefile": "x:\n\ttrue\n",
                                               "Makefile": MAKEFILE})
    assert f.path == "GNUmakefile"


def test_a_target_without_a_rule_or_an_unknown_word_falls_back(tmp_path) -> None:
    assert _follow(tmp_path, "RUN make nosuch", {"Makefile": MAKEFILE}) == ()
    assert _follow(tmp_path / "v", "RUN make $TARGET", {"Makefile": MAKEFILE}) == ()
    assert _follow(tmp_path / "m", "RUN make", {"x.go": ""}) == ()


def test_prerequisites_are_followed_to_a_bound() -> None:
    chain = [f"t{i}" for i in range(MAX_DEPTH + 3)]
    text = "".join(f"{a}: {b}\n\techo {a}\n" for a, b in pairwise(chain)) + \
        f"{chain[-1]}:\n\techo {chain[-1]}\n"
    scripts, doubts, first = make_recipes(text.encode(), ())
    assert first == "t0"
    said = [sc.commands[0].words[1].value for sc in scripts]
    assert said == [f"t{i}" for i in range(MAX_DEPTH, -1, -1)]  # deepest followed first
    assert doubts and "deeper than" in doubts[0]
    # a cycle stops at a target already followed
    scripts, _, _ = make_recipes(b"a: b\n\techo a\nb: a\n\techo b\n", ())
    assert len(scripts) == 2


def test_a_makefile_that_does_not_parse_or_is_ambiguous_falls_back() -> None:
    assert make_recipes(b"all:\n\techo a\n)))(\n:=:\n\tbad\n", ()) is None
    # two recipes for one target: make warns and takes the last; layerlens does not guess
    assert make_recipes(b"all:\n\techo a\nall:\n\techo b\n", ()) is None
