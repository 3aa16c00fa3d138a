"""Comparing two final images (layerlens/suggest/proof.py), without a builder."""

from __future__ import annotations

from layerlens.suggest.proof import CONFIG_KEYS, _compare

CFG = dict.fromkeys(CONFIG_KEYS)


def _tree(*entries: tuple) -> dict[str, tuple]:
    return {e[0]: e for e in entries}


def test_identical_and_intended_drops() -> None:
    a = _tree(("app", "dir", 0o755, 0, 0, "", None),
              ("app/.git", "dir", 0o755, 0, 0, "", None),
              ("app/.git/refs", "dir", 0o755, 0, 0, "", None),  # empty in the context too
              ("app/.git/HEAD", "file", 0o644, 0, 0, "", "h1"),
              ("app/main.py", "file", 0o644, 0, 0, "", "m1"))
    b = _tree(("app", "dir", 0o755, 0, 0, "", None),
              ("app/main.py", "file", 0o644, 0, 0, "", "m1"))
    v = _compare("buildah", a, b, CFG, CFG, [".git", ".git/refs", ".git/HEAD"])
    assert v.identical and v.differences == ()
    assert set(v.intended) == {"app/.git", "app/.git/refs", "app/.git/HEAD"}


def test_a_changed_file_mode_or_config_is_a_difference() -> None:
    a = _tree(("stamp", "file", 0o644, 0, 0, "", "x"), ("bin", "dir", 0o755, 0, 0, "", None))
    b = _tree(("stamp", "file", 0o644, 0, 0, "", "y"), ("bin", "dir", 0o700, 0, 0, "", None))
    v = _compare("buildah", a, b, CFG, {**CFG, "User": "nobody"}, [])
    assert not v.identical
    assert v.differences == ("config: User", "bin", "stamp")
    # a file that is gone but was not dropped on purpose is a difference too
    v = _compare("buildah", a, {}, CFG, CFG, ["other"])
    assert set(v.differences) == {"bin", "stamp"} and v.intended == ()
