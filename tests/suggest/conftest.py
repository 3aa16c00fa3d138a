"""Every rule is held to the fix classes it declares (`Rule.fixes`), in every test that
runs the engine: the README's rules table shows them, and the combined rewrite's later
rounds skip the rules that declare only hints (suggest/engine.py `fixing`)."""

from __future__ import annotations

from dataclasses import replace

import pytest


def _held(rule):
    def check(subject):
        got = rule.check(subject)
        for s in got:
            assert s.fix_class in rule.fixes, (
                f"{rule.id} made a {s.fix_class} suggestion; it declares {rule.fixes}")
        return got

    return replace(rule, check=check)


@pytest.fixture(autouse=True)
def _rules_keep_their_fix_classes(monkeypatch):
    from layerlens.suggest import rules

    monkeypatch.setattr(rules, "RULES", tuple(_held(r) for r in rules.RULES))
