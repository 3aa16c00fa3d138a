"""Per-layer accounting in one pass over the layers: sizes, changes, shadowed bytes.

Layers are applied in order to a map of the visible paths (who owns each one, with a child
index per directory). When a later layer overwrites a path, deletes it (`.wh.NAME`), deletes
a directory (its whole subtree) or makes a directory opaque (`.wh..wh..opq`), the bytes the
earlier layer stored there become *shadowed*: still pushed and pulled, never visible. Each
path is removed at most once, so the work is proportional to the number of entries, not to
layers x files as when every layer restacks all earlier ones.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from layerlens.image.tarstream import TarEntry
from layerlens.jsonout import quoted

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
DIR, FILE, LINK, HARDLINK, OTHER = "dir", "file", "symlink", "hardlink", "other"


_KINDS = {b"0": FILE, b"\0": FILE, b"7": FILE, b"5": DIR, b"2": LINK, b"1": HARDLINK}


def kind_of(t: bytes) -> str:
    """The kind of a tar typeflag: regular (and contiguous) files, directories, symbolic
    and hard links; devices, FIFOs and the rest are OTHER."""
    return _KINDS.get(t, OTHER)


def clean_path(name: str) -> tuple[str, bool]:
    """A tar member name as an image path ('' is the root); flag names that tried to escape."""
    raw = name
    if raw in ("/", "./", "."):
        return "", False
    if raw.startswith("./"):
        raw = raw[2:]
    if raw.endswith("/"):
        raw = raw.rstrip("/")
    if "//" not in raw and "/." not in raw and raw[:1] not in ("/", ".", ""):
        return raw, False  # already clean: the common case, without normpath
    escaped = raw.startswith("/") or ".." in raw.split("/")
    p = posixpath.normpath("/" + raw).lstrip("/")
    return ("" if p == "." else p), escaped


@dataclass(slots=True)
class LayerCounts:
    files: int = 0
    dirs: int = 0
    entries: int = 0
    size_bytes: int = 0  # regular-file bytes stored in the layer (as dive and docker count)
    added: int = 0
    modified: int = 0
    removed: int = 0
    shadowed_bytes: int = 0
    shadowed_files: int = 0
    suspicious_paths: int = 0


@dataclass(slots=True)
class _Node:
    layer: int
    size: int
    kind: str
    meta: tuple | None = None  # (mode, uid, gid, link, digest) when files are kept


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One entry of one layer, for browsing (only kept when asked for)."""

    layer: int
    path: str
    kind: str
    size: int
    change: str  # added, modified, removed
    mode: int
    link: str


@dataclass(slots=True)
class Accountant:
    keep_files: bool = False
    visible: dict[str, _Node] = field(default_factory=dict)
    kids: dict[str, set[str]] = field(default_factory=dict)
    layers: list[LayerCounts] = field(default_factory=list)
    # hardlink bookkeeping: (layer, target path) -> link paths in that layer
    links: dict[tuple[int, str], list[str]] = field(default_factory=dict)
    # dive efficiency: path -> [cumulative, minimum, count]
    dive: dict[str, list[int]] = field(default_factory=dict)
    records: list[FileRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    hidden: set[tuple[int, str]] = field(default_factory=set)  # (layer, path), when kept
    # dive reads each layer into a tree first: the last entry of a path wins within a layer,
    # and only leaves count (an empty directory is one). path -> size for this layer:
    _dive_layer: dict[str, int] = field(default_factory=dict)
    _dive_dirs: set[str] = field(default_factory=set)  # directory entries of this layer
    _dive_markers: set[str] = field(default_factory=set)  # opaque markers' directories

    def begin_layer(self) -> int:
        self._flush_dive()
        self.layers.append(LayerCounts())
        return len(self.layers) - 1

    def _flush_dive(self) -> None:
        """Apply the finished layer's tree to dive's per-path figures (dive's
        image/efficiency.go: every leaf of every layer's tree, whiteouts included)."""
        cur, dirs = self._dive_layer, self._dive_dirs
        if not cur and not dirs:
            self._dive_markers.clear()
            return
        if dirs:
            inner: set[str] = set(self._dive_markers)
            for p in (*cur, *dirs):
                q = p.rpartition("/")[0]
                while q and q not in inner:
                    inner.add(q)
                    q = q.rpartition("/")[0]
            for d in dirs:
                if d not in inner and d not in cur:
                    cur[d] = 0
        for p, size in cur.items():
            self._dive(p, size)
        self._dive_layer, self._dive_dirs = {}, set()
        self._dive_markers.clear()

    # -- tree maintenance ---------------------------------------------------------------
    def _link_parent(self, path: str, layer: int) -> None:
        while path:
            parent = path.rpartition("/")[0]
            children = self.kids.get(parent)
            if children is None:
                children = self.kids[parent] = set()
            children.add(path)
            if parent == "" or parent in self.visible:
                return
            # an implicit directory, created by the entry below it
            self.visible[parent] = _Node(layer, 0, DIR)
            path = parent

    def _shadow(self, path: str, node: _Node) -> None:
        if self.keep_files:
            self.hidden.add((node.layer, path))
        if node.kind == FILE and node.size:
            refs = self.links.get((node.layer, path))
            if refs:
                for lp in refs:
                    alive = self.visible.get(lp)
                    if alive is not None and alive.layer == node.layer and alive.kind == HARDLINK:
                        # the bytes stay reachable through a hard link: it owns them now
                        alive.size, alive.kind = node.size, FILE
                        self.links[(node.layer, lp)] = [x for x in refs if x != lp]
                        return
            lc = self.layers[node.layer]
            lc.shadowed_bytes += node.size
            lc.shadowed_files += 1

    def _remove(self, path: str, below_layer: int | None = None, keep_self: bool = False) -> int:
        """Remove `path` and everything under it (only entries of layers < below_layer when
        given). Returns how many entries disappeared."""
        removed = 0
        for p, node in list(self._subtree(path)):
            if (keep_self and p == path) or (below_layer is not None and node.layer >= below_layer):
                continue
            del self.visible[p]
            self._shadow(p, node)
            removed += 1
            parent = p.rsplit("/", 1)[0] if "/" in p else ""
            sib = self.kids.get(parent)
            if sib is not None:
                sib.discard(p)
            if node.kind == DIR and p in self.kids and not self.kids[p]:
                del self.kids[p]
        return removed

    # -- one entry ------------------------------------------------------------------------
    def add(self, layer: int, e: TarEntry) -> str:
        """Apply one entry; returns its cleaned path ('' for the root and markers)."""
        lc = self.layers[layer]
        lc.entries += 1
        path, escaped = clean_path(e.name)
        if escaped:
            lc.suspicious_paths += 1
            if lc.suspicious_paths == 1:
                self.warnings.append(f"layer {layer}: tar entry {quoted(e.name)} points "
                                     "outside the root; read as /" + path)
        if not path:
            return ""  # the root directory itself
        parent, _, base = path.rpartition("/")
        if base == OPAQUE:
            self._dive_markers.add(parent)
            n = self._remove(parent, below_layer=layer, keep_self=True) if parent else \
                self._remove_all_below(layer)
            lc.removed += n
            return ""
        if base.startswith(WHITEOUT):
            target = (parent + "/" if parent else "") + base[len(WHITEOUT):]
            old = self.visible.get(target)
            # dive weighs a deleted directory by what it held, a deleted file by nothing
            self._dive_layer[target] = (self._subtree_bytes(target) if old is not None and
                                        old.kind == DIR else 0)
            if old is not None:
                lc.removed += 1
                self._remove(target)
                if self.keep_files:
                    self.records.append(FileRecord(layer, target, old.kind, 0, "removed", 0, ""))
            return ""
        kind = _KINDS.get(e.type, OTHER)
        size = e.size if kind == FILE else 0
        if kind == FILE:
            lc.files += 1
            lc.size_bytes += size
        elif kind == DIR:
            lc.dirs += 1
        if kind == HARDLINK:
            target, _ = clean_path(e.linkname)
            self.links.setdefault((layer, target), []).append(path)
        if kind != DIR:
            self._dive_layer[path] = size
        else:
            self._dive_dirs.add(path)
        old = self.visible.get(path)
        change = "added"
        if old is not None:
            if old.layer == layer:
                # the same path twice in one layer: the first copy is stored but hidden
                change = "added"
            else:
                change = "modified"
                lc.modified += 1
            if old.kind == DIR and kind == DIR:
                old.layer = layer
                if self.keep_files:
                    old.meta = (e.mode, e.uid, e.gid, "", None)
                if self.keep_files:
                    self.records.append(FileRecord(layer, path, kind, 0, change, e.mode, ""))
                return path
            if old.kind == DIR:
                self._remove(path)  # a file replaces a whole directory
            else:
                del self.visible[path]
                self._shadow(path, old)
        else:
            lc.added += 1
        self.visible[path] = _Node(layer, size, kind, (e.mode, e.uid, e.gid, e.linkname,
                                                        e.digest) if self.keep_files else None)
        self._link_parent(path, layer)
        if self.keep_files:
            self.records.append(FileRecord(layer, path, kind, size, change, e.mode, e.linkname))
        return path

    def _subtree(self, path: str):
        """(path, node) for `path` and every visible entry below it."""
        stack = [path]
        while stack:
            p = stack.pop()
            node = self.visible.get(p)
            if node is None:
                continue
            stack.extend(self.kids.get(p, ()))
            yield p, node

    def _subtree_bytes(self, path: str) -> int:
        return sum(n.size for _, n in self._subtree(path) if n.kind == FILE)

    def _remove_all_below(self, layer: int) -> int:
        n = 0
        for child in list(self.kids.get("", ())):
            n += self._remove(child, below_layer=layer)
        return n

    def _dive(self, path: str, size: int) -> None:
        d = self.dive.get(path)
        if d is None:
            self.dive[path] = [size, size, 1]
        else:
            d[0] += size
            if size < d[1]:
                d[1] = size
            d[2] += 1

    # -- results --------------------------------------------------------------------------
    def dive_figures(self, user_size: int) -> tuple[float, int, float, list[tuple[str, int, int]]]:
        """dive's efficiency, wasted bytes, user-wasted percent and its inefficient files."""
        self._flush_dive()
        minimum = sum(d[1] for d in self.dive.values())
        cumulative = sum(d[0] for d in self.dive.values())
        efficiency = 1.0 if cumulative == 0 else minimum / cumulative
        ineff = [(p, d[0], d[2]) for p, d in self.dive.items() if d[2] > 1]
        ineff.sort(key=lambda x: (-x[1], x[0]))
        wasted = sum(x[1] for x in ineff)
        pct = wasted / user_size if user_size else 0.0
        return efficiency, wasted, pct, ineff

    def final_tree(self) -> tuple[tuple, ...]:
        """The final filesystem: (path, kind, mode, uid, gid, link, sha256), sorted."""
        out = []
        for path, n in self.visible.items():
            mode, uid, gid, link, digest = n.meta or (None, None, None, "", None)
            if n.kind == HARDLINK:
                link, _ = clean_path(link)
            out.append((path, n.kind, mode, uid, gid, link, digest))
        return tuple(sorted(out))

    def visible_bytes(self) -> int:
        return sum(n.size for n in self.visible.values() if n.kind == FILE)
