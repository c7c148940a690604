"""Partition quality, as Mono2Micro reports it (Kalia et al., ESEC/FSE 2021).

The paper's unit is a class; ours is a function or class (the call graph's node), and
its "runtime calls" are our static call sites (edge weight = number of sites). The
proposed partition is the set of chosen capabilities plus one remainder partition:
the code that stays in the monolith.

* **SM** (structural modularity, higher is better)::

      SM = 1/K * sum_i u_i / N_i^2  -  1/(K(K-1)/2) * sum_{i<j} s_ij / (2 N_i N_j)

  ``u_i`` = call edges inside partition i, ``s_ij`` = call edges between i and j (both
  directions), ``N_i`` = its size. The second term is 0 when K = 1.
* **ICP** (inter-call percentage, lower is better): call sites between partitions over
  all call sites.
* **IFN** (interface number, lower is better): mean over partitions of the number of
  its members called from another partition.
* **NED** (non-extreme distribution, lower is better): 1 - (units in partitions of
  "non-extreme" size, ``low <= N_i <= high``) / all units; the paper uses 5 and 20.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

__all__ = ["Quality", "partition_quality"]


@dataclass(frozen=True, slots=True)
class Quality:
    partitions: int
    units: int
    structural_modularity: float
    inter_call_percentage: float
    interface_number: float
    non_extreme_distribution: float


def partition_quality(
    call_graph: nx.DiGraph,
    partitions: Sequence[frozenset[str]],
    *,
    ned_bounds: tuple[int, int] = (5, 20),
) -> Quality:
    """Metrics of ``partitions`` (disjoint; nodes outside all of them are ignored).

    Edge weights come from the ``count`` edge attribute (1 when absent; edges with
    ``count=0`` record containment, not calls, and are skipped).
    """
    owner: dict[str, int] = {n: i for i, part in enumerate(partitions) for n in part}
    sizes = [len(p) for p in partitions if p]
    k = len(sizes)
    inside: dict[int, int] = defaultdict(int)
    between: dict[tuple[int, int], int] = defaultdict(int)
    interfaces: dict[int, set[str]] = defaultdict(set)
    sites_inside = sites_between = 0
    for u, v, data in call_graph.edges(data=True):
        pu, pv = owner.get(u), owner.get(v)
        if pu is None or pv is None:
            continue
        weight = int(data.get("count", 1))
        if weight == 0:
            continue  # a containment edge (method in its class), not a call
        if pu == pv:
            inside[pu] += 1
            sites_inside += weight
        else:
            between[(min(pu, pv), max(pu, pv))] += 1
            sites_between += weight
            interfaces[pv].add(v)
    units = sum(sizes)
    return Quality(
        partitions=k,
        units=units,
        structural_modularity=round(_sm(partitions, inside, between), 6),
        inter_call_percentage=round(_ratio(sites_between, sites_inside + sites_between), 6),
        interface_number=round(_ratio(sum(len(s) for s in interfaces.values()), k), 6),
        non_extreme_distribution=round(_ned(sizes, units, ned_bounds), 6),
    )


def _sm(
    partitions: Sequence[frozenset[str]],
    inside: Mapping[int, int],
    between: Mapping[tuple[int, int], int],
) -> float:
    parts = [(i, len(p)) for i, p in enumerate(partitions) if p]
    k = len(parts)
    if k == 0:
        return 0.0
    cohesion = sum(inside.get(i, 0) / (n * n) for i, n in parts) / k
    if k == 1:
        return cohesion
    size = dict(parts)
    coupling = sum(s / (2 * size[i] * size[j]) for (i, j), s in between.items())
    return cohesion - coupling / (k * (k - 1) / 2)


def _ned(sizes: Sequence[int], units: int, bounds: tuple[int, int]) -> float:
    if units == 0:
        return 0.0
    low, high = bounds
    return 1.0 - sum(n for n in sizes if low <= n <= high) / units


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0
