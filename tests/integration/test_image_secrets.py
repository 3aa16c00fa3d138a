"""Secret files in image layers found by name and by content, never printed (issue 13)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from layerlens.image.reader import read_image
from layerlens.image.secrets import file_finding

from .imagekit import Layout, layer_tar

KEY = b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_named_dotenv_and_credentials_by_content(tmp_path: Path) -> None:
    lay = Layout()
    lay.tag(lay.image([layer_tar([
        ("app.env", b"AWS_SECRET_ACCESS_KEY=" + KEY + b"\n"),
        ("d/prod.env", b"DB_PASSWORD=hunter2\n"),
        ("d/credentials", b"[default]\naws_secret_access_key = " + KEY + b"\n"),
        ("d/credentials.ini", b"# no secret here\nregion = eu-west-1\n"),
        ("app.env.example", b"AWS_SECRET_ACCESS_KEY=\nDB_PASSWORD=changeme\n"),
        ("etc/fine.conf", b"listen 80\n"),
    ])]), "latest")
    p = lay.write_tar(tmp_path / "s.tar")
    found = {f.path: f.kind for f in read_image(str(p)).secrets if f.where == "file"}
    assert found == {"app.env": "AWS credentials", "d/prod.env": "dotenv file",
                     "d/credentials": "AWS credentials"}, found
    res = subprocess.run([sys.executable, "-m", "layerlens", "image", str(p), "--format",
                          "json"], capture_output=True, text=True, timeout=60)
    assert "hunter2" not in res.stdout and KEY.decode() not in res.stdout
    assert len(json.loads(res.stdout)["secrets"]) >= 3


def test_templates_only_when_a_value_looks_real() -> None:
    assert file_finding("app.env.example", b"AWS_SECRET_ACCESS_KEY=<your key>\n") is None
    assert file_finding("app.env.example", b"AWS_SECRET_ACCESS_KEY=" + KEY) == "AWS credentials"
    assert file_finding("x/secrets.yaml", b"aws_secret_access_key: " + KEY) == "AWS credentials"
    assert file_finding("x/secrets.yaml", b"aws_secret_access_key: ${KEY}") is None


def test_name_rules_see_the_last_two_components_at_any_depth() -> None:
    from layerlens.image.secrets import candidate, maybe_secret

    assert candidate("srv/a/b/root/.aws/credentials") == "AWS credentials"
    assert candidate("x/y/.docker/config.json") == "registry credentials"
    assert maybe_secret("opt/app/env") and maybe_secret("env")
    # a directory named environment is no candidate; only files whose names say so are
    assert not maybe_secret("usr/lib/python3/site-packages/environment/mod.py")
    assert not maybe_secret("usr/share/doc/envsubst/README")


# Pieces of names: every name rule's words, case variants, separators, and letters that
# re.I folds onto ASCII ones (long s, Kelvin sign, dotless i) but str.lower() does not.
_NAME_PIECES = ["id_", "ID_", "rsa", "ed25519", ".pem", ".KEY", ".keystore", ".p12", ".env",
                ".ENV", ".local", ".example", "app", ".aws/", "credentials", "Credential",
                ".docker/", "config", ".json", ".dockercfg", ".npmrc", ".pypirc", ".netrc",
                ".git-credentials", ".kube/", "kubeconfig", "gcloud", "google", "service",
                "-", "_", "account", ".ssh/", "env", "environment", "Environment", "secret",
                "ſecret", "\u212aey", "credentıal", ".ini", ".cfg", ".conf", ".properties", "/",
                "x", ".", "README"]


# A name each name rule matches, in rule order
_RULE_EXAMPLES = ["id_ed25519", "tls.PEM", "app.env.local", ".aws/credentials",
                  ".docker/config.json", ".npmrc", ".pypirc", ".netrc", ".git-credentials",
                  "kubeconfig", "service_account-prod.json", ".ssh/known_hosts",
                  "environment"]


def _by_the_rules(name: str) -> str | None:
    """`candidate` without its needle test: the expressions alone."""
    from layerlens.image.secrets import _ANY_NAME, _NAME_RULES, _tail

    tail = _tail(name)
    if not _ANY_NAME.search(tail):
        return None
    return next((kind for rx, kind in _NAME_RULES if rx.search(tail)), None)


def test_every_name_rule_passes_the_candidate_prefilter() -> None:
    from layerlens.image.secrets import _NAME_RULES, candidate

    assert [next(k for rx, k in _NAME_RULES if rx.search(n)) for n in _RULE_EXAMPLES] == \
        [k for _, k in _NAME_RULES]
    for name in _RULE_EXAMPLES:
        assert candidate(name) is not None and candidate("srv/app/" + name) is not None
        for variant in (name, name.upper(), name.title(), "srv/app/" + name):
            assert candidate(variant) == _by_the_rules(variant), variant


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(_NAME_PIECES + _RULE_EXAMPLES), max_size=6).map("".join))
def test_candidate_prefilter_agrees_with_the_name_rules(name: str) -> None:
    """`candidate` skips the expressions for an ASCII name without a needle: that must
    never lose a name some rule matches (a rule added without its needle would)."""
    from layerlens.image.secrets import candidate

    assert candidate(name) == _by_the_rules(name)
