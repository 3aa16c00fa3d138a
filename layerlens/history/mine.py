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
import re
import shlex
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from layerlens.errors import LayerlensError
from layerlens.gcpause import paused
from layerlens.history.model import Change, Commit, History, TreeEntry
from layerlens.jsonout import quoted

if TYPE_CHECKING:
    from layerlens.history.store import HistoryStore

DEFAULT_MAX_COMMITS = 1000
_CHUNK = 1 << 20
_STATUS = {b"A": "A", b"M": "M", b"T": "T", b"D": "D"}


@dataclass(frozen=True, slots=True)
class MineOptions:
    since: str | None = None
    max_commits: int | None = DEFAULT_MAX_COMMITS
    first_parent: bool = True
    renames: bool = False
    rev: str = "HEAD"


class GitError(LayerlensError):
    """git ran and failed: the message is git's own last line (one line, no traceback)."""


class GitRefused(GitError):
    """git refuses to read the repository: it is owned by another user (`safe.directory`)."""


def _last_line(stderr: bytes) -> str:
    """git's reason in one line: its first `fatal:` line (later lines are often the tail of
    a wrapped explanation), else the last line."""
    lines = [x.strip() for x in _decode(stderr).splitlines() if x.strip()]
    fatal = [x for x in lines if x.startswith("fatal:")]
    return fatal[0] if fatal else (lines[-1] if lines else "")


def _failure(what: str, repo: Path, stderr: bytes, rc: int | str) -> GitError:
    """The one-line error for a failed git call; ownership refusals name the remedy."""
    refused = _refusal(stderr)
    if refused is not None:
        return refused
    return GitError(f"git {what} failed: {_last_line(stderr) or rc}", path=str(repo))


def _refusal(stderr: bytes) -> GitRefused | None:
    """git's `safe.directory` check (CVE-2022-24765): "fatal: detected dubious ownership in
    repository at '<dir>'", followed by the `git config --global --add safe.directory <dir>`
    to run. CI container jobs run as root over a checkout owned by the runner's user."""
    text = _decode(stderr)
    if "dubious ownership" not in text:
        return None
    m = re.search(r"dubious ownership in repository at '(.*)'", text)
    where = m.group(1) if m else ""
    m = re.search(r"safe\.directory (.+)$", text, re.M)
    target = m.group(1).strip() if m else (where or "<dir>")
    return GitRefused(
        "git refuses this repository: detected dubious ownership (the checkout belongs to "
        "another user, as in CI container jobs running as root); if you trust it, run "
        f"`git config --global --add safe.directory {shlex.quote(target)}` and try again",
        path=where or None)


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    try:
        res = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, env=_env())
    except FileNotFoundError:
        raise LayerlensError("git is not installed") from None
    if check and res.returncode != 0:
        raise _failure(args[0], repo, res.stderr, res.returncode)
    return res


def check_since(repo: Path, value: str) -> None:
    """Raise `LayerlensError` when git reads `--since VALUE` as no date at all. git's
    approxidate (date.c) never fails: text it cannot read ("notadate") silently means *now*,
    which empties the window. `git rev-parse --since` shows the reading (`--max-age=T`); T
    at the current time for anything but "now" is such a silent failure."""
    import time

    before = time.time()
    res = _git(repo, "rev-parse", f"--since={value}")
    out = res.stdout.decode("ascii", "replace").strip()
    if not out.startswith("--max-age="):
        return
    try:
        when = int(out.split("=", 1)[1])
    except ValueError:
        return
    if value.strip().lower() != "now" and before - 2 <= when <= time.time() + 2:
        raise LayerlensError(f"--since {quoted(value)}: git reads no date in it (it would mean "
                             "now, an empty window); give a date such as 2024-01-31 or "
                             "'6 months ago'")


# Variables that point git at another repository, index or object store, or change how it
# reads pathspecs. git exports GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE and GIT_PREFIX to hooks;
# CI systems set some of them too. layerlens finds the repository from the context directory
# only, so, like pre-commit's `no_git_env` (pre_commit/git.py), every GIT_* variable is dropped
# except those that configure transport and credentials. The configuration sources are kept
# (GIT_CONFIG_GLOBAL/SYSTEM/NOSYSTEM, GIT_CONFIG_COUNT/KEY_n/VALUE_n): they are how a CI job
# passes `safe.directory`, and they never relocate the repository.
_KEEP_GIT_ENV = frozenset({
    "GIT_EXEC_PATH", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSL_CAINFO", "GIT_SSL_NO_VERIFY",
    "GIT_CONFIG_COUNT", "GIT_HTTP_PROXY_AUTHMETHOD", "GIT_ALLOW_PROTOCOL", "GIT_ASKPASS",
    "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM",
    "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
})


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GIT_") or k in _KEEP_GIT_ENV
           or k.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))}
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
    """The repository holding the context, or None when there is none (or no git).

    Raises GitRefused when git refuses the repository for its ownership (the message gives
    the `safe.directory` remedy), and GitError, with git's own last line, for any other
    failure than "not a git repository".
    """
    try:
        res = subprocess.run(["git", "-C", str(context), "rev-parse", "--show-toplevel",
                              "--is-shallow-repository"], capture_output=True, env=_env())
    except FileNotFoundError:
        return None
    if res.returncode != 0:
        refused = _refusal(res.stderr)
        if refused is not None:
            raise refused
        if b"not a git repository" in res.stderr or b"must be run in a work tree" in res.stderr:
            return None  # no repository, or a context inside a .git directory / bare one
        raise _failure("rev-parse", context, res.stderr, res.returncode)
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


def _follow(proc: subprocess.Popen, fh, chunk: int = _CHUNK) -> Iterator[bytes]:
    """Read git's output from an unlinked temporary file while git is still writing it.

    A regular file never makes git wait for its reader, as a pipe does; parsing runs on
    this core while git runs on another.
    """
    fd = fh.fileno()
    offset = 0
    nap = 0.0005
    while True:
        data = os.pread(fd, chunk, offset)
        if data:
            offset += len(data)
            yield data
            if len(data) == chunk:
                continue
        if proc.poll() is not None:
            data = os.pread(fd, chunk, offset)
            if not data:
                return
            offset += len(data)
            yield data
            continue
        # Back off while git is busy diffing trees, and never speed up again: the parser
        # outruns git, so after a short read there is little to do until git has written
        # more. Waking at every half millisecond after each short read (the nap was reset on
        # data) cost 2,000 wake-ups and a tenth of a second of CPU over rails' history; a
        # 10 ms ceiling costs at most 10 ms of latency, once, when git exits.
        time.sleep(nap)
        nap = min(nap * 2, 0.01)


def mine(
    info: RepoInfo,
    extra_paths: tuple[str, ...] = (),
    options: MineOptions | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    with_base: bool = True,
) -> History:
    """Read the window's commits (oldest first) with the changes under the context prefix,
    and (`with_base`) the tree of its oldest commit.

    `extra_paths` are repository paths outside the context that matter too (a Dockerfile
    given with -f, its `.dockerignore`). A change's `sha` is `<commit>:<path>`: every change
    git reports is a new content (or mode) of that path, and that name reads it back.
    """
    opts = options or MineOptions()
    if info.head is None:
        return History(info.toplevel, info.prefix, (), {}, info.shallow, ("the repository has "
                       "no commits yet",))
    cmd = ["git", "-C", str(info.toplevel), "log", "--name-status", "-z",
           "--format=%x00%x01%H %ct %P", "--diff-merges=first-parent"]
    cmd.append("--no-renames" if not opts.renames else "--find-renames")
    if opts.first_parent:
        cmd.append("--first-parent")
    if opts.since:
        check_since(info.toplevel, opts.since)
        cmd.append(f"--since={opts.since}")
    if opts.max_commits:
        cmd.append(f"--max-count={opts.max_commits}")
    cmd += [opts.rev, "--"]
    prefix = info.prefix
    with tempfile.TemporaryFile(prefix="layerlens-gitlog-") as out, \
            tempfile.TemporaryFile(prefix="layerlens-gitlog-err-") as err_fh:
        try:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err_fh, env=_env())
        except FileNotFoundError:
            raise LayerlensError("git is not installed") from None
        try:
            with paused():
                commits = _parse_log(_follow(proc, out), prefix, set(extra_paths), progress,
                                     renames=opts.renames)
        finally:
            if proc.poll() is None:
                proc.kill()
            rc = proc.wait()
            err_fh.seek(0)
            err = err_fh.read(65536)
    if rc != 0:
        raise _failure("log", info.toplevel, err, rc)
    commits.reverse()
    notices: list[str] = []
    if info.shallow:
        notices.append(
            f"shallow clone: only {len(commits)} commits are available; run `git fetch "
            "--unshallow` (or `git fetch --deepen=N`) for more history"
        )
    base: dict[str, TreeEntry] = {}
    if commits and with_base:
        base = list_tree(info, commits[0].sha, set(extra_paths))
    return History(info.toplevel, prefix, tuple(commits), base, info.shallow, tuple(notices))


def narrow(full: History, prefix: str, extra_paths: tuple[str, ...]) -> History:
    """The repository-wide `full` history seen from a context at `prefix` ('' or 'dir/'):
    only the changes under it or on `extra_paths`, with context-relative `rel` paths."""
    if not prefix:
        # every path is under the root, and whole-repository changes already carry
        # rel == path: the view is the history itself
        return History(full.toplevel, prefix, full.commits, full.base_tree, full.shallow,
                       full.notices)
    extra = set(extra_paths)
    plen = len(prefix)

    def keep(path: str) -> bool:
        return path.startswith(prefix) or path in extra

    commits = tuple(
        Commit(c.sha, c.time, c.parents, tuple(
            Change(ch.path[plen:] if ch.path.startswith(prefix) else "", ch.path, ch.mode,
                   ch.sha, ch.status)
            for ch in c.changes if keep(ch.path)))
        for c in full.commits)
    base = {p: e for p, e in full.base_tree.items() if keep(p)}
    return History(full.toplevel, prefix, commits, base, full.shallow, full.notices)


class MiningCache:
    """One `git log` pass per repository, head and window, shared by every Dockerfile that
    asks (`layerlens scan` over a monorepo): the first asker mines the whole repository,
    later ones take their context's view of it (`narrow`)."""

    def __init__(self, store: HistoryStore | None = None) -> None:
        self._full: dict[tuple[str, str | None, MineOptions], History] = {}
        self.passes = 0  # whole-repository histories obtained, for tests and benchmarks
        self.store = store  # on-disk cache across runs, or None

    def mine(self, info: RepoInfo, extra_paths: tuple[str, ...] = (),
             options: MineOptions | None = None,
             progress: Callable[[int], None] | None = None) -> History:
        """As `mine`, from the shared pass."""
        opts = options or MineOptions()
        key = (os.path.realpath(info.toplevel), info.head, opts)
        with paused():
            return self._mine(key, info, extra_paths, opts, progress)

    def _mine(self, key, info: RepoInfo, extra_paths: tuple[str, ...], opts: MineOptions,
              progress: Callable[[int], None] | None) -> History:
        full = self._full.get(key)
        if full is None:
            if self.store is not None:
                full = self.store.mine(info, opts, mine, list_tree, progress)
            else:
                full = mine(RepoInfo(info.toplevel, "", info.shallow, info.head), (), opts,
                            progress)
            self.passes += 1
            self._full[key] = full
        return narrow(full, info.prefix, extra_paths)


# Each record starts with NUL NUL SOH: the format's leading %x00 follows the NUL that ends the
# previous record's last token, and no token is empty, so the three bytes never occur inside
# a record (a path may hold SOH, never NUL).
_SEP = b"\0\0\x01"
_STATUS_OF = {"A": "A", "M": "M", "T": "T", "D": "D"}


def _parse_log(chunks: Iterator[bytes], prefix: str, extra: set[str],
               progress: Callable[[int], None] | None, *, renames: bool = False) -> list[Commit]:
    """Parse `git log --name-status -z --format=%x00%x01%H %ct %P` output (newest first),
    keeping only the changes under the context `prefix` or on the `extra` paths.

    Works record by record: a chunk is cut after its last complete record, decoded once
    (UTF-8 never puts a NUL inside a character, so this equals decoding path by path) and
    split in C; only the per-change records are built in Python."""
    commits: list[Commit] = []
    rest = b"\0"  # the first record has no NUL before its %x00
    for data in chunks:
        buf = rest + data
        cut = buf.rfind(_SEP)
        if cut <= 0:
            rest = buf
            continue
        rest = buf[cut:]
        _records(buf[:cut].decode("utf-8", "surrogateescape"), prefix, extra, commits,
                 renames)
        if progress is not None:
            progress(len(commits))
    if rest.strip(b"\0"):
        _records(rest.decode("utf-8", "surrogateescape"), prefix, extra, commits, renames)
    return commits


def _records(text: str, prefix: str, extra: set[str], commits: list[Commit],
             renames: bool) -> None:
    sep = _SEP.decode()
    plen = len(prefix)
    new = tuple.__new__
    status_of = _STATUS_OF
    for rec in text.split(sep)[1:]:
        head, _, body = rec.partition("\0")
        sha, ctime, *parents = head.split()
        toks = body[1:].split("\0") if body else []
        if toks and not toks[-1]:
            toks.pop()  # the log's last record ends with a NUL
        pairs = _rename_pairs(toks) if renames else zip(toks[0::2], toks[1::2], strict=False)
        pre = sha + ":"
        if not plen and not extra:
            changes = tuple([
                new(Change, (p, p, 0, "", "D")) if st == "D" else
                new(Change, (p, p, 0o100644, pre + p, status_of.get(st) or
                             status_of.get(st[:1], "M")))
                for st, p in pairs])
        else:
            changes = tuple([
                new(Change, (r, p, 0, "", "D")) if st == "D" else
                new(Change, (r, p, 0o100644, pre + p, status_of.get(st) or
                             status_of.get(st[:1], "M")))
                for st, p in pairs
                for r in (p[plen:] if p.startswith(prefix) else "",)
                if r or p in extra])
        commits.append(Commit(sha, int(ctime), tuple(parents), changes))


def _rename_pairs(toks: list[str]) -> Iterator[tuple[str, str]]:
    """(status, path) from `--find-renames` tokens: a rename `R<score> old new` is the old
    path deleted and the new one added; a copy `C<score> old new` adds the new one."""
    i = 0
    while i < len(toks):
        st = toks[i]
        if st[:1] in ("R", "C") and i + 2 < len(toks):
            if st[:1] == "R":
                yield "D", toks[i + 1]
            yield "A", toks[i + 2]
            i += 3
        elif i + 1 < len(toks):
            yield st, toks[i + 1]
            i += 2
        else:
            return


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
    """Contents of a few blobs (Dockerfile and ignore-file versions) in one cat-file call.

    `shas` are names git understands (`<commit>:<path>` or object ids). In a partial clone
    (`--filter=blob:none`) old versions may be absent: git then fails the whole batch
    ("could not fetch ... from promisor remote") instead of answering "missing", since
    layerlens forbids lazy fetching. Those few blobs are fetched from the promisor remote in
    one `git fetch`; GitError names the failure when they cannot be fetched (offline).
    """
    if not shas:
        return {}
    unique = list(dict.fromkeys(shas))
    res = _cat_file_batch(toplevel, unique)
    if res.returncode == 0:
        return _parse_batch(res.stdout, unique)
    if b"promisor" not in res.stderr:
        raise _failure("cat-file", toplevel, res.stderr, res.returncode)
    oids = _resolve(toplevel, unique)
    why = _fetch_blobs(toplevel, sorted(set(oids.values())))
    if why is None:
        res = _cat_file_batch(toplevel, unique)
        if res.returncode == 0:
            return _parse_batch(res.stdout, unique)
        why = _last_line(res.stderr)
    raise GitError(f"partial clone: cannot read {len(unique)} old Dockerfile/.dockerignore "
                   f"versions ({why}); fetch them (`git fetch --refetch`) or clone without "
                   "--filter", path=str(toplevel))


def _cat_file_batch(toplevel: Path, names: list[str]) -> subprocess.CompletedProcess[bytes]:
    # names are <commit>:<path>; paths that are not UTF-8 go back as the bytes they were
    data = ("\n".join(names) + "\n").encode("utf-8", "surrogateescape")
    return subprocess.run(["git", "-C", str(toplevel), "cat-file", "--batch"],
                          input=data, capture_output=True, env=_env())


def _parse_batch(data: bytes, names: list[str]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    pos = 0
    for name in names:
        nl = data.index(b"\n", pos)
        header = data[pos:nl].split()
        pos = nl + 1
        if len(header) >= 2 and header[-1] == b"missing":
            continue
        size = int(header[2])
        out[name] = data[pos : pos + size]
        pos += size + 1
    return out


def _resolve(toplevel: Path, names: list[str]) -> dict[str, str]:
    """Object ids of `<commit>:<path>` names: a tree lookup, no blob is read."""
    out: dict[str, str] = {}
    for i in range(0, len(names), 200):
        chunk = names[i : i + 200]
        res = subprocess.run(["git", "-C", str(toplevel), "rev-parse", *chunk],
                             capture_output=True, env=_env())
        if res.returncode != 0:
            for name in chunk:  # one bad name must not lose the others
                one = subprocess.run(["git", "-C", str(toplevel), "rev-parse", "--verify", "-q",
                                      name], capture_output=True, env=_env())
                if one.returncode == 0:
                    out[name] = _decode(one.stdout).strip()
            continue
        for name, oid in zip(chunk, _decode(res.stdout).split(), strict=False):
            out[name] = oid
    return out


def _fetch_blobs(toplevel: Path, oids: list[str]) -> str | None:
    """Fetch these blobs from the promisor remote in one request, as git's own lazy fetch
    does (`fetch --filter=blob:none --stdin` with noop negotiation). None when done, else
    why not, in one line."""
    cfg = subprocess.run(["git", "-C", str(toplevel), "config", "--get-regexp",
                          r"^remote\..*\.promisor$"], capture_output=True, env=_env())
    remotes = [line.split()[0][len("remote."):-len(".promisor")]
               for line in _decode(cfg.stdout).splitlines()
               if line.split()[-1:] == ["true"]]
    if not remotes:
        return "no promisor remote to fetch them from"
    try:
        res = subprocess.run(
            ["git", "-C", str(toplevel), "-c", "fetch.negotiationAlgorithm=noop", "fetch",
             remotes[0], "--no-tags", "--no-write-fetch-head", "--recurse-submodules=no",
             "--filter=blob:none", "--stdin"],
            input=("\n".join(oids) + "\n").encode(), capture_output=True, env=_env(),
            timeout=300)
    except subprocess.TimeoutExpired:
        return f"git fetch from {remotes[0]} timed out"
    if res.returncode != 0:
        return f"git fetch from {remotes[0]} failed: {_last_line(res.stderr) or res.returncode}"
    return None
