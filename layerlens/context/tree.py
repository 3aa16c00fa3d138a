"""The build context as the builder sends it: every file not excluded by `.dockerignore`.

Symlinks are listed as links and never followed (the builder sends them as links), so a
cyclic link cannot loop. A directory excluded with no `!` pattern present is not entered.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from layerlens.context.patterns import Matcher
from layerlens.errors import LayerlensError


@dataclass(frozen=True, slots=True)
class ContextFile:
    path: str  # slash path relative to the context root
    size: int
    mode: int  # st_mode: type and permission bits
    link: str | None = None

    @property
    def executable(self) -> bool:
        return bool(self.mode & 0o111)


@dataclass(frozen=True, slots=True)
class Context:
    root: str
    files: tuple[ContextFile, ...]  # sorted by path
    excluded: tuple[str, ...]  # files left out by .dockerignore (sorted)
    ignore_source: str
    dirs: frozenset[str]

    def by_path(self) -> dict[str, ContextFile]:
        return {f.path: f for f in self.files}

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def narrowed(self, matcher: Matcher) -> Context:
        """This context with `matcher` applied on top: what the builder would be sent if the
        ignore file also held `matcher`'s patterns. Derived from the scan already made, so
        nothing is read again; files the first scan left out stay out."""
        if not matcher:
            return self
        kept: list[ContextFile] = []
        dropped: list[str] = []
        for f in self.files:
            if matcher.excludes(f.path):
                dropped.append(f.path)
            else:
                kept.append(f)
        dirs: set[str] = set()
        _add_parents(kept, dirs)
        return Context(self.root, tuple(kept), tuple(sorted((*self.excluded, *dropped))),
                       self.ignore_source, frozenset(dirs))


def scan_context(
    root: Path,
    matcher: Matcher,
    *,
    progress: Callable[[int], None] | None = None,
    record_excluded: bool = True,
) -> Context:
    if not root.exists():
        raise LayerlensError("build context does not exist", path=str(root))
    if not root.is_dir():
        raise LayerlensError("build context is not a directory", path=str(root))
    files: list[ContextFile] = []
    excluded: list[str] = []
    dirs: set[str] = set()
    # (directory os path, slash prefix, per-pattern parent results)
    stack: list[tuple[str, str, tuple[bool, ...] | None]] = [(str(root), "", None)]
    seen = 0
    while stack:
        osdir, prefix, parent_info = stack.pop()
        try:
            with os.scandir(osdir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except PermissionError:
            raise LayerlensError("permission denied reading the build context",
                                 path=osdir) from None
        except OSError as exc:
            raise LayerlensError(f"cannot read build context: {exc.strerror or exc}",
                                 path=osdir) from None
        subdirs = []
        for entry in entries:
            rel = prefix + entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # vanished while we walked
            if matcher:
                hit, info = matcher.match_with_parent(rel, parent_info)
            else:
                hit, info = False, ()
            if stat.S_ISDIR(st.st_mode):
                if hit and not matcher.exclusions:
                    if record_excluded:
                        excluded.extend(_all_files(entry.path, rel))
                    continue
                if not hit:
                    dirs.add(rel)
                subdirs.append((entry.path, rel + "/", info if matcher else None))
                continue
            if hit:
                if record_excluded:
                    excluded.append(rel)
                continue
            link = None
            if stat.S_ISLNK(st.st_mode):
                try:
                    link = os.readlink(entry.path)
                except OSError:
                    link = ""
            files.append(ContextFile(rel, st.st_size, st.st_mode, link))
            seen += 1
            if progress is not None and seen % 5000 == 0:
                progress(seen)
        stack.extend(reversed(subdirs))
    files.sort(key=lambda f: f.path)
    excluded.sort()
    # A kept file's parent directories are part of the context even if a pattern matched them.
    _add_parents(files, dirs)
    return Context(str(root), tuple(files), tuple(excluded), matcher.source, frozenset(dirs))


def _add_parents(files: list[ContextFile], dirs: set[str]) -> None:
    """Add every parent directory of `files` to `dirs`."""
    for f in files:
        head = f.path
        while "/" in head:
            head = head.rsplit("/", 1)[0]
            if head in dirs:
                break
            dirs.add(head)


def _all_files(osdir: str, rel: str) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(osdir):
        sub = os.path.relpath(dirpath, osdir)
        base = rel if sub == "." else f"{rel}/{sub.replace(os.sep, '/')}"
        out.extend(f"{base}/{name}" for name in filenames)
        # os.walk does not follow links by default; links to dirs show up in dirnames
        out.extend(f"{base}/{d}" for d in dirnames if os.path.islink(os.path.join(dirpath, d)))
    return out
