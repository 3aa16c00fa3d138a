"""The shared-track replay of a fixed Dockerfile (layerlens/cache/tracks.py) equals a full
replay (layerlens/cache/replay.py), commit for commit, for the current file and for rewrites
of every kind `suggest` makes (reorder, insert, merge, delete, ignore-file changes), over
real git histories shaped like real projects: files added, edited, deleted, made executable;
a lock file that appears late (builds fail before it); the context at the repository root
(the .git marker) and in a subdirectory; multi-stage builds, `COPY --link`, a volatile
build arg, base-image refreshes; one `Matching` shared by every replay, as in `suggest`."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from layerlens.analysis import AnalyzeOptions, analyze
from layerlens.cache.costs import commit_rows, summarize, summarize_rows
from layerlens.cache.replay import Matching, Version, replay
from layerlens.cache.timeline import HistoryOptions, op_costs, plan_of
from layerlens.cache.tracks import churn_of, fixed_rows, replay_fixed, window
from layerlens.context.patterns import Matcher, read_ignore_lines
from layerlens.dockerfile import parse

from .harness import Repo

pytestmark = pytest.mark.integration

CURRENT = """\
ARG GIT_SHA
FROM node:20 AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
FROM node:20 AS build
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
RUN npm run build
FROM nginx:1.25
ARG GIT_SHA
COPY --link --from=build /app/dist /usr/share/nginx/html
COPY scripts/run.sh /run.sh
RUN echo $GIT_SHA > /version
COPY docs/ /docs/
COPY src/*.js /js/
"""

REWRITES = {
    # reorder: the rarely changed docs before the per-build RUN
    "reorder": CURRENT.replace("RUN echo $GIT_SHA > /version\nCOPY docs/ /docs/\n",
                               "COPY docs/ /docs/\nRUN echo $GIT_SHA > /version\n"),
    # insert: manifests first in the build stage (sources no other operation has)
    "insert": CURRENT.replace("COPY --from=deps /app/node_modules ./node_modules\n",
                              "COPY --from=deps /app/node_modules ./node_modules\n"
                              "COPY package.json ./\nRUN npm run prepare\n"),
    # merge: two COPYs into one destination become one instruction
    "merge": CURRENT.replace("COPY docs/ /docs/\nCOPY src/*.js /js/\n",
                             "COPY docs/ src/*.js /docs/\n"),
    # delete: an instruction dropped
    "delete": CURRENT.replace("COPY scripts/run.sh /run.sh\n", ""),
    # a literal source that never exists: every build fails
    "absent": CURRENT.replace("COPY docs/ /docs/\n", "COPY NOTES.txt /docs/\n"),
    # a wildcard in a directory that comes and goes (BuildKit fails while it is absent),
    # and one whose directory never exists
    "wildcard_dir": CURRENT.replace("COPY docs/ /docs/\n",
                                    "COPY tmp/*.txt /docs/\nCOPY docs/*.md /docs/\n"),
    # single stage, context read first
    "flat": "FROM python:3.12\nCOPY . /src\nWORKDIR /src\nRUN pip install .\n",
}
IGNORES = (".git\nnode_modules\n", "docs/\n*.md\n!README.md\n", None)


def _project(root: Path, seed: int, sub: str = "") -> Repo:
    """A history of about 40 commits: edits, additions, deletions, mode changes, a lock
    file that appears at commit 6, a Dockerfile added at commit 3."""
    rng = random.Random(seed)
    r = Repo(root)
    p = sub
    r.write(f"{p}package.json", '{"v": 0}\n')
    r.write(f"{p}README.md", "# x\n")
    for k in range(6):
        r.write(f"{p}src/m{k}.js", f"{k}\n")
    r.write(f"{p}docs/guide.md", "g\n")
    r.write(f"{p}scripts/run.sh", "#!/bin/sh\n")
    r.write("outside.txt", "0\n")
    r.commit()
    files = [f"src/m{k}.js" for k in range(6)] + ["docs/guide.md", "README.md"]
    for n in range(1, 40):
        if n == 3:
            r.write(f"{p}Dockerfile", CURRENT)
        if n == 6:
            r.write(f"{p}package-lock.json", "{}\n")
        if n == 12:
            r.write(f"{p}.dockerignore", IGNORES[0])
        for _ in range(rng.randint(0, 3)):
            kind = rng.random()
            if kind < 0.5:
                f = rng.choice(files)
                r.write(p + f, f"{n} {rng.random()}\n")
            elif kind < 0.65:
                f = f"src/new{n}.js" if rng.random() < 0.5 else f"docs/n{n}.md"
                if f not in files:
                    files.append(f)
                r.write(p + f, f"{n}\n")
            elif kind < 0.75 and len(files) > 4:
                f = files.pop(rng.randrange(len(files)))
                (root / (p + f)).unlink()
            elif kind < 0.85:
                r.write(f"{p}package.json", f'{{"v": {n}}}\n')
            elif kind < 0.92:
                (root / p / "scripts/run.sh").chmod(0o755 if n % 2 else 0o644)
            else:
                r.write("outside.txt", f"{n}\n")
        if n == 20:
            (root / p / "package-lock.json").unlink()  # gone for a while: builds fail
        if n == 24:
            r.write(f"{p}package-lock.json", '{"lock": 2}\n')
        if n in (8, 30):
            r.write(f"{p}tmp/keep", f"{n}\n")  # tmp/ exists from 8 on, gone 15..29
        if n == 15:
            (root / p / "tmp/keep").unlink()
        r.commit(allow_empty=True)
    return r


def _check(history, setup, texts: dict[str, str], starts: tuple[int, ...],
           refresh: int | None) -> None:
    shared = Matching()  # one for every replay, as suggest shares the setup's
    for start in starts:
        for itext in IGNORES:
            matcher = Matcher.from_lines(read_ignore_lines(itext), ".dockerignore") \
                if itext is not None else Matcher([], "")
            for name, text in texts.items():
                plan = plan_of(parse(text, "Dockerfile"), setup)
                version = Version(plan, matcher)
                full = replay(history, lambda _c, _b, v=version: v, start=start,
                              base_refresh=refresh)
                got = replay_fixed(history, version, start=start, base_refresh=refresh,
                                   shared=shared)
                assert got == full, (name, start, itext)
                # priced, with the churn read from the shared window; and from its rows,
                # as suggest prices a candidate
                costs = op_costs(plan, {}, {}, {})
                want = summarize(full, costs, plan=plan)
                churn = churn_of(shared, history, start, matcher)
                assert summarize(got, costs, plan=plan, churn=churn) == want
                assert summarize_rows(fixed_rows(history, version, start=start,
                                                 base_refresh=refresh, shared=shared),
                                      costs, plan=plan, pullers=1, churn=churn) == want
                assert list(fixed_rows(history, version, start=start, base_refresh=refresh,
                                       shared=shared)) == list(commit_rows(full))
                # asked again: the cached tracks give the same answer
                assert replay_fixed(history, version, start=start, base_refresh=refresh,
                                    shared=shared) == full


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tracks_equal_full_replay_at_the_root(tmp_path: Path, seed: int) -> None:
    _project(tmp_path, seed)
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile",
                               history=HistoryOptions(cache=False)))
    assert a.history is not None
    h, setup = a.history.history, a.history.setup
    assert len(h.commits) == 40
    full = replay(h, lambda _c, _b: Version(a.history.replay.plan, a.matcher),
                  start=setup.start, base_refresh=None)
    assert sum(1 for c in full.commits if c.failed) > 0  # the lock file's absence is seen
    assert sum(1 for c in full.commits if c.rebuilt_ops) > 10
    # LL001's change masks from the window: a bit per replayed commit that changed a path
    # the operation reads, as the full replay's change sets say
    w = window(setup.matching, h, setup.start, a.matcher)
    for sp in full.plan.stages:
        for op in sp.ops:
            want = 0
            for bit, c in enumerate(full.commits):
                if any(op.reads(p) for p in c.changed_paths):
                    want |= 1 << bit
            assert w.mask(op.readers, setup.matching) == want, op.definition
    texts = {"current": CURRENT, **REWRITES}
    _check(h, setup, texts, (0, setup.start, 17, 39), None)
    _check(h, setup, {"current": CURRENT, "reorder": REWRITES["reorder"]}, (setup.start,),
           3 * 3600)  # base images refreshed every third commit


def test_key_columns_kept_and_forgotten_give_a_full_replay(tmp_path: Path,
                                                          monkeypatch) -> None:
    # Candidates take the key columns an earlier one made for the same chain; past the
    # limit all are forgotten mid-replay, and a column whose parent was forgotten is made
    # afresh. Every column equals one made from scratch, and every replay a full one.
    from layerlens.cache import tracks
    from layerlens.cache.replay import _Chain

    _project(tmp_path, 5)
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile", history=HistoryOptions(cache=False)))
    h, setup = a.history.history, a.history.setup
    # with texts that part at an operation reading no context, after a shared chain
    texts = {"current": CURRENT, **REWRITES,
             "workdir": CURRENT.replace("AS deps\nWORKDIR /app\n", "AS deps\nWORKDIR /srv\n"),
             "run": CURRENT.replace("RUN npm ci\n", "RUN npm ci --omit=dev\n")}
    commits = h.commits[setup.start:]
    matchers = [Matcher.from_lines(read_ignore_lines(t), ".dockerignore") if t is not None
                else Matcher([], "") for t in IGNORES]
    for limit in (10_000_000, 200, 1):  # keys kept: all, a few columns' (40 commits), none
        monkeypatch.setattr(tracks._Columns, "LIMIT", limit)
        shared = Matching()  # one window per matcher, whatever the refresh
        for refresh in (None, 3 * 3600, 5 * 3600):  # base images refreshed, or not
            for itext, matcher in zip(IGNORES, matchers, strict=True):
                w = window(shared, h, setup.start, matcher)
                for name, text in texts.items():
                    plan = plan_of(parse(text, "Dockerfile"), setup)
                    xors = {op.instruction: w.digest(op.readers, shared)
                            for sp in plan.stages for op in sp.ops if op.readers}
                    kept = tracks._key_columns(_Chain(plan, refresh), xors, commits, w.n,
                                               w.columns)
                    assert kept == tracks._key_columns(_Chain(plan, refresh), xors, commits,
                                                       w.n), (name, itext, limit, refresh)
        _check(h, setup, texts, (setup.start,), 3 * 3600 if limit == 200 else None)


def test_tracks_equal_full_replay_in_a_subdirectory(tmp_path: Path) -> None:
    _project(tmp_path, 7, sub="app/")
    a = analyze(AnalyzeOptions(tmp_path / "app" / "Dockerfile",
                               history=HistoryOptions(cache=False)))
    assert a.history is not None and a.history.history.prefix == "app/"
    _check(a.history.history, a.history.setup, {"current": CURRENT, **REWRITES},
           (0, a.history.setup.start), None)


def test_suggest_measures_with_tracks_as_a_full_replay(tmp_path: Path) -> None:
    # end to end: every figure suggest measured equals a full replay's summary
    from layerlens.context.inputs import resolve_all
    from layerlens.suggest.engine import suggest

    _project(tmp_path, 4)
    a = analyze(AnalyzeOptions(tmp_path / "Dockerfile", history=HistoryOptions(cache=False)))
    setup = a.history.setup
    rep = suggest(a)
    assert a._replay_cache  # rewrites were measured
    for (text, itext), (_h, got) in a._replay_cache.items():
        if got is None:
            continue
        matcher, ctx = a._for_ignore(itext)
        df = a.parse_text(text)
        plan = plan_of(df, setup)
        version = Version(plan, matcher)
        full = replay(setup.history, lambda _c, _b, v=version: v, start=setup.start,
                      base_refresh=setup.base_refresh_seconds)
        want = summarize(full, op_costs(plan, resolve_all(df.instructions, ctx),
                                        setup.known_costs, setup.log_seconds, df,
                                        setup.measured), plan=plan, pullers=setup.pullers)
        assert got == want
    assert rep.variants[0].costs == a.history.costs
