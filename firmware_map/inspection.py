"""Summaries, site classes, plots and diffs of parsed fabric images.

Site classes of the physical grid (:func:`site_classes`):

* ``in place``: serves a logical core at its contiguous position in the row
  (``j`` columns after the row's start: the site of logical ``(i, 0)``, or a
  dead site left of it in the same physical row);
* ``spare used``: serves a logical core displaced by a repair (a skipped
  site lies before it in its logical row), i.e. a spare taken into use;
* ``bypassed``: alive but serving no logical core (an unused spare, or a site
  outside the usable wafer area: the image does not record which);
* ``dead``: listed in the image's dead cores (always bypassed);
* ``absent``: outside the usable wafer area (when the image lists them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from yieldkit.errors import InputError

from firmware_map.image import FabricImage
from firmware_map.router import PLANES

__all__ = ["IN_PLACE", "SPARE_USED", "BYPASSED", "DEAD", "CLASS_NAMES", "site_classes", "summarize",
           "plot_image", "diff_images", "diff_records"]

IN_PLACE, SPARE_USED, BYPASSED, DEAD, ABSENT = 0, 1, 2, 3, 4
CLASS_NAMES = ("in place", "spare used", "bypassed", "dead", "absent")
_COLOURS = ("#d9d9d9", "#1f77b4", "#ffbf00", "#d62728", "#ffffff")


def _shifted(physical_of_logical: np.ndarray, dead_sites: np.ndarray, physical_cols: int) -> np.ndarray:
    """Logical cores not at their row's contiguous position.

    Logical row ``i`` starts at the site of ``(i, 0)``, or at the first dead
    site of that physical row when one lies further left; core ``(i, j)`` is
    in place when it sits ``j`` columns after the start.
    """
    p = physical_of_logical
    r0, c0 = np.divmod(p[:, 0], physical_cols)
    first_dead = np.full(int(r0.max()) + 1, physical_cols, dtype=np.int64)
    dr, dc = np.divmod(dead_sites, physical_cols)
    keep = dr < first_dead.size
    np.minimum.at(first_dead, dr[keep], dc[keep])
    start = r0 * physical_cols + np.minimum(c0, first_dead[r0])
    return p != start[:, None] + np.arange(p.shape[1], dtype=p.dtype)


def site_classes(image: FabricImage) -> np.ndarray:
    """int8 (physical_rows, physical_cols) array of IN_PLACE, SPARE_USED, BYPASSED, DEAD, ABSENT."""
    rm = image.repair_map
    out = np.full(rm.physical_rows * rm.physical_cols, BYPASSED, dtype=np.int8)
    p = rm.physical_of_logical
    out[p.ravel()] = np.where(_shifted(p, rm.defects.dead_sites, rm.physical_cols).ravel(), SPARE_USED, IN_PLACE)
    out[rm.defects.dead_sites] = DEAD
    if image.absent_sites is not None:
        out[image.absent_sites] = ABSENT
    return out.reshape(rm.physical_rows, rm.physical_cols)


def summarize(image: FabricImage) -> dict[str, Any]:
    """Header fields, section sizes and counts, as printed by ``firmware inspect``."""
    rm = image.repair_map
    classes = site_classes(image)
    counts = np.bincount(classes.ravel(), minlength=5)
    n_logical = rm.logical_rows * rm.logical_cols
    n_sites = rm.physical_rows * rm.physical_cols
    sizes = {s.name: s.length for s in image.sections}
    map_router = sizes.get("MAP", 0) + sizes.get("ROUTER", 0)
    return {
        "format_version": f"{image.version[0]}.{image.version[1]}",
        "image_bytes": image.image_length,
        "header_bytes": image.header_length,
        "wafer_id": image.wafer_id,
        "design": rm.design,
        "design_fingerprint": image.design_fingerprint,
        "physical_rows": image.physical_rows,
        "physical_cols": image.physical_cols,
        "logical_rows": image.logical_rows,
        "logical_cols": image.logical_cols,
        "scheme": image.scheme,
        "scheme_params": image.scheme_params,
        "complete": rm.complete,
        "reason": rm.reason,
        "algorithm": rm.algorithm,
        "metadata": image.metadata,
        "signed": image.signed,
        "public_key": image.public_key.hex() if image.public_key is not None else None,
        "digest_sha256": image.digest,
        "sections": [s.as_dict() for s in image.sections],
        "logical_cores": n_logical,
        "physical_sites": n_sites,
        "serving_sites": int(counts[IN_PLACE] + counts[SPARE_USED]),
        "mapped_out_sites": int(n_sites - counts[IN_PLACE] - counts[SPARE_USED]),
        "dead_cores": rm.defects.n_dead_sites,
        "dead_links": rm.defects.n_dead_links,
        "spare_used_cores": int(counts[SPARE_USED]),
        "bypassed_alive_sites": int(counts[BYPASSED]),
        "absent_sites": int(counts[ABSENT]) if image.absent_sites is not None else None,
        "enabled_east_links": int(image.router[1].sum()),
        "enabled_south_links": int(image.router[2].sum()),
        "explicit_map_rows": image.n_explicit_rows,
        "map_router_bytes_per_core": map_router / n_logical,
        "image_bytes_per_core": image.image_length / n_logical,
    }


def plot_image(image: FabricImage, ax: Any = None, *, origin: str = "upper", title: str | None = None) -> Any:
    """Rasterised picture of the physical grid: in place, spare used, bypassed and dead sites.

    Parameters
    ----------
    image : FabricImage
    ax : matplotlib Axes, optional
        Draw here; otherwise a new Figure (not attached to pyplot) is made.
    origin : {"upper", "lower"}
        Where physical row 0 is drawn (``upper``: the top of the wafer, as in
        ``yieldkit.design``).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    if ax is None:
        fig = Figure(figsize=(7, 7 * image.physical_rows / max(image.physical_cols, 1) + 0.8), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.get_figure()
    classes = site_classes(image)
    ax.imshow(classes, cmap=ListedColormap(_COLOURS), vmin=-0.5, vmax=len(_COLOURS) - 0.5,
              interpolation="nearest", origin=origin, aspect="auto", rasterized=True)
    counts = np.bincount(classes.ravel(), minlength=len(_COLOURS))
    ax.legend(handles=[Patch(facecolor=c, edgecolor="0.5", label=f"{n} ({int(k)})")
                       for c, n, k in zip(_COLOURS, CLASS_NAMES, counts) if k or n != "absent"],
              loc="upper right", fontsize="small", framealpha=0.9)
    ax.set_xlabel("physical column")
    ax.set_ylabel("physical row")
    rm = image.repair_map
    ax.set_title(title if title is not None else
                 f"{image.wafer_id or 'wafer'} ({rm.design or 'design ?'}): "
                 f"{rm.logical_rows}x{rm.logical_cols} logical on {rm.physical_rows}x{rm.physical_cols}")
    return fig


def diff_images(old: FabricImage, new: FabricImage, limit: int = 100) -> dict[str, Any]:
    """What changes when ``new`` replaces ``old`` on the same wafer.

    Newly mapped-out sites (served a logical core in ``old``, not in ``new``),
    newly dead sites, logical cores whose physical site moved (over the
    logical grid both images present), and sites whose router entry (bypass,
    east, south bits) changed. Counts are complete; each list holds at most
    ``limit`` entries in site or logical order.

    Raises
    ------
    InputError
        The images are for different physical grids.
    """
    if (old.physical_rows, old.physical_cols) != (new.physical_rows, new.physical_cols):
        raise InputError(f"images are for different physical grids ({old.physical_rows}x{old.physical_cols} "
                         f"and {new.physical_rows}x{new.physical_cols})")
    pc = old.physical_cols
    a, b = old.repair_map, new.repair_map
    mapped_out = ~old.router[0] & new.router[0]
    newly_dead = np.setdiff1d(b.defects.dead_sites, a.defects.dead_sites)
    rows, cols = min(a.logical_rows, b.logical_rows), min(a.logical_cols, b.logical_cols)
    pa, pb = a.physical_of_logical[:rows, :cols], b.physical_of_logical[:rows, :cols]
    moved = np.argwhere(pa != pb)
    router_diff = (old.router != new.router).any(axis=0)
    changed_sites = np.argwhere(router_diff)[:limit]

    def rc(site: int) -> list[int]:
        return list(divmod(int(site), pc))

    return {
        "same_wafer_id": old.wafer_id == new.wafer_id,
        "same_design": old.design_fingerprint == new.design_fingerprint,
        "old_digest": old.digest,
        "new_digest": new.digest,
        "old_logical": [a.logical_rows, a.logical_cols],
        "new_logical": [b.logical_rows, b.logical_cols],
        "n_newly_mapped_out": int(mapped_out.sum()),
        "n_newly_dead": int(newly_dead.size),
        "n_moved": int(moved.shape[0]),
        "n_router_changed": int(router_diff.sum()),
        "newly_mapped_out": [list(map(int, x)) for x in np.argwhere(mapped_out)[:limit]],
        "newly_dead": [rc(s) for s in newly_dead[:limit]],
        "moved": [{"logical": [int(i), int(j)], "old": rc(pa[i, j]), "new": rc(pb[i, j])} for i, j in moved[:limit]],
        "router_changed": [
            {"physical": [int(r), int(c)],
             "old": {name: bool(old.router[k, r, c]) for k, name in enumerate(PLANES)},
             "new": {name: bool(new.router[k, r, c]) for k, name in enumerate(PLANES)}}
            for r, c in changed_sites
        ],
    }


def diff_records(diff: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per listed change, for ``--csv`` and ``--table``."""
    rows: list[dict[str, Any]] = []
    empty = {"logical_row": None, "logical_col": None, "old_row": None, "old_col": None,
             "new_row": None, "new_col": None, "detail": ""}
    for r, c in diff["newly_mapped_out"]:
        rows.append(empty | {"change": "mapped_out", "old_row": r, "old_col": c})
    for r, c in diff["newly_dead"]:
        rows.append(empty | {"change": "dead", "old_row": r, "old_col": c})
    for m in diff["moved"]:
        rows.append(empty | {"change": "moved", "logical_row": m["logical"][0], "logical_col": m["logical"][1],
                             "old_row": m["old"][0], "old_col": m["old"][1],
                             "new_row": m["new"][0], "new_col": m["new"][1]})
    for e in diff["router_changed"]:
        bits = ",".join(f"{k}:{int(e['old'][k])}->{int(e['new'][k])}" for k in PLANES if e["old"][k] != e["new"][k])
        rows.append(empty | {"change": "router", "new_row": e["physical"][0], "new_col": e["physical"][1],
                             "detail": bits})
    return [{"change": r.pop("change"), **r} for r in rows]
