"""A 5-point stencil sweep over the fabric, checked against its golden result.

Logical core ``(r, c)`` owns the ``b x b`` tile ``u[r b:(r+1) b, c b:(c+1) b]``
of a global grid of shape ``(R b, C b)``. One Jacobi sweep with zero
(Dirichlet) boundary,

    ``u'[i, j] = (1 - 4 w) u[i, j] + w u[i-1, j] + w u[i+1, j] + w u[i, j-1] + w u[i, j+1]``,

(summed in that order, in place, so a pass costs five sweeps over the grid)

reads the halo of each tile from its four neighbours. The golden result is
the same numpy expression evaluated on the host, so a fault-free wafer's
result is bit-identical and detection compares bits: any flipped bit of a
tile is found and localised to its core.

References
----------
W. L. Briggs, V. E. Henson, S. F. McCormick, *A Multigrid Tutorial*, SIAM
2000 (weighted Jacobi on the 5-point Laplacian).
"""

from __future__ import annotations

import numpy as np

from burnin.findings import Finding

__all__ = ["stencil_input", "stencil_golden", "detect_stencil"]


def stencil_input(logical_rows: int, logical_cols: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """A random grid ``(R b, C b)`` of uniform values in [0, 1) [-].

    Examples
    --------
    >>> stencil_input(2, 3, 4, np.random.default_rng(0)).shape
    (8, 12)
    """
    return rng.random((logical_rows * block, logical_cols * block))


def stencil_golden(u: np.ndarray, weight: float = 0.2) -> np.ndarray:
    """One weighted-Jacobi sweep of the 5-point stencil with zero boundary.

    Parameters
    ----------
    u : ndarray, shape (M, N)
    weight : float
        Relaxation weight w [-].

    Returns
    -------
    ndarray, shape (M, N)

    Examples
    --------
    >>> float(stencil_golden(np.ones((3, 3)), 0.25)[1, 1])
    1.0
    >>> float(stencil_golden(np.ones((3, 3)), 0.25)[0, 0])
    0.5
    """
    u = np.asarray(u, float)
    out = (1.0 - 4.0 * weight) * u
    scaled = weight * u  # w u[i', j'] is the same number whichever neighbour reads it
    out[1:, :] += scaled[:-1, :]
    out[:-1, :] += scaled[1:, :]
    out[:, 1:] += scaled[:, :-1]
    out[:, :-1] += scaled[:, 1:]
    return out


def detect_stencil(golden: np.ndarray, result: np.ndarray, block: int) -> list[Finding]:
    """Cores whose tile of ``result`` differs in any bit from ``golden``.

    Returns
    -------
    list of Finding
        ``evidence``: ``wrong`` (elements of the tile that differ),
        ``max_abs_error``.

    Examples
    --------
    >>> g = stencil_golden(np.random.default_rng(0).random((4, 6)))
    >>> bad = g.copy(); bad[3, 5] += 1.0
    >>> [(f.row, f.col, f.evidence["wrong"]) for f in detect_stencil(g, bad, 2)]
    [(1, 2, 1)]
    """
    m, n = golden.shape
    diff = golden.view(np.uint64) != np.ascontiguousarray(result, float).view(np.uint64)
    tiles = diff.reshape(m // block, block, n // block, block)
    counts = tiles.sum(axis=(1, 3))
    out = []
    for r, c in zip(*np.nonzero(counts)):
        sl = (slice(r * block, (r + 1) * block), slice(c * block, (c + 1) * block))
        with np.errstate(invalid="ignore", over="ignore"):
            err = float(np.nanmax(np.abs(result[sl] - golden[sl])))
        out.append(Finding("stencil", int(r), int(c), evidence={"wrong": int(counts[r, c]), "max_abs_error": err}))
    return out
