"""Which shell parser reads the RUNs of real Dockerfiles better: bashlex or tree-sitter-bash?

Usage: python bench/shell_parsers.py DIR...   (every Dockerfile* below each DIR)

RUN bodies (shell form, and heredoc bodies a shell runs) are taken with layerlens's own
Dockerfile reader. A parse "fails" when the parser raises (bashlex) or its tree has an
ERROR or MISSING node (tree-sitter). Also timed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from layerlens.dockerfile import parse
from layerlens.errors import LayerlensError


def bodies(root: Path) -> list[tuple[str, str]]:
    out = []
    for p in sorted(root.rglob("Dockerfile*")):
        if not p.is_file() or "node_modules" in p.parts:
            continue
        try:
            df = parse(p.read_text("utf-8", errors="replace"), str(p))
        except (LayerlensError, ValueError):
            continue
        for ins in df.instructions:
            if ins.keyword != "run" or ins.exec_form:
                continue
            if ins.heredocs:
                out += [(f"{p}:{ins.start_line}", h.body) for h in ins.heredocs]
            elif ins.args:
                out.append((f"{p}:{ins.start_line}", ins.args[0]))
    return out


def main() -> None:
    import bashlex
    import tree_sitter_bash
    from tree_sitter import Language, Parser

    runs = [b for d in sys.argv[1:] for b in bodies(Path(d))]
    ts = Parser(Language(tree_sitter_bash.language()))
    bl_fail, ts_fail = [], []
    t0 = time.perf_counter()
    for where, body in runs:
        try:
            bashlex.parse(body)
        except Exception as exc:
            bl_fail.append((where, type(exc).__name__, str(exc)[:80]))
    t1 = time.perf_counter()
    for where, body in runs:
        tree = ts.parse(body.encode())
        if tree.root_node.has_error:
            ts_fail.append((where, "", ""))
    t2 = time.perf_counter()
    uniq = {b for _, b in runs}
    bl_u = sum(1 for b in uniq if any(b == body for w, body in runs
                                      if w in {f[0] for f in bl_fail}))
    ts_u = sum(1 for b in uniq if any(b == body for w, body in runs
                                      if w in {f[0] for f in ts_fail}))
    print(f"RUN bodies: {len(runs)} ({len(uniq)} distinct; failures among distinct: "
          f"bashlex {bl_u}, tree-sitter {ts_u})")
    print(f"bashlex:     {len(runs) - len(bl_fail)} parsed, {len(bl_fail)} failed, "
          f"{t1 - t0:.2f} s")
    print(f"tree-sitter: {len(runs) - len(ts_fail)} parsed, {len(ts_fail)} failed, "
          f"{t2 - t1:.2f} s")
    for f in bl_fail[:15]:
        print("  bashlex fail:", *f)
    for f in ts_fail[:15]:
        print("  tree-sitter fail:", f[0])


if __name__ == "__main__":
    main()
