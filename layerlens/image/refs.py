"""Image references as skopeo and buildah write them (containers-transports(5)).

    oci:DIR[:REF]                 OCI layout directory; REF is a ref.name annotation or @N
    oci-archive:FILE[:REF]        the same layout in a tar
    docker-archive:FILE[:REF]     `docker save` output; REF is a RepoTags name or @N
    docker-daemon:NAME            the image `docker save NAME` writes (also docker:NAME)
    podman:NAME                   the image `podman save NAME` writes
    docker://HOST/REPO:TAG        a registry, through the OCI distribution API (also @sha256:)
    PATH                          any of the archives or layouts above, by what it holds

As in containers/image, the path ends at the first colon after the transport; a path that
exists as written (colons and all) is read as a path, which keeps `./a:b.tar` working.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from layerlens.image.tarstream import ImageError

FILE_TRANSPORTS = ("oci", "oci-archive", "docker-archive")
DAEMON_TRANSPORTS = {"docker-daemon": "docker", "docker": "docker", "podman": "podman"}


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A parsed reference.

    transport: "path" (kind decided by content), "oci", "oci-archive", "docker-archive",
    "daemon" (save through `tool`) or "registry".
    location: the path, the daemon image name, or HOST/REPO[:TAG|@DIGEST] for a registry.
    select: the REF after the path (a tag or ref.name), None when not given.
    index: the @N source index, None when not given.
    """

    transport: str
    location: str
    select: str | None = None
    index: int | None = None
    tool: str | None = None


def parse_ref(ref: str) -> ImageRef:
    """Split REF into transport, location and selector; ImageError for an empty part."""
    if ref.startswith("docker://"):
        rest = ref[len("docker://"):]
        if not rest:
            raise ImageError("docker:// needs HOST/REPO[:TAG], as in docker://localhost:5000/"
                             "app:1.0", path=ref)
        host, slash, path = rest.partition("/")
        if "@" in host:
            # USER:PASSWORD@HOST: never echoed back, not even in this error
            raise ImageError("an image reference carries no credentials: give them in "
                             "REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json or "
                             "~/.docker/config.json", path=f"docker://***@{host.rsplit('@', 1)[1]}"
                             f"{slash}{path}")
        return ImageRef("registry", rest)
    scheme, colon, rest = ref.partition(":")
    if not colon or Path(ref).exists():
        return ImageRef("path", ref)
    if scheme in DAEMON_TRANSPORTS:
        if not rest:
            raise ImageError(f"{scheme}: needs an image name, as in {scheme}:myimage:latest")
        return ImageRef("daemon", rest, tool=DAEMON_TRANSPORTS[scheme])
    if scheme in FILE_TRANSPORTS:
        if Path(rest).exists():
            path, sel = rest, None
        else:
            path, _, sel = rest.partition(":")
            sel = sel or None
        if not path:
            example = "oci:DIR[:REF], as in oci:./layout:latest (an OCI layout directory)" \
                if scheme == "oci" else f"{scheme}:FILE[:REF], as in {scheme}:image.tar"
            raise ImageError(f"{scheme}: needs a path: {example}", path=ref)
        index = None
        if sel is not None and sel.startswith("@"):
            if not sel[1:].isdigit():
                raise ImageError(f"source index {sel!r} is not @NUMBER", path=ref)
            index, sel = int(sel[1:]), None
        return ImageRef(scheme, path, sel, index)
    return ImageRef("path", ref)


def docker_name(name: str) -> str:
    """A docker reference in its short, comparable form: `docker.io/library/x` -> `x`,
    `:latest` added when there is neither tag nor digest (distribution/reference rules)."""
    n = name
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/",
                   "localhost/"):
        if n.startswith(prefix):
            n = n[len(prefix):]
            break
    last = n.rsplit("/", 1)[-1]
    if "@" not in n and ":" not in last:
        n += ":latest"
    return n
