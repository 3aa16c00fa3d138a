"""A password written into a registry reference is refused and never printed back
(found by the new-user trial of issue 13: the error repeated `alice:S3cr3t...`)."""

from __future__ import annotations

import pytest

from layerlens.cli import main
from layerlens.image.refs import parse_ref


def test_userinfo_is_refused_without_echo(capsys: pytest.CaptureFixture[str]) -> None:
    ref = "docker://alice:S3cr3tPassw0rd!@127.0.0.1:1/ta:v1"
    assert main(["image", ref, "--tls-verify=false"]) == 2
    err = capsys.readouterr().err
    assert "S3cr3tPassw0rd" not in err and "alice" not in err
    assert err.count("\n") == 1 and "docker://***@127.0.0.1:1/ta:v1" in err
    assert "REGISTRY_AUTH_FILE" in err


def test_a_digest_is_not_userinfo() -> None:
    ref = parse_ref("docker://127.0.0.1:5000/app@sha256:" + "a" * 64)
    assert ref.transport == "registry" and ref.location.endswith("a" * 64)
