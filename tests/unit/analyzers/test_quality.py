"""Mono2Micro metrics on a partition computed by hand (see the numbers in comments)."""

from __future__ import annotations

import networkx as nx
import pytest

from analyzers.quality import partition_quality


def _example() -> tuple[nx.DiGraph, list[frozenset[str]]]:
    g = nx.DiGraph()
    g.add_edge("a1", "a2", count=2)  # inside A
    g.add_edge("b1", "b2", count=1)  # inside B
    g.add_edge("b2", "b3", count=1)  # inside B
    g.add_edge("a2", "b1", count=1)  # A -> B
    g.add_edge("b3", "a1", count=3)  # B -> A
    return g, [frozenset({"a1", "a2"}), frozenset({"b1", "b2", "b3"})]


def test_structural_modularity() -> None:
    g, parts = _example()
    q = partition_quality(g, parts)
    # cohesion: (1/2^2 + 2/3^2) / 2 = 0.236111; coupling: 2 / (2*2*3) / 1 = 0.166667
    assert q.structural_modularity == pytest.approx(0.236111 - 0.166667, abs=1e-5)


def test_inter_call_percentage_interface_number() -> None:
    g, parts = _example()
    q = partition_quality(g, parts)
    assert q.inter_call_percentage == pytest.approx(4 / 8)  # sites between / all sites
    assert q.interface_number == pytest.approx((1 + 1) / 2)  # b1 and a1 are interfaces


def test_non_extreme_distribution() -> None:
    g, parts = _example()
    assert partition_quality(g, parts).non_extreme_distribution == 1.0  # both < 5
    q = partition_quality(g, parts, ned_bounds=(3, 20))
    assert q.non_extreme_distribution == pytest.approx(1 - 3 / 5)
    assert (q.partitions, q.units) == (2, 5)


def test_single_partition_has_no_coupling_term() -> None:
    g, parts = _example()
    q = partition_quality(g, [parts[0] | parts[1]])
    assert q.structural_modularity == pytest.approx(5 / 25)
    assert q.inter_call_percentage == 0.0
    assert q.interface_number == 0.0
