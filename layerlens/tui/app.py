"""`layerlens tui`: explore layers, costs, history and fixes.

Data lives in plain objects (`layerlens.viewmodel.ViewData`); loading runs in a worker
thread that posts messages; widgets only render. Every string that comes from a Dockerfile,
a repository or an image is shown as a `rich.text.Text`, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Input,
    Label,
    ListItem,
    ListView,
    Sparkline,
    Static,
    TabbedContent,
    TabPane,
    Tree,
)

from layerlens.analysis import AnalyzeOptions
from layerlens.viewmodel import SORT_KEYS, LayerRow, ViewData

TABS = ("inputs", "files", "history", "suggestions", "dockerfile")
CHANGE_STYLE = {"added": "green", "modified": "yellow", "removed": "red", "unchanged": ""}


def _size(n: int | float | None) -> str:
    from layerlens.units import size

    return "-" if n is None else size(int(n))


def _secs(n: float | None) -> str:
    from layerlens.units import duration

    return "-" if n is None else duration(n)


def _bar(value: int | None, top: int, width: int = 12) -> Text:
    if not value or not top:
        return Text(" " * width)
    filled = max(1, round(width * value / top))
    return Text("█" * filled + " " * (width - filled), style="cyan")


class Loaded(Message):
    def __init__(self, view: ViewData) -> None:
        super().__init__()
        self.view = view


class Failed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class Verified(Message):
    def __init__(self, suggestion, verification) -> None:
        super().__init__()
        self.suggestion = suggestion
        self.verification = verification


class ProgressNote(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    #help { width: 72; height: auto; border: round $accent; padding: 1 2; background: $panel; }
    """

    def compose(self) -> ComposeResult:
        lines = [
            "layerlens — keys",
            "",
            "  up/down     move between layers",
            "  s / r       sort by another column / reverse",
            "  1 … 5       Inputs, Files, History, Suggestions, Dockerfile",
            "  o           inputs: order by size or by churn",
            "  c           files: this layer only / everything up to here",
            "  z           files: order by size or by name",
            "  /           files: filter by path",
            "  a           apply the selected suggestion's fix (asks first)",
            "  v           verify it first: build the original and the fix, compare images",
            "  ctrl+p      command palette",
            "  q           quit",
        ]
        yield Static(Text("\n".join(lines)), id="help")


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [Binding("escape,n", "no", "No"), Binding("y", "yes", "Yes")]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    #confirm { width: 80; height: auto; border: round $warning; padding: 1 2;
               background: $panel; }
    #confirm Horizontal { height: auto; margin-top: 1; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(Text(self.question))
            with Horizontal():
                yield Button("Apply (y)", variant="warning", id="yes")
                yield Button("Cancel (n)", id="no")

    @on(Button.Pressed, "#yes")
    def action_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_no(self) -> None:
        self.dismiss(False)


class LayerlensApp(App[None]):
    TITLE = "layerlens"
    CSS = """
    #totals { height: auto; padding: 0 1; background: $boost; }
    #status { height: 1; padding: 0 1; color: $text-muted; }
    #layers { height: 40%; min-height: 6; }
    #details { height: 1fr; }
    #files-filter { height: 3; }
    #sugs { height: auto; max-height: 8; }
    #diff { height: auto; }
    #spark { height: 3; margin: 0 1; }
    """
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("r", "reverse_sort", "Reverse"),
        Binding("o", "input_order", "Inputs order", show=False),
        Binding("c", "toggle_cumulative", "Layer/all", show=False),
        Binding("z", "files_by_size", "Files by size", show=False),
        Binding("slash", "filter_files", "Filter", show=False),
        Binding("a", "apply_fix", "Apply fix"),
        Binding("v", "verify_fix", "Verify fix"),
        *[Binding(str(n), f"tab('{t}')", t.title(), show=False)
          for n, t in enumerate(TABS, 1)],
    ]

    def __init__(self, options: AnalyzeOptions | None = None,
                 view: ViewData | None = None) -> None:
        super().__init__()
        self.options = options
        self.view: ViewData | None = view
        self.sort_key = "line"
        self.sort_reverse = False
        self.input_order = "size"
        self.cumulative = False
        self.files_by_size = False
        self.row: LayerRow | None = None

    # -- layout -----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(Text("layerlens: loading…"), id="totals")
        yield Static(Text(""), id="status")
        yield DataTable(id="layers", cursor_type="row", zebra_stripes=True)
        with TabbedContent(id="details"):
            with TabPane("Inputs", id="inputs"):
                yield Tree(Text("context files"), id="inputs-tree")
            with TabPane("Files", id="files"):
                yield Input(placeholder="filter by path", id="files-filter")
                yield Tree(Text("layer files"), id="files-tree")
            with TabPane("History", id="history"):
                yield Sparkline([], id="spark")
                yield DataTable(id="commits", cursor_type="row")
            with TabPane("Suggestions", id="suggestions"):
                yield ListView(id="sugs")
                with VerticalScroll():
                    yield Static(Text(""), id="diff")
            with TabPane("Dockerfile", id="dockerfile"):
                with VerticalScroll(id="source-scroll"):
                    yield Static(Text(""), id="source")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#layers", DataTable)
        table.add_columns("stage", "line", "instruction", "size", "", "shadowed", "rebuilt",
                          "share")
        commits = self.query_one("#commits", DataTable)
        commits.add_columns("commit", "date", "first miss", "rebuild")
        if self.view is not None:
            self.post_message(Loaded(self.view))
        else:
            self.load()

    # -- loading (worker) ------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        from layerlens.analysis import analyze
        from layerlens.errors import LayerlensError
        from layerlens.suggest.engine import suggest
        from layerlens.viewmodel import build_view

        assert self.options is not None
        try:
            a = analyze(self.options, lambda m: self.post_message(ProgressNote(m)))
            self.post_message(ProgressNote("measuring suggestions"))
            rep = suggest(a)
            self.post_message(Loaded(build_view(a, rep)))
        except LayerlensError as exc:
            self.post_message(Failed(str(exc)))

    def on_progress_note(self, msg: ProgressNote) -> None:
        self.query_one("#status", Static).update(Text(msg.text))

    def on_failed(self, msg: Failed) -> None:
        self.query_one("#status", Static).update(Text(f"error: {msg.error}", style="red"))
        self.query_one("#totals", Static).update(Text("layerlens: could not load"))

    def on_loaded(self, msg: Loaded) -> None:
        self.view = msg.view
        self.query_one("#status", Static).update(Text(""))
        self._render_totals()
        self._render_table()

    # -- rendering -------------------------------------------------------------------------
    def _render_totals(self) -> None:
        v = self.view
        assert v is not None
        t = v.totals
        a = v.analysis
        text = Text()
        df = a.options.dockerfile
        text.append(f"{df.resolve().parent.name}/{df.name}", style="bold")
        text.append(f"\u00a0│ size {_size(t.size_bytes)} │ shadowed {_size(t.shadowed_bytes)}")
        if t.efficiency is not None:
            text.append(f" │ efficiency {t.efficiency:.1%}")
        text.append("\n")
        if t.commits:
            est = " (estimated)" if t.estimated else ""
            push = "unknown" if t.push_bytes is None else _size(t.push_bytes)
            if t.push_bytes is not None and t.push_unknown_layers:
                push = "≥ " + push
            text.append(f"per commit over {t.commits} commits: rebuild {_secs(t.rebuild_seconds)}"
                        f"{est}, push {push}")
        else:
            text.append("no git history: static analysis")
        if t.saving_seconds:
            text.append(f" │ potential saving {_secs(t.saving_seconds)}/commit", style="green")
        self.query_one("#totals", Static).update(text)

    def _render_table(self) -> None:
        v = self.view
        assert v is not None
        table = self.query_one("#layers", DataTable)
        keep = self.row.key if self.row else None
        table.clear()
        rows = v.sorted_rows(self.sort_key, self.sort_reverse)
        top = max((r.size_bytes or 0 for r in rows), default=0)
        for r in rows:
            table.add_row(
                Text(r.stage_label), Text(str(r.line) if r.line else "-"),
                Text(r.text if len(r.text) <= 44 else r.text[:43] + "…"),
                Text(_size(r.size_bytes), justify="right"), _bar(r.size_bytes, top),
                Text(_size(r.shadowed_bytes), justify="right"),
                Text("-" if r.change_rate is None else f"{r.change_rate:.0%}", justify="right"),
                Text("-" if r.share is None else f"{r.share:.0%}", justify="right"),
                key=r.key,
            )
        self.sub_title = f"sorted by {self.sort_key}{' (reversed)' if self.sort_reverse else ''}"
        if rows:
            idx = next((i for i, r in enumerate(rows) if r.key == keep), 0)
            table.move_cursor(row=idx)
            self._select(rows[idx])

    @on(DataTable.RowHighlighted, "#layers")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.view is None or event.row_key is None:
            return
        row = next((r for r in self.view.rows if r.key == event.row_key.value), None)
        if row is not None and row is not self.row:
            self._select(row)

    def _select(self, row: LayerRow) -> None:
        self.row = row
        self._render_inputs()
        self._render_files()
        self._render_history()
        self._render_suggestions()
        self._render_source()

    def _render_inputs(self) -> None:
        assert self.view is not None and self.row is not None
        tree = self.query_one("#inputs-tree", Tree)
        files = self.view.inputs_of(self.row, self.input_order)
        tree.clear()
        tree.root.set_label(Text(f"{len(files)} context files, by {self.input_order}"))
        _fill_lazily(tree, [(f.path, f"{_size(f.size)}  {f.commits} commit(s)", "", f.size)
                            for f in files], by_size=self.input_order == "size")
        tree.root.expand()

    def _render_files(self) -> None:
        assert self.view is not None and self.row is not None
        tree = self.query_one("#files-tree", Tree)
        pattern = self.query_one("#files-filter", Input).value
        nodes = self.view.files_of(self.row, self.cumulative, pattern)
        tree.clear()
        mode = "everything up to this layer" if self.cumulative else "this layer only"
        if self.view.analysis.image is None:
            tree.root.set_label(Text("no image: run with --image to browse layer files"))
            return
        order = "by size" if self.files_by_size else "by name"
        tree.root.set_label(Text(f"{len(nodes)} entries ({mode}, {order})"))
        _fill_lazily(tree, [(n.path, f"{n.change}  {_size(n.size)}"
                             + ("  (shadowed)" if n.shadowed else ""),
                             CHANGE_STYLE[n.change] + (" strike dim" if n.shadowed else ""),
                             n.size)
                            for n in nodes], by_size=self.files_by_size)
        tree.root.expand()

    def _render_history(self) -> None:
        assert self.view is not None and self.row is not None
        self.query_one("#spark", Sparkline).data = self.view.churn_series(self.row)
        table = self.query_one("#commits", DataTable)
        table.clear()
        for c in self.view.commits_of(self.row)[-500:]:
            when = datetime.fromtimestamp(c.time, tz=UTC).strftime("%Y-%m-%d %H:%M")
            table.add_row(Text(c.sha[:12]), Text(when),
                          Text(f"line {c.first_line}" if c.first_line else "-"),
                          Text(_secs(c.seconds)))

    def _render_suggestions(self) -> None:
        assert self.view is not None and self.row is not None
        lv = self.query_one("#sugs", ListView)
        lv.clear()
        sugs = self.view.suggestions_for(self.row)
        for s in sugs:
            saving = ""
            if s.savings is not None and s.savings.commits:
                saving = f" — saves {_secs(max(0.0, s.savings.seconds_per_commit))}/commit"
            fix = {"safe": "safe fix", "unsafe": "unsafe fix"}.get(s.fix_class, "hint")
            lv.append(ListItem(Label(Text(f"{s.rule} [{fix}] {s.title}{saving}"))))
        self._show_diff(sugs[0] if sugs else None)

    @on(ListView.Highlighted, "#sugs")
    def _sug_highlighted(self, event: ListView.Highlighted) -> None:
        sugs = self.view.suggestions_for(self.row) if self.view and self.row else []
        idx = self.query_one("#sugs", ListView).index
        if idx is not None and 0 <= idx < len(sugs):
            self._show_diff(sugs[idx])

    def _show_diff(self, s) -> None:
        diff = self.query_one("#diff", Static)
        if s is None:
            diff.update(Text("no suggestion touches this layer"))
            return
        from layerlens.suggest.engine import read_ignore_text
        from layerlens.suggest.output import unified_diff

        a = self.view.analysis  # type: ignore[union-attr]
        body = Text(s.message + "\n" + s.reason + "\n")
        if s.note:
            body.append(f"note: {s.note}\n", style="italic")
        patch = ""
        if s.dockerfile is not None:
            patch += unified_diff(a.dockerfile.source, s.dockerfile, a.options.dockerfile.name)
        if s.dockerignore is not None:
            patch += unified_diff(read_ignore_text(a) or "", s.dockerignore, ".dockerignore")
        for line in patch.splitlines():
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
            body.append(line + "\n", style=style)
        diff.update(body)

    def _render_source(self) -> None:
        assert self.view is not None and self.row is not None
        a = self.view.analysis
        text = Text()
        lo = hi = None
        if self.row.instruction is not None:
            ins = a.dockerfile.instructions[self.row.instruction]
            lo, hi = ins.start_line, ins.end_line
        for n, line in enumerate(a.dockerfile.source.splitlines(), 1):
            style = "reverse" if lo is not None and lo <= n <= hi else ""
            text.append(f"{n:4} ", style="dim")
            text.append(line + "\n", style=style)
        self.query_one("#source", Static).update(text)

    # -- actions ---------------------------------------------------------------------------
    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_cycle_sort(self) -> None:
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self.sort_reverse = self.sort_key != "line"
        if self.view is not None:
            self._render_table()

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        if self.view is not None:
            self._render_table()

    def action_input_order(self) -> None:
        self.input_order = "churn" if self.input_order == "size" else "size"
        if self.row is not None:
            self._render_inputs()

    def action_toggle_cumulative(self) -> None:
        self.cumulative = not self.cumulative
        if self.row is not None:
            self._render_files()

    def action_files_by_size(self) -> None:
        self.files_by_size = not self.files_by_size
        if self.row is not None:
            self._render_files()

    def action_filter_files(self) -> None:
        self.action_tab("files")
        self.query_one("#files-filter", Input).focus()

    @on(Input.Changed, "#files-filter")
    def _filter_changed(self) -> None:
        if self.row is not None:
            self._render_files()

    def _chosen_fix(self):
        if self.view is None or self.row is None:
            return None
        sugs = [s for s in self.view.suggestions_for(self.row) if s.fixable]
        idx = self.query_one("#sugs", ListView).index or 0
        all_sugs = self.view.suggestions_for(self.row)
        chosen = all_sugs[idx] if 0 <= idx < len(all_sugs) and all_sugs[idx].fixable else (
            sugs[0] if sugs else None)
        if chosen is None:
            self.notify("no fixable suggestion for this layer", severity="warning")
        return chosen

    def action_verify_fix(self) -> None:
        chosen = self._chosen_fix()
        if chosen is not None:
            self.notify(f"verifying {chosen.rule}: building the original and the fix…")
            self._verify(chosen)

    @work(thread=True, exclusive=True, group="verify")
    def _verify(self, s) -> None:
        """The same proof as `suggest --verify`, for one fix, in a worker thread."""
        from layerlens.suggest.engine import SuggestReport, verify_report

        assert self.view is not None and self.view.report is not None
        one = SuggestReport((s,), s.dockerfile, s.dockerignore, self.view.report.ignore_path,
                            (s.rule,), (s,))
        v = verify_report(self.view.analysis, one)
        self.post_message(Verified(s, v))

    def on_verified(self, msg: Verified) -> None:
        from layerlens.suggest.output import verify_text

        if not msg.verification.identical:
            self.notify(verify_text(msg.verification), severity="error", timeout=15)
            return
        self._confirm(msg.suggestion, verify_text(msg.verification))

    def action_apply_fix(self) -> None:
        chosen = self._chosen_fix()
        if chosen is not None:
            self._confirm(chosen, "")

    def _confirm(self, chosen, proof: str) -> None:
        assert self.view is not None
        target = self.view.analysis.options.dockerfile
        what = ", ".join(x for x, y in (("the Dockerfile", chosen.dockerfile),
                                        (".dockerignore", chosen.dockerignore)) if y)
        warn = (f"\n\nUNSAFE: {chosen.unsafe_reason}. It may change the image."
                if chosen.fix_class == "unsafe" else "") + (f"\n\n{proof}" if proof else "")
        self.push_screen(ConfirmScreen(f"{chosen.rule}: {chosen.title}{warn}\n\nRewrite {what} "
                                       f"of {target}?"),
                         lambda ok: self._apply(chosen) if ok else None)

    def _apply(self, s) -> None:
        from layerlens.errors import LayerlensError
        from layerlens.fsutil import atomic_write_text

        assert self.view is not None
        rep = self.view.report
        try:
            if s.dockerfile is not None:
                atomic_write_text(self.view.analysis.options.dockerfile, s.dockerfile)
            if s.dockerignore is not None and rep is not None:
                atomic_write_text(rep.ignore_path, s.dockerignore)
        except LayerlensError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(f"applied {s.rule}; re-reading")
        self.options = self.view.analysis.options
        self.load()

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        node = event.node
        if isinstance(node.data, dict) and not node.children:
            _add_children(node, node.data)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for key in SORT_KEYS:
            yield SystemCommand(f"Sort layers by {key}", f"Order the table by {key}",
                                lambda k=key: self._sort_by(k))
        for t in TABS:
            yield SystemCommand(f"Show {t}", f"Switch to the {t} tab",
                                lambda t=t: self.action_tab(t))
        yield SystemCommand("Apply fix", "Apply the selected suggestion (asks first)",
                            self.action_apply_fix)

    def _sort_by(self, key: str) -> None:
        self.sort_key = key
        self.sort_reverse = key != "line"
        if self.view is not None:
            self._render_table()


def _fill_lazily(tree: Tree, items: list[tuple[str, str, str, int]],
                 by_size: bool = False) -> None:
    """Build a path tree; a directory gets its children only when first expanded, so huge
    layers stay responsive. Directories carry their total size for ordering."""
    children: dict = {"": {}, "size": 0, "by_size": by_size}
    for path, info, style, size in items:
        node = children
        node["size"] += size
        parts = path.split("/")
        for part in parts[:-1]:
            node = node[""].setdefault(part + "/", {"": {}, "size": 0, "by_size": by_size})
            node["size"] += size
        node[""][parts[-1]] = (info, style, size)
    _merge_dir_entries(children)
    _add_children(tree.root, children)


def _merge_dir_entries(folder: dict) -> None:
    """A directory's own entry and the folder of its children are one node."""
    entries = folder[""]
    for name in [n for n in entries if not n.endswith("/")]:
        sub = entries.get(name + "/")
        if isinstance(sub, dict):
            del entries[name]
    for val in entries.values():
        if isinstance(val, dict):
            _merge_dir_entries(val)


def _add_children(node, folder: dict) -> None:
    entries = folder[""]

    def key(n: str):
        v = entries[n]
        size = v["size"] if isinstance(v, dict) else v[2]
        return (not n.endswith("/"), -size if folder["by_size"] else 0, n)

    for name in sorted(entries, key=key):
        val = entries[name]
        if isinstance(val, dict):
            # the children wait in `data` until the node is expanded
            label = Text(name)
            label.append(f"\u00a0\u00a0{_size(val['size'])}", style="dim")
            node.add(label, data=val, allow_expand=True)
        else:
            info, style, _ = val
            label = Text(name, style=style)
            # no-break spaces: SVG screenshots collapse ordinary ones at a style change
            label.append(f"\u00a0\u00a0{info}", style="dim")
            node.add_leaf(label)


def run_tui(options: AnalyzeOptions) -> None:
    LayerlensApp(options).run()
