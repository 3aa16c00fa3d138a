#!/usr/bin/env python3
"""The broad-COPY benchmark set (issue 16): what `suggest --write` saves on real Dockerfiles.

Every target below is a real Dockerfile from a public repository, at a named commit, that
copies the whole build context (`COPY . .`, `ADD . /app` ...) before a dependency install,
a build, or an install that reads nothing from the context. For each, this prints the
replayed rebuild cost of today's file (mean seconds per commit over the last N commits, the
current-file replay of `layerlens analyze`), after the safe fixes `suggest --write` applies,
and after `--unsafe-fixes`, with the rules applied, plus the rewrite an expert makes by hand
(the `expert` column, written down from reading each file).

Work trees are clones of the `fetch` tool's mirrors, made here on first use:

    git clone /work/.mirror/OWNER+NAME/repo REPOS/NAME && git -C REPOS/NAME checkout COMMIT

Nothing fetched is committed; only the table of names, commits and paths is.

    .venv/bin/python bench/savings_real.py [--repos DIR] [--mirrors DIR] [--max-commits N]
        [--only SUBSTRING ...] [--json OUT] [--render JSON]

Figures are what `layerlens suggest --format json` computes: the same analysis and the same
`suggest()` (in process, for speed), the rebuild cost priced with layerlens's documented
defaults unless a build log or image says better (marked estimated).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@dataclass(frozen=True)
class Target:
    slug: str  # owner/name on GitHub
    commit: str  # the commit measured (its history is the replay window)
    dockerfile: str  # relative to the repository root
    context: str | None  # relative to the root; None: the Dockerfile's directory
    ecosystem: str
    expert: str  # the rewrite an expert makes by hand


T = Target
TARGETS: tuple[Target, ...] = (
    T("psf/black", "8947c48ef2077c3a301b03c1e814dc2e3f78436e", "Dockerfile", None, "python",
      "apt install and venv creation above `COPY . /src`; the pip/hatch build stays after it"),
    T("locustio/locust", "407343d0f5ab84a32f41f6f9a7c991188d10a55a", "Dockerfile", None,
      "python", "uv installer download (ADD + RUN sh) above `COPY . /build`; uv cache mount"),
    T("postmanlabs/httpbin", "f8ec666b4d1b654e4ff6aedd356f510dcac09f83", "Dockerfile", None,
      "python", "already installs from Pipfile first; `pip install /httpbin` of the project "
      "stays last (nothing to move); pip cache mount"),
    T("jupyterhub/jupyterhub", "44a02299c138542c64ef0587b210b8f1de18e6e2", "Dockerfile", None,
      "python", "copy package.json + pyproject, install JS and Python deps, then the source; "
      "wheel build stays after `COPY . .`"),
    T("juice-shop/juice-shop", "33518f5a0911e25d9df747b1e70fb7af279a755c", "Dockerfile", None,
      "node", "`npm install -g typescript` and the cyclonedx global install (with its ARG) "
      "above the COPY; the 8 rm/chmod RUNs in one; `npm install` stays after `COPY . "
      "/juice-shop` (its postinstall builds the frontend from the source, and there is no "
      "lockfile)"),
    T("ether/etherpad-lite", "b827f5b3d93bc79fc9014c7d9f8b900956b8af65", "Dockerfile", None,
      "node", "copy package.json, pnpm-lock and workspace manifests, `pnpm install`, then "
      "`COPY . .`; pnpm store cache mount"),
    T("excalidraw/excalidraw", "4872083c044491b6d5c96ae134a75464f96d6831", "Dockerfile",
      None, "node", "copy package.json, yarn.lock and workspace package.json files, `yarn`, "
      "then `COPY . .`"),
    T("Netflix/conductor", "548f386c2c6c1e4d467b8551edbb6182881004ae",
      "docker/server/Dockerfile", ".", "java",
      "the conductor-community clone and Gradle build read nothing from the context: move "
      "them above `COPY . /conductor`; copy ui/package.json + yarn.lock before `yarn install`"),
    T("openzipkin/zipkin", "878ce2a1fad54ca941d17fdcf2e1d924b148eb1f", "docker/Dockerfile",
      ".", "java", "copy the poms and `mvn dependency:go-offline` before the source; maven "
      "cache mount"),
    T("GoogleCloudPlatform/microservices-demo", "34ffea9175946982c3088ed84994fe6019ad6e92",
      "src/adservice/Dockerfile", None, "java",
      "drop the second `chmod +x gradlew` after `COPY . .` (already done); gradle cache mount"),
    T("kubernetes-up-and-running/kuard", "a27b6968777a865cea3af83713795b634c38858b",
      "Dockerfile", None, "go", "copy go.mod/go.sum, `go mod download`; copy the client "
      "package.json and npm install, then `COPY . .`"),
    T("rclone/rclone", "c1b414e2cf6d63937caf102a49f43cc3637e9c4f", "Dockerfile", None, "go",
      "`apk add make bash gawk git` above `COPY . /go/src/...`; go.mod/go.sum + "
      "`go mod download` before the source; go build cache mount"),
    T("huginn/huginn", "9faad4aeee0d97570693377e0a281567e775abb4",
      "docker/single-process/Dockerfile", ".", "ruby",
      "copy package.json + lock and `npm install --production` before `COPY ./ /app/`"),
    T("huginn/huginn", "9faad4aeee0d97570693377e0a281567e775abb4",
      "docker/multi-process/Dockerfile", ".", "ruby",
      "copy package.json + lock and `npm install --production` before `COPY ./ /app/`"),
    T("rubygems/rubygems.org", "3c8ea0d4cbe85bd2a2bb5d22486247656a3dfb6c", "Dockerfile",
      None, "ruby", "gems already first (no package.json at this commit); asset precompile "
      "and bootsnap stay after `COPY . /app/`; little to move"),
    T("snipe/snipe-it", "5aa5c48018f25ae5eb8671bc278469e85d0ac054", "Dockerfile", None,
      "php", "copy composer.json/lock and `composer install --no-scripts --no-autoloader` "
      "before `COPY . /var/www/html`; `composer dump-autoload` after"),
    T("snipe/snipe-it", "5aa5c48018f25ae5eb8671bc278469e85d0ac054", "Dockerfile.alpine", None,
      "php", "copy composer.json/lock and `composer install --no-scripts --no-autoloader` "
      "before `COPY . /var/www/html`; `composer dump-autoload` after"),
    T("pixelfed/pixelfed", "3cb50af8a3d17f06a44f0e0c8a1678ed543fb5e0",
      "contrib/docker/Dockerfile.apache", ".", "php",
      "copy composer.json/lock, `composer install --no-scripts --no-autoloader`, then "
      "`COPY . /var/www/`"),
    T("meilisearch/meilisearch", "5cb2f2e94befc717bbea60fec4a31ee64d2f60fd", "Dockerfile",
      None, "rust", "copy every Cargo.toml + Cargo.lock and `cargo fetch` before `COPY . .`; "
      "cargo registry and target cache mounts"),
    T("lldap/lldap", "9cc54ab03c5a044bfe574e30a6b6245d45c8e7b9", "Dockerfile", None, "rust",
      "already cargo-chef; narrow the planner's `COPY . .` to the Cargo manifests"),
    T("valeriansaliou/sonic", "44ed77d8843404c6a77e45928fc4aae6e8fcb453", "Dockerfile", None,
      "rust", "the rustup/apt RUNs are already above; copy Cargo.toml/lock and "
      "`cargo fetch` before `COPY . /app`; drop `cargo clean`"),
    T("svenstaro/miniserve", "a576252731e2d28b427e4b317a9043bafc87ce84", "Dockerfile", None, "rust",
      "copy Cargo.toml/lock and `cargo fetch` before `COPY . $APP_HOME`; cargo cache mounts"),
)


@dataclass
class Row:
    slug: str
    commit: str
    dockerfile: str
    context: str | None
    ecosystem: str
    expert: str
    window: int | None = None
    before: float | None = None  # mean replayed rebuild seconds per commit, today's file
    safe: float | None = None  # after the safe fixes
    unsafe: float | None = None  # after safe + unsafe fixes
    safe_rules: tuple[str, ...] = ()
    unsafe_rules: tuple[str, ...] = ()
    # today's file over the commits at which the rewrite builds too, and how many commits
    # the rewrite fails at where today's file builds (cache/costs.py paired): the cut
    # compares the same commits
    safe_base: float | None = None
    unsafe_base: float | None = None
    safe_failed: int = 0
    unsafe_failed: int = 0
    estimated: bool | None = None
    hints: int = 0
    cpu_seconds: float | None = None
    problem: str | None = None

    @property
    def safe_cut(self) -> float | None:
        return _cut(self.before if self.safe_base is None else self.safe_base, self.safe)

    @property
    def unsafe_cut(self) -> float | None:
        return _cut(self.before if self.unsafe_base is None else self.unsafe_base,
                    self.unsafe)


def _cut(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or before <= 0:
        return None
    return (before - after) / before


def work_tree(t: Target, repos: Path, mirrors: Path) -> Path:
    """A work tree of `t.slug` at `t.commit` under `repos` (cloned from the mirror)."""
    owner, name = t.slug.split("/", 1)
    wt = repos / f"{name}@{t.commit[:10]}"
    if not wt.is_dir():
        mirror = mirrors / f"{owner}+{name}" / "repo"
        if not mirror.is_dir():
            raise FileNotFoundError(f"no mirror {mirror}: fetch github:{t.slug} first")
        subprocess.run(["git", "clone", "-q", "--no-checkout", str(mirror), str(wt)],
                       check=True)
        subprocess.run(["git", "-C", str(wt), "checkout", "-q", "--detach", t.commit],
                       check=True)
    return wt


def measure(t: Target, wt: Path, max_commits: int) -> Row:
    from layerlens.analysis import analyze
    from layerlens.cache.costs import paired
    from layerlens.cli import _options, build_parser
    from layerlens.suggest.engine import suggest
    from layerlens.suggest.rule import Subject

    row = Row(t.slug, t.commit, t.dockerfile, t.context, t.ecosystem, t.expert)
    argv = ["suggest", str(wt / t.dockerfile), "--max-commits", str(max_commits)]
    if t.context is not None:
        argv += ["--context", str(wt / t.context)]
    ns = build_parser().parse_args(argv)
    start = resource.getrusage(resource.RUSAGE_SELF)
    analysis = analyze(_options(ns))
    if analysis.history is None:
        row.problem = "no history"
        return row
    base = analysis.replay_text(analysis.dockerfile.source)
    row.window = base.builds if base else None
    row.before = base.mean_seconds if base else None
    row.estimated = base.estimated if base else None
    for unsafe in (False, True):
        rep = suggest(analysis, unsafe_fixes=unsafe)
        if not unsafe:
            row.hints = sum(1 for s in rep.suggestions if s.fix_class == "hint")
        text = rep.rewritten if rep.rewritten is not None else analysis.dockerfile.source
        ignore = rep.rewritten_ignore
        after = Subject(analysis, text, ignore if ignore is not None
                        else analysis.ignore_text).summary(text) \
            if (rep.rewritten or ignore) else base
        pair = paired(base, after) if base and after else None
        val = pair.after_seconds if pair else None
        if unsafe:
            row.unsafe, row.unsafe_rules = val, rep.applied
            row.unsafe_base, row.unsafe_failed = (pair.before_seconds, pair.after_failed) \
                if pair else (None, 0)
        else:
            row.safe, row.safe_rules = val, rep.applied
            row.safe_base, row.safe_failed = (pair.before_seconds, pair.after_failed) \
                if pair else (None, 0)
    end = resource.getrusage(resource.RUSAGE_SELF)
    row.cpu_seconds = round(end.ru_utime + end.ru_stime - start.ru_utime - start.ru_stime, 2)
    return row


def _fmt(v: float | None) -> str:
    return "unknown" if v is None else f"{v:.1f}"


def _pct(v: float | None) -> str:
    return "unknown" if v is None else f"{v:.0%}"


def _fails(n: int) -> str:
    """A rewrite's failed builds, where today's file builds: its seconds and cut are over
    the other commits."""
    return f" ({n} fail)" if n else ""


def render(rows: list[Row]) -> str:
    out = ["| repository | commit | Dockerfile | eco | window | before s | safe s | unsafe s "
           "| safe cut | unsafe cut | safe fixes | unsafe fixes | expert rewrite |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.problem:
            out.append(f"| {r.slug} | {r.commit[:10]} | {r.dockerfile} | {r.ecosystem} | "
                       f"{r.problem} |||||||| {r.expert} |")
            continue
        out.append(
            f"| {r.slug} | {r.commit[:10]} | {r.dockerfile}"
            f"{' (-C ' + r.context + ')' if r.context else ''} | {r.ecosystem} | {r.window} | "
            f"{_fmt(r.before)} | {_fmt(r.safe)}{_fails(r.safe_failed)} | "
            f"{_fmt(r.unsafe)}{_fails(r.unsafe_failed)} | {_pct(r.safe_cut)} | "
            f"{_pct(r.unsafe_cut)} | {','.join(r.safe_rules) or '-'} | "
            f"{','.join(r.unsafe_rules) or '-'} | {r.expert} |")
    cuts = [r.safe_cut for r in rows if r.safe_cut is not None]
    ucuts = [r.unsafe_cut for r in rows if r.unsafe_cut is not None]
    if cuts:
        out.append("")
        out.append(f"Mean cut over {len(cuts)} Dockerfiles: safe {sum(cuts) / len(cuts):.1%}, "
                   f"with --unsafe-fixes {sum(ucuts) / len(ucuts):.1%}; median safe "
                   f"{sorted(cuts)[len(cuts) // 2]:.1%}, unsafe "
                   f"{sorted(ucuts)[len(ucuts) // 2]:.1%}.")
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repos", default="/tmp/layerlens-bench-repos",
                    help="where work trees are (made on first use)")
    ap.add_argument("--mirrors", default="/work/.mirror")
    ap.add_argument("--max-commits", type=int, default=200)
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--json", help="write the rows as JSON here")
    ap.add_argument("--render", help="print the table of a JSON file written by --json")
    ns = ap.parse_args()
    if ns.render:
        data = json.loads(Path(ns.render).read_text())
        rows = [Row(**{k: (tuple(v) if k.endswith("_rules") else v) for k, v in d.items()})
                for d in data]
        print(render(rows), end="")
        return 0
    repos = Path(ns.repos)
    repos.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    for t in TARGETS:
        if ns.only and not any(s in f"{t.slug}/{t.dockerfile}" for s in ns.only):
            continue
        t0 = time.monotonic()
        try:
            row = measure(t, work_tree(t, repos, Path(ns.mirrors)), ns.max_commits)
        except Exception as exc:  # a bench row, not a crash of the whole table
            row = Row(t.slug, t.commit, t.dockerfile, t.context, t.ecosystem, t.expert,
                      problem=f"{type(exc).__name__}: {exc}"[:200])
        rows.append(row)
        print(f"{t.slug} {t.dockerfile}: before {_fmt(row.before)} safe {_fmt(row.safe)} "
              f"unsafe {_fmt(row.unsafe)} {row.safe_rules} {row.unsafe_rules} "
              f"{row.problem or ''} ({time.monotonic() - t0:.1f} s wall, "
              f"{row.cpu_seconds} s CPU)", file=sys.stderr, flush=True)
    if ns.json:
        Path(ns.json).write_text(json.dumps([asdict(r) for r in rows], indent=1))
    print(render(rows), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
