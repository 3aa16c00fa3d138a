"""Plain-text rendering of an Analysis for people, laid out for one width (textfit.py):
sizes and durations through units.py, tables through rich."""

from __future__ import annotations

from layerlens.analysis import Analysis
from layerlens.jsonout import safe_text
from layerlens.textfit import (
    DEFAULT_WIDTH,
    cells,
    elide_middle,
    fit_list,
    more,
    truncate,
    wrap,
)
from layerlens.units import duration, plural, size

# a report lists this many secrets and stored-twice files; JSON lists them all
_MAX_SECRETS = 20

# the labels of the header lines, and the indent their continuation lines get
_LABEL = 12


def _one_line(text: str, width: int) -> str:
    return truncate(" ".join(text.split()), width)


def _labelled(label: str, text: str, width: int) -> list[str]:
    """`Label       text`, wrapped under the text."""
    return wrap(text, width, first=f"{label:<{_LABEL}}", indent=" " * _LABEL)


def _path_line(label: str, path: str, tail: str, width: int) -> list[str]:
    """`Label       PATH  (tail)` on one line when it fits; a short path with the tail
    wrapped after it; else the path elided in the middle so that it and the tail share the
    line, as long as at least 30 cells of the path stay; else the path (elided to the line)
    alone, and the tail wrapped under it."""
    avail = width - _LABEL
    path = safe_text(path)
    if cells(path) + 2 + cells(tail) <= avail:
        return [f"{label:<{_LABEL}}{path}  {tail}"]
    if cells(path) + 12 <= avail:  # a short path: the tail starts beside it and wraps
        return _labelled(label, f"{path}  {tail}", width)
    room = avail - 2 - cells(tail)
    if room >= min(30, cells(path)):
        return [f"{label:<{_LABEL}}{elide_middle(path, room)}  {tail}"]
    return [f"{label:<{_LABEL}}{elide_middle(path, avail)}",
            *wrap(tail, width, first=" " * _LABEL, indent=" " * _LABEL)]


def analysis_text(result: Analysis, width: int = DEFAULT_WIDTH) -> str:
    """The `layerlens analyze` report in lines of at most WIDTH cells."""
    df = result.dockerfile
    ctx = result.context
    hist = result.history
    out: list[str] = []
    out += _path_line("Dockerfile", str(df.path),
                      f"({plural(len(df.stages), 'stage')}, "
                      f"{plural(len(df.instructions), 'instruction')})", width)
    excl = (f"; {plural(len(ctx.excluded), 'file')} excluded by {ctx.ignore_source}"
            if ctx.ignore_source else "")
    out += _path_line("Context", str(ctx.root),
                      f"({plural(len(ctx.files), 'file')}, {size(ctx.total_bytes)}{excl})", width)
    if hist is not None:
        out += _labelled("History", per_commit_text(hist.costs, hist.window), width)
        if hist.as_built is not None:
            ab = hist.as_built.costs
            out += _labelled("As built", per_commit_text(ab, len(ab.commits))
                             + " (each commit with the Dockerfile it had then)", width)
    out += _stage_tables(result, width)
    text = "\n".join(out) + "\n"
    if result.image is not None:
        text += "\n" + image_text(result.image, result.layer_sources, width)
    if result.notices:
        text += "\n" + "".join(x + "\n" for n in result.notices
                               for x in wrap(safe_text(n), width, first="notice: ",
                                             indent="  "))
    return text


def _render(table, width: int) -> list[str]:
    """A rich table as plain lines (no colour: textfit.colorize adds it afterwards)."""
    from rich.console import Console

    console = Console(width=width, color_system=None, force_terminal=False, emoji=False,
                      highlight=False, markup=False, legacy_windows=False,
                      force_jupyter=False)
    with console.capture() as cap:
        console.print(table)
    return [x.rstrip() for x in cap.get().rstrip("\n").split("\n")]


def _instruction_rows(result: Analysis, stage) -> list[dict]:
    df = result.dockerfile
    hist = result.history
    # with --image, the size of the layers each instruction made (mapped by history)
    layer_bytes: dict[int, int] = {}
    if result.image is not None:
        for src in result.layer_sources:
            if src.instruction is not None and src.layer < len(result.image.layers):
                layer_bytes[src.instruction] = (layer_bytes.get(src.instruction, 0)
                                                + result.image.layers[src.layer].size_bytes)
    rows = []
    for i in stage.instructions[1:]:
        ins = df.instructions[i]
        row = {"line": f"L{ins.start_line}",
               "instruction": safe_text(" ".join((ins.upper + " " + _args_text(ins)).split())),
               "files": "", "size": "", "rebuilt": "", "time": "", "share": "", "churn": None}
        inp = result.inputs.get(ins.index)
        if inp is not None:
            kinds = {s.kind for s in inp.sources}
            if inp.sources and all(s.missing for s in inp.sources):
                row["size"] = "missing"
            elif kinds == {"context"} or inp.files:
                row["files"] = f"{inp.files:,}"
                row["size"] = size(inp.bytes)
            else:
                row["size"] = "from " + ", ".join(sorted(kinds - {"context"}))
        if i in layer_bytes:  # the image's own figure beats the context's bytes
            row["size"] = size(layer_bytes[i])
        st = hist.costs.instructions.get(ins.index) if hist is not None else None
        if st is not None and st.change_rate is not None:
            row["rebuilt"] = f"{st.change_rate:.1%}"
            row["time"] = duration(st.expected_seconds or 0)
            row["share"] = f"{st.share or 0:.1%}"
            if st.top_files and st.rebuilds:
                row["churn"] = [_churn_item(p, n) for p, n in st.top_files]
        rows.append(row)
    return rows


# (key, header, right-aligned); "instruction" takes the width the others leave
_COLUMNS = (("line", "line", False), ("instruction", "instruction", False),
            ("files", "files", True), ("size", "size", True), ("rebuilt", "rebuilt", True),
            ("time", "~/commit", True), ("share", "share", True))
_MIN_INSTRUCTION = 20
_MAX_INSTRUCTION = 72


def _stage_tables(result: Analysis, width: int) -> list[str]:
    """One table per stage: each instruction, the files it brings in and what it costs,
    with the files whose changes rebuilt it most under it. Every table of the report has
    the same columns and widths, so the stages line up. A narrow width drops the file
    count (JSON keeps it) and uses one space between columns."""
    from rich.table import Table

    df = result.dockerfile
    needed = result.needed_stages()
    rows = {st.index: _instruction_rows(result, st) for st in df.stages}
    every = [r for rs in rows.values() for r in rs]
    keys = [k for k, _, _ in _COLUMNS
            if k in ("line", "instruction") or any(r[k] for r in every)]
    heads = {k: h for k, h, _ in _COLUMNS}
    widths = {k: max([cells(heads[k])] + [cells(r[k]) for r in every]) for k in keys
              if k != "instruction"}
    gap = 2
    indent = 2

    def room(keys: list[str], gap: int) -> int:
        return width - indent - sum(widths[k] for k in keys if k != "instruction") \
            - gap * (len(keys) - 1)

    if room(keys, gap) < 2 * _MIN_INSTRUCTION:  # the instruction is worth more than air
        gap = 1
    if room(keys, gap) < _MIN_INSTRUCTION and "files" in keys:
        keys.remove("files")
    longest = max([cells(heads["instruction"])] + [cells(r["instruction"]) for r in every])
    # capped, so on a wide terminal one long LABEL does not push the figures out of sight
    widths["instruction"] = max(8, min(room(keys, gap), longest, _MAX_INSTRUCTION))
    right = {k for k, _, r in _COLUMNS if r}

    def table(show_header: bool) -> Table:
        t = Table(box=None, show_header=show_header, show_edge=False, pad_edge=False,
                  padding=(0, gap, 0, 0), expand=False, header_style=None)
        for k in keys:
            t.add_column(heads[k], width=widths[k], no_wrap=True, overflow="ellipsis",
                         justify="right" if k in right else "left")
        return t

    total = sum(widths[k] for k in keys) + gap * (len(keys) - 1)
    lead = " " * indent
    churn_lead = lead + " " * (widths["line"] + gap)
    out: list[str] = []
    for st in df.stages:
        out.append("")
        base = f"{st.base} (stage)" if st.base_is_stage else st.base
        skip = "   [not built for the final target]" if st.index not in needed else ""
        name = f' "{st.name}"' if st.name else ""
        head = safe_text(f"Stage {st.index}{name}  FROM ")
        # an image reference is one token (a digest has no break in it): elided in the
        # middle like a path, so the line never breaks inside it
        base = elide_middle(safe_text(base), max(16, width - cells(head) - cells(skip)))
        out += wrap(head + base + skip, width, indent="    ")
        if not rows[st.index]:
            continue
        t = table(True)
        for r in rows[st.index]:
            t.add_row(*(r[k] for k in keys))
        lines = _render(t, total + gap)
        out.append(lead + lines[0])
        for r, line in zip(rows[st.index], lines[1:], strict=True):
            out.append(lead + line)
            if r["churn"]:
                label = "churn: "
                out.append(churn_lead + label + fit_list(
                    r["churn"][:3], width - cells(churn_lead) - cells(label)))
    return out


def push_text(mean_bytes: float | None, unknown_layers: int) -> str:
    """A per-commit push (or pull) figure: the known part, and how many rebuilt layers of
    unknown size (over the whole window) it leaves out; "unknown" when nothing pushed was of
    known size."""
    what = (f"{plural(unknown_layers, 'pushed layer rebuild')} of unknown size in the window; "
            "--image gives sizes")
    if mean_bytes is None:
        return f"unknown ({what})"
    if unknown_layers:
        return f"≥ {size(int(mean_bytes))} ({what})"
    return size(int(mean_bytes))


def per_commit_text(c, window: int) -> str:
    """`N commits; per commit: rebuild …, push …, pull …` for a CostSummary; the pull is
    already multiplied by --pullers, which is named when it is not the default of one."""
    if c.mean_seconds is None:
        return f"{plural(window, 'commit')} in the window, no build replayed; per commit: unknown"
    unknown = c.unknown_push_layers
    est = (" (seconds partly estimated: `layerlens measure`, --build-log or --image time "
           "steps)") if c.estimated else ""
    pull = "unknown" if c.mean_pull_bytes is None else (
        ("≥ " if unknown else "") + size(int(c.mean_pull_bytes)))
    builds = (f" ({plural(c.builds, 'build')} ran)" if c.builds != len(c.commits) else "")
    by = "" if c.pullers == 1 else f" by {plural(c.pullers, 'puller')}"
    return (f"{plural(window, 'commit')}{builds}; per commit: rebuild "
            f"{duration(c.mean_seconds)}, push "
            f"{push_text(c.mean_push_bytes, unknown)}, pull {pull}{by}{est}")


def _churn_item(path: str, n: int) -> str:
    """One churn entry, `path (N)`. The replay stands for the whole .git directory with one
    pseudo-file that changes at every commit; it is named for what it is, in words short
    enough that only a path is ever elided."""
    if path == ".git/HEAD":
        return f".git/ ({n:,}: every commit)"
    return f"{safe_text(path)} ({n:,})"


def _args_text(ins) -> str:
    first = ins.original.split(None, 1)
    return first[1] if len(first) > 1 else ""


def image_text(img, sources=(), width: int = DEFAULT_WIDTH) -> str:
    """The `layerlens image` report in lines of at most WIDTH cells; each name escaped on
    its own, as JSON does, and made safe for a terminal."""
    from rich.table import Table

    def esc(s: str) -> str:
        return safe_text(s)

    by_layer = {s.layer: s for s in sources}
    out = _path_line("Image", esc(img.source),
                     f"({img.format}, {img.platform or 'unknown platform'}, "
                     f"{plural(len(img.layers), 'layer')})", width)
    if img.tags:  # which image of an archive or layout was read (oci:DIR:TAG, @N, RepoTags)
        out += _labelled("Tags", ", ".join(esc(t) for t in img.tags), width)
    comp = size(img.compressed_bytes) if img.compressed_bytes is not None else \
        "unknown (layers stored uncompressed)"
    out += _labelled("Size", f"{size(img.size_bytes)} in layers, {size(img.visible_bytes)} "
                     f"visible, compressed {comp}", width)
    out += _labelled("Shadowed", f"{size(img.shadowed_bytes)} stored but hidden by later "
                     "layers", width)
    out += _labelled("dive", f"efficiency {img.efficiency:.2%}, wasted "
                     f"{size(img.wasted_bytes)}, user wasted {img.user_wasted_percent:.2%}",
                     width)
    out.append("")
    rows = []
    for lay in img.layers:
        src = by_layer.get(lay.index)
        if src is not None and src.line is not None:
            where = f"L{src.line}"
        elif src is not None and src.base:
            where = "base " + _one_line(esc(src.base), 9)
        else:
            where = ""
        pushed = size(lay.compressed_bytes) if lay.compressed_bytes is not None else "?"
        rows.append((str(lay.index), size(lay.size_bytes), pushed, size(lay.shadowed_bytes),
                     where, " ".join(esc(lay.created_by or "").split())))
    heads = ("#", "size", "pushed", "shadowed", "source", "created by")
    fixed = [max([cells(h)] + [cells(r[k]) for r in rows]) for k, h in enumerate(heads[:-1])]
    gap = 2 if width >= 100 else 1
    room = max(8, width - 2 - sum(fixed) - gap * len(fixed))
    t = Table(box=None, show_edge=False, pad_edge=False, padding=(0, gap, 0, 0),
              header_style=None)
    for k, h in enumerate(heads):
        t.add_column(h, width=fixed[k] if k < len(fixed) else room, no_wrap=True,
                     overflow="ellipsis", justify="right" if k < 4 else "left")
    for r in rows:
        t.add_row(*r)
    out += ["  " + x for x in _render(t, width - 2)]
    if img.inefficient_files:
        out.append("")
        out.append("Files stored more than once (dive's wasted space):")
        shown = img.inefficient_files[:10]
        figs = [(size(b), f"x{c}") for _, b, c in shown]
        sw = max(cells(a) for a, _ in figs)
        cw = max(cells(c) for _, c in figs)
        for (p, _, _), (b, c) in zip(shown, figs, strict=True):
            lead = f"  {b:>{sw}}  {c:<{cw}}  "
            out.append(lead + elide_middle("/" + esc(p), width - cells(lead)))
        if len(img.inefficient_files) > len(shown):
            out.append(f"  {more(len(img.inefficient_files) - len(shown))} (--format json "
                       "lists them all)")
    if img.secrets:
        out.append("")
        out.append("Secrets (contents not shown):")
        for f in img.secrets[:_MAX_SECRETS]:
            out += wrap(esc(f.describe()), width, first="  ", indent="    ")
        if len(img.secrets) > _MAX_SECRETS:
            out.append(f"  {more(len(img.secrets) - _MAX_SECRETS)} (--format json lists "
                       "them all)")
    if img.warnings:
        out.append("")
        for w in img.warnings:
            out += wrap(esc(w), width, first="warning: ", indent="  ")
    return "\n".join(out) + "\n"
