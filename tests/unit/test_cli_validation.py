"""Bad flags exit 2 with one line naming them, before any work is done."""

from __future__ import annotations

import pytest

from layerlens.cli import main
from layerlens.gate.scan import is_dockerfile


@pytest.mark.parametrize(("args", "says"), [
    (["suggest", "--select", "LL999"], "argument --select: unknown rule ID 'LL999'"),
    (["suggest", "--ignore", "XYZ,LL001"], "argument --ignore: unknown rule ID 'XYZ'"),
    (["check", "--fail-on", "LL00"], "argument --fail-on: unknown rule ID 'LL00'"),
    (["analyze", "--platform", "foo"], "argument --platform: invalid --platform 'foo'"),
    (["analyze", "--image-platform", "linux/"], "--image-platform: invalid --image-platform"),
    (["scan", "--platform", "linux/amd64/v2/x"], "argument --platform: invalid --platform"),
    (["image", "x.tar", "--platform", "arm64"], "argument --platform: invalid --platform"),
])
def test_bad_rule_ids_and_platforms_exit_2_with_one_line(args, says, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err, err


def test_good_rule_ids_and_platforms_pass(tmp_path, capsys) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine\nCOPY a /a\n")
    (tmp_path / "a").write_text("a\n")
    df = str(tmp_path / "Dockerfile")
    assert main(["suggest", df, "--no-history", "--select", "ll001, LL002",
                 "--ignore", "LL003", "--platform", "linux/arm64/v8"]) == 0


@pytest.mark.parametrize(("name", "yes"), [
    ("Dockerfile", True), ("Dockerfile.dev", True), ("Dockerfile-Alpine", True),
    ("dockerfile-oldest", True), ("api.dockerfile", True), ("Containerfile", True),
    ("Dockerfile-", False), ("Dockerfile-notes.md", False), ("Dockerfile-build.sh", False),
    ("Dockerfile.dockerignore", False), ("Dockerfile-x.dockerignore", False),
    ("Makefile", False),
])
def test_scan_finds_the_dockerfile_names_in_use(name: str, yes: bool) -> None:
    assert is_dockerfile(name) is yes
