"""Read an image straight from a registry: `docker://HOST/REPO:TAG` or `@sha256:...`.

The OCI distribution API, pull side only (distribution-spec "Pull"): GET the manifest (an
index picks the platform as archives do), GET the config blob, and hand each layer blob to
the reader as an open HTTP response, streamed once through the same walker and never
written to disk. The layer sizes a manifest gives are the bytes a pull receives; the reader
checks every blob against them and against its digest.

Authentication as skopeo does it (containers-auth.json(5)): credentials from
REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json,
${XDG_CONFIG_HOME:-~/.config}/containers/auth.json, then ~/.docker/config.json (`auths`),
the most specific `host/namespace` key first. A 401 is answered with Basic credentials or
the bearer-token flow (distribution's token authentication: the realm named by
WWW-Authenticate, basic credentials if we have them, scope `repository:REPO:pull`).
Credential helpers (`credHelpers`, `credsStore`) are not run. No credential is ever printed.

https by default; `tls_verify=False` (skopeo's --tls-verify=false) accepts any certificate
and falls back to plain http when the host does not speak TLS.

Plain urllib, not a client library: `oras` (oras-py) pulls in requests and jsonschema,
downloads blobs to files, reads only ~/.docker/config.json and leaves the platform choice
to the caller; what this needs is four GET forms, two auth schemes and a streamed body.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from layerlens.image.archive import INDEX_TYPES, Blob, Resolved, _json, _pick, _platform_str
from layerlens.image.tarstream import ImageError

DEFAULT_TLS_VERIFY = True  # the CLI's --tls-verify sets it for every command
MAX_MANIFEST_BYTES = 4 << 20  # distribution's own limit for a manifest
TIMEOUT = 60.0
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
# what a digest a user writes must be (OCI image-spec descriptor.md: registered algorithms)
_USER_DIGEST = re.compile(r"^(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # distribution/reference


@dataclass(frozen=True, slots=True)
class RegistryRef:
    """HOST/REPO with a TAG or a DIGEST (distribution/reference rules for the host)."""

    host: str  # as written, with its port; docker.io for Docker Hub
    repo: str
    tag: str | None
    digest: str | None

    @property
    def reference(self) -> str:
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        # NAME:TAG@DIGEST keeps its tag (the digest is what is read, as in docker pull)
        if self.digest:
            return f"docker://{self.host}/{self.repo}" + (
                f":{self.tag}" if self.tag else "") + f"@{self.digest}"
        return f"docker://{self.host}/{self.repo}:{self.tag or 'latest'}"


def parse_registry_ref(text: str) -> RegistryRef:
    """`HOST[:PORT]/REPO[:TAG][@DIGEST]`; a first component without `.` or `:` (and not
    `localhost`) is a Docker Hub name, as `docker pull` reads it."""
    name, at, digest = text.partition("@")
    if at and not _USER_DIGEST.match(digest):
        raise ImageError(f"malformed digest {digest!r}: want sha256: and 64 lower-case hex "
                         "digits (or sha512: and 128)", path=f"docker://{text}")
    tag = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
        if not _TAG.match(tag):
            raise ImageError(f"malformed tag {tag!r}: want up to 128 of A-Z a-z 0-9 _ . -, "
                             "not starting with . or -", path=f"docker://{text}")
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        host, repo = first, rest
    else:
        host, repo = "docker.io", name if "/" in name else "library/" + name
    if not repo or not re.fullmatch(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
                                    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*", repo):
        raise ImageError(f"not a repository name: {repo!r}", path=f"docker://{text}")
    return RegistryRef(host, repo, tag or None, digest or None)


def _auth_files() -> list[Path]:
    env = os.environ
    out = []
    if env.get("REGISTRY_AUTH_FILE"):
        out.append(Path(env["REGISTRY_AUTH_FILE"]))
    if env.get("XDG_RUNTIME_DIR"):
        out.append(Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    cfg = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    out.append(cfg / "containers" / "auth.json")
    docker = Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else Path.home() / ".docker"
    out.append(docker / "config.json")
    return out


def check_auth_file() -> None:
    """REGISTRY_AUTH_FILE, when set, names a file the user chose: a missing or unreadable
    one (or one that is not a JSON object) is an error naming it, not a silent anonymous
    pull. The default locations may well be absent."""
    name = os.environ.get("REGISTRY_AUTH_FILE")
    if not name:
        return
    where = f"REGISTRY_AUTH_FILE {name}"
    try:
        doc = json.loads(Path(name).read_bytes())
    except FileNotFoundError:
        raise ImageError("no such file", path=where) from None
    except OSError as exc:
        raise ImageError(f"cannot read: {exc.strerror or exc}", path=where) from None
    except (ValueError, RecursionError) as exc:
        raise ImageError(f"not JSON ({exc})", path=where) from None
    if not isinstance(doc, dict):
        raise ImageError("not a JSON object", path=where)


def find_credentials(ref: RegistryRef) -> tuple[str, str] | None:
    """(user, password) for REF from the first auth file with a matching `auths` key,
    trying `host/repo/...` down to `host` (containers-auth.json(5)); None when none."""
    host = ref.host
    keys = []
    parts = ref.repo.split("/")
    for n in range(len(parts), 0, -1):
        keys.append(f"{host}/{'/'.join(parts[:n])}")
    keys.append(host)
    if host == "docker.io":
        keys += ["https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io"]
    keys += [f"https://{host}", f"http://{host}", f"https://{host}/v1/", f"https://{host}/v2/"]
    check_auth_file()
    for path in _auth_files():
        try:
            doc = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        auths = doc.get("auths") if isinstance(doc, dict) else None
        if not isinstance(auths, dict):
            continue
        for k in keys:
            entry = auths.get(k)
            if isinstance(entry, dict) and isinstance(entry.get("username"), str) and \
                    isinstance(entry.get("password"), str) and not entry.get("auth"):
                # docker login --password-stdin writes `auth`; hand-written files and some
                # tools (podman's docs, CI templates) give username and password
                return entry["username"], entry["password"]
            if isinstance(entry, dict) and isinstance(entry.get("auth"), str):
                try:
                    user, _, pw = base64.b64decode(entry["auth"]).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    raise ImageError(f"unreadable credentials for {k}", path=str(path)) from None
                return user, pw
    return None


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="...",service="...",scope="..."` -> ("bearer", {...})."""
    scheme, _, rest = header.strip().partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


@dataclass
class Client:
    """One repository on one registry, with the authorization it earned."""

    ref: RegistryRef
    tls_verify: bool
    scheme: str = "https"
    auth_header: str | None = None
    creds: tuple[str, str] | None = None
    _creds_loaded: bool = False
    _ctx: ssl.SSLContext | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.tls_verify:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            self._ctx = ctx

    @property
    def label(self) -> str:
        return str(self.ref)

    @property
    def base(self) -> str:
        host = "registry-1.docker.io" if self.ref.host == "docker.io" else self.ref.host
        return f"{self.scheme}://{host}/v2/{self.ref.repo}"

    def _credentials(self) -> tuple[str, str] | None:
        if not self._creds_loaded:
            self.creds = find_credentials(self.ref)
            self._creds_loaded = True
        return self.creds

    def _open(self, url: str, headers: dict[str, str]):
        req = urllib.request.Request(url, headers=headers)
        if self.auth_header:
            # not sent on to where a blob redirects (object storage, a CDN)
            req.add_unredirected_header("Authorization", self.auth_header)
        return urllib.request.urlopen(req, timeout=TIMEOUT, context=self._ctx)

    def get(self, path: str, accept: str | None = None):
        """An open response for GET base/PATH, after authenticating if asked to."""
        headers = {"Accept": accept} if accept else {}
        url = f"{self.base}/{path}"
        for attempt in range(3):
            try:
                return self._open(url, headers)
            except urllib.error.HTTPError as exc:
                if exc.code == 401 and attempt < 2 and self._authenticate(exc):
                    continue
                raise self._http_error(exc, path) from None
            except urllib.error.URLError as exc:
                reason = exc.reason
                if (self.scheme == "https" and not self.tls_verify and
                        isinstance(reason, ssl.SSLError)):
                    self.scheme = "http"  # skopeo: --tls-verify=false also allows http
                    url = f"{self.base}/{path}"
                    continue
                hint = ""
                if isinstance(reason, ssl.SSLError) and self.tls_verify:
                    hint = " (a plain-http or self-signed registry? --tls-verify=false)"
                raise ImageError(f"cannot reach the registry: {reason}{hint}",
                                 path=self.label) from None
            except (TimeoutError, OSError) as exc:
                raise ImageError(f"cannot reach the registry: {exc}", path=self.label) from None
        raise ImageError("the registry refused our credentials", path=self.label)

    def _authenticate(self, exc: urllib.error.HTTPError) -> bool:
        scheme, params = _challenge(exc.headers.get("WWW-Authenticate", ""))
        creds = self._credentials()
        if scheme == "basic":
            if creds is None or self.auth_header:
                return False
            token = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
            self.auth_header = f"Basic {token}"
            return True
        if scheme == "bearer" and params.get("realm"):
            if self.auth_header and self.auth_header.startswith("Bearer"):
                return False  # a fresh token was refused: do not loop
            self.auth_header = f"Bearer {self._token(params, creds)}"
            return True
        return False

    def _token(self, params: dict[str, str], creds: tuple[str, str] | None) -> str:
        """distribution's token authentication: GET realm?service=...&scope=..."""
        query = {"scope": params.get("scope") or f"repository:{self.ref.repo}:pull"}
        if params.get("service"):
            query["service"] = params["service"]
        url = params["realm"] + ("&" if "?" in params["realm"] else "?") + \
            urllib.parse.urlencode(query)
        if not url.startswith(("https://", "http://")):
            raise ImageError("the registry names an odd token realm", path=self.label)
        req = urllib.request.Request(url)
        if creds is not None:
            b = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
            req.add_unredirected_header("Authorization", f"Basic {b}")
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT, context=self._ctx) as resp:
                doc = json.loads(resp.read(1 << 20))
        except urllib.error.HTTPError as exc:
            who = "with the stored credentials" if creds else "anonymously (no credentials " \
                "in the auth files)"
            raise ImageError(f"the token service refused a token {who}: HTTP {exc.code}",
                             path=self.label) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ImageError(f"cannot get a token: {exc}", path=self.label) from None
        tok = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(tok, str) or not tok:
            raise ImageError("the token service answered without a token", path=self.label)
        return tok

    def _http_error(self, exc: urllib.error.HTTPError, path: str) -> ImageError:
        what = path.split("/", 1)[0].rstrip("s")
        if exc.code == 401:
            creds = self._credentials()
            msg = ("the registry refused the stored credentials" if creds else
                   "the registry wants credentials and the auth files have none for "
                   f"{self.ref.host} (REGISTRY_AUTH_FILE, containers auth.json, "
                   "~/.docker/config.json)")
        elif exc.code == 404:
            msg = f"no such {what}: {path.split('/', 1)[-1]}"
        else:
            msg = f"HTTP {exc.code} for the {what}"
        return ImageError(msg, path=self.label)

    def read_manifest(self, reference: str) -> tuple[dict, bytes]:
        with self.get(f"manifests/{reference}", ", ".join(MANIFEST_TYPES)) as resp:
            raw = resp.read(MAX_MANIFEST_BYTES + 1)
            ctype = resp.headers.get("Content-Type", "")
        if len(raw) > MAX_MANIFEST_BYTES:
            raise ImageError("manifest is too large", path=self.label)
        if reference.startswith("sha256:"):
            _check(raw, reference, self.label)
        doc = _json(raw, self.label, "manifest")
        if not isinstance(doc, dict):
            raise ImageError("manifest is not a JSON object", path=self.label)
        doc.setdefault("mediaType", ctype.split(";", 1)[0].strip() or None)
        return doc, raw

    def open_blob(self, digest: str) -> BinaryIO:
        return self.get(f"blobs/{digest}")


def _check(raw: bytes, digest: str, label: str) -> None:
    alg, _, want = digest.partition(":")
    if alg in ("sha256", "sha512") and hashlib.new(alg, raw).hexdigest() != want:
        raise ImageError(f"digest mismatch for {digest}", path=label)


class _Label:
    def __init__(self, label: str) -> None:
        self.label = label


def resolve_registry(text: str, platform: str | None, *,
                     tls_verify: bool | None = None) -> Resolved:
    """Resolve `HOST/REPO:TAG` (or `@DIGEST`) to config and streamed layer blobs.

    Raises ImageError (one line, naming `docker://...`, never a credential) when the
    registry cannot be reached, refuses us, or serves something malformed.
    """
    ref = parse_registry_ref(text)
    check_auth_file()  # before any request: a wrong file is a mistake to report, not to skip
    client = Client(ref, DEFAULT_TLS_VERIFY if tls_verify is None else tls_verify)
    doc, _ = client.read_manifest(ref.reference)
    notes: list[str] = []
    desc: dict = {}
    for _ in range(8):
        if doc.get("mediaType") in INDEX_TYPES or "manifests" in doc:
            desc = _pick(doc.get("manifests") or [], platform, _Label(client.label), notes,
                         present_fn=lambda _m: True)
            digest = desc.get("digest")
            if not isinstance(digest, str) or not _DIGEST.match(digest):
                raise ImageError("index entry without a valid digest", path=client.label)
            doc, _ = client.read_manifest(digest)
            continue
        break
    else:
        raise ImageError("indexes nested too deeply", path=client.label)
    if "layers" not in doc or not isinstance(doc.get("config"), dict):
        raise ImageError(f"not an image manifest ({doc.get('mediaType')})", path=client.label)
    cfg_digest = doc["config"].get("digest")
    if not isinstance(cfg_digest, str) or not _DIGEST.match(cfg_digest):
        raise ImageError("config descriptor without a valid digest", path=client.label)
    with client.open_blob(cfg_digest) as resp:
        raw = resp.read(MAX_MANIFEST_BYTES * 16 + 1)
    _check(raw, cfg_digest, client.label)
    config = _json(raw, client.label, "config")
    if not isinstance(config, dict):
        raise ImageError("config is not a JSON object", path=client.label)
    layers = []
    for d in doc.get("layers") or []:
        if not isinstance(d, dict) or not isinstance(d.get("digest"), str) or \
                not _DIGEST.match(d["digest"]):
            raise ImageError("layer descriptor without a valid digest", path=client.label)
        size = d.get("size")
        layers.append(Blob(d["digest"], size if isinstance(size, int) else None, d["digest"],
                           d.get("mediaType"), (lambda dg=d["digest"]: client.open_blob(dg))))
    plat = _platform_str(desc.get("platform")) or _platform_str(
        {"os": config.get("os"), "architecture": config.get("architecture"),
         "variant": config.get("variant")})
    tags = (f"{ref.host}/{ref.repo}:{ref.tag}",) if ref.tag else ()
    return Resolved(str(ref), "registry", config, cfg_digest, tuple(layers), plat, tags,
                    tuple(notes))
