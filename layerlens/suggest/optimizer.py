"""The cheapest instruction order a stage's precedence graph allows.

Model: an instruction is rebuilt in a commit when it, or any instruction before it, changed
in that commit. With `w` its rebuild cost and `mask` the set of commits in which it changed
(bit per commit), an order costs  sum_k w[k] * |mask[1] | ... | mask[k]|.  A prefix of an
order is a downset of the graph, and the cost of the next instruction depends only on
which set is before it, so a dynamic programme over downsets is exact. Downsets are few
when the graph is constrained (RUNs keep their order, config keeps its order): the search
is exact up to `EXACT_LIMIT` movable instructions while the downsets stay within
`STATE_BUDGET`; past either, a greedy order is used (never a worse one than today's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from layerlens.suggest.graph import Precedence

EXACT_LIMIT = 20
STATE_BUDGET = 120_000  # downsets explored before giving up exactness (about 0.3 s)


@dataclass(frozen=True, slots=True)
class OrderResult:
    order: tuple[int, ...]
    cost: float  # model cost of `order`, summed over the window
    current_cost: float  # model cost of the current order
    exact: bool


def order_cost(order: Sequence[int], weight: Mapping[int, float],
               mask: Mapping[int, int]) -> float:
    seen = 0
    total = 0.0
    for n in order:
        seen |= mask.get(n, 0)
        total += weight.get(n, 0.0) * seen.bit_count()
    return total


def optimize(g: Precedence, current: Sequence[int], weight: Mapping[int, float],
             mask: Mapping[int, int]) -> OrderResult:
    nodes = list(current)
    n = len(nodes)
    cur_cost = order_cost(nodes, weight, mask)
    if n <= 1:
        return OrderResult(tuple(nodes), cur_cost, cur_cost, True)
    bit = {node: 1 << i for i, node in enumerate(nodes)}
    preds = [0] * n
    for i, node in enumerate(nodes):
        for p in g.predecessors(node):
            if p in bit:
                preds[i] |= bit[p]
    w = [weight.get(x, 0.0) for x in nodes]
    m = [mask.get(x, 0) for x in nodes]
    if n <= EXACT_LIMIT:
        res = _exact(n, preds, w, m)
        if res is not None:
            cost, order = res
            out = tuple(nodes[i] for i in order)
            return OrderResult(out, cost, cur_cost, True)
    order = _greedy(n, preds, w, m)
    out = tuple(nodes[i] for i in order)
    cost = order_cost(out, weight, mask)
    if cost > cur_cost:
        return OrderResult(tuple(nodes), cur_cost, cur_cost, False)
    return OrderResult(out, cost, cur_cost, False)


def _exact(n: int, preds: list[int], w: list[float], m: list[int]):
    """Layer-by-layer DP over downsets: state -> (cost, union of masks, last, parent)."""
    full = (1 << n) - 1
    layer: dict[int, tuple[float, int]] = {0: (0.0, 0)}
    back: dict[int, tuple[int, int]] = {}  # state -> (parent state, item)
    states = 1
    for _ in range(n):
        nxt: dict[int, tuple[float, int]] = {}
        for state, (cost, union) in layer.items():
            for i in range(n):
                b = 1 << i
                if state & b or (preds[i] & state) != preds[i]:
                    continue
                u = union | m[i]
                c = cost + w[i] * u.bit_count()
                ns = state | b
                old = nxt.get(ns)
                # ties keep the first found, which follows the current order
                if old is None or c < old[0] - 1e-12:
                    if old is None:
                        states += 1
                        if states > STATE_BUDGET:
                            return None
                    nxt[ns] = (c, u)
                    back[ns] = (state, i)
        layer = nxt
    if full not in layer:
        return None
    order = []
    s = full
    while s:
        s, i = back[s]
        order.append(i)
    order.reverse()
    return layer[full][0], order


def _greedy(n: int, preds: list[int], w: list[float], m: list[int]) -> list[int]:
    """Place next the available item that adds the fewest new changed commits per cost."""
    placed = 0
    union = 0
    order: list[int] = []
    for _ in range(n):
        best = None
        for i in range(n):
            b = 1 << i
            if placed & b or (preds[i] & placed) != preds[i]:
                continue
            key = ((union | m[i]).bit_count(), -w[i], i)
            if best is None or key < best[0]:
                best = (key, i)
        assert best is not None
        i = best[1]
        order.append(i)
        placed |= 1 << i
        union |= m[i]
    return order
