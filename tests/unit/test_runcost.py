"""RUN cost estimates from what a RUN does (layerlens/cache/runcost.py)."""

from __future__ import annotations

import pytest

from layerlens.cache import runcost as rc
from layerlens.cache.costs import DEFAULT_RUN_SECONDS, estimate
from layerlens.cache.ops import build_plan
from layerlens.dockerfile import parse


def _run(body: str) -> rc.RunEstimate | None:
    df = parse(f"FROM scratch\nRUN {body}\n")
    return rc.estimate_run(df.instructions[1])


def test_trivial_commands_cost_the_step_overhead_only() -> None:
    got = _run("mkdir -p /app && chmod 755 /app && echo hi > /app/x")
    assert got is not None
    assert got.seconds == pytest.approx(rc.RUN_OVERHEAD_SECONDS + 3 * rc.TRIVIAL_SECONDS)
    assert "trivial" in got.basis and "mkdir" in got.basis


def test_package_install_counts_named_packages() -> None:
    got = _run("apt-get update && apt-get install -y --no-install-recommends curl git "
               "&& rm -rf /var/lib/apt/lists/*")
    assert got is not None
    want = (rc.RUN_OVERHEAD_SECONDS + rc.INDEX_REFRESH_SECONDS + rc.OS_INSTALL_SECONDS
            + 2 * rc.OS_PER_PACKAGE_SECONDS + rc.TRIVIAL_SECONDS)
    assert got.seconds == pytest.approx(want)
    assert "OS packages (2 named)" in got.basis and "index refresh" in got.basis


def test_ordering_between_classes() -> None:
    echo = _run("echo done")
    pip_named = _run("pip install --no-cache-dir flask==3.0.0")
    npm_ci = _run("npm ci")
    pip_req = _run("pip install -r requirements.txt")
    build = _run("npm run build")
    fetch = _run("curl -fsSL https://example.com/x.tgz -o /tmp/x.tgz")
    assert echo and pip_named and npm_ci and pip_req and build and fetch
    assert echo.seconds < fetch.seconds < pip_named.seconds < npm_ci.seconds < build.seconds
    assert pip_req.seconds == npm_ci.seconds  # both install what a manifest names
    assert "manifest" in npm_ci.basis and "compile" in build.basis


def test_sleep_and_busybox_applets_and_exec_form() -> None:
    got = _run("busybox sleep 3")
    assert got is not None and got.seconds == pytest.approx(3 + rc.RUN_OVERHEAD_SECONDS)
    df = parse('FROM scratch\nRUN ["/bin/busybox", "sleep", "2"]\n')
    got = rc.estimate_run(df.instructions[1])
    assert got is not None and got.seconds == pytest.approx(2 + rc.RUN_OVERHEAD_SECONDS)


def test_unknown_script_keeps_the_flat_default_per_command() -> None:
    got = _run("./scripts/build-everything.sh")
    assert got is not None
    assert got.seconds == pytest.approx(rc.RUN_OVERHEAD_SECONDS + rc.UNKNOWN_COMMAND_SECONDS)


def test_estimate_marks_the_source_and_basis() -> None:
    df = parse("FROM scratch\nRUN go build -o /app ./cmd/app\nWORKDIR /w\n")
    ops = {op.instruction: op for sp in build_plan(df).stages for op in sp.ops}
    cost = estimate(ops[1], None, df.instructions[1])
    assert cost.seconds_source == "estimate"
    assert cost.seconds == pytest.approx(rc.RUN_OVERHEAD_SECONDS + rc.COMPILE_SECONDS)
    assert cost.seconds_basis is not None and cost.seconds_basis.startswith("RUN model")
    flat = estimate(ops[1], None)  # no instruction: the documented flat default
    assert flat.seconds == DEFAULT_RUN_SECONDS and "cannot read" in (flat.seconds_basis or "")
    assert "WORKDIR" in (estimate(ops[2], None).seconds_basis or "")


def test_npm_run_compiles_only_when_the_script_says_so() -> None:
    build = _run("npm run build:prod")
    sbom = _run("npm run sbom")
    assert build and sbom and "compile" in build.basis and "other" in sbom.basis
    assert sbom.seconds < build.seconds


def test_a_package_named_with_a_variable_is_still_one_named_package() -> None:
    got = _run("npm install -g @cyclonedx/cyclonedx-npm@$CYCLONEDX_NPM_VERSION")
    assert got is not None and "language packages (1 named)" in got.basis


def test_kuards_runs() -> None:
    # kuard's Dockerfile: a line-ending fix is trivial, `go get` downloads named packages
    fix = _run("dos2unix build/build.sh")
    assert fix is not None and fix.seconds == pytest.approx(
        rc.RUN_OVERHEAD_SECONDS + rc.TRIVIAL_SECONDS)
    get = _run("go get -u github.com/jteeuwen/go-bindata/...")
    assert get is not None and "language packages (1 named)" in get.basis
    assert get.seconds == pytest.approx(rc.RUN_OVERHEAD_SECONDS + rc.LANG_NAMED_SECONDS
                                        + rc.LANG_PER_PACKAGE_SECONDS)
