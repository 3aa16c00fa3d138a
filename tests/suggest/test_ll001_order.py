from __future__ import annotations

import itertools
import random

import networkx as nx
import pytest

from layerlens.dockerfile import parse
from layerlens.runmodel import effects
from layerlens.suggest.graph import allowed, stage_graph
from layerlens.suggest.optimizer import optimize, order_cost

from .helpers import by_rule, fixture_cases, run_fixture, with_history

DF = ("FROM alpine\n# the app changes all the time\nCOPY src /app/src\n"
      "RUN apk add --no-cache curl\nCOPY vendor /app/vendor\nCMD [\"/app/src/run\"]\n")


def test_reorders_by_change_frequency(tmp_path) -> None:
    edits = [("src/main.c", f"int v = {i};\n") for i in range(6)]
    rep = with_history(tmp_path, DF, {".dockerignore": ".git\n", "src/main.c": "int v;\n",
                                      "vendor/lib.c": "lib\n"}, edits, select={"LL001"})
    [s] = by_rule(rep, "LL001")
    assert s.fixable and s.savings.seconds_per_commit > 0
    new = parse(s.dockerfile)
    order = [i.original for i in new.instructions[1:]]
    assert order == ["RUN apk add --no-cache curl", "COPY vendor /app/vendor",
                     "COPY src /app/src", 'CMD ["/app/src/run"]']
    assert "# the app changes all the time\nCOPY src /app/src" in s.dockerfile


def test_no_history_no_reorder(tmp_path) -> None:
    (tmp_path / "src").mkdir()
    from .helpers import static

    assert by_rule(static(tmp_path, DF), "LL001") == []


def test_graph_edges() -> None:
    df = parse("FROM a\nARG V=1\nWORKDIR /w\nCOPY x .\nRUN make $V\nRUN apt-get update\n"
               "ENV A=1\nLABEL a=b\nEXPOSE 1\n")
    g = stage_graph(df, 0)
    idx = {i.original.split()[0] + str(n): i.index for n, i in enumerate(df.instructions)}
    assert g.has_edge(idx["ARG1"], idx["RUN4"])  # variable use
    assert g.has_edge(idx["WORKDIR2"], idx["COPY3"])
    assert g.has_edge(idx["COPY3"], idx["RUN4"])  # unknown RUN may read the copy
    assert g.has_edge(idx["RUN4"], idx["RUN5"])  # RUN order kept
    assert g.has_edge(idx["RUN5"], idx["ENV6"])  # ENV is the environment of every RUN
    assert g.has_edge(idx["LABEL7"], idx["EXPOSE8"])  # config order kept
    assert not g.has_edge(idx["COPY3"], idx["LABEL7"])


def test_copy_of_a_file_a_run_reads_keeps_its_order() -> None:
    # The RUN reads packages.txt through a substitution: it must stay after the COPY.
    for run in ("apt-get install -y $(cat /tmp/packages.txt)",
                "apt-get install -y /tmp/vendor/tool.deb"):
        df = parse(f"FROM a\nCOPY packages.txt vendor /tmp/\nRUN {run}\n")
        assert stage_graph(df, 0).has_edge(df.instructions[1].index, df.instructions[2].index)
    df = parse("FROM a\nCOPY app /app/\nRUN apt-get install -y curl\n")
    assert not stage_graph(df, 0).has_edge(1, 2)


def test_bounded_run_and_workdir_need_no_order() -> None:
    # A bounded RUN names only absolute paths: the WORKDIR above it does not matter to it.
    df = parse("FROM a\nCOPY . /src\nWORKDIR /src\nRUN apk add --no-cache git make\n"
               "RUN npm install -g typescript\nRUN make\n")
    g = stage_graph(df, 0)
    copy, wd, apk, npm, make = (i.index for i in df.instructions[1:])
    assert not g.has_edge(wd, apk) and not g.has_edge(wd, npm)
    assert not g.has_edge(copy, apk) and not g.has_edge(copy, npm)
    assert g.has_edge(wd, make) and g.has_edge(copy, make)
    assert g.has_edge(copy, wd)  # WORKDIR and COPY keep theirs


@pytest.mark.parametrize(("df_text", "why"), [
    # the RUN makes the WORKDIR's parent
    ("FROM a\nWORKDIR /opt/app\nRUN mkdir -p /opt/app/data\n", "writes the directory"),
    # PWD is the working directory
    ("FROM a\nWORKDIR /w\nRUN echo $PWD > /etc/where\n", "reads PWD"),
    # WORKDIR creates /w for USER app, looked up in /etc/passwd the RUN may change
    ("FROM a\nUSER app\nWORKDIR /w\nRUN apt-get install -y x\n", "user database"),
    ("FROM a\nWORKDIR /w\nRUN ./configure\n", "unbounded"),
])
def test_workdir_keeps_order_when_the_run_depends_on_it(df_text: str, why: str) -> None:
    df = parse(df_text)
    wd = next(i for i in df.instructions if i.keyword == "workdir")
    run = df.instructions[-1]
    assert stage_graph(df, 0).has_edge(wd.index, run.index), why


@pytest.mark.parametrize("setting", ["ENV HOME=/src", "ENV NPM_CONFIG_PREFIX=/src/.npm",
                                     "ARG npm_config_userconfig=/src/.npmrc"])
def test_npm_global_keeps_order_when_its_settings_may_point_into_the_copy(setting) -> None:
    df = parse(f"FROM a\n{setting}\nCOPY . /src\nRUN npm install -g typescript\n")
    copy, run = df.instructions[2].index, df.instructions[3].index
    assert stage_graph(df, 0).has_edge(copy, run)
    plain = parse("FROM a\nENV NODE_ENV=production\nCOPY . /src\nRUN npm install -g x\n")
    assert not stage_graph(plain, 0).has_edge(2, 3)


def test_disjoint_bounded_runs_need_no_order() -> None:
    df = parse("FROM a\nRUN apk add git\nRUN echo done\nRUN mkdir -p /srv/x\n"
               "RUN echo hi > /srv/x/f\nRUN ./build\n")
    g = stage_graph(df, 0)
    apk, echo, mkdir, write, build = (i.index for i in df.instructions[1:])
    assert not g.has_edge(apk, echo) and not g.has_edge(echo, mkdir)
    assert g.has_edge(mkdir, write)  # the second writes inside what the first makes
    assert g.has_edge(apk, build) and g.has_edge(echo, build)  # unbounded: order kept


def test_absolute_copy_and_unrelated_workdir_need_no_order() -> None:
    df = parse("FROM a\nCOPY . /conductor\nWORKDIR /\nWORKDIR /build\nWORKDIR /conductor/ui\n"
               "COPY x y\n")
    g = stage_graph(df, 0)
    copy, root, build, ui, rel = (i.index for i in df.instructions[1:])
    assert not g.has_edge(copy, root) and not g.has_edge(copy, build)
    assert g.has_edge(copy, ui)  # inside the destination
    assert g.has_edge(ui, rel)  # a relative destination depends on the WORKDIR
    # --chown: the parent /srv may be created owned by app, or by WORKDIR owned by root
    chown = parse("FROM a\nCOPY --chown=app . /srv/app\nWORKDIR /srv/data\n")
    assert stage_graph(chown, 0).has_edge(1, 2)
    assert not stage_graph(parse("FROM a\nCOPY . /srv/app\nWORKDIR /srv/data\n"), 0).has_edge(1, 2)
    above = parse("FROM a\nCOPY . /srv/app\nWORKDIR /srv\n")
    assert stage_graph(above, 0).has_edge(1, 2)


def test_system_parents_exist_in_an_image_but_not_in_scratch() -> None:
    # a2enmod writes /var/lib/apache2; COPY . /var/www/html creates /var/www at most
    text = "COPY . /var/www/html\nRUN a2enmod rewrite\n"
    assert not stage_graph(parse("FROM php:8-apache\n" + text), 0).has_edge(1, 2)
    assert stage_graph(parse("FROM scratch\n" + text), 0).has_edge(1, 2)
    built = parse("FROM scratch AS base\nFROM base\n" + text)  # scratch through a stage
    assert stage_graph(built, 1).has_edge(2, 3)


def test_arg_before_unbounded_run_keeps_its_order() -> None:
    df = parse("FROM a\nARG GIT_SHA\nRUN ./build.sh\nRUN apt-get install -y curl\n")
    g = stage_graph(df, 0)
    assert g.has_edge(1, 2)  # the script may read GIT_SHA from its environment
    assert not g.has_edge(1, 3)


@pytest.mark.parametrize(("cmd", "ok"), [
    ("apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*", True),
    ("apk add --no-cache git", True),
    ("useradd app && apt-get install -y x", True),
    ("make install", False),
    ("apt-get install -y x && ./configure", False),
    ("apt-get install -y $(cat packages.txt)", False),
    ("apt-get install -y ./vendor/tool.deb", False),
    ("xargs -a packages.txt apt-get install -y", False),
    ("mkdir -p app/data", False),
    ("mkdir -p $HOME/x", False),
    (". /etc/profile && apt-get update", False),
])
def test_bounded_runs(cmd: str, ok: bool) -> None:
    df = parse(f"FROM a\nRUN {cmd}\n")
    assert effects(df.instructions[1]).bounded is ok


def test_optimizer_is_exact_against_brute_force() -> None:
    rng = random.Random(7)
    for _ in range(60):
        n = rng.randint(2, 7)
        nodes = list(range(n))
        g = nx.DiGraph()
        g.add_nodes_from(nodes)
        for a, b in itertools.combinations(nodes, 2):
            if rng.random() < 0.25:
                g.add_edge(a, b)
        weight = {x: rng.choice([0.0, 1.0, 5.0, 20.0]) for x in nodes}
        mask = {x: rng.getrandbits(12) for x in nodes}
        res = optimize(g, nodes, weight, mask)
        best = min(order_cost(p, weight, mask) for p in itertools.permutations(nodes)
                   if allowed(g, list(p)))
        assert res.exact and abs(res.cost - best) < 1e-9
        assert allowed(g, list(res.order))


@pytest.mark.parametrize("case", fixture_cases("LL001"))
def test_fixtures(case: str, tmp_path) -> None:
    run_fixture(tmp_path, "LL001", case)


@pytest.mark.parametrize(("body", "edge"), [
    # the trial's D8: the RUN writes beside the copied file; moved above, /app is missing
    ("COPY app.txt /app/app.txt\nRUN apt-get update && echo done > /app/done\n", True),
    # D16: ln into the directory the COPY creates
    ("COPY app.txt /opt/app/app.txt\nRUN mkdir -p /opt/data && ln -s /opt/data /opt/app/data\n",
     True),
    # D19: the COPY's --chown owner would not reach /app if mkdir made it first
    ("COPY --chown=65534:65534 app.txt /app/app.txt\nRUN mkdir -p /app/data\n", True),
    # nothing shared: the install may move above the COPY
    ("COPY app.txt /app/app.txt\nRUN apt-get update && apt-get install -y curl\n", False),
])
def test_copy_parent_directories_keep_a_run_on_its_side(body: str, edge: bool) -> None:
    # found by a new-user trial of `suggest --write`: LL001 moved these RUNs above the COPY
    # as a safe fix, and the build failed or /app changed owner
    df = parse("FROM debian\n" + body)
    g = stage_graph(df, 0)
    assert g.has_edge(1, 2) is edge


def test_copies_sharing_a_parent_with_an_owner_keep_their_order() -> None:
    df = parse("FROM debian\nCOPY --chown=1:1 a /srv/a\nCOPY b /srv/b\nCOPY c /opt/c\n")
    g = stage_graph(df, 0)
    assert g.has_edge(1, 2) and not g.has_edge(1, 3)
