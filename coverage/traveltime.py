"""The travel-time engine: bounded multi-source Dijkstra on CSR arrays.

The array-level functions know nothing about OSM: any CSR graph, any non-negative costs. Work
per origin is proportional to what it reaches (a distance array is allocated once per worker and
reset only where touched), so cost stays flat as the network grows. Origins run in parallel
threads (numba releases the GIL).

Direction matters: response is station -> incident, so origins follow edges forwards.
"""
from __future__ import annotations

import math
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any

from ._numba import default_threads, numba
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import CoverageWarning, InputError
from .network import CSR, RoadNetwork, Snapped, check_snapped

_EPS = 1e-12


@dataclass(frozen=True, eq=False)
class Reach:
    """Ragged result: origin ``i`` reaches ``node[indptr[i]:indptr[i+1]]`` at ``cost[...]``
    (sorted by node)."""

    indptr: np.ndarray
    node: np.ndarray
    cost: np.ndarray

    @property
    def n_origins(self) -> int:
        return len(self.indptr) - 1

    def of(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.indptr[i], self.indptr[i + 1]
        return self.node[a:b], self.cost[a:b]


# --------------------------------------------------------------------------------------------
# numba kernels


@numba.njit(cache=True, nogil=True)
def _heap_push(hc, hn, size, c, n):
    i = size
    hc[i] = c
    hn[i] = n
    while i > 0:
        p = (i - 1) >> 1
        if hc[p] <= c:
            break
        hc[i] = hc[p]
        hn[i] = hn[p]
        i = p
    hc[i] = c
    hn[i] = n
    return size + 1


@numba.njit(cache=True, nogil=True)
def _heap_pop(hc, hn, size):
    c0 = hc[0]
    n0 = hn[0]
    size -= 1
    if size > 0:
        c = hc[size]
        n = hn[size]
        i = 0
        while True:
            l = 2 * i + 1
            if l >= size:
                break
            r = l + 1
            m = l
            if r < size and hc[r] < hc[l]:
                m = r
            if hc[m] >= c:
                break
            hc[i] = hc[m]
            hn[i] = hn[m]
            i = m
        hc[i] = c
        hn[i] = n
    return c0, n0, size


@numba.njit(cache=True, nogil=True)
def _grow(a, need):
    """``a`` itself, or a copy at least twice as long when ``need`` exceeds its length."""
    if need <= a.shape[0]:
        return a
    b = np.empty(max(need, 2 * a.shape[0]), a.dtype)
    b[: a.shape[0]] = a
    return b


@numba.njit(cache=True, nogil=True)
def _reach_batch(indptr, indices, weights, seed_ptr, seed_node, seed_time, do_sort, origins, cutoff):
    """Bounded Dijkstra for each origin of ``origins``; returns counts, nodes, costs.

    Arrays of network size are allocated once per batch and reset only where touched, so each
    origin costs what it reaches. The heap holds at most one entry per edge plus the seeds.
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    done = np.zeros(n, np.bool_)
    touched = np.empty(n, np.int64)
    heap_cap = indices.shape[0] + seed_node.shape[0] + 1
    hc = np.empty(heap_cap, np.float64)
    hn = np.empty(heap_cap, np.int64)
    cap = 4096
    out_n = np.empty(cap, np.int64)
    out_c = np.empty(cap, np.float64)
    counts = np.zeros(origins.shape[0], np.int64)
    total = 0
    for oi in range(origins.shape[0]):
        o = origins[oi]
        size = 0
        nt = 0
        for s in range(seed_ptr[o], seed_ptr[o + 1]):
            v = seed_node[s]
            c = seed_time[s]
            if c <= cutoff and c < dist[v]:
                if dist[v] == np.inf:
                    touched[nt] = v
                    nt += 1
                dist[v] = c
                size = _heap_push(hc, hn, size, c, v)
        start = total
        while size > 0:
            c, u, size = _heap_pop(hc, hn, size)
            if done[u] or c > dist[u]:
                continue
            done[u] = True
            if total >= cap:
                cap *= 2
                a = np.empty(cap, np.int64)
                a[:total] = out_n[:total]
                out_n = a
                b = np.empty(cap, np.float64)
                b[:total] = out_c[:total]
                out_c = b
            out_n[total] = u
            out_c[total] = c
            total += 1
            for k in range(indptr[u], indptr[u + 1]):
                v = indices[k]
                nc = c + weights[k]
                if nc <= cutoff and nc < dist[v]:
                    if dist[v] == np.inf:
                        touched[nt] = v
                        nt += 1
                    dist[v] = nc
                    size = _heap_push(hc, hn, size, nc, v)
        counts[oi] = total - start
        if do_sort:  # this origin's block by node
            order = np.argsort(out_n[start:total])
            bn = out_n[start:total][order].copy()
            bc = out_c[start:total][order].copy()
            out_n[start:total] = bn
            out_c[start:total] = bc
        for t in range(nt):
            dist[touched[t]] = np.inf
            done[touched[t]] = False
    return counts, out_n[:total].copy(), out_c[:total].copy()


@numba.njit(cache=True, nogil=True)
def _nearest(indptr, indices, weights, seed_ptr, seed_node, seed_time, cutoff):
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    label = np.full(n, -1, np.int64)
    done = np.zeros(n, np.bool_)
    hc = np.empty(1024, np.float64)
    hn = np.empty(1024, np.int64)
    size = 0
    for o in range(seed_ptr.shape[0] - 1):
        for s in range(seed_ptr[o], seed_ptr[o + 1]):
            v = seed_node[s]
            c = seed_time[s]
            if c <= cutoff and c < dist[v]:
                dist[v] = c
                label[v] = o
                hc = _grow(hc, size + 1)
                hn = _grow(hn, size + 1)
                size = _heap_push(hc, hn, size, c, v)
    while size > 0:
        c, u, size = _heap_pop(hc, hn, size)
        if done[u] or c > dist[u]:
            continue
        done[u] = True
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            nc = c + weights[k]
            if nc <= cutoff and nc < dist[v]:
                dist[v] = nc
                label[v] = label[u]
                hc = _grow(hc, size + 1)
                hn = _grow(hn, size + 1)
                size = _heap_push(hc, hn, size, nc, v)
    return label, dist


@numba.njit(cache=True, nogil=True)
def _targets_batch(r_ptr, r_node, r_cost, e_ptr, e_target, e_extra, n_targets, origins, cutoff):
    """Per origin: best cost to each target reachable through the nodes it reached."""
    best = np.full(n_targets, np.inf)
    touched = np.empty(1024, np.int64)
    out_t = np.empty(4096, np.int64)
    out_c = np.empty(4096, np.float64)
    counts = np.zeros(origins.shape[0], np.int64)
    total = 0
    for oi in range(origins.shape[0]):
        o = origins[oi]
        nt = 0
        for j in range(r_ptr[o], r_ptr[o + 1]):
            node = r_node[j]
            c = r_cost[j]
            for k in range(e_ptr[node], e_ptr[node + 1]):
                t = e_target[k]
                nc = c + e_extra[k]
                if nc <= cutoff and nc < best[t]:
                    if best[t] == np.inf:
                        touched = _grow(touched, nt + 1)
                        touched[nt] = t
                        nt += 1
                    best[t] = nc
        out_t = _grow(out_t, total + nt)
        out_c = _grow(out_c, total + nt)
        for q in range(nt):
            t = touched[q]
            out_t[total + q] = t
            out_c[total + q] = best[t]
            best[t] = np.inf
        counts[oi] = nt
        total += nt
    return counts, out_t[:total].copy(), out_c[:total].copy()


# --------------------------------------------------------------------------------------------
# array level


def _check_cutoff(cutoff: Any, name: str = "cutoff_s") -> float:
    try:
        c = float(cutoff)
    except (TypeError, ValueError):
        raise InputError(f"{name} {cutoff!r} is invalid: expected a number of seconds >= 0") from None
    if math.isnan(c) or c < 0:
        raise InputError(f"{name} {cutoff!r} is invalid: expected a number of seconds >= 0")
    return c


def _run_chunks(fn, n_items: int, threads: int | None, *args):
    """Run ``fn(origins_chunk, *args)`` over chunks in threads; concatenate ragged results."""
    nthr = default_threads(threads)
    if n_items == 0:
        return np.zeros(1, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)
    n_chunks = min(n_items, nthr * 4) if nthr > 1 else 1
    bounds = np.linspace(0, n_items, n_chunks + 1).astype(np.int64)
    chunks = [np.arange(bounds[i], bounds[i + 1], dtype=np.int64) for i in range(n_chunks)]
    if nthr > 1 and n_chunks > 1:
        with ThreadPoolExecutor(max_workers=nthr) as pool:
            results = list(pool.map(lambda ch: fn(*args[:-1], ch, args[-1]), chunks))
    else:
        results = [fn(*args[:-1], ch, args[-1]) for ch in chunks]
    counts = np.concatenate([r[0] for r in results])
    ptr = np.zeros(n_items + 1, np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr, np.concatenate([r[1] for r in results]), np.concatenate([r[2] for r in results])


def _check_seeds(csr: CSR, seed_ptr, seed_node, seed_time):
    """Seed arrays as the kernels need them, or :class:`InputError` (the kernels index without
    bounds checks): ``seed_ptr`` rising from 0 to ``len(seed_node)``, nodes of the graph, finite
    start times >= 0."""
    try:
        ptr = np.ascontiguousarray(seed_ptr, np.int64)
        node = np.ascontiguousarray(seed_node, np.int64)
        t = np.ascontiguousarray(seed_time, np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"seed arrays are invalid ({exc}): expected integer pointers and nodes, "
                         "numeric times") from None
    n = len(csr.indptr) - 1
    if ptr.ndim != 1 or ptr.size < 1 or ptr[0] != 0 or ptr[-1] != node.size or (np.diff(ptr) < 0).any():
        raise InputError(f"seed_ptr {ptr.tolist()[:8]} is invalid: expected non-decreasing offsets from "
                         f"0 to len(seed_node) = {node.size}")
    if node.shape != t.shape:
        raise InputError(f"seed_node and seed_time differ in length ({node.size} and {t.size})")
    if node.size and (node.min() < 0 or node.max() >= n):
        bad = node.min() if node.min() < 0 else node.max()
        raise InputError(f"seed node {int(bad)} is invalid: expected engine node indices 0 to {n - 1}")
    if node.size and not (np.isfinite(t).all() and t.min() >= 0):
        raise InputError(f"seed time {float(t[~(np.isfinite(t) & (t >= 0))][0])} is invalid: expected "
                         "finite seconds >= 0")
    return ptr, node, t


def bounded_reach(csr: CSR, seed_ptr, seed_node, seed_time, cutoff: float, *,
                  threads: int | None = None, sort: bool = True) -> Reach:
    """Bounded multi-seed Dijkstra for many origins.

    Origin ``i`` starts from ``seed_node[seed_ptr[i]:seed_ptr[i+1]]`` with initial costs
    ``seed_time[...]``. Returns every node reached with cost <= ``cutoff`` per origin, each
    origin's block sorted by node (``sort=False`` skips that: a third of the time for matrices).
    """
    cutoff = _check_cutoff(cutoff, "cutoff")
    seed_ptr, seed_node, seed_time = _check_seeds(csr, seed_ptr, seed_node, seed_time)
    n_orig = len(seed_ptr) - 1
    ptr, node, cost = _run_chunks(_reach_batch, n_orig, threads, csr.indptr, csr.indices,
                                  csr.weights, seed_ptr, seed_node, seed_time, bool(sort), cutoff)
    return Reach(indptr=ptr, node=node, cost=cost)


def nearest_source(csr: CSR, seed_ptr, seed_node, seed_time, cutoff: float = math.inf):
    """One multi-source pass: for each node the origin reaching it first (-1 if none) and when."""
    cutoff = _check_cutoff(cutoff, "cutoff")
    seed_ptr, seed_node, seed_time = _check_seeds(csr, seed_ptr, seed_node, seed_time)
    return _nearest(csr.indptr, csr.indices, csr.weights, seed_ptr, seed_node, seed_time, cutoff)


# --------------------------------------------------------------------------------------------
# network level


def origin_seeds(network: RoadNetwork, origins: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeds for origins given as graph node ids or as a :class:`Snapped` (points on edges).

    A point at fraction ``f`` of edge ``u -> v`` reaches ``v`` after ``(1 - f)`` of the edge's
    driving time and, where the road is two-way, ``u`` after ``f`` of the reverse edge's; each
    plus the wait at the signal there (``edge_delay``).
    """
    if isinstance(origins, Snapped):
        m = len(origins)
        if m == 0:
            raise InputError("no origins given: expected at least one station")
        check_snapped(network, origins)
        e = origins.edge
        f = origins.fraction
        rev = network.edge_reverse[e]
        nodes, times, owner = [], [], []
        v = network.edge_v[e]
        u = network.edge_u[e]
        drive, wait = network.edge_drive, network.edge_delay
        nodes.append(v); times.append((1 - f) * drive[e] + wait[e]); owner.append(np.arange(m))
        has = rev >= 0
        r = rev[has]
        nodes.append(u[has]); times.append(f[has] * drive[r] + wait[r]); owner.append(np.flatnonzero(has))
        # a point at an edge's end stands at that node: no drive, and no wait at its signal
        at_u = f <= 1e-9
        nodes.append(u[at_u]); times.append(np.zeros(at_u.sum())); owner.append(np.flatnonzero(at_u))
        at_v = f >= 1 - 1e-9
        nodes.append(v[at_v]); times.append(np.zeros(at_v.sum())); owner.append(np.flatnonzero(at_v))
        node = np.concatenate(nodes)
        time = np.concatenate(times)
        own = np.concatenate(owner)
        order = np.argsort(own, kind="stable")
        ptr = np.zeros(m + 1, np.int64)
        np.cumsum(np.bincount(own, minlength=m), out=ptr[1:])
        return ptr, node[order].astype(np.int64), time[order].astype(np.float64)
    ids = np.atleast_1d(np.asarray(origins))
    if ids.size == 0:
        raise InputError("no origins given: expected at least one graph node id")
    idx = network.node_index(ids)
    return np.arange(len(idx) + 1, dtype=np.int64), idx, np.zeros(len(idx))


def reach(network: RoadNetwork, origins: Any, *, cutoff_s: float, threads: int | None = None,
          sort: bool = True, labels: Sequence[Any] | None = None) -> Reach:
    """Nodes (engine indices) reached by each origin within ``cutoff_s`` seconds
    (each origin's block sorted by node unless ``sort=False``); ``labels`` name the origins in
    the warning about origins off the main network."""
    cutoff = _check_cutoff(cutoff_s)
    ptr, node, time = origin_seeds(network, origins)
    _warn_islands(network, ptr, node, origins, labels)
    return bounded_reach(network.csr, ptr, node, time, cutoff, threads=threads, sort=sort)


def _main_component(network: RoadNetwork) -> np.ndarray:
    """Bool per node: it can drive into the largest strongly connected part of the network
    (the part where every node reaches every other). A one-way street leading in qualifies;
    an island or a one-way dead end leading out does not."""
    cached = network.__dict__.get("_main_scc")
    if cached is None:
        from scipy.sparse.csgraph import breadth_first_order, connected_components

        n = network.n_nodes
        g = sp.csr_matrix((np.ones(network.n_edges), (network.edge_u, network.edge_v)), shape=(n, n))
        _, lab = connected_components(g, directed=True, connection="strong")
        main = np.flatnonzero(lab == np.bincount(lab).argmax())
        # reverse reachability from the main part, through a virtual node n pointing at it
        rows = np.concatenate([network.edge_v, np.full(len(main), n)])
        cols = np.concatenate([network.edge_u, main])
        rg = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n + 1, n + 1))
        order = breadth_first_order(rg, n, directed=True, return_predecessors=False)
        cached = np.zeros(n, bool)
        cached[order[order < n]] = True
        object.__setattr__(network, "_main_scc", cached)
    return cached


def on_main_network(network: RoadNetwork, origins: Any) -> np.ndarray:
    """Bool per origin: it can reach the main (largest strongly connected) part of the network."""
    ptr, node, _ = origin_seeds(network, origins)
    main = _main_component(network)
    ok = np.zeros(len(ptr) - 1, bool)
    np.logical_or.at(ok, np.repeat(np.arange(len(ptr) - 1), np.diff(ptr)), main[node])
    return ok


def _warn_islands(network: RoadNetwork, seed_ptr: np.ndarray, seed_node: np.ndarray, origins: Any,
                  labels: Sequence[Any] | None = None) -> None:
    """Warn about origins that cannot reach the main part of the network (an island, or a
    one-way dead end leaving the map), named by ``labels`` when given."""
    main = _main_component(network)
    ok = np.zeros(len(seed_ptr) - 1, bool)
    owner = np.repeat(np.arange(len(seed_ptr) - 1), np.diff(seed_ptr))
    np.logical_or.at(ok, owner, main[seed_node])
    bad = np.flatnonzero(~ok)
    if len(bad):
        if labels is not None:
            names = [f"{labels[i]}" + (f" ({origins.lon[i]:.6f}, {origins.lat[i]:.6f})"
                                       if isinstance(origins, Snapped) else "") for i in bad[:5]]
        elif isinstance(origins, Snapped):
            names = [f"#{i} ({origins.lon[i]:.6f}, {origins.lat[i]:.6f})" for i in bad[:5]]
        else:
            ids = np.atleast_1d(np.asarray(origins))
            names = [str(ids[i]) for i in bad[:5]]
        warnings.warn(
            f"{len(bad)} origin(s) cannot reach the main road network (an island or a one-way dead "
            f"end): {', '.join(names)}{' ...' if len(bad) > 5 else ''}; their reach is tiny: check "
            "their position",
            CoverageWarning, stacklevel=3,
        )


def travel_times(network: RoadNetwork, origins: Any, *, cutoff_s: float) -> pd.DataFrame:
    """Fastest drive from each origin to every node reached within ``cutoff_s``.

    Returns a DataFrame with columns ``origin, node, seconds`` (graph node ids; unreached nodes
    are absent). Origins are graph node ids (or a :class:`Snapped`, then ``origin`` is its row).
    """
    res = reach(network, origins, cutoff_s=cutoff_s)
    counts = np.diff(res.indptr)
    if isinstance(origins, Snapped):
        labels = np.arange(len(origins))
    else:
        labels = np.atleast_1d(np.asarray(origins))
    return pd.DataFrame({
        "origin": np.repeat(labels, counts),
        "node": network.node_ids[res.node],
        "seconds": res.cost,
    })


def _target_entries(network: RoadNetwork, targets: Snapped):
    """node -> (target, extra seconds) entries: a target on edge ``u -> v`` at ``f`` is entered
    from ``u`` along the edge and, on two-way roads, from ``v`` along the reverse edge."""
    check_snapped(network, targets, "targets")
    e = targets.edge
    f = targets.fraction
    k = np.arange(len(e))
    rev = network.edge_reverse[e]
    has = rev >= 0
    # a target at the end of a one-way edge stands at its end node (two-way: the reverse edge)
    at_v = ~has & (f >= 1 - 1e-9)
    node = np.concatenate([network.edge_u[e], network.edge_v[e][has], network.edge_v[e][at_v]])
    tgt = np.concatenate([k, k[has], k[at_v]])
    drive = network.edge_drive  # stopping short of the signal at the end
    extra = np.concatenate([f * drive[e], (1 - f[has]) * drive[rev[has]], np.zeros(int(at_v.sum()))])
    order = np.argsort(node, kind="stable")
    ptr = np.zeros(network.n_nodes + 1, np.int64)
    np.cumsum(np.bincount(node, minlength=network.n_nodes), out=ptr[1:])
    return ptr, tgt[order].astype(np.int64), extra[order].astype(np.float64)


def point_times(network: RoadNetwork, origins: Any, targets: Snapped, *, cutoff_s: float,
                threads: int | None = None, labels: Sequence[Any] | None = None) -> sp.csr_matrix:
    """Seconds from each origin to each target point (on edges) within ``cutoff_s``.

    Returns an (origins x targets) CSR matrix whose stored entries are the reached pairs; a
    target reached at 0 s is stored as 1e-9 s so that it is not lost as a sparse zero.
    ``origins`` may be a :class:`Reach` already computed with at least this cutoff (then the
    same-edge shortcut below is skipped) or anything :func:`origin_seeds` takes. ``labels``
    name the origins in the warning about origins off the main network.
    """
    cutoff = _check_cutoff(cutoff_s)
    if isinstance(origins, Reach):
        res = origins
        snapped = None
    else:
        res = reach(network, origins, cutoff_s=cutoff, threads=threads, sort=False, labels=labels)
        snapped = origins if isinstance(origins, Snapped) else None
    e_ptr, e_tgt, e_extra = _target_entries(network, targets)
    ptr, tgt, cost = _run_chunks(_targets_batch, res.n_origins, threads, res.indptr, res.node,
                                 res.cost, e_ptr, e_tgt, e_extra, len(targets), cutoff)
    rows = np.repeat(np.arange(res.n_origins), np.diff(ptr))
    mat = sp.csr_matrix((np.maximum(cost, 1e-9), (rows, tgt)), shape=(res.n_origins, len(targets)))
    if snapped is not None:
        mat = _same_edge(network, snapped, targets, mat, cutoff)
    return mat


def _same_edge(network: RoadNetwork, origins: Snapped, targets: Snapped, mat: sp.csr_matrix,
               cutoff: float) -> sp.csr_matrix:
    """Origin and target on the same road: drive straight along it without leaving the edge."""
    by_edge: dict[int, list[int]] = {}
    for k, e in enumerate(targets.edge.tolist()):
        by_edge.setdefault(e, []).append(k)
    rows, cols, vals = [], [], []
    drive = network.edge_drive  # along the road, short of any signal at its end
    for i, (e, f) in enumerate(zip(origins.edge.tolist(), origins.fraction.tolist())):
        r = int(network.edge_reverse[e])
        # targets on this road, positions measured from u along e (a target on the reverse edge
        # at fraction ft sits at 1 - ft)
        cands = [(k, targets.fraction[k]) for k in by_edge.get(e, ())]
        if r >= 0:
            cands += [(k, 1.0 - targets.fraction[k]) for k in by_edge.get(r, ())]
        for k, p in cands:
            best = math.inf
            if p >= f:  # downstream: straight on along e
                best = (p - f) * drive[e]
            if r >= 0 and p <= f:  # upstream on a two-way road: straight on along the reverse
                best = min(best, (f - p) * drive[r])
            if best <= cutoff:
                rows.append(i); cols.append(k); vals.append(best)
    if not rows:
        return mat
    vals = np.maximum(np.array(vals), 1e-9)
    extra = sp.csr_matrix((vals, (np.array(rows), np.array(cols))), shape=mat.shape)
    # element-wise minimum over stored entries
    a = mat.tocoo()
    b = extra.tocoo()
    r = np.concatenate([a.row, b.row])
    c = np.concatenate([a.col, b.col])
    v = np.concatenate([a.data, b.data])
    order = np.lexsort((v, c, r))
    r, c, v = r[order], c[order], v[order]
    first = np.ones(len(r), bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    return sp.csr_matrix((v[first], (r[first], c[first])), shape=mat.shape)


def coverage_matrix(network: RoadNetwork, origins: Any, targets: Snapped, *,
                    cutoff_s: float) -> sp.csr_matrix:
    """Boolean (targets x origins) matrix: demand reached by each candidate within ``cutoff_s``."""
    t = point_times(network, origins, targets, cutoff_s=cutoff_s)
    b = t.astype(bool).T.tocsr()
    return b
