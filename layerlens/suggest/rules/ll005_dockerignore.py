"""LL005: keep files that no instruction needs out of the build context.

Docs, tests, CI configuration, editor files, `.git` and the Dockerfile itself churn, and a
broad COPY rebuilds on every change to them. A candidate is proposed only when it is
present, copied, named by no instruction and read by no build tool (suggest/buildreads.py).
Every entry is an unsafe fix: it removes files from the image. For each, the rebuilds it
caused in the window: commits in which it changed and every other copied change was a candidate too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from layerlens.context.patterns import Matcher, go_clean, read_ignore_lines
from layerlens.suggest.buildreads import git_reader, git_stages, metadata_files
from layerlens.suggest.model import Suggestion
from layerlens.suggest.rule import Rule, Subject
from layerlens.units import plural

if TYPE_CHECKING:
    from layerlens.cache.timeline import HistoryAnalysis

# (pattern for .dockerignore, what it is)
CANDIDATES: tuple[tuple[str, str], ...] = (
    (".git", "version control metadata"),
    (".github", "CI configuration"),
    (".gitlab-ci.yml", "CI configuration"),
    (".circleci", "CI configuration"),
    (".vscode", "editor settings"),
    (".idea", "editor settings"),
    ("docs", "documentation"),
    ("doc", "documentation"),
    ("tests", "tests"),
    ("test", "tests"),
    ("__pycache__", "Python bytecode"),
    (".pytest_cache", "test cache"),
    (".venv", "a local virtualenv"),
    ("node_modules", "local node modules"),
    ("README.md", "documentation"),
    ("CHANGELOG.md", "documentation"),
    (".gitignore", "version control metadata"),
    (".dockerignore", "the ignore file itself"),
    ("Dockerfile", "the Dockerfile itself"),
)


def _naming(subject: Subject, name: str):
    """The first instruction that mentions the candidate (then it may be needed), or None."""
    for ins in subject.df.instructions:
        if ins.keyword in ("from", "arg", "label", "expose", "stopsignal", "maintainer"):
            continue
        text = ins.original + "".join(h.content for h in ins.heredocs)
        if name in text:
            return ins
    return None


def _named(subject: Subject, name: str) -> bool:
    return _naming(subject, name) is not None


def check(subject: Subject) -> list[Suggestion]:
    df = subject.df
    copies = {ins.index: set(subject.inputs[ins.index].paths) for ins in df.instructions
              if ins.index in subject.inputs and subject.inputs[ins.index].files}
    if not copies:
        return []
    every = set().union(*copies.values())
    chosen: dict[str, tuple[str, list[str], list[int]]] = {}
    kept: dict[str, str] = {}  # candidates a build tool reads: never offered, and why
    df_name = Path(df.path).name
    root = Path(subject.context.root)
    analysis = subject.analysis

    def read(rel: str) -> str:  # through the analysis: each file read once, not per round
        data = analysis.context_file(rel)
        if data is None:
            return ""
        # as Path.read_text: universal newlines
        text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
        return text[:200_000]

    copy_git = {i for i, ps in copies.items() if any(p.startswith(".git/") for p in ps)}
    git_why = git_reader(df, root, read, git_stages(df, copy_git))
    named = metadata_files(root, read)
    by_top: dict[str, list[str]] = {}  # first path segment -> the copied paths under it
    for p in every:
        by_top.setdefault(p.split("/", 1)[0], []).append(p)
    for pat, what in CANDIDATES:
        if pat == "Dockerfile":
            pat = df_name
        m = Matcher.from_lines([pat])
        lit = m.literal
        if lit is not None and "/" not in lit:
            # the same answer as m.excludes: the path is `lit` or below it
            paths = by_top.get(lit, [])
        elif lit is not None:
            below = lit + "/"
            paths = [p for p in every if p == lit or p.startswith(below)]
        else:
            paths = [p for p in every if m.excludes(p)]
        if not paths:
            continue
        naming = _naming(subject, pat)
        if naming is not None:
            if pat == ".git":  # churns at every commit: never left out without a word
                kept[pat] = (f"the {naming.keyword.upper()} at line {naming.start_line} "
                             "names .git")
            continue
        if pat == ".git" and git_why:
            kept[pat] = git_why
            continue
        meta = next((named[p] for p in paths if p in named), None)
        if meta:
            kept[pat] = f"named by {meta}"
            continue
        hit = set(paths)  # every COPY's paths are among `every`: no second match needed
        by = [i for i, ps in copies.items() if not hit.isdisjoint(ps)]
        chosen[pat] = (what, paths, by)
    kept_note = ("not offered, since the build may read them: " + "; ".join(
        f"{k} ({v})" for k, v in kept.items())) if kept else None
    if not chosen:
        return _git_withheld(subject, copies, kept_note) if ".git" in kept else []
    # A new .dockerignore would itself be copied by a COPY of the whole context: ignore it too,
    # or the next run would propose exactly that.
    if subject.ignore_text is None and ".dockerignore" not in chosen and not _named(
            subject, ".dockerignore") and any(
            go_clean("/" + s)[1:] == "" for ins in df.instructions if ins.index in copies
            for s in ins.expanded[:-1]):
        chosen[".dockerignore"] = (
            "the new ignore file itself: the COPY of the whole context would copy it", [], [])
    patterns = tuple(chosen)
    caused = _caused(subject, patterns)
    old = subject.ignore_text or ""
    new_ignore = old + ("" if not old or old.endswith("\n") else "\n") + "".join(
        p + "\n" for p in patterns)
    savings = subject.measure(subject.text, extra_ignore=patterns)
    lines = tuple(sorted({df.instructions[i].start_line for _, _, by in chosen.values()
                          for i in by}))
    parts = []
    for pat, (what, paths, _) in chosen.items():
        n = caused.get(pat)
        tail = f", caused {plural(n, 'rebuild')}" if n is not None else ""
        count = f", {plural(len(paths), 'file')}" if paths else ""
        parts.append(f"{pat} ({what}{count}{tail})")
    return [Suggestion(
        "LL005", RULE.title,
        f"add to {ignore_name(subject)}: " + "; ".join(parts) + (
            " (caused: the commits at which nothing else that is copied changed; entries "
            "that changed together share them)" if caused else ""),
        RULE.reason,
        lines, True, savings, dockerignore=new_ignore, note=kept_note, safety="unsafe",
        unsafe_reason="every .dockerignore entry removes files from the image and from what "
        "the build can read",
    )]


def _git_withheld(subject: Subject, copies: dict[int, set[str]],
                  note: str | None) -> list[Suggestion]:
    """The hint when `.git`, copied and changing at every commit, is the only candidate and
    is withheld: a silent rule would leave the reader wondering why the churn they see in
    `analyze` has no entry (healthchecks, errbit)."""
    df = subject.df
    by = [i for i, ps in copies.items() if any(p.startswith(".git/") for p in ps)]
    n = sum(1 for p in set().union(*copies.values()) if p.startswith(".git/"))
    return [Suggestion(
        "LL005", RULE.title,
        f"{ignore_name(subject)}: .git (version control metadata, {plural(n, 'file')}) is "
        "copied and changes at every commit, but is not offered",
        RULE.reason, tuple(sorted(df.instructions[i].start_line for i in by)), False,
        note=note)]


def ignore_name(subject: Subject) -> str:
    """The name of the ignore file the fix edits: the one in force (`Dockerfile.dockerignore`
    beside the Dockerfile wins over the context's `.dockerignore`, BuildKit's dockerui rule),
    else the `.dockerignore` it creates."""
    source = subject.analysis.context.ignore_source
    return Path(source).name if source else ".dockerignore"


def _excludes(m: Matcher) -> Callable[[str], bool]:
    """`m.excludes`, by a prefix test when `m` is one literal pattern (`Matcher.literal`)."""
    lit = m.literal
    if lit is None:
        return m.excludes
    below = lit + "/"
    return lambda p: p == lit or p.startswith(below)


def _caused(subject: Subject, patterns: tuple[str, ...]) -> dict[str, int]:
    """Pattern -> the replayed commits that rebuilt something and at which every changed path
    that reached a COPY/ADD was one the pattern set excludes (entries that changed together
    share a commit).

    What reached a COPY is judged at that commit, by the replay: the paths it changed that
    reached the builder (`CommitReplay.changed_paths`) and that a COPY/ADD source of the
    plan reads, not today's list of copied files. A file since deleted or renamed is not in
    today's list, and counting only today's files made every commit that changed one look
    like a `.git`-only commit (lemmy: `.git` "caused 156 rebuilds" of 5 avoided).

    From the analysis alone (its replay of today's file), so asked once per pattern set,
    not in every round of the combined rewrite (`Analysis.derived`)."""
    hist = subject.history
    if hist is None or hist.replay is None or hist.replay.plan is None:
        return {}
    return subject.analysis.derived(("LL005 caused", patterns),
                                    lambda: _count_caused(hist, patterns))


def _count_caused(hist: HistoryAnalysis, patterns: tuple[str, ...]) -> dict[str, int]:
    """`_caused`, counted over `hist.replay` (pattern -> commits, every pattern a key)."""
    matchers = {p: _excludes(Matcher.from_lines(read_ignore_lines(p))) for p in patterns}
    # each source's answers through the memo every replay of this history shares: the
    # window's tracks asked them of every path it holds already (LL001)
    memos = [(r, hist.setup.matching.read_by(r)) for sp in hist.replay.plan.stages
             for op in sp.ops for r in op.readers]

    def read(p: str) -> bool:  # Op.reads, for any operation of the plan
        for r, memo in memos:
            hit = memo.get(p)
            if hit is None:
                hit = memo[p] = r.reads(p)
            if hit:
                return True
        return False

    # Per changed path, once: None when no COPY/ADD reads it, else the patterns excluding
    # it (empty: none does). Then each commit is a set of these, looked up in C.
    commits = [c.changed_paths for c in hist.replay.commits
               if c.rebuilt_ops and not c.failed]  # else no rebuild to attribute
    tag: dict[str, frozenset[str] | None] = {}
    for p in set(chain.from_iterable(commits)):
        tag[p] = frozenset(pat for pat, excludes in matchers.items() if excludes(p)) \
            if read(p) else None
    nothing: frozenset[str] = frozenset()
    counts: Counter[str] = Counter()
    for changed in commits:
        got = set(map(tag.__getitem__, changed))
        got.discard(None)
        if got and nothing not in got:  # it changed copied paths, each excluded by a pattern
            counts.update(nothing.union(*got))
    return {p: counts.get(p, 0) for p in patterns}


RULE = Rule(
    "LL005", "dockerignore", "Keep files no instruction needs out of the build context",
    "A broad COPY rebuilds whenever any file it brings in changes, and the files end up in the "
    "image. The image will no longer contain them: check that the application does not read "
    "them at run time.", ("unsafe", "hint"),
    "`.dockerignore` entries for copied files no instruction names (`.git`, docs, tests, CI "
    "and editor files, the Dockerfile), with the rebuilds each caused; always unsafe, and never "
    "for files build tools read (`.git` for git, Go and VCS-versioned Python builds; files "
    "package metadata names)", check)
