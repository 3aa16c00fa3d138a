"""Plain view data for interactive front ends, derived from one `Analysis` (no UI imports).

Everything a screen shows is computed here as simple frozen records, so a front end only
renders, and the same data can be tested without a terminal.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from layerlens.analysis import Analysis
from layerlens.suggest.engine import SuggestReport
from layerlens.suggest.model import Suggestion

SORT_KEYS = ("line", "size", "shadowed", "change", "share")


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


@dataclass(frozen=True)
class ViewData:
    analysis: Analysis
    report: SuggestReport | None
    totals: Totals
    rows: tuple[LayerRow, ...]
    churn: dict[str, int] = field(default_factory=dict)  # context path -> commits changed

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
        hist = self.analysis.history
        if hist is None or row.instruction is None:
            return []
        out = []
        for c in hist.costs.commits:
            if row.instruction in c.rebuilt_instructions:
                first = next((line for s, line in c.rebuilt if s == row.stage), None)
                out.append(CommitRow(c.sha, c.time, first, c.rebuild_seconds))
        return out

    def churn_series(self, row: LayerRow, buckets: int = 40) -> list[int]:
        """Rebuilds of this layer over the window, in equal time buckets (for a chart)."""
        hist = self.analysis.history
        if hist is None or not hist.costs.commits:
            return []
        commits = hist.costs.commits
        t0, t1 = commits[0].time, commits[-1].time
        span = max(t1 - t0, 1)
        series = [0] * buckets
        for c in commits:
            if row.instruction is not None and row.instruction in c.rebuilt_instructions:
                series[min(buckets - 1, (c.time - t0) * buckets // span)] += 1
        return series

    def suggestions_for(self, row: LayerRow) -> list[Suggestion]:
        if self.report is None:
            return []
        if row.line is None:
            return []
        return [s for s in self.report.suggestions if row.line in s.lines]


def build_view(a: Analysis, report: SuggestReport | None) -> ViewData:
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
    totals = Totals(
        img.size_bytes if img else sum(r.size_bytes or 0 for r in rows) or None,
        img.shadowed_bytes if img else None,
        img.efficiency if img else None,
        hist.costs.mean_seconds if hist else None,
        hist.costs.mean_push_bytes if hist else None,
        saving, len(hist.costs.commits) if hist else 0,
        hist.costs.estimated if hist else False,
        hist.costs.unknown_push_layers if hist else 0,
    )
    return ViewData(a, report, totals, tuple(rows), dict(churn))
