"""Plain view data for interactive front ends, derived from one `Analysis` (no UI imports).

Everything a screen shows is computed here as simple frozen records, so a front end only
renders, and the same data can be tested without a terminal.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from layerlens.analysis import Analysis
from layerlens.jsonout import safe_text
from layerlens.suggest.engine import SuggestReport
from layerlens.suggest.model import Suggestion
from layerlens.suggest.output import unified_diff
from layerlens.textfit import cells

SORT_KEYS = ("line", "size", "shadowed", "change", "share")
WEEK = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Totals:
    size_bytes: int | None
    shadowed_bytes: int | None
    efficiency: float | None
    rebuild_seconds: float | None  # expected per commit
    push_bytes: float | None  # expected per commit
    saving_seconds: float | None  # per commit, if every fixable suggestion is applied
    commits: int
    estimated: bool
    push_unknown_layers: int = 0  # pushed layer rebuilds of unknown size in the window
    # per commit with the unsafe fixes too (the report's headline replay); None: no more
    # than the safe fixes, or not measured
    saving_unsafe_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class LayerRow:
    key: str  # stable row id
    stage: int
    stage_label: str
    instruction: int | None  # None for base-image rows
    line: int | None
    text: str
    size_bytes: int | None
    shadowed_bytes: int | None
    change_rate: float | None
    share: float | None
    layers: tuple[int, ...]  # image layer indices


@dataclass(frozen=True, slots=True)
class InputFile:
    path: str
    size: int
    commits: int  # commits in the window that changed it


@dataclass(frozen=True, slots=True)
class FileNode:
    path: str
    kind: str
    size: int
    change: str  # added, modified, removed, unchanged
    shadowed: bool  # a later layer hides it


@dataclass(frozen=True, slots=True)
class CommitRow:
    sha: str
    time: int
    first_line: int | None
    seconds: float


@dataclass(frozen=True, slots=True)
class PathNode:
    """One entry of a path tree, computed whole before any widget draws it.

    `name` ends in "/" for a directory; `size` is bytes (a directory's: the sum below it);
    `status` is a file's change ("added", "modified", "removed", "unchanged"), its churn
    ("3 commits"), or "" for a directory; `shadowed`: a later layer hides it. `children`
    (None for a file) are ordered as shown: directories first, then by size or name.
    `name_width` is the widest child name, so labels line up in columns; `files` counts
    the entries shown as files at or below this node."""

    name: str
    size: int
    status: str = ""
    shadowed: bool = False
    children: tuple[PathNode, ...] | None = None
    name_width: int = 0
    files: int = 1


@dataclass(frozen=True, slots=True)
class SuggestionItem:
    """A suggestion as the TUI offers it: `patch` is the unified diff of every file its fix
    rewrites ("" for a hint), `writes` the files it would write, in that order, named from
    the Dockerfile's folder ("pyweb/Dockerfile.dockerignore"). `shown_at`
    are the table rows' lines it is listed under: its own lines that have a row, or, when
    none has (an ARG, an ENV), the first row after them."""

    suggestion: Suggestion
    patch: str
    writes: tuple[str, ...]
    shown_at: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class WeekSeries:
    """Rebuilds of one layer per week over the history window, beside all commits per week.
    `start` is the first week's Unix time (UTC); both tuples have one count per week."""

    start: int
    rebuilds: tuple[int, ...]
    commits: tuple[int, ...]


@dataclass(frozen=True)
class ViewData:
    analysis: Analysis
    report: SuggestReport | None
    totals: Totals
    rows: tuple[LayerRow, ...]
    churn: dict[str, int] = field(default_factory=dict)  # context path -> commits changed
    items: tuple[SuggestionItem, ...] = ()  # report.suggestions with their diffs
    # what is still being computed after this view was built ("" when nothing): the TUI
    # shows the static analysis first, then the history, then the suggestions
    pending: str = ""
    title: str = ""  # the Dockerfile as "folder/name"
    # path trees already built for this view, by what was asked (see `inputs_tree`)
    _trees: dict[tuple, PathNode] = field(default_factory=dict, compare=False, repr=False)

    def sorted_rows(self, key: str, reverse: bool = False) -> list[LayerRow]:
        def k(r: LayerRow):
            v = {"line": r.line if r.line is not None else -1,
                 "size": r.size_bytes or 0, "shadowed": r.shadowed_bytes or 0,
                 "change": r.change_rate or 0.0, "share": r.share or 0.0}[key]
            return (v, r.key)

        return sorted(self.rows, key=k, reverse=reverse)

    def inputs_of(self, row: LayerRow, by: str = "size") -> list[InputFile]:
        if row.instruction is None:
            return []
        inp = self.analysis.inputs.get(row.instruction)
        if inp is None:
            return []
        sizes = self.analysis.context.by_path()
        files = [InputFile(p, sizes[p].size if p in sizes else 0, self.churn.get(p, 0))
                 for p in inp.paths]
        if by == "churn":
            files.sort(key=lambda f: (-f.commits, f.path))
        elif by == "size":
            files.sort(key=lambda f: (-f.size, f.path))
        return files

    def files_of(self, row: LayerRow, cumulative: bool = False,
                 pattern: str = "") -> list[FileNode]:
        """The layer's own entries, or everything visible up to it (dive's two views)."""
        img = self.analysis.image
        if img is None or not row.layers:
            return []
        last = max(row.layers)
        shadowed = img.hidden
        out: dict[str, FileNode] = {}
        for rec in img.files:
            if cumulative:
                if rec.layer > last:
                    break
            elif rec.layer not in row.layers:
                continue
            if rec.change == "removed":
                if cumulative:
                    for p in [p for p in out if p == rec.path or p.startswith(rec.path + "/")]:
                        del out[p]
                else:
                    out[rec.path] = FileNode(rec.path, rec.kind, 0, "removed", False)
                continue
            change = rec.change if (rec.layer in row.layers) else "unchanged"
            out[rec.path] = FileNode(rec.path, rec.kind, rec.size, change,
                                     (rec.layer, rec.path) in shadowed)
        nodes = list(out.values())
        if pattern:
            nodes = [n for n in nodes if pattern in n.path]
        return sorted(nodes, key=lambda n: n.path)

    def commits_of(self, row: LayerRow) -> list[CommitRow]:
        """The window's commits that rebuild `row`, newest first."""
        hist = self.analysis.history
        if hist is None or row.instruction is None:
            return []
        out = []
        for c in hist.costs.commits:
            if row.instruction in c.rebuilt_instructions:
                first = next((line for s, line in c.rebuilt if s == row.stage), None)
                out.append(CommitRow(c.sha, c.time, first, c.rebuild_seconds))
        out.reverse()
        return out

    def weekly(self, row: LayerRow) -> WeekSeries | None:
        """Rebuilds of `row` per week (7 days from the window's first commit), and all the
        window's commits per week; None without a history."""
        hist = self.analysis.history
        if hist is None or not hist.costs.commits:
            return None
        commits = hist.costs.commits
        t0 = min(c.time for c in commits)
        weeks = (max(c.time for c in commits) - t0) // WEEK + 1
        rebuilds, total = [0] * weeks, [0] * weeks
        for c in commits:
            w = (c.time - t0) // WEEK
            total[w] += 1
            if row.instruction is not None and row.instruction in c.rebuilt_instructions:
                rebuilds[w] += 1
        return WeekSeries(t0, tuple(rebuilds), tuple(total))

    def inputs_tree(self, row: LayerRow, by: str = "size") -> PathNode:
        """`inputs_of` as a tree; each file's status is its churn in the window. Built once
        per view and question (safe to call from a worker thread)."""
        key = ("inputs", row.key, by)
        got = self._trees.get(key)
        if got is None:
            files = self.inputs_of(row, by)
            got = self._trees[key] = path_tree(
                [(f.path, f.size, f"{f.commits} commit{'s' * (f.commits != 1)}", False)
                 for f in files], by_size=by == "size")
        return got

    def files_tree(self, row: LayerRow, cumulative: bool = False, pattern: str = "",
                   by_size: bool = False) -> PathNode:
        """`files_of` as a tree; each file's status is its change in the layer. Built once
        per view and question, like `inputs_tree`."""
        key = ("files", row.key, cumulative, pattern, by_size)
        got = self._trees.get(key)
        if got is None:
            nodes = self.files_of(row, cumulative, pattern)
            got = self._trees[key] = path_tree(
                [(n.path, n.size, n.change, n.shadowed) for n in nodes], by_size=by_size)
        return got

    def source_span(self, row: LayerRow) -> tuple[int, int] | None:
        """The Dockerfile lines (1-based, inclusive) of `row`'s instruction."""
        if row.instruction is None:
            return None
        ins = self.analysis.dockerfile.instructions[row.instruction]
        return ins.start_line, ins.end_line

    def suggestions_for(self, row: LayerRow) -> list[Suggestion]:
        return [i.suggestion for i in self.items_for(row)]

    def items_for(self, row: LayerRow) -> list[SuggestionItem]:
        """The suggestions touching `row`'s line, best first, with their diffs."""
        if row.line is None:
            return []
        return [i for i in self.items if row.line in i.shown_at]


def path_tree(entries: list[tuple[str, int, str, bool]], by_size: bool = False) -> PathNode:
    """A tree of slash paths from (path, size, status, shadowed) entries. A path that is
    also a directory of other entries becomes that directory. Directories come first, then
    largest first (`by_size`) or by name."""
    root: dict = {}
    for path, size, status, shadowed in entries:
        node = root
        parts = path.split("/")
        for part in parts[:-1]:
            node = node.setdefault(part + "/", {})
        node[parts[-1]] = (size, status, shadowed)

    def build(name: str, folder: dict) -> PathNode:
        kids = []
        for k, v in folder.items():
            if isinstance(v, dict):
                kids.append(build(k, v))
            elif k + "/" not in folder:  # a directory's own entry joins its folder
                kids.append(PathNode(k, v[0], v[1], v[2]))
        kids.sort(key=lambda n: (n.children is None, -n.size if by_size else 0, n.name))
        return PathNode(name, sum(k.size for k in kids), "", False, tuple(kids),
                        max((cells(safe_text(k.name)) for k in kids), default=0),
                        sum(k.files for k in kids))

    return build("", root)


def _items(a: Analysis, report: SuggestReport | None,
           row_lines: list[int]) -> tuple[SuggestionItem, ...]:
    if report is None:
        return ()
    df_path = a.options.dockerfile
    top = df_path.resolve().parent.parent

    def name(p: Path) -> str:
        p = p.resolve()
        return str(p.relative_to(top)) if p.is_relative_to(top) else str(p)

    out = []
    for s in report.suggestions:
        shown = tuple(x for x in s.lines if x in row_lines)
        if not shown and s.lines:
            shown = tuple(x for x in row_lines if x > min(s.lines))[:1] or row_lines[-1:]
        patch, writes = "", []
        if s.dockerfile is not None:
            patch += unified_diff(a.dockerfile.source, s.dockerfile, df_path.name)
            writes.append(name(df_path))
        if s.dockerignore is not None:
            patch += unified_diff(a.ignore_text or "", s.dockerignore, report.ignore_path.name)
            writes.append(name(report.ignore_path))
        out.append(SuggestionItem(s, patch, tuple(writes), shown))
    return tuple(out)



def build_view(a: Analysis, report: SuggestReport | None, pending: str = "") -> ViewData:
    """Everything the TUI shows for `a` and its suggestions `report` (None: not measured
    yet). `pending` names what is still being computed ("" when nothing)."""
    df = a.dockerfile
    hist = a.history
    stats = hist.costs.instructions if hist is not None else {}
    churn: Counter[str] = Counter()
    if hist is not None:
        for c in hist.replay.commits:
            churn.update(c.changed_paths)
    rows: list[LayerRow] = []
    by_ins: dict[int, list[int]] = {}
    for s in a.layer_sources:
        if s.instruction is not None:
            by_ins.setdefault(s.instruction, []).append(s.layer)
    img = a.image
    if img is not None:
        base = [s.layer for s in a.layer_sources if s.instruction is None]
        if base:
            rows.append(LayerRow("base", -1, "base", None, None, f"base image {df.stages[0].base}"
                                 if df.stages else "base image",
                                 sum(img.layers[i].size_bytes for i in base),
                                 sum(img.layers[i].shadowed_bytes for i in base), None, None,
                                 tuple(base)))
    needed = a.needed_stages()
    for st in df.stages:
        if st.index not in needed:
            continue
        for i in st.instructions[1:]:
            ins = df.instructions[i]
            if ins.keyword not in ("run", "copy", "add", "workdir"):
                continue
            layers = tuple(by_ins.get(i, ()))
            size = sum(img.layers[x].size_bytes for x in layers) if img and layers else None
            if size is None:
                inp = a.inputs.get(i)
                size = inp.bytes if inp is not None and inp.from_context else None
            shadow = sum(img.layers[x].shadowed_bytes for x in layers) if img and layers else None
            st_ = stats.get(i)
            rows.append(LayerRow(
                f"i{i}", st.index, st.label, i, ins.start_line, ins.summary, size, shadow,
                st_.change_rate if st_ else None, st_.share if st_ else None, layers,
            ))
    saving = report.total_savings.seconds_per_commit if report and report.total_savings else None
    saving_unsafe = _unsafe_saving(report)
    totals = Totals(
        img.size_bytes if img else sum(r.size_bytes or 0 for r in rows) or None,
        img.shadowed_bytes if img else None,
        img.efficiency if img else None,
        hist.costs.mean_seconds if hist else None,
        hist.costs.mean_push_bytes if hist else None,
        saving, len(hist.costs.commits) if hist else 0,
        hist.costs.estimated if hist else False,
        hist.costs.unknown_push_layers if hist else 0,
        saving_unsafe,
    )
    row_lines = sorted({r.line for r in rows if r.line is not None})
    path = a.options.dockerfile
    return ViewData(a, report, totals, tuple(rows), dict(churn),
                    _items(a, report, row_lines), pending,
                    f"{path.resolve().parent.name}/{path.name}")


def _unsafe_saving(report) -> float | None:
    """Per-commit seconds the rewrite with unsafe fixes saves over today's file, from the
    report's headline replays; None when it saves no more than the safe fixes."""
    from layerlens.suggest.headline import headline

    h = headline(report) if report is not None else None
    if h is None:
        return None
    now, safe, unsafe = (h.by(v).seconds_per_commit for v in ("current", "safe", "unsafe"))
    if now is None or unsafe is None or (safe is not None and unsafe >= safe - 0.05):
        return None
    return now - unsafe
