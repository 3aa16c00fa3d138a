#!/usr/bin/env python3
"""layerlens over real repositories: crashes, wall times and the cache-chain invariant.

Issue 11, item 8. For every Dockerfile in `REPOSITORIES` this runs, as subprocesses with a
timeout, the four commands a new user tries:

    layerlens analyze  --format json      DOCKERFILE [--context C] --max-commits N
    layerlens suggest  --format json      ...
    layerlens baseline -o TMP             ...
    layerlens check    --baseline TMP     ...

and reports per Dockerfile:

* exit codes; a *crash* is a Python traceback on stderr or an exit code outside 0/1/2
  (the CLI's contract: 0 ok, 1 findings/violations, 2 bad input), a *timeout* is its own
  fault;
* wall seconds per command;
* the chain invariant, read from the analyze JSON (`dockerfile.instructions[*]` carry
  `stage` and `change_rate`; instructions outside the cache chain carry `null`): within a
  stage, along its chain in build order, `change_rate` never decreases, because a miss at
  one operation is a miss at every later one (BuildKit keys each operation on its parent's
  key). The same holds across `FROM <stage>`: a child stage's first operation is keyed on
  the parent stage's last one. A `COPY --link`/`ADD --link` layer is keyed on its own
  inputs only, so it may rebuild less often than what precedes it (but what follows it not
  less often than it). Violations name the two lines;
* rebuilt layers of unknown size over the window (`replay.commits[*].unknown_size_layers`),
  which the push totals leave out;
* whether suggest's "before" (rebuild seconds per commit of today's file) equals analyze's
  `replay.per_commit.rebuild_seconds` (issue 11, "Done when").

Repositories are git work trees under --repos (default /work/realrepos), one directory per
repository named as the `dir` column (clone them with the `fetch` tool and
`git clone -q /work/.mirror/OWNER+NAME/repo /work/realrepos/NAME`). Nothing here uses the
network. A work tree whose HEAD is not the commit recorded below is still measured; the
report shows the HEAD it found. Exit code 1 when any Dockerfile crashed, timed out, broke
the invariant or disagreed between suggest and analyze; else 0.

    .venv/bin/python bench/real_repos.py [--repos DIR] [--layerlens PATH] [--max-commits N]
        [--timeout S] [--only SUBSTRING ...] [--analyze-arg ARG ...] [--json | --render FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Target:
    dockerfile: str  # relative to the repository root
    context: str | None = None  # relative to the root; None: the Dockerfile's directory
    ecosystem: str | None = None  # when it differs from the repository's


@dataclass(frozen=True)
class Repository:
    slug: str  # owner/name on GitHub
    ecosystem: str
    commit: str  # the HEAD measured
    targets: tuple[Target, ...]
    dir: str = ""  # directory under --repos; default: the name part of `slug`

    @property
    def path(self) -> str:
        return self.dir or self.slug.split("/", 1)[1]


T = Target
# Contexts follow each project's own build (its CI workflow, Makefile or compose file);
# without one, the Dockerfile's directory. Where the project builds from the root, the
# Dockerfile is measured twice: with that context, and without --context, as a new user
# first runs it (then the window is the commits that touched the Dockerfile's directory).
REPOSITORIES: tuple[Repository, ...] = (
    Repository("kubernetes-up-and-running/kuard", "go",
               "a27b6968777a865cea3af83713795b634c38858b",
               (T("Dockerfile"), T("Dockerfile.build"), T("Dockerfile.kuard"),
                T("Dockerfile.nomultistage"))),
    Repository("postmanlabs/httpbin", "python", "f8ec666b4d1b654e4ff6aedd356f510dcac09f83",
               (T("Dockerfile"),)),
    Repository("psf/black", "python", "8947c48ef2077c3a301b03c1e814dc2e3f78436e",
               (T("Dockerfile"),)),
    Repository("saleor/saleor", "python", "723cd4eba87dfc72822ade45dc08a3caa548428d",
               (T("Dockerfile"),)),
    Repository("locustio/locust", "python", "407343d0f5ab84a32f41f6f9a7c991188d10a55a",
               (T("Dockerfile"),)),
    Repository("juice-shop/juice-shop", "node", "33518f5a0911e25d9df747b1e70fb7af279a755c",
               (T("Dockerfile"),)),
    Repository("ether/etherpad-lite", "node", "b827f5b3d93bc79fc9014c7d9f8b900956b8af65",
               (T("Dockerfile"),)),
    Repository("GoogleCloudPlatform/microservices-demo", "go",
               "34ffea9175946982c3088ed84994fe6019ad6e92",
               tuple(T(f"src/{s}/Dockerfile", None, e) for s, e in (
                   ("adservice", "java"), ("checkoutservice", "go"),
                   ("currencyservice", "node"), ("emailservice", "python"), ("frontend", "go"),
                   ("loadgenerator", "python"), ("paymentservice", "node"),
                   ("productcatalogservice", "go"), ("recommendationservice", "python"),
                   ("shippingservice", "go"), ("shoppingassistantservice", "python"),
                   ("cartservice/src", "c#")))),
    Repository("traefik/traefik", "go", "fd5a576df2e8aeb0bfc8a96b6ef6e60a61f7ec0a",
               (T("Dockerfile"), T("webui/buildx.Dockerfile"))),
    Repository("gohugoio/hugo", "go", "7b5199fdeff7d7682e9f979f468d55bc7b67b934",
               (T("Dockerfile"),)),
    Repository("openzipkin/zipkin", "java", "878ce2a1fad54ca941d17fdcf2e1d924b148eb1f",
               (T("docker/Dockerfile", "."), T("docker/Dockerfile"),
                T("docker/test-images/zipkin-ui/Dockerfile", "."))),
    Repository("spring-projects/spring-petclinic", "java",
               "edf4db28affcc4741c79850a3d95bc3f177b5ff9", (T(".devcontainer/Dockerfile"),)),
    Repository("huginn/huginn", "ruby", "9faad4aeee0d97570693377e0a281567e775abb4",
               (T("docker/multi-process/Dockerfile", "."), T("docker/multi-process/Dockerfile"),
                T("docker/single-process/Dockerfile", "."),
                T("docker/test/Dockerfile", "."))),
    Repository("rubygems/rubygems.org", "ruby", "3c8ea0d4cbe85bd2a2bb5d22486247656a3dfb6c",
               (T("Dockerfile"),)),
    Repository("discourse/discourse_docker", "ruby",
               "e071c2c8ebf8a93c1fba4e16fbb7168a2a9201bd", (T("image/base/Dockerfile"),)),
    Repository("snipe/snipe-it", "php", "5aa5c48018f25ae5eb8671bc278469e85d0ac054",
               (T("Dockerfile"), T("Dockerfile.alpine"))),
    Repository("nextcloud/docker", "php", "4de1eed65a44c61ecce601ef1d27abd2059b52e6",
               (T("32/apache/Dockerfile"), T("32/fpm-alpine/Dockerfile"))),
    Repository("dani-garcia/vaultwarden", "rust", "46d71107f5094460dd5ecbe1dbac6e6c71e5189a",
               (T("docker/Dockerfile.debian", "."), T("docker/Dockerfile.debian"),
                T("docker/Dockerfile.alpine", "."),
                T("Dockerfile", "."))),  # Dockerfile is a symlink to docker/Dockerfile.debian
    Repository("meilisearch/meilisearch", "rust", "5cb2f2e94befc717bbea60fec4a31ee64d2f60fd",
               (T("Dockerfile"),)),
    Repository("lldap/lldap", "rust", "9cc54ab03c5a044bfe574e30a6b6245d45c8e7b9",
               (T("Dockerfile"), T(".github/workflows/Dockerfile.ci.debian", "."))),
)

COMMANDS = ("analyze", "suggest", "baseline", "check")
TRACEBACK = re.compile(r"^Traceback \(most recent call last\):", re.M)
FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>\S+)')
# Exit codes the CLI documents: 0 ok, 1 findings or a failed gate, 2 bad input.
DOCUMENTED_EXITS = frozenset({0, 1, 2})


@dataclass
class Run:
    command: str
    exit_code: int | None  # None: timed out, or skipped (check without a baseline)
    seconds: float
    crash: bool
    timeout: bool
    error_tail: list[str]  # last lines of a traceback, or the first stderr line otherwise


@dataclass
class Violation:
    stage: int
    line: int  # the earlier operation
    rate: float
    next_line: int  # the later operation, whose rate is lower
    next_rate: float
    across: str = ""  # "" within a stage; else "FROM <parent stage>"


@dataclass
class Result:
    repository: str
    dockerfile: str
    context: str | None
    ecosystem: str
    commit: str  # the HEAD found
    recorded_commit: str
    window_commits: int | None = None
    runs: list[Run] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    chain_ops: int | None = None  # operations with a change_rate
    analyze_per_commit_seconds: float | None = None
    suggest_before_seconds: float | None = None
    unknown_push_layers: int | None = None  # rebuilt layers of unknown size, whole window
    problem: str | None = None  # the target could not be measured (missing work tree...)

    @property
    def crashed(self) -> bool:
        return any(r.crash for r in self.runs)

    @property
    def timed_out(self) -> bool:
        return any(r.timeout for r in self.runs)

    @property
    def invariant_ok(self) -> bool | None:
        if self.chain_ops is None:
            return None
        return not self.violations

    @property
    def before_matches(self) -> bool | None:
        if self.analyze_per_commit_seconds is None or self.suggest_before_seconds is None:
            return None
        return abs(self.analyze_per_commit_seconds - self.suggest_before_seconds) <= 0.01


def error_tail(stderr: str, crash: bool) -> list[str]:
    """For a traceback: the innermost frame as `file.py:LINE in FUNC`, its source line and the
    exception; otherwise the first non-empty stderr line."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    m = list(TRACEBACK.finditer(stderr))
    if not (crash and m):
        return lines[-3:] if crash else lines[:1]
    tb = [ln for ln in stderr[m[-1].start():].splitlines() if ln.strip()]
    frames = [i for i, ln in enumerate(tb) if FRAME.match(ln)]
    out = []
    if frames:
        f = FRAME.match(tb[frames[-1]])
        assert f is not None
        out.append(f"{Path(f['file']).name}:{f['line']} in {f['func']}")
        src = tb[frames[-1] + 1].strip() if frames[-1] + 1 < len(tb) else ""
        if src and not set(src) <= set("^~ "):
            out.append(src)
    out.append(tb[-1].strip())
    return out


def run(cmd: list[str], cwd: Path, timeout: float, name: str,
        cache: Path) -> tuple[Run, str]:
    """Run one layerlens command; returns the run record and its stdout. `cache` becomes
    XDG_CACHE_HOME: each Dockerfile starts cold, as on a fresh CI runner, and the bench
    never writes into the user's cache."""
    t = time.perf_counter()
    env = dict(os.environ, NO_COLOR="1", COLUMNS="120", PYTHONFAULTHANDLER="1",
               XDG_CACHE_HOME=str(cache))
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=timeout, env=env,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Run(name, None, time.perf_counter() - t, False, True,
                   [f"timed out after {timeout:g} s"]), ""
    secs = time.perf_counter() - t
    err = p.stderr.decode("utf-8", "replace")
    crash = bool(TRACEBACK.search(err)) or p.returncode not in DOCUMENTED_EXITS
    return (Run(name, p.returncode, secs, crash, False, error_tail(err, crash)),
            p.stdout.decode("utf-8", "replace"))


def linked(ins: dict[str, Any]) -> bool:
    """`COPY --link` / `ADD --link` (or `--link=true`): BuildKit builds the layer on its own
    and merges it, so its key leaves out the layers before it (Dockerfile reference, "COPY
    --link"); it may rebuild less often than they do, the operations after it may not."""
    for raw in ins.get("flags", ()):
        name, _, value = raw.partition("=")
        if name == "--link" and value.lower() not in ("false", "0"):
            return True
    return False


def chain_violations(doc: dict[str, Any]) -> tuple[int, list[Violation]]:
    """Operations with a change_rate, and every place where the rate falls along a chain.

    Chains: each stage's operations in instruction order; a stage built `FROM` another
    stage continues that stage's chain. Each operation must rebuild at least as often as
    every one before it in its chain; a `--link` copy is exempt itself, but raises that
    floor for the operations after it.
    """
    df = doc["dockerfile"]
    stages = df["stages"]
    by_stage: dict[int, list[tuple[int, float, bool]]] = {}
    for i in df["instructions"]:
        rate = i.get("change_rate")
        if rate is not None:
            by_stage.setdefault(i["stage"], []).append(
                (i["start_line"], float(rate), linked(i)))
    names: dict[str, int] = {}
    for st in stages:
        names[str(st["index"])] = st["index"]
        if st.get("name"):
            names[st["name"].lower()] = st["index"]
    floors: dict[int, tuple[int, float] | None] = {}
    out: list[Violation] = []

    def walk(index: int, seen: frozenset[int] = frozenset()) -> tuple[int, float] | None:
        """Check stage `index`; return its floor: (line, rate) of its most-rebuilt op."""
        if index in floors:
            return floors[index]
        st = stages[index]
        floor: tuple[int, float] | None = None
        across = ""
        if st.get("base_is_stage") and index not in seen:
            parent = names.get(str(st["base"]).lower())
            if parent is not None and parent != index:
                floor = walk(parent, seen | {index})
                across = f"FROM {st['base']}"
        for line, rate, link in by_stage.get(index, ()):
            if floor is not None and rate < floor[1] and not link:
                out.append(Violation(index, floor[0], floor[1], line, rate, across))
            if floor is None or rate > floor[1]:
                floor = (line, rate)
            across = ""
        floors[index] = floor
        return floor

    for st in stages:
        walk(st["index"])
    return sum(len(v) for v in by_stage.values()), out


def suggest_before(doc: dict[str, Any]) -> float | None:
    """suggest's measured "before": rebuild seconds per commit of today's file, from the
    headline, else from a saving measured over the whole window (one whose rewrite fails
    at no commit: a saving is paired over the commits at which both texts build, so its
    "before" leaves out the commits where the rewrite fails)."""
    head = ((doc.get("headline") or {}).get("variants") or {}).get("current") or {}
    if head.get("rebuild_seconds_per_commit") is not None:
        return float(head["rebuild_seconds_per_commit"])
    for sav in [doc.get("total_savings"), *(s.get("savings") for s in doc.get("suggestions", ()))]:
        if sav and sav.get("rebuild_seconds_per_commit_before") is not None \
                and not sav.get("rewrite_failed_builds"):
            return float(sav["rebuild_seconds_per_commit_before"])
    return None


def head(repo: Path) -> str:
    p = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                       text=True)
    return p.stdout.strip() if p.returncode == 0 else "?"


def measure(repo: Repository, target: Target, root: Path, layerlens: list[str],
            max_commits: int, timeout: float, extra: tuple[str, ...] = ()) -> Result:
    """The four commands on one Dockerfile; `extra` is appended to analyze's arguments."""
    where = root / repo.path
    res = Result(repo.slug, target.dockerfile, target.context,
                 target.ecosystem or repo.ecosystem, "?", repo.commit)
    if not (where / ".git").exists():
        res.problem = f"no git work tree at {where}"
        return res
    res.commit = head(where)
    if not (where / target.dockerfile).exists():
        res.problem = f"no {target.dockerfile} at {res.commit[:12]}"
        return res
    common = [target.dockerfile, "--max-commits", str(max_commits)]
    if target.context is not None:
        common += ["--context", target.context]
    with tempfile.TemporaryDirectory(prefix="ll-bench-") as tmp:
        baseline = str(Path(tmp) / "baseline.json")
        argv = {
            "analyze": ["analyze", "--format", "json", *common, *extra],
            "suggest": ["suggest", "--format", "json", *common],
            "baseline": ["baseline", "-o", baseline, *common],
            "check": ["check", "--baseline", baseline, *common],
        }
        for name in COMMANDS:
            if name == "check" and not Path(baseline).exists():
                # Nothing to compare with: the baseline run already failed.
                res.runs.append(Run(name, None, 0.0, False, False, ["skipped: no baseline"]))
                continue
            r, out = run([*layerlens, *argv[name]], where, timeout, name, Path(tmp))
            res.runs.append(r)
            if r.crash or r.timeout or not out.strip():
                continue
            try:
                doc = json.loads(out) if name in ("analyze", "suggest") else None
            except json.JSONDecodeError as exc:
                r.error_tail.append(f"stdout is not JSON: {exc}")
                continue
            if name == "analyze" and doc is not None:
                replay = doc.get("replay")
                if replay is not None:
                    res.window_commits = replay.get("window_commits")
                    res.analyze_per_commit_seconds = replay["per_commit"]["rebuild_seconds"]
                    res.chain_ops, res.violations = chain_violations(doc)
                    res.unknown_push_layers = sum(c.get("unknown_size_layers") or 0
                                                  for c in replay.get("commits", ()))
            elif name == "suggest" and doc is not None:
                res.suggest_before_seconds = suggest_before(doc)
    return res


def load_result(d: dict[str, Any]) -> Result:
    """A `Result` back from its --json form."""
    fields = {k: v for k, v in d.items() if k in Result.__dataclass_fields__}
    fields["runs"] = [Run(**x) for x in d["runs"]]
    fields["violations"] = [Violation(**x) for x in d["violations"]]
    return Result(**fields)


def yn(v: bool | None) -> str:
    return "-" if v is None else ("y" if v else "n")


def markdown(results: list[Result], layerlens: list[str], max_commits: int) -> str:
    out = [f"layerlens: `{' '.join(layerlens)}`, --max-commits {max_commits}", "",
           "| repository | Dockerfile | eco | commit | window | exit a/s/b/c | crash | "
           "invariant ok | before=analyze | unknown push layers | analyze s | suggest s | "
           "baseline s | check s |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if r.problem:
            out.append(f"| {r.repository} | {r.dockerfile} | {r.ecosystem} | "
                       f"{r.commit[:10]} | | | | | | | {r.problem} | | | |")
            continue
        runs = {x.command: x for x in r.runs}
        codes = "/".join("T" if x.timeout else "-" if x.exit_code is None else str(x.exit_code)
                         for x in r.runs)
        crash = "TIMEOUT" if r.timed_out else ("**y**" if r.crashed else "n")
        inv = yn(r.invariant_ok)
        if r.invariant_ok is False:
            inv = f"**n** ({len(r.violations)})"
        secs = [f"{runs[c].seconds:.1f}" if c in runs and runs[c].seconds else ""
                for c in COMMANDS]
        df = r.dockerfile + (f" (-C {r.context})" if r.context else "")
        commit = r.commit[:10] + ("" if r.commit == r.recorded_commit
                                  else f" (table: {r.recorded_commit[:10]})")
        out.append(f"| {r.repository} | {df} | {r.ecosystem} | {commit} | "
                   f"{'' if r.window_commits is None else r.window_commits} | {codes} | "
                   f"{crash} | {inv} | {yn(r.before_matches)} | "
                   f"{'' if r.unknown_push_layers is None else r.unknown_push_layers} | "
                   f"{' | '.join(secs)} |")
    measured = [r for r in results if not r.problem]
    crashed = [r for r in measured if r.crashed]
    timed = [r for r in measured if r.timed_out]
    bad = [r for r in measured if r.invariant_ok is False]
    unknown = [r for r in measured if r.invariant_ok is None]
    mismatch = [r for r in measured if r.before_matches is False]
    repos = {r.repository for r in measured}
    out += ["", f"**Summary**: {len(measured)} Dockerfiles in {len(repos)} repositories; "
            f"{len(crashed)} crash, {len(timed)} timeout, {len(bad)} violate the chain "
            f"invariant, {len(unknown)} without a replay to check, {len(mismatch)} with "
            f"suggest's before != analyze's per-commit seconds; "
            f"{len(results) - len(measured)} not measured."]
    if crashed:
        out += ["", "Crashes (commands and exit codes: innermost frame / exception):"]
        for r in crashed:
            same: dict[str, list[str]] = {}
            for x in r.runs:
                if x.crash:
                    same.setdefault(" / ".join(x.error_tail), []).append(
                        f"{x.command} {x.exit_code}")
            for tail, cmds in same.items():
                out.append(f"- {r.repository} {r.dockerfile} ({', '.join(cmds)}): {tail}")
    if bad:
        out += ["", "Chain invariant violations (line rate -> later line lower rate):"]
        for r in bad:
            vs = "; ".join(
                f"stage {v.stage}{' ' + v.across if v.across else ''}: line {v.line} "
                f"{v.rate:.3f} -> line {v.next_line} {v.next_rate:.3f}"
                for v in r.violations[:4])
            more = f" (+{len(r.violations) - 4} more)" if len(r.violations) > 4 else ""
            out.append(f"- {r.repository} {r.dockerfile}: {vs}{more}")
    if mismatch:
        out += ["", "suggest's before vs analyze's per-commit rebuild seconds:"]
        for r in mismatch:
            out.append(f"- {r.repository} {r.dockerfile}: {r.suggest_before_seconds} vs "
                       f"{r.analyze_per_commit_seconds}")
    others = [(r, x) for r in measured for x in r.runs
              if not x.crash and not x.timeout and x.exit_code == 2]
    if others:
        out += ["", "Exit 2 (bad input, one line):"]
        for r, x in others:
            out.append(f"- {r.repository} {r.dockerfile} `{x.command}`: "
                       + " / ".join(x.error_tail))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repos", type=Path, default=Path("/work/realrepos"),
                    help="directory holding one git work tree per repository")
    ap.add_argument("--layerlens", default=None,
                    help="layerlens executable (default: the one on PATH)")
    ap.add_argument("--max-commits", type=int, default=300)
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per command")
    ap.add_argument("--only", action="append", default=[],
                    help="only repositories or Dockerfiles containing this text (repeatable)")
    ap.add_argument("--analyze-arg", action="append", default=[], metavar="ARG",
                    help="one more argument for analyze, e.g. --analyze-arg=--as-built")
    ap.add_argument("--json", action="store_true", help="machine output")
    ap.add_argument("--render", type=Path, default=None,
                    help="print the markdown report of a saved --json document; run nothing")
    ns = ap.parse_args(argv)
    if ns.render is not None:
        saved = json.loads(ns.render.read_text())
        print(markdown([load_result(r) for r in saved["results"]], saved["layerlens"],
                       saved["max_commits"]))
        return 0
    exe = ns.layerlens or shutil.which("layerlens")
    if exe is None:
        ap.error("no layerlens on PATH; pass --layerlens")
    layerlens = [exe]
    results: list[Result] = []
    for repo in REPOSITORIES:
        for target in repo.targets:
            label = f"{repo.slug} {target.dockerfile}"
            if ns.only and not any(o in label for o in ns.only):
                continue
            print(f"... {label}", file=sys.stderr, flush=True)
            results.append(measure(repo, target, ns.repos, layerlens, ns.max_commits,
                                   ns.timeout, tuple(ns.analyze_arg)))
    faults = any(r.crashed or r.timed_out or r.invariant_ok is False
                 or r.before_matches is False for r in results)
    if ns.json:
        doc = {"layerlens": layerlens, "max_commits": ns.max_commits, "results": [
            {**asdict(r), "crash": r.crashed, "timeout": r.timed_out,
             "invariant_ok": r.invariant_ok, "before_matches": r.before_matches}
            for r in results]}
        print(json.dumps(doc, indent=1))
    else:
        print(markdown(results, layerlens, ns.max_commits))
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main())
