"""Which ARG names say they change on every build (cache/ops.py `volatile_name`)."""

from __future__ import annotations

import pytest

from layerlens.cache.ops import detect_volatile, volatile_name
from layerlens.dockerfile import parse


@pytest.mark.parametrize("name", [
    "GIT_SHA", "VCS_REF", "BUILD_COMMIT_SHA", "build_commit_sha", "APP_GIT_REV",
    "DOCKER_BUILD_DATE", "BUILD-NUMBER", "SOURCE_COMMIT", "COMMIT", "HEAD_SHA",
    "GIT_HASH", "CI_BUILD_ID",
])
def test_volatile(name: str) -> None:
    assert volatile_name(name)


@pytest.mark.parametrize("name", [
    "NODE_VERSION", "RUBY_VERSION", "PYTHON_VERSION", "BUILD_TARGET", "BUILDPLATFORM",
    "SHA_TOOL", "RAILS_ENV", "BUNDLE_WITHOUT", "SOURCE_DIR", "GIT_URL",
])
def test_stable(name: str) -> None:
    assert not volatile_name(name)


def test_detect_reads_every_declared_arg() -> None:
    df = parse("ARG BUILD_COMMIT_SHA\nFROM a\nARG NODE_VERSION=20 APP_GIT_REV\n")
    assert detect_volatile(df) == {"BUILD_COMMIT_SHA", "APP_GIT_REV"}
