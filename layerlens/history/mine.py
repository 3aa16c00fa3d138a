"""Mine the git history of a build context in one streaming `git log` pass.

`git log --first-parent --no-renames --raw -z` gives, per commit, every changed path with
its new mode and blob id, so content identity is known without reading any file. Renames
are off by default: rename detection needs blob contents, which blobless/partial clones and
mirrors that drop large blobs do not have (git dies with `fatal: unable to read <sha>`).
Only the tree of the oldest commit in the window is listed in full (`git ls-tree`); every
later state is that tree plus the diffs.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from layerlens.errors import LayerlensError
from layerlens.history.model import Change, Commit, History, TreeEntry

DEFAULT_MAX_COMMITS = 1000
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class MineOptions:
    since: str | None = None
    max_commits: int | None = DEFAULT_MAX_COMMITS
    first_parent: bool = True
    renames: bool = False
    rev: str = "HEAD"


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=check,
                              env=_env())
    except FileNotFoundError:
        raise LayerlensError("git is not installed") from None
    except subprocess.CalledProcessError as exc:
        msg = exc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise LayerlensError(f"git {args[0]} failed: {msg[-1] if msg else exc}",
                             path=str(repo)) from None


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # Never prompt, never page, never fetch missing objects from a promisor remote.
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "GIT_NO_LAZY_FETCH": "1",
                "LC_ALL": "C"})
    return env


@dataclass(frozen=True, slots=True)
class RepoInfo:
    toplevel: Path
    prefix: str  # context directory relative to the top level, '' for the root, else 'a/b/'
    shallow: bool
    head: str | None


def find_repo(context: Path) -> RepoInfo | None:
    """The repository holding the context, or None when there is none (or no git)."""
    try:
        res = subprocess.run(["git", "-C", str(context), "rev-parse", "--show-toplevel",
                              "--is-shallow-repository"], capture_output=True, env=_env())
    except FileNotFoundError:
        return None
    if res.returncode != 0:
        return None
    lines = res.stdout.decode("utf-8", "surrogateescape").splitlines()
    top = Path(lines[0])
    shallow = len(lines) > 1 and lines[1].strip() == "true"
    head_res = subprocess.run(["git", "-C", str(top), "rev-parse", "--verify", "-q", "HEAD"],
                              capture_output=True, env=_env())
    head = head_res.stdout.decode().strip() if head_res.returncode == 0 else None
    rel = os.path.relpath(os.path.realpath(context), os.path.realpath(top))
    prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
    return RepoInfo(top, prefix, shallow, head)


def _decode(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _tokens(stream, chunk: int = _CHUNK) -> Iterator[bytes]:
    rest = b""
    while True:
        data = stream.read(chunk)
        if not data:
            break
        parts = (rest + data).split(b"\0")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def mine(
    info: RepoInfo,
    extra_paths: tuple[str, ...] = (),
    options: MineOptions | None = None,
    progress: Callable[[int], None] | None = None,
) -> History:
    """Read the window's commits (oldest first) with the changes under the context prefix.

    `extra_paths` are repository paths outside the context that matter too (a Dockerfile
    given with -f, its `.dockerignore`).
    """
    opts = options or MineOptions()
    if info.head is None:
        return History(info.toplevel, info.prefix, (), {}, info.shallow, ("the repository has "
                       "no commits yet",))
    cmd = ["git", "-C", str(info.toplevel), "log", "--raw", "-z", "--no-abbrev",
           "--format=%x01%H %ct %P", "--diff-merges=first-parent"]
    cmd.append("--no-renames" if not opts.renames else "--find-renames")
    if opts.first_parent:
        cmd.append("--first-parent")
    if opts.since:
        cmd.append(f"--since={opts.since}")
    if opts.max_commits:
        cmd.append(f"--max-count={opts.max_commits}")
    cmd += [opts.rev, "--"]
    prefix = info.prefix
    extra = set(extra_paths)
    commits: list[Commit] = []
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    except FileNotFoundError:
        raise LayerlensError("git is not installed") from None
    assert proc.stdout is not None
    header: list[str] | None = None
    changes: list[Change] = []
    meta: bytes | None = None

    def flush() -> None:
        if header is not None:
            sha, ctime, *parents = header
            commits.append(Commit(sha, int(ctime), tuple(parents), tuple(changes)))
            if progress is not None and len(commits) % 500 == 0:
                progress(len(commits))

    try:
        for tok in _tokens(proc.stdout):
            if meta is not None:
                path = _decode(tok)
                fields = meta.split()
                status = _decode(fields[4])[:1]
                if path.startswith(prefix) or path in extra:
                    rel = path[len(prefix):] if path.startswith(prefix) else path
                    changes.append(Change(
                        rel if path.startswith(prefix) else "",
                        path, int(fields[1], 8), _decode(fields[3]), status,
                    ))
                meta = None
                continue
            tok = tok.lstrip(b"\n")
            if tok.startswith(b"\x01"):
                flush()
                header = _decode(tok[1:]).split()
                changes = []
            elif tok.startswith(b":"):
                meta = tok[1:]
            # anything else (an empty token between records) carries nothing
        flush()
    finally:
        proc.stdout.close()
        err = proc.stderr.read() if proc.stderr else b""
        rc = proc.wait()
    if rc != 0:
        msg = _decode(err).strip().splitlines()
        raise LayerlensError(f"git log failed: {msg[-1] if msg else rc}", path=str(info.toplevel))
    commits.reverse()
    notices: list[str] = []
    if info.shallow:
        notices.append(
            f"shallow clone: only {len(commits)} commits are available; run `git fetch "
            "--unshallow` (or `git fetch --deepen=N`) for more history"
        )
    base: dict[str, TreeEntry] = {}
    if commits:
        base = list_tree(info, commits[0].sha, extra)
    return History(info.toplevel, prefix, tuple(commits), base, info.shallow, tuple(notices))


def list_tree(info: RepoInfo, rev: str, extra: set[str]) -> dict[str, TreeEntry]:
    """Every file under the context (and the extra paths) at `rev`, by repository path."""
    specs = [info.prefix or ".", *sorted(extra)]
    res = _git(info.toplevel, "ls-tree", "-r", "-z", "--full-tree", rev, "--",
               *[s.rstrip("/") or "." for s in specs])
    out: dict[str, TreeEntry] = {}
    for rec in res.stdout.split(b"\0"):
        if not rec:
            continue
        head, _, path_b = rec.partition(b"\t")
        mode, _type, sha = head.split()
        path = _decode(path_b)
        out[path] = TreeEntry(int(mode, 8), _decode(sha))
    return out


def read_blobs(toplevel: Path, shas: list[str]) -> dict[str, bytes]:
    """Contents of a few blobs (Dockerfile and ignore-file versions) in one cat-file call."""
    if not shas:
        return {}
    unique = list(dict.fromkeys(shas))
    try:
        res = subprocess.run(["git", "-C", str(toplevel), "cat-file", "--batch"],
                             input=("\n".join(unique) + "\n").encode(), capture_output=True,
                             env=_env(), check=True)
    except subprocess.CalledProcessError as exc:
        raise LayerlensError(f"git cat-file failed: {_decode(exc.stderr).strip()}",
                             path=str(toplevel)) from None
    out: dict[str, bytes] = {}
    data = res.stdout
    pos = 0
    for sha in unique:
        nl = data.index(b"\n", pos)
        header = data[pos:nl].split()
        pos = nl + 1
        if len(header) >= 2 and header[1] == b"missing":
            continue
        size = int(header[2])
        out[sha] = data[pos : pos + size]
        pos += size + 1
    return out
