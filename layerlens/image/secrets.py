"""Secrets left in an image: files in any layer (deleted ones included) and config values.

Findings carry the layer, the path or key and the kind of secret, never the secret itself.
File contents are read only for small files whose names make them candidates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

MAX_CONTENT = 64 * 1024
CONTENT_ONLY = "content candidate"  # a name rule's kind: judged by content alone

# Template files ship placeholders (the dotenv and PHP/Symfony conventions): not secrets
# unless a value in them looks real
TEMPLATE_SUFFIXES = (".example", ".default", ".sample", ".dist", ".template", ".tmpl")

# name patterns -> kind; checked against the basename or the whole path
_NAME_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(^|/)id_(rsa|dsa|ecdsa|ed25519)$"), "ssh private key"),
    (re.compile(r"\.(pem|key|p12|pfx|jks|keystore)$", re.I), "private key or keystore"),
    # `.env`, `.env.local`, and named ones (`app.env`, `prod.env`, `app.env.example`)
    (re.compile(r"(^|/)\.env(\.[\w.-]+)?$|(^|/)[^/]+\.env(\.(local|example|default|"
                r"sample|dist|template|tmpl))?$"), "dotenv file"),
    (re.compile(r"(^|/)\.aws/credentials$"), "AWS credentials"),
    (re.compile(r"(^|/)\.docker/config\.json$|(^|/)\.dockercfg$"), "registry credentials"),
    (re.compile(r"(^|/)\.npmrc$"), "npm credentials"),
    (re.compile(r"(^|/)\.pypirc$"), "PyPI credentials"),
    (re.compile(r"(^|/)\.netrc$"), "netrc credentials"),
    (re.compile(r"(^|/)\.git-credentials$"), "git credentials"),
    (re.compile(r"(^|/)\.kube/config$|kubeconfig$"), "Kubernetes credentials"),
    (re.compile(r"(^|/)(gcloud|google)[^/]*credentials[^/]*\.json$|service[-_]?account[^/]*\.json$",
                re.I), "cloud service account key"),
    (re.compile(r"(^|/)\.ssh/[^/]+$"), "ssh material"),
    # names that only make the content worth a look: a secret is reported by content alone
    (re.compile(r"(credential|secret)[^/]*$|(^|/)env(ironment)?$|"
                r"\.(ini|cfg|conf|properties)$", re.I), CONTENT_ONLY),
]
# content that confirms a candidate (or flags any small text file that holds it)
_CONTENT_RULES: list[tuple[re.Pattern[bytes], str]] = [
    (re.compile(rb"-----BEGIN (?:RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY"),
     "private key"),
    # a value, not a placeholder (`=`, `= $VAR`, `=<secret>` are templates)
    (re.compile(rb"aws_secret_access_key\s*[=:]\s*[\"']?[A-Za-z0-9/+]{16,}", re.I),
     "AWS credentials"),
    (re.compile(rb"AKIA[0-9A-Z]{16}"), "AWS access key id"),
    (re.compile(rb"gh[pousr]_[A-Za-z0-9]{36,}"), "GitHub token"),
    (re.compile(rb"glpat-[A-Za-z0-9_-]{20,}"), "GitLab token"),
    (re.compile(rb"xox[abprs]-[A-Za-z0-9-]{10,}"), "Slack token"),
    (re.compile(rb"_authToken\s*="), "npm token"),
    (re.compile(rb'"auths"\s*:\s*\{[^}]*"auth"\s*:'), "registry credentials"),
    (re.compile(rb"\"private_key\"\s*:\s*\"-----BEGIN"), "cloud service account key"),
    (re.compile(rb"sk_live_[A-Za-z0-9]{16,}"), "Stripe secret key"),
]
_SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|AUTH)",
    re.I,
)
_VALUE_RULES = [(re.compile(r.pattern.decode()), kind) for r, kind in _CONTENT_RULES
                if kind not in ("AWS credentials", "npm token", "registry credentials")]


@dataclass(frozen=True, slots=True)
class SecretFinding:
    where: str  # "file", "env", "history", "label", "context"
    layer: int | None
    path: str  # file path, or variable name
    kind: str
    deleted_later: bool = False

    def describe(self) -> str:
        loc = f"layer {self.layer} " if self.layer is not None else ""
        gone = " (deleted in a later layer, still in the image)" if self.deleted_later else ""
        return f"{loc}{self.where} {self.path}: {self.kind}{gone}"


# One pass over the name rejects almost every path before the rules are tried one by one.
_ANY_NAME = re.compile("|".join(f"(?:{rx.pattern})" for rx, _ in _NAME_RULES), re.I)


# Every name rule needs one of these (lower-case) in the path: a substring test rules out
# ordinary names at a fraction of the cost of the combined expression, which is the hot path
# of an image read (once per tar entry). Keep in step with _NAME_RULES.
_NEEDLES = ("id_", ".pem", ".key", ".p12", ".pfx", ".jks", ".env", "credential", "config",
            ".dockercfg", ".npmrc", ".pypirc", ".netrc", "account", ".ssh/", "secret", "/env\0",
            "/environment\0", ".ini", ".cfg", ".conf", ".properties")


def _tail(name: str) -> str:
    """The last two components of NAME: every name rule is anchored at the end and looks at
    most at a file and its directory (`.aws/credentials`), so searching only this keeps the
    rules' cost independent of how deep a path is."""
    cut = name.rfind("/", 0, max(name.rfind("/"), 0))
    return name[cut + 1:] if cut >= 0 else name


def _has_needle(tail: str) -> bool:
    """Whether TAIL (`_tail` of a name) holds one of `_NEEDLES`, lower-cased."""
    low = "/" + tail.lower() + "\0"  # "/env\0" is a file named env, at any depth
    return any(needle in low for needle in _NEEDLES)


def maybe_secret(name: str) -> bool:
    """Whether NAME (a tar member name) may be a secret file by one of the name rules."""
    tail = _tail(name)
    return _has_needle(tail) and _ANY_NAME.search(tail) is not None


def candidate(path: str) -> str | None:
    """The kind the first matching name rule gives PATH, or None."""
    return _candidate_name(_tail(path))


@lru_cache(maxsize=1 << 16)  # names recur (index.js ...) and `suggest` asks again per rewrite
def _candidate_name(tail: str) -> str | None:
    # The needle test first: the combined expression costs ~17 us a name, and `suggest`
    # asks it of every copied file (20 ms on a 1,100-file context). Only for ASCII names:
    # re.I also folds a few other letters onto ASCII ones (long s, Kelvin sign) that
    # str.lower() keeps, so any other name goes to the expressions as before.
    if tail.isascii() and not _has_needle(tail):
        return None
    if not _ANY_NAME.search(tail):
        return None
    for rx, kind in _NAME_RULES:
        if rx.search(tail):
            return kind
    return None


def content_kind(data: bytes) -> str | None:
    for rx, kind in _CONTENT_RULES:
        if rx.search(data):
            return kind
    return None


_LINE = re.compile(rb"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*[=:]\s*[\"']?([^\"'\s#]*)",
                   re.M)


def looks_real(data: bytes | None) -> bool:
    """Does a template hold a value that looks like a real credential (a token format or a
    private key), rather than a placeholder under a secret-sounding name?"""
    if not data:
        return False
    if content_kind(data):
        return True
    for name, value in _LINE.findall(data):
        kind = value_finding(name.decode("utf-8", "replace"), value.decode("utf-8", "replace"))
        if kind and not kind.startswith("secret-looking variable"):
            return True
    return False


def file_finding(path: str, data: bytes | None) -> str | None:
    """The kind of secret a file is, judged by its name and (small) content, or None.

    A template (`.env.example`, TEMPLATE_SUFFIXES) is a secret only when a value in it
    looks real. One table for the image reader and LL006's build-context check."""
    if is_template(path) and not looks_real(data):
        return None
    return _file_kind(path, data)


def is_template(path: str) -> bool:
    """A template by its name: a TEMPLATE_SUFFIXES ending (`.env.example`), or a template
    word as the name before `.env` (`example.env`, `sample.env`: FreshRSS ships
    `Docker/freshrss/example.env` with `ADMIN_PASSWORD=freshrss`)."""
    name = path.lower().rsplit("/", 1)[-1]
    if name.endswith(TEMPLATE_SUFFIXES):
        return True
    stem = name.removesuffix(".env")
    return stem != name and stem.rsplit(".", 1)[-1].lstrip("._-") in {
        s.lstrip(".") for s in TEMPLATE_SUFFIXES}


def _file_kind(path: str, data: bytes | None) -> str | None:
    by_name = candidate(path)
    by_content = content_kind(data) if data is not None else None
    if by_content:
        return by_content
    if by_name in ("ssh private key", "AWS credentials", "registry credentials",
                   "git credentials", "netrc credentials", "dotenv file",
                   "cloud service account key", "Kubernetes credentials"):
        # these names hold credentials by definition, but not empty placeholders
        if data is not None and not data.strip():
            return None
        return by_name
    if by_name in ("npm credentials", "PyPI credentials"):
        return by_name if data and re.search(rb"(?i)(token|password|_auth)", data) else None
    if by_name == "private key or keystore":
        # a .pem may be only a public certificate
        if path.lower().endswith((".p12", ".pfx", ".jks", ".keystore")):
            return by_name
        return None
    return None


def value_finding(name: str, value: str) -> str | None:
    """A config or build-arg assignment that looks like it carries a secret."""
    for rx, kind in _VALUE_RULES:
        if rx.search(value):
            return kind
    if _SECRET_NAME.search(name) and value and value.lower() not in (
        "", "none", "null", "false", "true", "changeme", "unset", "0", "1",
    ) and not value.startswith(("$", "/run/secrets", "/var/run/secrets")) and not name.upper(
    ).endswith(("_FILE", "_PATH", "_DIR", "_URL", "_HOST", "_PORT", "_ENABLED")):
        return f"secret-looking variable {name}"
    return None


_ASSIGN = re.compile(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|'[^']*'|\S+)")


def history_findings(created_by: str) -> list[tuple[str, str]]:
    """(name, kind) for assignments in a history line (`RUN |2 TOKEN=x ...`, `ENV`, `ARG`)."""
    out = []
    for m in _ASSIGN.finditer(created_by):
        name, value = m.group(1), m.group(2).strip("\"'")
        kind = value_finding(name, value)
        if kind:
            out.append((name, kind))
    for rx, kind in _VALUE_RULES:
        if rx.search(created_by) and not any(k == kind for _, k in out):
            out.append(("(command)", kind))
    return out
