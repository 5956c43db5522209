"""Exact maximal logical array of the ``row-col`` scheme by integer linear programming.

The oracle that measures the gap of the GCR heuristic
(``yieldkit.redundancy.row_col``) on small host arrays (up to about 10 x 10;
sizes grow as rows^2 x cols^2). Solved by HiGHS through
``scipy.optimize.milp``. Not used by the planner.
"""

from __future__ import annotations

import numpy as np

__all__ = ["exact_maximal_array"]


def exact_maximal_array(unusable: np.ndarray, d: int, time_limit_s: float = 30.0) -> tuple[int, int, int]:
    """Exact maximal logical array of a small host array by ILP (HiGHS): ``(cores, rows, cols)``.

    For every row count k, a MILP maximises the logical columns: binaries
    ``y_i`` (row i selected), ``z_m`` (logical column m used), ``x_ijm``
    (site (i, j) serves column m), ``w_im = y_i AND z_m``;
    ``sum_j x_ijm = w_im``; a site serves at most one column and only when
    live; columns are ordered left to right in every row; consecutive
    selected rows keep every column within ``d`` (big-M, switched off when
    a selected row lies between). Sizes grow as rows^2 x cols^2: meant for
    arrays up to about 10 x 10.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import lil_matrix

    p, q = unusable.shape
    m_max = q
    live = ~unusable
    best = (0, 0, 0)
    for k in range(p, 0, -1):
        if k * m_max <= best[0]:
            break
        # variable layout
        ny, nz, nx, nw = p, m_max, p * q * m_max, p * m_max
        oy, oz, ox, ow = 0, ny, ny + nz, ny + nz + nx
        n = ny + nz + nx + nw

        def X(i: int, j: int, m: int) -> int:
            return ox + (i * q + j) * m_max + m

        def W(i: int, m: int) -> int:
            return ow + i * m_max + m

        rows_a: list[dict[int, float]] = []
        lo: list[float] = []
        hi: list[float] = []

        def add(coefs: dict[int, float], low: float, high: float) -> None:
            rows_a.append(coefs)
            lo.append(low)
            hi.append(high)

        add({oy + i: 1.0 for i in range(p)}, k, k)
        for m in range(m_max - 1):
            add({oz + m + 1: 1.0, oz + m: -1.0}, -np.inf, 0)
        big = q + d + 1
        for i in range(p):
            for m in range(m_max):
                add({W(i, m): 1.0, oy + i: -1.0}, -np.inf, 0)
                add({W(i, m): 1.0, oz + m: -1.0}, -np.inf, 0)
                add({W(i, m): 1.0, oy + i: -1.0, oz + m: -1.0}, -1, np.inf)
                coefs = {X(i, j, m): 1.0 for j in range(q)}
                coefs[W(i, m)] = -1.0
                add(coefs, 0, 0)
            for j in range(q):
                add({X(i, j, m): 1.0 for m in range(m_max)}, -np.inf, 1.0 if live[i, j] else 0.0)
            # order: pos(i, m+1) >= pos(i, m) + 1 when column m+1 is used in row i
            for m in range(m_max - 1):
                coefs = {X(i, j, m + 1): float(j) for j in range(q)}
                for j in range(q):
                    coefs[X(i, j, m)] = coefs.get(X(i, j, m), 0.0) - float(j)
                coefs[W(i, m + 1)] = -float(big)
                add(coefs, 1 - big, np.inf)
        # compensation between consecutive selected rows i < i2
        for i in range(p):
            for i2 in range(i + 1, p):
                for m in range(m_max):
                    for sign in (1.0, -1.0):
                        coefs: dict[int, float] = {}
                        for j in range(q):
                            coefs[X(i, j, m)] = coefs.get(X(i, j, m), 0.0) + sign * j
                            coefs[X(i2, j, m)] = coefs.get(X(i2, j, m), 0.0) - sign * j
                        coefs[W(i, m)] = coefs.get(W(i, m), 0.0) + big
                        coefs[W(i2, m)] = coefs.get(W(i2, m), 0.0) + big
                        for l in range(i + 1, i2):
                            coefs[oy + l] = coefs.get(oy + l, 0.0) - big
                        add(coefs, -np.inf, d + 2 * big)
        a = lil_matrix((len(rows_a), n))
        for r, coefs in enumerate(rows_a):
            for col, val in coefs.items():
                a[r, col] = val
        c = np.zeros(n)
        c[oz:oz + nz] = -1.0
        res = milp(c, constraints=LinearConstraint(a.tocsr(), lo, hi), integrality=np.ones(n),
                   bounds=Bounds(0, 1), options={"time_limit": time_limit_s})
        if res.x is None:
            continue
        cols = int(round(-res.fun))
        if cols * k > best[0]:
            best = (cols * k, k, cols)
    return best
