"""Spatial signature of a wafer's dead-core map: edge ring, centre, line (scratch), cluster or random.

The classes are those of the WM-811K wafer-map failure patterns (Wu, Jang and
Chen, "Wafer map failure pattern recognition and similarity ranking for
large-scale data sets", IEEE Trans. Semicond. Manuf. 28(1), 2015), merged to
the five a repair engineer acts on: ``edge_ring`` (Edge-Ring), ``centre``
(Center), ``line`` (Scratch), ``cluster`` (Loc, Edge-Loc, Donut) and
``random`` (Random and the defect-limited "none" background); ``none`` when
no core is dead.

Features (:func:`signature_features`), on the centres of the dead sites [mm]:

* **radial zones**: five annuli about the wafer centre holding equal
  numbers of existing sites (equal-area annuli on a full wafer; on a grid
  well inside the circle, such as ``small``, the outer zone is the corners
  and the border) (:func:`zone_statistics`); the dead count of the outer and of the inner
  annulus is tested against its uniform expectation with a one-sided
  binomial test, and the excess is their observed / expected ratio;
* **edge spread**: the number of the eight angular octants holding dead
  sites of the outer annulus (a ring covers the circumference, a local edge
  cluster does not);
* **components**: dead sites touching by a side or a corner
  (:func:`scipy.ndimage.label`, 8-connectivity);
  the elongation of a component is ``sqrt(l1 / l2)`` of the eigenvalues of
  its coordinate covariance (PCA; ``l2`` floored at 1/12 pitch^2, the
  variance of one site);
* **Clark-Evans** aggregation index ``R = mean nearest-neighbour distance /
  (0.5 / sqrt(density))`` and its one-sided normal test (Clark and Evans,
  Ecology 35(4), 1954), R < 1 clustered.

Decision rule (:func:`classify_signature`), first match wins, each test at
level ``alpha`` (default 0.001). Uniform random (Poisson) maps are called
random in at least 99 % of cases up to 3 % of the sites dead (measured in
``tests/test_views_signatures.py``); denser random maps percolate into
clusters and lines.

1. no dead site: ``none``; fewer than ``min_sites``: ``random``;
2. a component of at least ``line_sites`` sites with elongation at least
   ``line_elongation``: ``line``;
3. outer annulus excess significant, ratio >= 2, spread over >= 4 octants: ``edge_ring``;
4. inner annulus excess significant and ratio >= 2: ``centre``;
5. Clark-Evans significant with R < 0.8, or a component of at least
   ``cluster_sites`` sites: ``cluster``;
6. otherwise ``random``.

Input: a :class:`~yieldkit.design.Design` and flat dead sites per wafer
(``db.analysis.wafer_maps``, column ``dead_sites``).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import ndimage, spatial, stats

from yieldkit.design import Design

__all__ = ["SIGNATURES", "RADIAL_ZONES", "zone_statistics", "signature_features", "classify_signature",
           "classify_wafers", "lot_signature_summary"]

SIGNATURES = ("none", "random", "edge_ring", "centre", "line", "cluster")
SYSTEMATIC = ("edge_ring", "centre", "line", "cluster")
#: Number of equal-area annuli of the usable circle.
RADIAL_ZONES = 5


def _site_geometry(design: Design) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat existing sites and their centre radius [mm] and angle [rad]."""
    sites = np.flatnonzero(design.site_exists.reshape(-1))
    r, c = np.divmod(sites, design.cols)
    x = design.x0_mm + (c + 0.5) * design.pitch_x_mm
    y = design.y0_mm - (r + 0.5) * design.pitch_y_mm
    return sites, np.hypot(x, y), np.arctan2(y, x)


def _radial_zone(radius_mm: np.ndarray, design: Design) -> np.ndarray:
    """Zone 0 (centre) .. RADIAL_ZONES - 1 (edge) of each existing site, by radius quantiles."""
    edges = np.quantile(radius_mm, np.arange(1, RADIAL_ZONES) / RADIAL_ZONES)
    return np.searchsorted(edges, radius_mm, side="right")


def _reticle_field(sites: np.ndarray, design: Design) -> np.ndarray:
    r, c = np.divmod(sites, design.cols)
    return (r * design.reticle_rows // design.rows) * design.reticle_cols + c * design.reticle_cols // design.cols


def zone_statistics(design: Design, dead_sites: Iterable[int]) -> pd.DataFrame:
    """Dead cores per radial zone and per reticle field against a uniform spread.

    Parameters
    ----------
    design : Design
    dead_sites : array of int
        Flat dead sites of one wafer (or of a stacked lot).

    Returns
    -------
    DataFrame
        ``kind`` (``radial``: five annuli of equal site counts, 0 the centre;
        ``reticle``: fields numbered row-major), ``zone``, ``sites``
        (existing), ``dead``, ``density`` (dead / sites) [-], ``expected``
        (dead if spread uniformly) and ``ratio`` (dead / expected) [-].

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> z = zone_statistics(load_design("small"), [])
    >>> sorted(set(z["kind"])), int(z.loc[z["kind"] == "radial", "dead"].sum())
    (['radial', 'reticle'], 0)
    """
    sites, radius, _ = _site_geometry(design)
    dead = np.isin(sites, np.asarray(list(dead_sites) if not isinstance(dead_sites, np.ndarray) else dead_sites,
                                     np.int64))
    n_dead = int(dead.sum())
    frames = []
    for kind, zone, n_zones in (("radial", _radial_zone(radius, design), RADIAL_ZONES),
                                ("reticle", _reticle_field(sites, design), design.reticle_rows * design.reticle_cols)):
        n_sites = np.bincount(zone, minlength=n_zones)
        n_bad = np.bincount(zone[dead], minlength=n_zones)
        keep = n_sites > 0
        expected = n_dead * n_sites / sites.size
        with np.errstate(invalid="ignore", divide="ignore"):
            frames.append(pd.DataFrame({
                "kind": kind, "zone": np.arange(n_zones)[keep], "sites": n_sites[keep], "dead": n_bad[keep],
                "density": (n_bad / np.maximum(n_sites, 1))[keep], "expected": expected[keep],
                "ratio": np.where(expected > 0, n_bad / np.where(expected > 0, expected, 1), np.nan)[keep]}))
    return pd.concat(frames, ignore_index=True)


def _components(design: Design, dead: np.ndarray) -> list[np.ndarray]:
    mask = np.zeros(design.n_sites, bool)
    mask[dead] = True
    mask = mask.reshape(design.rows, design.cols)
    labels, n = ndimage.label(mask, np.ones((3, 3), bool))
    if n == 0:
        return []
    own = labels.reshape(-1)[dead]
    order = np.argsort(own, kind="stable")
    split = np.flatnonzero(np.diff(own[order])) + 1
    return np.split(dead[order], split)


def _elongation(design: Design, sites: np.ndarray) -> float:
    r, c = np.divmod(sites, design.cols)
    xy = np.column_stack([c * design.pitch_x_mm, r * design.pitch_y_mm])
    cov = np.cov(xy, rowvar=False)
    l2, l1 = np.linalg.eigvalsh(cov)
    floor = min(design.pitch_x_mm, design.pitch_y_mm) ** 2 / 12
    return float(np.sqrt(max(l1, floor) / max(l2, floor)))


def signature_features(design: Design, dead_sites: Iterable[int]) -> dict[str, float | int]:
    """The features of the module docstring for one dead-core map (a flat record).

    Keys: ``n_dead``; ``edge_ratio``, ``edge_p``, ``edge_octants``;
    ``centre_ratio``, ``centre_p``; ``largest_component``,
    ``line_component`` (sites of the most elongated component of at least
    3 sites), ``max_elongation``; ``clark_evans_r``, ``clark_evans_p``.
    """
    sites, radius, angle = _site_geometry(design)
    dead = np.unique(np.asarray(list(dead_sites) if not isinstance(dead_sites, np.ndarray) else dead_sites,
                                np.int64))
    index = np.searchsorted(sites, dead)
    dead = dead[(index < sites.size) & (sites[np.minimum(index, sites.size - 1)] == dead)]
    index = np.searchsorted(sites, dead)
    n = int(dead.size)
    out: dict[str, float | int] = {"n_dead": n}
    zone = _radial_zone(radius, design)
    share = np.bincount(zone, minlength=RADIAL_ZONES) / sites.size
    k = np.bincount(zone[index], minlength=RADIAL_ZONES)
    for name, z in (("edge", RADIAL_ZONES - 1), ("centre", 0)):
        out[f"{name}_ratio"] = float(k[z] / (n * share[z])) if n else np.nan
        out[f"{name}_p"] = float(stats.binom.sf(k[z] - 1, n, share[z])) if n else 1.0
    outer = zone[index] == RADIAL_ZONES - 1
    out["edge_octants"] = int(np.unique(((angle[index][outer] + np.pi) // (np.pi / 4)).astype(int) % 8).size)
    comps = _components(design, dead) if n else []
    out["largest_component"] = max((c.size for c in comps), default=0)
    best = (0.0, 0)
    for comp in comps:
        if comp.size >= 3:
            best = max(best, (_elongation(design, comp), comp.size))
    out["max_elongation"], out["line_component"] = best
    if n >= 2:
        r, c = np.divmod(dead, design.cols)
        xy = np.column_stack([c * design.pitch_x_mm, r * design.pitch_y_mm])
        nn = spatial.cKDTree(xy).query(xy, k=2)[0][:, 1]
        density = n / (sites.size * design.site_area_mm2)
        expected = 0.5 / np.sqrt(density)
        se = 0.26136 / np.sqrt(n * density)
        out["clark_evans_r"] = float(nn.mean() / expected)
        out["clark_evans_p"] = float(stats.norm.cdf((nn.mean() - expected) / se))
    else:
        out["clark_evans_r"], out["clark_evans_p"] = np.nan, 1.0
    return out


def classify_signature(design: Design, dead_sites: Iterable[int], *, alpha: float = 0.001, min_sites: int = 3,
                       line_sites: int = 8, line_elongation: float = 6.0, cluster_sites: int = 12) -> dict:
    """Signature of one wafer's dead-core map by the decision rule of the module docstring.

    Returns
    -------
    dict
        ``signature`` (one of :data:`SIGNATURES`) and the features of
        :func:`signature_features`.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> design = load_design("small")
    >>> scratch = [30 * design.cols + c for c in range(20, 44)]
    >>> classify_signature(design, scratch)["signature"]
    'line'
    >>> classify_signature(design, [])["signature"]
    'none'
    """
    f = signature_features(design, dead_sites)
    n = f["n_dead"]
    if n == 0:
        label = "none"
    elif n < min_sites:
        label = "random"
    elif f["line_component"] >= line_sites and f["max_elongation"] >= line_elongation:
        label = "line"
    elif f["edge_p"] < alpha and f["edge_ratio"] >= 2 and f["edge_octants"] >= 4:
        label = "edge_ring"
    elif f["centre_p"] < alpha and f["centre_ratio"] >= 2:
        label = "centre"
    elif (f["clark_evans_p"] < alpha and f["clark_evans_r"] < 0.8) or f["largest_component"] >= cluster_sites:
        label = "cluster"
    else:
        label = "random"
    return {"signature": label, **f}


def classify_wafers(design: Design, wafers: pd.DataFrame, *, column: str = "dead_sites", **rule) -> pd.DataFrame:
    """:func:`classify_signature` of every row of ``wafers`` (e.g. ``db.analysis.wafer_maps``).

    Returns ``wafers`` without the site arrays, plus ``signature`` and the features.
    """
    records = [classify_signature(design, sites, **rule) for sites in wafers[column]]
    keep = wafers.drop(columns=[c for c in wafers.columns if wafers[c].dtype == object
                                and len(wafers) and isinstance(wafers[c].iloc[0], np.ndarray)])
    return pd.concat([keep.reset_index(drop=True), pd.DataFrame.from_records(records)], axis=1)


def lot_signature_summary(classified: pd.DataFrame, *, lost: str = "lost") -> pd.DataFrame:
    """Per lot, the wafers lost to random defects and to a systematic signature.

    Parameters
    ----------
    classified : DataFrame
        Columns ``lot``, ``signature`` (:func:`classify_wafers`) and a boolean
        ``lost`` (the wafer did not ship a full fabric, e.g. ``state`` in
        scrapped / engineering_part of ``db.analysis.wafer_maps``).

    Returns
    -------
    DataFrame
        lot, wafers, lost, lost_random, lost_systematic, share_lost_random and
        share_lost_systematic (of the lost wafers) [-], and one count column
        per signature (all wafers).

    Examples
    --------
    >>> frame = pd.DataFrame({"lot": "L1", "signature": ["random", "edge_ring", "edge_ring", "none"],
    ...                       "lost": [True, True, False, False]})
    >>> row = lot_signature_summary(frame).iloc[0]
    >>> int(row["lost"]), int(row["lost_random"]), float(row["share_lost_systematic"])
    (2, 1, 0.5)
    """
    frame = classified.assign(_lost=classified[lost].astype(bool),
                              _sys=classified["signature"].isin(SYSTEMATIC))
    rows = []
    for lot, part in frame.groupby("lot", sort=True):
        n_lost = int(part["_lost"].sum())
        sys_lost = int((part["_lost"] & part["_sys"]).sum())
        row = {"lot": lot, "wafers": len(part), "lost": n_lost, "lost_random": n_lost - sys_lost,
               "lost_systematic": sys_lost,
               "share_lost_random": (n_lost - sys_lost) / n_lost if n_lost else np.nan,
               "share_lost_systematic": sys_lost / n_lost if n_lost else np.nan}
        counts = part["signature"].value_counts()
        row.update({s: int(counts.get(s, 0)) for s in SIGNATURES})
        rows.append(row)
    return pd.DataFrame(rows)
