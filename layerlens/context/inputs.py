"""Which context files each COPY/ADD brings in.

Sources are resolved against the context root (a leading `/` and any `..` cannot leave it);
wildcards follow Go's filepath.Match one path segment at a time, and a matched directory
brings its whole (non-ignored) tree; `--exclude` patterns apply below each source, with the
`.dockerignore` semantics. Sources from another stage or image, URLs, git repositories and
heredocs are marked as not from the context.
"""

from __future__ import annotations

import bisect
import re
import warnings
from dataclasses import dataclass

from layerlens.context.patterns import Matcher, compile_pattern, go_clean, validate_glob
from layerlens.context.tree import Context, ContextFile
from layerlens.dockerfile.model import Instruction

_GIT_URL = re.compile(r"^(git@|git://|ssh://)|\.git(#.*)?$|\.git(#.*)?/?$")
_URL = re.compile(r"^https?://", re.IGNORECASE)
_WILDCARD = re.compile(r"(?<!\\)[*?\[]")


@dataclass(frozen=True, slots=True)
class SourceRef:
    """One source of a COPY/ADD and what it resolved to."""

    text: str
    kind: str  # context | stage | image | url | git | heredoc
    matched: int  # files brought in from the context
    # the build fails on it: a literal source that matches nothing, or a wildcard whose
    # directory (before its first wildcard segment) is not in the context (BuildKit walks
    # it: `lstat DIR: no such file or directory`). A wildcard in a directory that exists
    # may match nothing: BuildKit copies nothing for it (AllowEmptyWildcard).
    missing: bool = False
    wildcard: bool = False


@dataclass(frozen=True, slots=True)
class CopyInputs:
    instruction: int
    paths: tuple[str, ...]
    bytes: int
    sources: tuple[SourceRef, ...]

    @property
    def files(self) -> int:
        return len(self.paths)

    @property
    def from_context(self) -> bool:
        return any(s.kind == "context" for s in self.sources)


def _heredoc_source(src: str, name: str) -> bool:
    """`<<EOT`, `<<-EOT` (tab-stripping), quoted `<<"EOT"`/`<<-'EOT'`, with an fd prefix."""
    i = src.find("<<")
    if i < 0:
        return False
    rest = src[i + 2:].removeprefix("-").strip("\"'")
    return rest == name


def source_kind(ins: Instruction, src: str) -> str:
    if ins.from_stage is not None:
        return "stage"
    if ins.from_image is not None:
        return "image"
    if any(_heredoc_source(src, h.name) for h in ins.heredocs):
        return "heredoc"
    if ins.keyword == "add":
        if _GIT_URL.search(src) and ("://" in src or src.startswith("git@")):
            return "git"
        if _URL.match(src):
            return "url"
    return "context"


def has_wildcard(path: str) -> bool:
    return _WILDCARD.search(path) is not None


def glob_base(pattern: str) -> str:
    """The directory part of a glob before its first wildcard segment ('' for none)."""
    base: list[str] = []
    for part in pattern.split("/"):
        if _WILDCARD.search(part):
            break
        base.append(part)
    return "/".join(base)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Go filepath.Match as a regex over a whole slash path."""
    validate_glob(pattern)
    out = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and i < n:
            out.append(re.escape(pattern[i]))
            i += 1
        elif ch == "[":
            j = i
            neg = j < n and pattern[j] == "^"
            if neg:
                j += 1
            body = []
            first = True
            while j < n and (pattern[j] != "]" or first):
                c = pattern[j]
                if c == "\\" and j + 1 < n:
                    body.append(re.escape(pattern[j + 1]))
                    j += 2
                else:
                    body.append(re.escape(c) if c not in "-" else "-")
                    j += 1
                first = False
            i = j + 1
            out.append("[" + ("^/" if neg else "") + "".join(body) + "]")
        else:
            out.append(re.escape(ch))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            return re.compile("".join(out) + r"\Z", re.DOTALL)
        except re.error as exc:
            raise ValueError(f"bad pattern: {exc}") from None


class _Index:
    """Sorted paths for fast 'everything under this directory' lookups."""

    def __init__(self, ctx: Context) -> None:
        self.files = ctx.files
        self.paths = [f.path for f in ctx.files]
        self.dirs = ctx.dirs
        self.by_depth: dict[int, list[str]] | None = None

    def under(self, prefix: str) -> list[ContextFile]:
        if prefix in ("", "."):
            return list(self.files)
        lo = bisect.bisect_left(self.paths, prefix + "/")
        hi = bisect.bisect_left(self.paths, prefix + "0")  # '0' sorts right after '/'
        return list(self.files[lo:hi])

    def file(self, path: str) -> ContextFile | None:
        i = bisect.bisect_left(self.paths, path)
        if i < len(self.paths) and self.paths[i] == path:
            return self.files[i]
        return None

    def entries_at_depth(self, depth: int) -> list[str]:
        if self.by_depth is None:
            self.by_depth = {}
            for p in [*self.paths, *self.dirs]:
                self.by_depth.setdefault(p.count("/"), []).append(p)
        return self.by_depth.get(depth, [])


def resolve_inputs(ins: Instruction, ctx: Context, index: _Index | None = None) -> CopyInputs:
    index = index or _Index(ctx)
    exprs = ins.expanded[:-1] if ins.expanded else ins.args[:-1]
    excludes = [p for p in (compile_pattern(x) for x in ins.flag_values("exclude")) if p]
    exclude = Matcher(excludes, "--exclude") if excludes else None
    chosen: dict[str, ContextFile] = {}
    refs: list[SourceRef] = []
    for src in exprs:
        kind = source_kind(ins, src)
        if kind != "context":
            refs.append(SourceRef(src, kind, 0))
            continue
        rel = go_clean("/" + src)[1:]
        found: list[tuple[ContextFile, str]] = []
        wildcard = bool(_WILDCARD.search(rel))
        if wildcard:
            try:
                rx = glob_regex(rel)
            except ValueError:
                refs.append(SourceRef(src, kind, 0, missing=True))
                continue
            base = glob_base(rel)
            for cand in index.entries_at_depth(rel.count("/")):
                if rx.match(cand):
                    if cand in index.dirs:
                        found += [(f, _rel_to(f.path, base)) for f in index.under(cand)]
                    else:
                        f = index.file(cand)
                        if f is not None:
                            found.append((f, _rel_to(f.path, base)))
        elif rel == "":
            found = [(f, f.path) for f in ctx.files]
        elif rel in index.dirs:
            found = [(f, f.path[len(rel) + 1 :]) for f in index.under(rel)]
        else:
            f = index.file(rel)
            if f is not None:
                found = [(f, f.path.rsplit("/", 1)[-1])]
        if exclude is not None:
            found = [(f, r) for f, r in found if not exclude.excludes(r)]
        for f, _ in found:
            chosen[f.path] = f
        if wildcard:
            base = glob_base(rel)
            gone = not found and base != "" and base not in index.dirs
            refs.append(SourceRef(src, kind, len(found), missing=gone, wildcard=True))
        else:
            refs.append(SourceRef(src, kind, len(found), missing=not found))
    paths = tuple(sorted(chosen))
    return CopyInputs(ins.index, paths, sum(chosen[p].size for p in paths), tuple(refs))


def _rel_to(path: str, base: str) -> str:
    if not base:
        return path
    return path[len(base) + 1 :] if path.startswith(base + "/") else path


def resolve_all(instructions: tuple[Instruction, ...], ctx: Context) -> dict[int, CopyInputs]:
    index = _Index(ctx)
    return {
        ins.index: resolve_inputs(ins, ctx, index)
        for ins in instructions
        if ins.keyword in ("copy", "add") and ins.stage >= 0
    }
