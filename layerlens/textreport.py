"""Plain-text rendering of an Analysis for people (humanize for sizes and durations)."""

from __future__ import annotations

from layerlens.analysis import Analysis
from layerlens.units import duration, size


def _one_line(text: str, width: int) -> str:
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def analysis_text(result: Analysis) -> str:
    df = result.dockerfile
    ctx = result.context
    hist = result.history
    out: list[str] = []
    out.append(f"Dockerfile  {df.path}  ({len(df.stages)} stage"
               f"{'s' if len(df.stages) != 1 else ''}, {len(df.instructions)} instructions)")
    excl = f"; {len(ctx.excluded)} excluded by {ctx.ignore_source}" if ctx.ignore_source else ""
    out.append(f"Context     {ctx.root}  ({len(ctx.files)} files, {size(ctx.total_bytes)}{excl})")
    if hist is not None:
        out.append(history_line(hist.costs, hist.window))
        if hist.as_built is not None:
            ab = hist.as_built.costs
            out.append("As built    " + per_commit_text(ab, len(ab.commits))
                       + " (each commit with the Dockerfile it had then)")
    needed = result.needed_stages()
    for st in df.stages:
        out.append("")
        base = f"{st.base} (stage)" if st.base_is_stage else st.base
        skip = "" if st.index in needed else "   [not built for the final target]"
        name = f' "{st.name}"' if st.name else ""
        out.append(f"Stage {st.index}{name}  FROM {base}{skip}")
        for i in st.instructions[1:]:
            ins = df.instructions[i]
            line = f"  L{ins.start_line:<4} {_one_line(ins.upper + ' ' + _args_text(ins), 60):60}"
            inp = result.inputs.get(ins.index)
            if inp is not None:
                kinds = {s.kind for s in inp.sources}
                if inp.sources and all(s.missing for s in inp.sources):
                    line += f" {'missing from the context':>23}"
                elif kinds == {"context"} or inp.files:
                    line += f" {inp.files:>6} files {size(inp.bytes):>10}"
                else:
                    line += "   from " + ", ".join(sorted(kinds - {"context"}))
            st = hist.costs.instructions.get(ins.index) if hist is not None else None
            if st is not None and st.change_rate is not None:
                line = f"{line:<92}" if len(line) < 92 else line
                line += (f" rebuilt {st.change_rate:6.1%}  ~{duration(st.expected_seconds or 0)}"
                         f"/commit  share {st.share or 0:6.1%}")
            out.append(line.rstrip())
            if st is not None and st.top_files and st.rebuilds:
                files = ", ".join(f"{_shown(p)} ({n})" for p, n in st.top_files[:3])
                out.append(f"         churn: {files}")
    text = "\n".join(out) + "\n"
    if result.image is not None:
        text += "\n" + image_text(result.image, result.layer_sources)
    if result.notices:
        text += "\n" + "".join(f"notice: {n}\n" for n in result.notices)
    return text


def push_text(mean_bytes: float | None, unknown_layers: int) -> str:
    """A per-commit push (or pull) figure: the known part, and how many rebuilt layers of
    unknown size (over the whole window) it leaves out; "unknown" when nothing pushed was of
    known size."""
    what = (f"{unknown_layers:,} pushed layer rebuild(s) of unknown size in the window; "
            "--image gives sizes")
    if mean_bytes is None:
        return f"unknown ({what})"
    if unknown_layers:
        return f"≥ {size(int(mean_bytes))} ({what})"
    return size(int(mean_bytes))


def per_commit_text(c, window: int) -> str:
    """`N commits; per commit: rebuild …, push …, pull … xP` for a CostSummary."""
    if c.mean_seconds is None:
        return (f"{window} commit(s) in the window, no build replayed; per commit: unknown")
    unknown = c.unknown_push_layers
    est = (" (seconds partly estimated: `layerlens measure`, --build-log or --image time "
           "steps)") if c.estimated else ""
    pull = "unknown" if c.mean_pull_bytes is None else (
        ("≥ " if unknown else "") + size(int(c.mean_pull_bytes)))
    builds = f" ({c.builds} builds ran)" if c.builds != len(c.commits) else ""
    return (f"{window} commits{builds}; per commit: rebuild {duration(c.mean_seconds)}, push "
            f"{push_text(c.mean_push_bytes, unknown)}, pull {pull} x{c.pullers}{est}")


def history_line(c, window: int) -> str:
    """The header line for the current Dockerfile's replay."""
    return "History     " + per_commit_text(c, window)


def _shown(path: str) -> str:
    # the replay stands for the whole .git directory with one pseudo-file
    return ".git/ (changes with every commit)" if path == ".git/HEAD" else path


def _args_text(ins) -> str:
    first = ins.original.split(None, 1)
    return first[1] if len(first) > 1 else ""


def image_text(img, sources=()) -> str:
    """The `layerlens image` report; each name escaped on its own, as JSON does."""
    from layerlens.jsonout import escape_text as esc

    by_layer = {s.layer: s for s in sources}
    out = [f"Image       {esc(img.source)}  ({img.format}, {img.platform or 'unknown platform'}, "
           f"{len(img.layers)} layers)"]
    if img.tags:  # which image of an archive or layout was read (oci:DIR:TAG, @N, RepoTags)
        out.append(f"Tags        {', '.join(esc(t) for t in img.tags)}")
    comp = size(img.compressed_bytes) if img.compressed_bytes is not None else \
        "unknown (layers stored uncompressed)"
    out.append(f"Size        {size(img.size_bytes)} in layers, {size(img.visible_bytes)} visible, "
               f"compressed {comp}")
    out.append(f"Shadowed    {size(img.shadowed_bytes)} stored but hidden by later layers")
    out.append(f"dive        efficiency {img.efficiency:.2%}, wasted {size(img.wasted_bytes)}, "
               f"user wasted {img.user_wasted_percent:.2%}")
    out.append("")
    head = f"  {'#':>3} {'size':>10} {'pushed':>10} {'shadowed':>10}  {'source':<14}"
    out.append(head + " created by")
    for lay in img.layers:
        src = by_layer.get(lay.index)
        if src is not None and src.line is not None:
            where = f"L{src.line}"
        elif src is not None and src.base:
            where = "base " + _one_line(esc(src.base), 9)
        else:
            where = ""
        pushed = size(lay.compressed_bytes) if lay.compressed_bytes is not None else "?"
        out.append(f"  {lay.index:>3} {size(lay.size_bytes):>10} {pushed:>10} "
                   f"{size(lay.shadowed_bytes):>10}  {where:<14} "
                   f"{_one_line(esc(lay.created_by or ''), 60)}")
    if img.inefficient_files:
        out.append("")
        out.append("Files stored more than once (dive's wasted space):")
        for p, b, c in img.inefficient_files[:10]:
            out.append(f"  {size(b):>10}  x{c}  /{esc(p)}")
    if img.secrets:
        out.append("")
        out.append("Secrets (contents not shown):")
        out.extend(f"  {esc(f.describe())}" for f in img.secrets)
    if img.warnings:
        out.append("")
        out.extend(f"warning: {esc(w)}" for w in img.warnings)
    return "\n".join(out) + "\n"
