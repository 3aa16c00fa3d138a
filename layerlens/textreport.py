"""Plain-text rendering of an Analysis for people (humanize for sizes and durations)."""

from __future__ import annotations

import humanize

from layerlens.analysis import Analysis


def size(n: int | None) -> str:
    if n is None:
        return "unknown"
    return humanize.naturalsize(n, binary=True, format="%.1f")


def _one_line(text: str, width: int) -> str:
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds:.1f}s"
    return humanize.precisedelta(seconds, minimum_unit="seconds", format="%0.0f")


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
        c = hist.costs
        est = " (estimated: no build log or image given)" if c.estimated else ""
        out.append(
            f"History     {hist.window} commits; per commit: rebuild {duration(c.mean_seconds)}, "
            f"push {size(int(c.mean_push_bytes))}, pull {size(int(c.mean_pull_bytes))}"
            f" x{c.pullers}{est}"
        )
    needed = df.needed_stages()
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
                if kinds == {"context"} or inp.files:
                    line += f" {inp.files:>6} files {size(inp.bytes):>10}"
                else:
                    line += "   from " + ", ".join(sorted(kinds - {"context"}))
            st = hist.costs.instructions.get(ins.index) if hist is not None else None
            if st is not None:
                line = f"{line:<92}" if len(line) < 92 else line
                line += f" rebuilt {st.change_rate:6.1%}  share {st.share:6.1%}"
            out.append(line.rstrip())
            if st is not None and st.top_files and st.rebuilds:
                files = ", ".join(f"{p} ({n})" for p, n in st.top_files[:3])
                out.append(f"         churn: {files}")
    if result.notices:
        out.append("")
        out.extend(f"notice: {n}" for n in result.notices)
    return "\n".join(out) + "\n"


def _args_text(ins) -> str:
    first = ins.original.split(None, 1)
    return first[1] if len(first) > 1 else ""
