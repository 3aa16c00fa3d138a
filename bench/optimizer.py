#!/usr/bin/env python3
"""How fast the order optimizer answers for a stage with 20 movable instructions.

Two stages: a realistic one (system package RUNs keep their order, COPYs to separate
directories move freely, config instructions keep theirs) and an adversarial one where
every instruction is independent (2^20 possible prefixes). Change masks span 1,000 commits.

    .venv/bin/python bench/optimizer.py
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from layerlens.dockerfile import parse
    from layerlens.suggest.graph import stage_graph
    from layerlens.suggest.optimizer import optimize

    rng = random.Random(20)
    lines = ["FROM debian"]
    for i in range(8):
        lines.append(f"COPY part{i} /app/part{i}")
    for i in range(6):
        lines.append(f"RUN apt-get install -y pkg{i}")
    for i in range(6):
        lines.append(f"LABEL l{i}=v{i}")
    df = parse("\n".join(lines) + "\n")
    g = stage_graph(df, 0)
    nodes = list(df.stages[0].instructions[1:])
    commits = 1000
    weight = {n: rng.choice([0.5, 2.0, 20.0, 60.0]) for n in nodes}
    mask = {n: sum(1 << c for c in range(commits) if rng.random() < rng.choice([0.01, 0.1, 0.5]))
            for n in nodes}
    t = time.perf_counter()
    res = optimize(g, nodes, weight, mask)
    el = time.perf_counter() - t
    print(f"realistic stage: {len(nodes)} movable, {g.number_of_edges()} precedence edges: "
          f"{el * 1000:.0f} ms, exact={res.exact}, cost {res.current_cost:.0f} -> {res.cost:.0f}")

    import networkx as nx

    free = nx.DiGraph()
    free.add_nodes_from(range(20))
    w2 = {n: rng.choice([0.5, 2.0, 20.0]) for n in range(20)}
    m2 = {n: rng.getrandbits(commits) for n in range(20)}
    t = time.perf_counter()
    res2 = optimize(free, list(range(20)), w2, m2)
    el2 = time.perf_counter() - t
    print(f"independent stage: 20 movable, no edges: {el2 * 1000:.0f} ms, exact={res2.exact}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
