"""Systolic matrix multiply with algorithm-based fault tolerance (ABFT).

Layout: logical core ``(r, c)`` of an ``R x C`` fabric owns the ``b x b``
block ``C[r b:(r+1) b, c b:(c+1) b]`` of ``C = A B`` with ``A`` of shape
``(R b, n)`` and ``B`` of shape ``(n, C b)``: the row panel of ``A`` streams
along fabric row ``r``, the column panel of ``B`` along fabric column ``c``,
and the core accumulates its ``n / b`` partial products. The wafer returns
the assembled ``(R b, C b)`` result; ``result.reshape(R, b, C, b)`` is the
per-core view.

Detection (Huang & Abraham 1984) uses only the inputs and the returned
result: for every block, its row sums ``C_rc e`` are compared with
``A_r (B_c e)`` and its column sums ``e^T C_rc`` with ``(e^T A_r) B_c``. A
wrong element of block ``(r, c)`` breaks one row and one column checksum of
that block, which localises it to its core (and element).

Tolerance: with ``u = 2^-53`` and ``gamma_k = k u / (1 - k u)`` (Higham,
Lemma 3.1 and eq. 3.13), ``|fl(A B) - A B| <= gamma_n |A| |B|``. Adding the
``b``-term checksum sums on both sides gives, for each row checksum,

    ``|fl(C_rc e) - fl(A_r fl(B_c e))| <= 2 gamma_{n+b} (|A_r| |B_c| e)``

and likewise for the columns (Higham Lemma 3.3: ``gamma_j + gamma_k +
gamma_j gamma_k <= gamma_{j+k}``). The bound is evaluated in floating point
from non-negative data, so it is inflated by ``1 / (1 - gamma_{n+b+2})`` and
an underflow term. Rounding, in any summation order, on any input (however
ill-conditioned: the bound is on ``|A||B|``, not on ``|AB|``) never exceeds
it; a flipped high mantissa or exponent bit of a result element does, unless
the element itself is below rounding noise.

References
----------
K.-H. Huang, J. A. Abraham, "Algorithm-based fault tolerance for matrix
operations", IEEE Trans. Computers C-33(6), 1984.
N. J. Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.,
SIAM 2002, section 3.5 (matrix multiplication).
"""

from __future__ import annotations

import numpy as np

from burnin.findings import Finding

__all__ = ["UNIT_ROUNDOFF", "gamma", "gemm_inputs", "gemm_golden", "systolic_gemm", "abft_checksums", "detect_gemm", "INPUT_KINDS"]

UNIT_ROUNDOFF = 2.0**-53
"""Unit roundoff u of IEEE binary64 (round to nearest) [-]."""

INPUT_KINDS = ("normal", "hilbert", "wide", "cancel")


def gamma(k: int | float) -> float:
    """Higham's ``gamma_k = k u / (1 - k u)`` for binary64 [-].

    Examples
    --------
    >>> gamma(1) > UNIT_ROUNDOFF
    True
    """
    ku = k * UNIT_ROUNDOFF
    if ku >= 1:
        raise ValueError(f"gamma_{k} undefined: k u >= 1")
    return ku / (1.0 - ku)


def gemm_inputs(logical_rows: int, logical_cols: int, block: int, depth: int, rng: np.random.Generator,
                kind: str = "normal") -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``A (R b, n)`` and ``B (n, C b)`` of one GEMM pass.

    Parameters
    ----------
    logical_rows, logical_cols : int
        Fabric shape R, C.
    block : int
        Block edge b per core.
    depth : int
        Inner dimension n.
    rng : numpy.random.Generator
    kind : {"normal", "hilbert", "wide", "cancel"}
        ``normal``: standard normal entries; ``hilbert``: Hilbert-like
        ``1 / (i + j + 1)`` panels times random positive scales
        (ill-conditioned); ``wide``: random signs and magnitudes
        log-uniform over 1e-8..1e8; ``cancel``: ``A = [M, M]``,
        ``B = [Y; -Y (1 + 1e-12)]`` so that ``A B`` is tiny against
        ``|A||B|`` (catastrophic cancellation).

    Returns
    -------
    (ndarray, ndarray)

    Examples
    --------
    >>> a, b = gemm_inputs(2, 3, 4, 8, np.random.default_rng(0))
    >>> a.shape, b.shape
    ((8, 8), (8, 12))
    """
    m, p = logical_rows * block, logical_cols * block
    if kind == "normal":
        return rng.standard_normal((m, depth)), rng.standard_normal((depth, p))
    if kind == "hilbert":
        i = np.arange(m)[:, None] % (4 * depth)
        j = np.arange(depth)[None, :]
        a = 1.0 / (i + j + 1.0) * rng.uniform(0.5, 2.0, (m, 1))
        k = np.arange(p)[None, :] % (4 * depth)
        b = 1.0 / (j.T + k + 1.0) * rng.uniform(0.5, 2.0, (1, p))
        return a, b
    if kind == "wide":
        def wide(shape):
            return rng.choice([-1.0, 1.0], shape) * 10.0 ** rng.uniform(-8, 8, shape)
        return wide((m, depth)), wide((depth, p))
    if kind == "cancel":
        half = depth // 2
        mm = rng.standard_normal((m, half)) * 10.0 ** rng.uniform(-4, 4, (m, 1))
        y = rng.standard_normal((half, p))
        a = np.concatenate([mm, mm], axis=1)
        b = np.concatenate([y, -y * (1 + 1e-12)], axis=0)
        if depth % 2:
            a = np.concatenate([a, rng.standard_normal((m, 1))], axis=1)
            b = np.concatenate([b, rng.standard_normal((1, p))], axis=0)
        return a, b
    raise ValueError(f"kind must be one of {INPUT_KINDS}, got {kind!r}")


def gemm_golden(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The fault-free result ``A B`` [same units as the inputs' product].

    Examples
    --------
    >>> gemm_golden(np.eye(2), np.ones((2, 2))).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    return np.asarray(a, float) @ np.asarray(b, float)


def systolic_gemm(a: np.ndarray, b: np.ndarray, block: int) -> np.ndarray:
    """The per-core model of the systolic multiply, shape (R, C, b, b).

    At step ``k`` every core ``(r, c)`` adds the partial product of the
    ``k``-th ``b``-wide slices of its row panel and column panel to its
    accumulator; all cores at once, on a ``(R, C, b, b)`` array. Equal to
    :func:`gemm_golden` up to rounding within the ABFT bound (another
    summation order); the simulated wafer uses the single GEMM, which is
    several times faster.

    Parameters
    ----------
    a, b : ndarray
        ``A (R b, n)`` and ``B (n, C b)``.
    block : int

    Returns
    -------
    ndarray, shape (R, C, b, b)
        Block ``[r, c]`` is what core ``(r, c)`` computes.

    References
    ----------
    H. T. Kung, C. E. Leiserson, "Systolic arrays (for VLSI)", Sparse Matrix
    Proceedings 1978.

    Examples
    --------
    >>> a, b = gemm_inputs(2, 3, 2, 5, np.random.default_rng(0))
    >>> blocks = systolic_gemm(a, b, 2)
    >>> bool(np.allclose(blocks.transpose(0, 2, 1, 3).reshape(4, 6), a @ b))
    True
    """
    n = a.shape[1]
    rows, cols = a.shape[0] // block, b.shape[1] // block
    panels_a = a.reshape(rows, 1, block, n)
    panels_b = b.reshape(n, cols, block).transpose(1, 0, 2)[None]  # (1, C, n, b)
    acc = np.zeros((rows, cols, block, block))
    for k in range(0, n, block):
        acc += np.matmul(panels_a[..., k:k + block], panels_b[:, :, k:k + block, :])
    return acc


def abft_checksums(a: np.ndarray, b: np.ndarray, block: int) -> dict[str, np.ndarray]:
    """Reference checksums and their rounding tolerances from the inputs alone.

    Parameters
    ----------
    a, b : ndarray
        ``A (R b, n)``, ``B (n, C b)``.
    block : int

    Returns
    -------
    dict
        ``row`` (R, b, C): ``A_r (B_c e)``; ``col`` (R, C, b): ``(e^T A_r) B_c``;
        ``row_tol``, ``col_tol``: the bound of the module docstring.

    References
    ----------
    Huang & Abraham (1984); Higham (2002), section 3.5.

    Examples
    --------
    >>> a, b = gemm_inputs(2, 2, 2, 4, np.random.default_rng(1))
    >>> ref = abft_checksums(a, b, 2)
    >>> ref["row"].shape, bool((ref["row_tol"] > 0).all())
    ((2, 2, 2), True)
    """
    n = a.shape[1]
    rb, cb = a.shape[0] // block, b.shape[1] // block
    b3, a3 = b.reshape(n, cb, block), a.reshape(rb, block, n)
    absa, absb3 = np.abs(a), np.abs(b3)
    g = gamma(n + block + 2)
    scale = 2.0 * g / (1.0 - g)
    tiny = 2.0 * (n + block) * np.finfo(float).tiny
    row = (a @ b3.sum(axis=2)).reshape(rb, block, cb)
    row_tol = scale * (absa @ absb3.sum(axis=2)).reshape(rb, block, cb) + tiny
    col = (a3.sum(axis=1) @ b).reshape(rb, cb, block)
    col_tol = scale * (np.abs(a3).sum(axis=1) @ np.abs(b)).reshape(rb, cb, block) + tiny
    return {"row": row, "col": col, "row_tol": row_tol, "col_tol": col_tol}


def detect_gemm(a: np.ndarray, b: np.ndarray, result: np.ndarray, block: int) -> list[Finding]:
    """Cores whose block breaks a row or column checksum beyond the rounding bound.

    Parameters
    ----------
    a, b : ndarray
        The inputs sent to the wafer.
    result : ndarray, shape (R b, C b)
        What the wafer returned.
    block : int

    Returns
    -------
    list of Finding
        One per core; ``evidence``: ``rows``, ``cols`` (indices inside the
        block of the broken checksums) and ``ratio`` (worst
        ``|checksum error| / tolerance``, inf for a non-finite result).

    References
    ----------
    Huang & Abraham (1984); Higham (2002), section 3.5.

    Examples
    --------
    >>> a, b = gemm_inputs(3, 3, 2, 4, np.random.default_rng(2))
    >>> c = gemm_golden(a, b)
    >>> detect_gemm(a, b, c, 2)
    []
    >>> c[3, 4] *= -1
    >>> [(f.row, f.col, f.evidence["rows"], f.evidence["cols"]) for f in detect_gemm(a, b, c, 2)]
    [(1, 2, [1], [0])]
    """
    ref = abft_checksums(a, b, block)
    rb, cb = ref["row"].shape[0], ref["row"].shape[2]
    view = result.reshape(rb, block, cb, block)
    with np.errstate(invalid="ignore", over="ignore"):
        row_err = np.abs(view.sum(axis=3) - ref["row"])  # (R, b, C)
        col_err = np.abs(view.sum(axis=1) - ref["col"])  # (R, C, b)
        row_bad = ~(row_err <= ref["row_tol"])
        col_bad = ~(col_err <= ref["col_tol"])
    cores = row_bad.any(axis=1) | col_bad.any(axis=2)
    out = []
    for r, c in zip(*np.nonzero(cores)):
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            ratios = np.concatenate([row_err[r, :, c] / ref["row_tol"][r, :, c], col_err[r, c] / ref["col_tol"][r, c]])
        ratio = float(np.nanmax(np.where(np.isfinite(ratios), ratios, np.inf))) if ratios.size else float("inf")
        out.append(Finding("gemm", int(r), int(c), evidence={
            "rows": np.flatnonzero(row_bad[r, :, c]).tolist(), "cols": np.flatnonzero(col_bad[r, c]).tolist(),
            "ratio": ratio}))
    return out
