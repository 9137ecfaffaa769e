"""Selection: tournament and roulette over a scalar key; multi-objective keys
come from non-dominated sorting with crowding distance (NSGA-II)."""
from __future__ import annotations

import random
from typing import Sequence

Vector = tuple[float, ...]
WORST = float("-inf")


def dominates(a: Vector, b: Vector) -> bool:
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))


def non_dominated_fronts(points: Sequence[Vector]) -> list[list[int]]:
    n = len(points)
    dominated_by = [[] for _ in range(n)]
    count = [0] * n
    for i in range(n):
        for j in range(n):
            if i != j and dominates(points[i], points[j]):
                dominated_by[i].append(j)
            elif i != j and dominates(points[j], points[i]):
                count[i] += 1
    fronts, current = [], [i for i in range(n) if count[i] == 0]
    while current:
        fronts.append(current)
        nxt = []
        for i in current:
            for j in dominated_by[i]:
                count[j] -= 1
                if count[j] == 0:
                    nxt.append(j)
        current = sorted(nxt)
    return fronts


def crowding(points: Sequence[Vector], front: list[int]) -> dict[int, float]:
    dist = {i: 0.0 for i in front}
    if len(front) <= 2:
        return {i: float("inf") for i in front}
    for k in range(len(points[front[0]])):
        order = sorted(front, key=lambda i: points[i][k])
        lo, hi = points[order[0]][k], points[order[-1]][k]
        dist[order[0]] = dist[order[-1]] = float("inf")
        if hi == lo or not all(map(_finite, (lo, hi))):
            continue
        for a, i, b in zip(order, order[1:], order[2:]):
            dist[i] += (points[b][k] - points[a][k]) / (hi - lo)
    return dist


def _finite(x: float) -> bool:
    return x not in (float("inf"), float("-inf")) and x == x


def rank_keys(points: Sequence[Vector]) -> list[tuple[float, float]]:
    """A sortable key per point (higher is better): (−front index, crowding)."""
    if points and len(points[0]) == 1:
        return [(p[0], 0.0) for p in points]
    keys: list[tuple[float, float]] = [(0.0, 0.0)] * len(points)
    for rank, front in enumerate(non_dominated_fronts(points)):
        cd = crowding(points, front)
        for i in front:
            keys[i] = (-float(rank), cd[i])
    return keys


def tournament(keys: Sequence, k: int, rng: random.Random) -> int:
    contestants = [rng.randrange(len(keys)) for _ in range(min(k, len(keys)))]
    return max(contestants, key=lambda i: (keys[i], -i))


def roulette(fitness: Sequence[float], rng: random.Random) -> int:
    finite = [f for f in fitness if _finite(f)]
    if not finite:
        return rng.randrange(len(fitness))
    lo = min(finite)
    weights = [(f - lo + 1e-9) if _finite(f) else 0.0 for f in fitness]
    return rng.choices(range(len(fitness)), weights=weights)[0]
