"""The rule table: one module per rule, each with its own tests (tests/suggest/)."""

from __future__ import annotations

from layerlens.suggest.rule import Rule
from layerlens.suggest.rules import (
    ll001_order,
    ll002_manifests,
    ll003_volatile_args,
    ll004_cleanup,
    ll005_dockerignore,
    ll006_secrets,
    ll007_merge_split,
    ll008_base_and_stages,
    ll009_context_free_first,
    ll010_split_bounded_prefix,
    ll011_cache_mounts,
)

RULES: tuple[Rule, ...] = (
    ll001_order.RULE,
    ll002_manifests.RULE,
    ll003_volatile_args.RULE,
    ll004_cleanup.RULE,
    ll005_dockerignore.RULE,
    ll006_secrets.RULE,
    ll007_merge_split.RULE,
    ll008_base_and_stages.RULE,
    ll009_context_free_first.RULE,
    ll010_split_bounded_prefix.RULE,
    ll011_cache_mounts.RULE,
)
BY_ID = {r.id: r for r in RULES}


def rules_table() -> str:
    """The README's rules table, generated from the rules' own metadata."""
    rows = ["| rule | what | fix classes |", "| --- | --- | --- |"]
    rows += [f"| {r.id} | {r.docs} | {', '.join(r.fixes)} |" for r in RULES]
    return "\n".join(rows) + "\n"
