"""Set inclusion between the rows of a sparse 0/1 matrix (dominance reductions), in numba.

A set-cover row whose candidate set contains another row's set is implied by it; a candidate
whose demand set is contained in another's is never needed (unit costs). Both reductions ask,
for every row ``i`` of a matrix, which rows ``k`` satisfy ``S_i ⊆ S_k``. Only rows holding the
rarest element of ``S_i`` can, so each row scans one column's list and tests the rest of ``S_i``
(rarest elements first, binary search in the sorted ``S_k``), usually failing on the first
element. Work grows with rows x the rarest element's count, not with the square of column
counts as a sparse product does, so city-scale matrices (tens of millions of nonzeros) reduce
in seconds. Rows are processed in parallel threads (the kernel releases the GIL).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from ._numba import default_threads, numba


@numba.njit(cache=True, nogil=True)
def _inclusions(ptr, ind, cptr, cind, cnt, cls, start, step, flag_superset, out):
    """For rows ``i = start, start + step, ...``: find rows ``k`` of the same class with
    ``S_i ⊆ S_k``; equal sets count only one way (the higher index is the one flagged).
    ``flag_superset``: flag every such ``k`` (rows implied by a subset row); else flag ``i``
    itself when some such ``k`` exists (rows contained in another)."""
    m = ptr.size - 1
    for i in range(start, m, step):
        a, b = ptr[i], ptr[i + 1]
        size_i = b - a
        if size_i == 0:
            continue
        elems = ind[a:b]
        order = np.argsort(cnt[elems])
        rare = elems[order]
        c = rare[0]
        for p in range(cptr[c], cptr[c + 1]):
            k = cind[p]
            if k == i or cls[k] != cls[i]:
                continue
            kb, ke = ptr[k], ptr[k + 1]
            size_k = ke - kb
            if size_k < size_i:
                continue
            if size_k == size_i and ((flag_superset and k < i) or (not flag_superset and k > i)):
                continue
            ok = True
            for q in range(1, size_i):
                v = rare[q]
                lo, hi = kb, ke
                while lo < hi:
                    mid = (lo + hi) >> 1
                    if ind[mid] < v:
                        lo = mid + 1
                    else:
                        hi = mid
                if lo == ke or ind[lo] != v:
                    ok = False
                    break
            if ok:
                if flag_superset:
                    out[k] = True
                else:
                    out[i] = True
                    break


def _run(M, cls, flag_superset: bool, threads: int | None) -> np.ndarray:
    M = sp.csr_matrix(M)
    if not M.has_canonical_format or (M.nnz and not M.data.all()):
        M = M.copy()  # the binary search needs sorted, distinct indices; stored zeros are no members
        M.sum_duplicates()
        M.eliminate_zeros()
    m = M.shape[0]
    out = np.zeros(m, dtype=bool)
    if m < 2 or M.nnz == 0:
        return out
    C = M.tocsc()
    ptr, ind, cptr, cind = M.indptr, M.indices, C.indptr, C.indices
    cnt = np.diff(cptr)
    code = np.zeros(m, np.int64) if cls is None else np.unique(np.asarray(cls), return_inverse=True)[1].astype(np.int64)
    nthr = min(default_threads(threads), max(1, m // 64))
    if nthr == 1:
        _inclusions(ptr, ind, cptr, cind, cnt, code, 0, 1, flag_superset, out)
    else:
        with ThreadPoolExecutor(max_workers=nthr) as pool:
            list(pool.map(lambda s: _inclusions(ptr, ind, cptr, cind, cnt, code, s, nthr, flag_superset, out),
                          range(nthr)))
    return out


def supersets(M, cls=None, *, threads: int | None = None) -> np.ndarray:
    """Rows whose set strictly contains another row's set of the same class (or equals it,
    with the other row first). Empty rows flag nothing. Returns a boolean mask."""
    return _run(M, cls, True, threads)


def subsets(M, cls=None, *, threads: int | None = None) -> np.ndarray:
    """Non-empty rows whose set is strictly contained in another row's set of the same class (or
    equals it, with the other row first). Returns a boolean mask."""
    return _run(M, cls, False, threads)
