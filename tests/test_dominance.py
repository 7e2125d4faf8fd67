"""Set-inclusion kernels (dominance reductions) against brute force over Python sets."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from coverage import _dominance


def _brute(M: sp.csr_matrix, cls) -> tuple[np.ndarray, np.ndarray]:
    sets = [frozenset(M.indices[M.indptr[i]:M.indptr[i + 1]].tolist()) for i in range(M.shape[0])]
    m = len(sets)
    cls = np.zeros(m, int) if cls is None else np.asarray(cls)
    sup = np.zeros(m, bool)  # contains another row's set (equal: the later row)
    sub = np.zeros(m, bool)  # non-empty, contained in another row's set (equal: the later row)
    for i in range(m):
        for k in range(m):
            if i == k or cls[i] != cls[k] or not sets[i] or not sets[i] <= sets[k]:
                continue
            if sets[i] < sets[k] or i < k:
                sup[k] = True
            if sets[i] < sets[k] or k < i:
                sub[i] = True
    return sup, sub


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("threads", [1, 2])
def test_inclusions_match_brute_force(seed, threads):
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(2, 60)), int(rng.integers(1, 15))
    dense = rng.random((m, n)) < rng.uniform(0.05, 0.9)
    dense[rng.integers(0, m)] = False  # an empty row
    M = sp.csr_matrix(dense.astype(np.int32))
    M = sp.vstack([M, M[rng.integers(0, m, 6)]]).tocsr()  # repeated rows (equal sets)
    cls = rng.integers(0, 3, M.shape[0]) if seed % 2 else None
    sup, sub = _brute(M, cls)
    assert np.array_equal(_dominance.supersets(M, cls, threads=threads), sup)
    assert np.array_equal(_dominance.subsets(M, cls, threads=threads), sub)


def test_unsorted_duplicate_indices_and_bool_data():
    # a row given with unsorted and repeated indices is still the set {0, 2}
    M = sp.csr_matrix((np.ones(5, dtype=bool), np.array([2, 0, 0, 0, 2]), np.array([0, 3, 5])), shape=(2, 3))
    assert _dominance.supersets(M).tolist() == [False, True]
    assert _dominance.subsets(M).tolist() == [False, True]


def test_chains_and_strict_order():
    # {0} < {0,1} < {0,1,2}: every superset flagged, every subset flagged, the largest kept
    M = sp.csr_matrix(np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], dtype=np.int32))
    assert _dominance.supersets(M).tolist() == [True, False, True]
    assert _dominance.subsets(M).tolist() == [False, True, True]


def test_stored_zeros_are_not_members():
    # row 1 stores a zero for column 1: its set is {0}, contained in row 0's {0, 1}
    M = sp.csr_matrix((np.array([1, 1, 1, 0]), np.array([0, 1, 0, 1]), np.array([0, 2, 4])), shape=(2, 2))
    assert _dominance.supersets(M).tolist() == [True, False]
    assert _dominance.subsets(M).tolist() == [False, True]
