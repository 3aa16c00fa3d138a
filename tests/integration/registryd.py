"""A real CNCF distribution registry (Debian's `docker-registry`) on 127.0.0.1 for tests,
with optional htpasswd basic auth or token (bearer) auth backed by a small token service.

The token service is the test's own: it checks basic credentials and issues the JWT that
distribution's token authentication verifies (RS256, the signing certificate in `x5c`,
trusted through the registry's `rootcertbundle`), signed with the openssl command line.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

USER, PASSWORD = "alice", "s3cret-pw-4711"
SERVICE, ISSUER = "layerlens-test-registry", "layerlens-test-issuer"


def have_registry() -> bool:
    return shutil.which("docker-registry") is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenService:
    """GET /token?service=S&scope=repository:R:pull,push with basic auth -> {"token": JWT}."""

    def __init__(self, root: Path) -> None:
        self.key = root / "token.key"
        self.cert = root / "token.crt"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        str(self.key), "-out", str(self.cert), "-days", "2", "-subj",
                        "/CN=layerlens-test-token"], check=True, capture_output=True)
        der = subprocess.run(["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
                             check=True, capture_output=True).stdout
        self.x5c = base64.b64encode(der).decode()
        self.port = free_port()
        self.requests: list[str] = []
        svc = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_a) -> None:
                pass

            def do_GET(self) -> None:
                q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                auth = self.headers.get("Authorization", "")
                ok = auth == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                svc.requests.append("basic" if ok else "anonymous")
                if not ok:
                    self.send_response(401)
                    self.end_headers()
                    return
                access = []
                for scope in q.get("scope", []):
                    typ, name, actions = scope.split(":")
                    access.append({"type": typ, "name": name, "actions": actions.split(",")})
                body = json.dumps({"token": svc.sign(access)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def sign(self, access: list[dict]) -> str:
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "x5c": [self.x5c]}
        claims = {"iss": ISSUER, "sub": USER, "aud": SERVICE, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": str(now) + str(len(access)),
                  "access": access}
        signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)],
                             input=signing.encode(), check=True, capture_output=True).stdout
        return f"{signing}.{_b64(sig)}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Registry:
    """docker-registry serving a temp directory on 127.0.0.1:PORT; `auth` is None, "basic"
    or "token"."""

    def __init__(self, root: Path, auth: str | None = None) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.token: TokenService | None = None
        cfg = ["version: 0.1", "log:", "  level: error", "storage:", "  filesystem:",
               f"    rootdirectory: {root / 'data'}", "http:", f"  addr: {self.host}",
               "  secret: layerlens-test"]
        if auth == "basic":
            hp = subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], check=True,
                                capture_output=True, text=True).stdout
            (root / "htpasswd").write_text(hp)
            cfg += ["auth:", "  htpasswd:", "    realm: layerlens-test",
                    f"    path: {root / 'htpasswd'}"]
        elif auth == "token":
            self.token = TokenService(root)
            cfg += ["auth:", "  token:", f"    realm: {self.token.realm}",
                    f"    service: {SERVICE}", f"    issuer: {ISSUER}",
                    f"    rootcertbundle: {self.token.cert}"]
        (root / "config.yml").write_text("\n".join(cfg) + "\n")
        self.log = open(root / "registry.log", "wb")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(["docker-registry", "serve", str(root / "config.yml")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break  # 401: up, and asking for credentials
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError("docker-registry did not start: " +
                                       (root / "registry.log").read_text()[-500:]) from None
                time.sleep(0.1)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        if self.token:
            self.token.close()


def auth_file(path: Path, host: str, user: str = USER, password: str = PASSWORD) -> Path:
    """A containers-auth.json(5) / docker config.json with one `auths` entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    path.write_text(json.dumps({"auths": {host: {"auth": token}}}))
    return path
