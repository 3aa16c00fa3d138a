"""Gate configuration: where it is read from, and errors that say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerlens.errors import LayerlensError
from layerlens.gate.check import _judge
from layerlens.gate.config import Budget, apply_overrides, load_config


def test_pyproject_and_overrides(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.layerlens.check]\nfail_on_new = ["LL002"]\n'
        '[tool.layerlens.check.budgets]\ntotal_size = { max = "1GiB", max_growth_percent = 3 }\n'
        'efficiency = { min = 0.9 }\n')
    cfg = load_config(tmp_path)
    assert cfg.budgets["total_size"] == Budget(max=1024**3, max_growth_percent=3)
    assert cfg.fail_on_new == {"LL002"}
    cfg = apply_overrides(cfg, ["total_size.max_growth=10MiB"], "LL006,ll001")
    assert cfg.budgets["total_size"].max_growth == 10 * 1024**2
    assert cfg.budgets["total_size"].max_growth_percent == 3
    assert cfg.fail_on_new == {"LL006", "LL001"}


@pytest.mark.parametrize(("text", "fragment"), [
    ("[check]\nbudgets = { total_sise = { max = 1 } }\n", "unknown budget 'total_sise'"),
    ("[check]\nbudgets = { total_size = { maximum = 1 } }\n", "unknown limit 'maximum'"),
    ("[check]\nbudgets = { total_size = { max = \"lots\" } }\n", "is not a size"),
    ("[check]\nbudgets = { efficiency = { min = -1 } }\n", "non-negative"),
    ("[check]\nwhatever = 1\n", "unknown key 'whatever'"),
    ("[chek]\n", "unknown key 'chek'"),
    ("[check\n", "invalid TOML"),
    ("[check]\nfail_on_new = [\"LL999\"]\n", "fail_on_new: unknown rule ID 'LL999'"),
])
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, fragment: str) -> None:
    (tmp_path / ".layerlens.toml").write_text(text)
    with pytest.raises(LayerlensError) as info:
        load_config(tmp_path)
    assert fragment in str(info.value) and ".layerlens.toml" in str(info.value)


def test_absolute_and_relative_together() -> None:
    b = Budget(max_growth=1000, max_growth_percent=10)
    assert _judge("total_size", b, 100, 500) is None  # +400%, but only 400 bytes
    assert _judge("total_size", b, 1_000_000, 1_050_000) is None  # 50 KB, but 5%
    assert "grew by" in _judge("total_size", b, 10_000, 20_000)
    assert "over the maximum" in _judge("total_size", Budget(max=10), 0, 11)
    assert "under the minimum" in _judge("efficiency", Budget(min=0.9), None, 0.5)


def test_default_budgets_protect_a_small_image() -> None:
    """kuard: alpine plus one binary, about 10 MB. A layer growing from 200 KB to 1.5 MB
    must fail out of the box; routine drift must not."""
    from layerlens.gate.config import DEFAULT_BUDGETS

    layer, total = DEFAULT_BUDGETS["layer_size"], DEFAULT_BUDGETS["total_size"]
    assert "grew by" in _judge("layer_size", layer, 200_000, 1_500_000)
    assert "grew by" in _judge("total_size", total, 10_000_000, 11_300_000)
    # noise: a tiny layer that triples, a big layer drifting by a few percent
    assert _judge("layer_size", layer, 10_000, 30_000) is None
    assert _judge("layer_size", layer, 300_000_000, 318_000_000) is None  # +6%
    assert _judge("total_size", total, 900_000_000, 930_000_000) is None  # +3.3%
    assert _judge("layer_size", layer, 8_000_000, 8_400_000) is None  # a rebuilt binary
