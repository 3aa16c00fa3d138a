"""`layerlens tui`: explore layers, costs, history and fixes.

The App keeps the bindings, the loading worker and apply. Loading runs in a worker thread in
three steps, each posting a `Loaded` message with a fresh `layerlens.viewmodel.ViewData`: the
static analysis (the table appears), then the git history (the figures fill in), then the
suggestions. Widgets (tui/widgets/, one per file) take those plain records through reactive
attributes and only render; layout lives in app.tcss. Every string that comes from a
Dockerfile, a repository or an image is shown as a `rich.text.Text`, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, TabbedContent, TabPane, Tabs

from layerlens.analysis import AnalyzeOptions
from layerlens.viewmodel import SORT_KEYS, LayerRow, SuggestionItem, ViewData

from .screens import ApplyScreen, HelpScreen
from .widgets.diff_preview import DiffPreview
from .widgets.files_tree import FilesTree
from .widgets.history_chart import HistoryChart
from .widgets.history_list import HistoryList
from .widgets.inputs_tree import InputsTree
from .widgets.layer_table import LayerTable
from .widgets.size_chart import SizeChart
from .widgets.source_view import SourceView
from .widgets.suggestion_list import SuggestionList
from .widgets.totals_header import TotalsHeader

TABS = ("inputs", "files", "history", "suggestions", "dockerfile", "sizes")
HISTORY_PENDING = "history: mining and replaying the git history…"
SUGGEST_PENDING = "suggestions: measuring each fix over the history…"


class Loaded(Message):
    def __init__(self, view: ViewData) -> None:
        super().__init__()
        self.view = view


class Failed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class Verified(Message):
    def __init__(self, item: SuggestionItem, verification) -> None:
        super().__init__()
        self.item = item
        self.verification = verification


class ProgressNote(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class LayerlensApp(App[None]):
    TITLE = "layerlens"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("question_mark", "help", "Keys"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("r", "reverse_sort", "Reverse"),
        Binding("a", "apply_fix", "Apply"),
        Binding("v", "verify_fix", "Verify"),
        Binding("q", "quit", "Quit"),
        Binding("o", "input_order", "Inputs order", show=False),
        Binding("c", "toggle_cumulative", "Layer/all", show=False),
        Binding("z", "files_by_size", "Files by size", show=False),
        Binding("slash", "filter_files", "Filter", show=False),
        *[Binding(str(n), f"tab('{t}')", t.title(), show=False)
          for n, t in enumerate(TABS, 1)],
    ]

    def __init__(self, options: AnalyzeOptions | None = None,
                 view: ViewData | None = None) -> None:
        super().__init__()
        self.options = options
        self.view: ViewData | None = view
        self._subject: tuple[ViewData, LayerRow] | None = None

    @property
    def row(self) -> LayerRow | None:
        """The layer under the table's cursor."""
        return self.query_one(LayerTable).current

    # -- layout -----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield TotalsHeader(id="totals")
        yield LayerTable(id="layers")
        with TabbedContent(id="details"):
            with TabPane("Inputs", id="inputs"):
                yield InputsTree(id="inputs-tree")
            with TabPane("Files", id="files"):
                yield Input(placeholder="filter by path", id="files-filter")
                yield FilesTree(id="files-tree")
            with TabPane("History", id="history"):
                yield HistoryChart(id="chart")
                yield HistoryList(id="commits")
            with TabPane("Suggestions", id="suggestions"):
                yield SuggestionList(id="sugs")
                with VerticalScroll(id="diff-scroll"):
                    yield DiffPreview(id="diff")
            with TabPane("Dockerfile", id="dockerfile"):
                with VerticalScroll(id="source-scroll"):
                    yield SourceView(id="source")
            with TabPane("Sizes", id="sizes"):
                with VerticalScroll(id="sizes-scroll"):
                    yield SizeChart(id="size-chart")
        yield Footer()

    def on_mount(self) -> None:
        # Tab goes from the table straight into the open tab's content (issue 15: the
        # suggestions list took two Tabs); the tab strip stays clickable and 1-6 switch
        self.query_one("#details", TabbedContent).query_one(Tabs).can_focus = False
        self.query_one(LayerTable).focus()
        if self.view is not None:
            self.post_message(Loaded(self.view))
        else:
            self.load()

    # -- loading (worker) ------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        """Static analysis, then history, then suggestions; a `Loaded` after each."""
        from textual.worker import get_current_worker

        from layerlens.analysis import analyze_static, with_history
        from layerlens.errors import LayerlensError
        from layerlens.viewmodel import build_view

        assert self.options is not None
        worker = get_current_worker()

        def note(m: str) -> None:
            self.post_message(ProgressNote(m))

        try:
            a = analyze_static(self.options, note)
            history = self.options.history.enabled
            self.post_message(Loaded(build_view(
                a, None, HISTORY_PENDING if history else SUGGEST_PENDING)))
            if history:
                a = with_history(a, note)
                if worker.is_cancelled:
                    return
                self.post_message(Loaded(build_view(a, None, SUGGEST_PENDING)))
            from layerlens.suggest.engine import suggest  # the rules load after the table

            rep = suggest(a)
            if not worker.is_cancelled:
                self.post_message(Loaded(build_view(a, rep)))
        except LayerlensError as exc:
            self.post_message(Failed(str(exc)))

    def on_progress_note(self, msg: ProgressNote) -> None:
        self.query_one(TotalsHeader).status = msg.text

    def on_failed(self, msg: Failed) -> None:
        self.query_one(TotalsHeader).status = f"error: {msg.error}"

    def on_loaded(self, msg: Loaded) -> None:
        self.view = msg.view
        header = self.query_one(TotalsHeader)
        if not msg.view.pending:
            header.status = ""
        header.view = msg.view
        self.query_one(LayerTable).view = msg.view

    @on(LayerTable.Selected)
    def _selected(self, event: LayerTable.Selected) -> None:
        if self.view is None:
            return
        subject = (self.view, event.row)
        if self._subject is not None and self._subject[0] is subject[0] \
                and self._subject[1] == subject[1]:
            return
        self._subject = subject
        for w in (InputsTree, FilesTree, HistoryChart, HistoryList, SuggestionList,
                  SourceView, SizeChart):
            self.query_one(w).subject = subject

    @on(SuggestionList.Chosen)
    def _chosen(self, event: SuggestionList.Chosen) -> None:
        diff = self.query_one(DiffPreview)
        diff.empty = event.pending
        diff.item = event.item

    # -- actions ---------------------------------------------------------------------------
    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_tab(self, tab: str) -> None:
        details = self.query_one("#details", TabbedContent)
        focused = self.focused
        if focused is not None and details in focused.ancestors and details.active != tab:
            # focus inside the pane being hidden would move to a sibling in that pane and
            # pull the tab back (trial: "3" in the suggestions list did nothing): the focus
            # returns to the layer table first, whose row every tab follows
            self.query_one(LayerTable).focus()
        details.active = tab

    def action_cycle_sort(self) -> None:
        table = self.query_one(LayerTable)
        self._sort_by(SORT_KEYS[(SORT_KEYS.index(table.sort_key) + 1) % len(SORT_KEYS)])

    def action_reverse_sort(self) -> None:
        table = self.query_one(LayerTable)
        table.sort_reverse = not table.sort_reverse

    def _sort_by(self, key: str) -> None:
        table = self.query_one(LayerTable)
        # the largest first for figures, top to bottom for lines; one redraw
        table.set_reactive(LayerTable.sort_reverse, key != "line")
        table.set_reactive(LayerTable.sort_key, key)
        table.data_changed()

    def action_input_order(self) -> None:
        tree = self.query_one(InputsTree)
        tree.order = "churn" if tree.order == "size" else "size"

    def action_toggle_cumulative(self) -> None:
        tree = self.query_one(FilesTree)
        tree.cumulative = not tree.cumulative

    def action_files_by_size(self) -> None:
        tree = self.query_one(FilesTree)
        tree.by_size = not tree.by_size

    def action_filter_files(self) -> None:
        self.action_tab("files")
        self.query_one("#files-filter", Input).focus()

    @on(Input.Changed, "#files-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(FilesTree).pattern = event.value

    def _chosen_fix(self) -> SuggestionItem | None:
        """The highlighted suggestion of the Suggestions tab, if it carries a fix."""
        if self.view is None or self.view.report is None:
            self.notify("suggestions are still being measured", severity="warning")
            return None
        item = self.query_one(SuggestionList).chosen
        if item is None:
            self.notify("no suggestion for this layer", severity="warning")
            return None
        if not item.suggestion.fixable:
            self.notify(f"{item.suggestion.rule} is a hint: there is no fix to apply",
                        severity="warning")
            return None
        return item

    def action_verify_fix(self) -> None:
        item = self._chosen_fix()
        if item is not None:
            self.notify(f"verifying {item.suggestion.rule}: building the original and the "
                        "fix…")
            self._verify(item)

    @work(thread=True, exclusive=True, group="verify")
    def _verify(self, item: SuggestionItem) -> None:
        """The same proof as `suggest --verify`, for one fix, in a worker thread."""
        from layerlens.suggest.engine import SuggestReport, verify_report

        assert self.view is not None and self.view.report is not None
        s = item.suggestion
        one = SuggestReport((s,), s.dockerfile, s.dockerignore, self.view.report.ignore_path,
                            (s.rule,), (s,))
        self.post_message(Verified(item, verify_report(self.view.analysis, one)))

    def on_verified(self, msg: Verified) -> None:
        from layerlens.suggest.output import verify_text

        if not msg.verification.identical:
            self.notify(verify_text(msg.verification), severity="error", timeout=15)
            return
        self._confirm(msg.item, verify_text(msg.verification))

    def action_apply_fix(self) -> None:
        item = self._chosen_fix()
        if item is None:
            return
        s = item.suggestion
        if s.fix_class == "safe":
            proof = ("not built; safe by proof: only layer boundaries and order change, the "
                     "final image stays identical (n, then v, builds both and compares)")
        else:
            proof = ("not built; UNSAFE: it may change the image, see below (n, then v, "
                     "builds both and compares)")
        self._confirm(item, proof)

    def _confirm(self, item: SuggestionItem, verification: str) -> None:
        self.push_screen(ApplyScreen(item, verification),
                         lambda ok: self._apply(item) if ok else None)

    def _apply(self, item: SuggestionItem) -> None:
        """Write the fix's files (atomically), then re-read everything from disk."""
        from layerlens.errors import LayerlensError
        from layerlens.fsutil import write_sources

        assert self.view is not None
        s = item.suggestion
        rep = self.view.report
        files = []
        if s.dockerfile is not None:
            files.append((self.view.analysis.options.dockerfile, s.dockerfile))
        if s.dockerignore is not None and rep is not None:
            files.append((rep.ignore_path, s.dockerignore))
        try:
            write_sources(files)
        except LayerlensError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(f"applied {s.rule}; re-reading")
        self.options = self.view.analysis.options
        self.load()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for key in SORT_KEYS:
            yield SystemCommand(f"Sort layers by {key}", f"Order the table by {key}",
                                lambda k=key: self._sort_by(k))
        for t in TABS:
            yield SystemCommand(f"Show {t}", f"Switch to the {t} tab",
                                lambda t=t: self.action_tab(t))
        yield SystemCommand("Apply fix", "Apply the highlighted suggestion (asks first)",
                            self.action_apply_fix)


def run_tui(options: AnalyzeOptions) -> None:
    LayerlensApp(options).run()
