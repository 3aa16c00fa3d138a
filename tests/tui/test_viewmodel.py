"""The plain records behind the TUI (layerlens/viewmodel.py), without a terminal."""

from __future__ import annotations

from layerlens.viewmodel import WEEK, path_tree


def test_path_tree_folds_directory_entries_and_orders() -> None:
    root = path_tree([("a", 0, "unchanged", False), ("a/b", 3, "added", False),
                      ("c", 5, "modified", False), ("a/d/e", 1, "removed", True)],
                     by_size=True)
    assert [n.name for n in root.children] == ["a/", "c"]  # directories first
    a = root.children[0]
    assert a.size == 4 and a.files == 2 and a.name_width == 2
    assert [n.name for n in a.children] == ["d/", "b"]
    e = a.children[0].children[0]
    assert (e.name, e.status, e.shadowed, e.children) == ("e", "removed", True, None)
    assert root.size == 9 and root.files == 3
    by_name = path_tree([("z", 9, "", False), ("b", 1, "", False)])
    assert [n.name for n in by_name.children] == ["b", "z"]


def test_weeks_commits_and_suggestion_rows(pyweb_view) -> None:
    v = pyweb_view
    copy = next(r for r in v.rows if r.text == "COPY . .")
    weeks = v.weekly(copy)
    commits = v.analysis.history.costs.commits
    assert sum(weeks.commits) == len(commits) == sum(weeks.rebuilds)  # COPY . . every time
    assert weeks.start == min(c.time for c in commits)
    assert len(weeks.commits) == (max(c.time for c in commits) - weeks.start) // WEEK + 1
    workdir = next(r for r in v.rows if r.text == "WORKDIR /app")
    assert sum(v.weekly(workdir).rebuilds) == 0
    rows = v.commits_of(copy)
    assert [c.time for c in rows] == sorted((c.time for c in rows), reverse=True)
    # LL003 is about lines 2-3 (ARG, ENV: no layer, no row): listed under the next row
    ll003 = next(i for i in v.items if i.suggestion.rule == "LL003")
    assert ll003.shown_at == (workdir.line,) and ll003 in v.items_for(workdir)
    assert ll003.writes == ("pyweb/Dockerfile",)
    assert ll003.patch.startswith("--- a/Dockerfile\n+++ b/Dockerfile\n")
    hint = next(i for i in v.items if i.suggestion.rule == "LL005")
    assert hint.patch == "" and hint.writes == () and hint in v.items_for(copy)
