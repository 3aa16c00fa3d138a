"""The fix threshold (engine._worth_it): one rule, the README's, and the list, the headline
and `--write` agree on it."""

from __future__ import annotations

from .helpers import by_rule, with_history

# No RUN: every rebuild is a COPY of a few bytes, far below 0.1 s and 1 MiB per commit.
DF = "FROM a\nWORKDIR /app\nCOPY . .\n"


def test_rebuilds_avoided_alone_do_not_make_a_fix(tmp_path) -> None:
    # awesome-compose flask and FreshRSS: an LL005 entry avoiding rebuilds but saving
    # 0.01 s and a few bytes per commit was offered, while errbit's 0.01 s was a hint.
    files = {"app.py": "1", "docs/x.md": "d", ".dockerignore": ".git\n"}
    edits = [("docs/x.md", "d2")] + [("app.py", str(k)) for k in range(2, 14)]
    rep = with_history(tmp_path, DF, files, edits, unsafe_fixes=True)
    [s] = by_rule(rep, "LL005")
    assert s.savings is not None and s.savings.rebuilds_avoided > 0
    assert s.savings.seconds_per_commit < 0.1
    assert s.fix_class == "hint" and "not offered as a fix" in s.note
    # ... and so neither `--write --unsafe-fixes` nor the headline applies it
    assert rep.rewritten_ignore is None
    assert "LL005" not in rep.applied and all(v.steps == () or "LL005" not in
                                              [x.rule for x in v.steps] for v in rep.variants)


def test_a_hint_applied_after_other_fixes_is_listed_as_that_fix(tmp_path, monkeypatch) -> None:
    # FreshRSS: LL005 was listed as a hint "not offered as a fix" on today's file, became a
    # fix after LL001 and LL003 (measured on their rewrite) and `--write --unsafe-fixes`
    # wrote it. The list, the headline and --write must agree: the list now shows the fix it
    # is, with today's rewrite and a note saying after which fixes it is offered.
    from layerlens.analysis import AnalyzeOptions, analyze
    from layerlens.suggest import engine

    files = {"app.py": "1", "docs/x.md": "d", ".dockerignore": ".git\n"}
    edits = [("docs/x.md", "d2")] + [("app.py", str(k)) for k in range(2, 14)]
    # a RUN after the broad COPY that names nothing of it: LL001's safe fix, applied first
    df = "FROM a\nWORKDIR /app\nCOPY . .\nRUN mkdir /data\n"
    rep = with_history(tmp_path, df, files, edits, unsafe_fixes=True)
    [hint] = by_rule(rep, "LL005")
    assert hint.fix_class == "hint" and rep.applied == ("LL001",)
    # lower the threshold for every round but the first: the entry clears it there
    calls = {"n": 0}
    real = engine.run_rules

    def later_rounds_cheap(subject, rules, select, ignore):
        calls["n"] += 1
        monkeypatch.setattr(engine, "MIN_SECONDS_PER_COMMIT", 0.0)
        try:
            return real(subject, rules, select, ignore)
        finally:
            monkeypatch.setattr(engine, "MIN_SECONDS_PER_COMMIT", 0.1)

    monkeypatch.setattr(engine, "run_rules", later_rounds_cheap)
    rep = engine.suggest(analyze(AnalyzeOptions(tmp_path / "Dockerfile")), unsafe_fixes=True)
    assert calls["n"] > 0 and rep.applied == ("LL001", "LL005")
    [s] = by_rule(rep, "LL005")
    assert s.fix_class == "unsafe" and s.note.startswith("offered after LL001: on today's")
    assert s.dockerignore is not None and s.savings == hint.savings  # today's measurement
    assert rep.rewritten_ignore is not None
    assert rep.variants[2].steps[-1].rule == "LL005"


def test_a_listed_fix_left_out_after_earlier_fixes_is_named(tmp_path) -> None:
    # The other way round: listed as a fix on today's file, after LL001 (which takes the RUN
    # out of its rebuilds) the entry saves less than the threshold: the report says so.
    from layerlens.suggest.output import report_json, report_text

    files = {"app.py": "1", "docs/x.md": "d", ".dockerignore": ".git\n"}
    edits = [("docs/x.md", "d2")] + [("app.py", str(k)) for k in range(2, 10)]
    df = "FROM a\nWORKDIR /app\nCOPY . .\nRUN mkdir /data\n"
    rep = with_history(tmp_path, df, files, edits, unsafe_fixes=True)
    assert by_rule(rep, "LL005")[0].fix_class == "unsafe"
    assert rep.applied == ("LL001",) and [s.rule for s in rep.not_applied] == ["LL005"]
    text = " ".join(report_text(rep, "Dockerfile", None, width=200).split())
    assert "listed as fixes but not applied" in text and "LL005 at line 3" in text
    assert report_json(rep)["not_applied"] == [{"rule": "LL005", "lines": [3], "fix": "unsafe"}]
