from __future__ import annotations

import pytest

from layerlens.dockerfile import parse
from layerlens.suggest.rules.ll009_context_free_first import broad_copy, plan, rewrite

from .helpers import by_rule, with_history

CONDUCTOR_LIKE = """FROM alpine:3.18
RUN apk add git
COPY . /src
WORKDIR /src/ui
ENV UI_FLAG=false
RUN yarn install && yarn build
WORKDIR /
RUN mkdir server-build
WORKDIR server-build
RUN git clone https://example.com/other.git
WORKDIR other
RUN ./gradlew build
WORKDIR /server-build
CMD ["run"]
"""


def _plan(text: str):
    df = parse(text)
    copy = next(i for i in df.instructions if broad_copy(i))
    return df, plan(df, copy.stage, copy)


def test_work_elsewhere_moves_above_the_copy_in_its_own_directories() -> None:
    df, p = _plan(CONDUCTOR_LIKE)
    assert p is not None
    moved = [m.original for m in p.moved]
    assert moved == ["ENV UI_FLAG=false", "RUN mkdir server-build",
                     "RUN git clone https://example.com/other.git", "RUN ./gradlew build"]
    new = parse(rewrite(df, 0, p))
    order = [i.original for i in new.instructions]
    # each moved RUN runs in the directory it ran in; the COPY in "/" as before; the
    # stage's own WORKDIRs stay in order below, so the final working directory is the same
    assert order[:9] == ["FROM alpine:3.18", "RUN apk add git", "ENV UI_FLAG=false",
                         "RUN mkdir server-build", "WORKDIR /server-build",
                         "RUN git clone https://example.com/other.git",
                         "WORKDIR /server-build/other", "RUN ./gradlew build", "WORKDIR /"]
    assert order[9:] == ["COPY . /src", "WORKDIR /src/ui", "RUN yarn install && yarn build",
                         "WORKDIR /", "WORKDIR server-build", "WORKDIR other",
                         "WORKDIR /server-build", 'CMD ["run"]']


@pytest.mark.parametrize(("run", "barrier"), [
    ("make", False),  # builds the project in the destination
    ("npm install", False),
    ("cat /src/package.json", False),  # names the destination
    ("ls", False),  # reads the directory it runs in
    ("tar -xzf app.tgz", False),  # extracts a file of the source
    # these stay and, since they may write outside the destination, keep what follows
    ("cp config.yml /etc/app/", True),
    ("sh ../install.sh", True),
])
def test_work_on_the_source_stays(run: str, barrier: bool) -> None:
    _, p = _plan(f"FROM a\nCOPY . /src\nWORKDIR /src\nRUN {run}\nRUN curl -fsSL https://x | sh\n")
    if barrier:
        assert p is None
    else:
        assert [m.original for m in p.moved] == ["RUN curl -fsSL https://x | sh"]


def test_global_installs_and_downloads_in_the_destination_move() -> None:
    _, p = _plan("FROM node\nCOPY . /app\nWORKDIR /app\nRUN npm ci\nARG V=1\n"
                  "RUN npm install -g @scope/tool@$V\nADD https://x/i.sh /i.sh\n"
                  "RUN sh /i.sh && rm /i.sh\nRUN npm run build\n")
    assert [m.original for m in p.moved] == [
        "ARG V=1", "RUN npm install -g @scope/tool@$V", "ADD https://x/i.sh /i.sh",
        "RUN sh /i.sh && rm /i.sh"]


def test_a_run_that_may_do_more_than_build_the_source_is_a_barrier() -> None:
    # ./setup.sh may install what the later download needs: nothing after it moves
    _, p = _plan("FROM a\nCOPY . /src\nWORKDIR /src\nRUN ./setup.sh\n"
                 "RUN curl -fsSL https://x | sh\n")
    assert p is None


def test_variables_a_staying_instruction_names_stay_with_it() -> None:
    # make ran without TOOL: the ENV stays below it, and so does the RUN that names TOOL
    _, p = _plan("FROM a\nCOPY . /src\nWORKDIR /src\nRUN make $TOOL\nENV TOOL=x\n"
                 "RUN curl https://y | sh\nRUN curl https://x/$TOOL | sh\n")
    assert [m.original for m in p.moved] == ["RUN curl https://y | sh"]
    # defined before anything names it: it moves, and what names it may follow
    _, p = _plan("FROM a\nCOPY . /src\nWORKDIR /src\nENV TOOL=x\nRUN make $TOOL\n"
                 "RUN curl https://x/$TOOL | sh\n")
    assert [m.original for m in p.moved] == ["ENV TOOL=x", "RUN curl https://x/$TOOL | sh"]


def test_user_ends_the_search() -> None:
    _, p = _plan("FROM a\nCOPY . /src\nUSER app\nRUN curl https://y | sh\n")
    assert p is None


def test_measured_unsafe_fix_over_history(tmp_path) -> None:
    df = ("FROM alpine\nCOPY . /src\nWORKDIR /src\nRUN make\n"
          "RUN wget -qO- https://example.com/tool.tgz | tar -xz -C /opt\nCMD [\"/opt/tool\"]\n")
    edits = [("main.c", f"int v = {i};\n") for i in range(5)]
    rep = with_history(tmp_path, df, {"main.c": "int v;\n", "Makefile": "all:\n"}, edits,
                       select={"LL009"}, unsafe_fixes=True)
    [s] = by_rule(rep, "LL009")
    assert s.fix_class == "unsafe" and "line 5" in s.unsafe_reason
    assert s.savings.seconds_per_commit > 0
    new = parse(s.dockerfile)
    assert [i.original for i in new.instructions][1:4] == [
        "WORKDIR /src", "RUN wget -qO- https://example.com/tool.tgz | tar -xz -C /opt",
        "WORKDIR /"]
    assert rep.applied == ("LL009",)
    safe = with_history(tmp_path / "again", df, {"main.c": "int v;\n"}, edits,
                        select={"LL009"})
    assert safe.applied == ()  # never without --unsafe-fixes
