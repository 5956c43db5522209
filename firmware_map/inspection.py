"""Summaries, site classes, plots and diffs of parsed fabric images.

Site classes of the physical grid (:func:`site_classes`), against the
scheme's *nominal* map (:func:`nominal_map`: what the scheme's planner
presents on a defect-free wafer of the same design), so they mean the same
for every scheme:

* ``in place``: serves the logical core the nominal map puts there;
* ``moved here``: serves a logical core the nominal map puts elsewhere (the
  repair moved the core here: a spare, or a site taken over from a moved
  neighbour). A row shift past one dead core moves every core after it, so
  this counts cores moved, not spares: the spare *sites* in use are those
  outside the nominal footprint (``yieldkit.repair.spare_sites_in_use``);
* ``bypassed``: alive but serving no logical core (an unused spare, or a site
  outside the usable wafer area: the image does not record which);
* ``dead``: listed in the image's dead cores (always bypassed);
* ``absent``: outside the usable wafer area (when the image lists them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from yieldkit.design import Design
from yieldkit.errors import InputError
from yieldkit.repair import nominal_map as design_nominal_map

from firmware_map.image import FabricImage
from firmware_map.router import PLANES

__all__ = ["IN_PLACE", "MOVED", "BYPASSED", "DEAD", "ABSENT", "CLASS_NAMES", "ImageInspection", "inspect_image",
           "nominal_map", "site_classes",
           "plot_image", "diff_images", "diff_records"]

IN_PLACE, MOVED, BYPASSED, DEAD, ABSENT = 0, 1, 2, 3, 4
CLASS_NAMES = ("in place", "moved here", "bypassed", "dead", "absent")
_COLOURS = ("#d9d9d9", "#1f77b4", "#ffbf00", "#d62728", "#ffffff")


def _bare_design(image: FabricImage) -> Design:
    """A design with the image's grids and scheme on a wafer large enough that every site exists."""
    rm = image.repair_map
    rows, cols = rm.physical_rows, rm.physical_cols
    return Design(name=rm.design or "image", rows=rows, cols=cols, pitch_x_mm=1.0, pitch_y_mm=1.0,
                  logical_rows=image.logical_rows, logical_cols=image.logical_cols, edge_exclusion_mm=0.0,
                  wafer_diameter_mm=2.0 * float(np.hypot(rows / 2, cols / 2)) + 1.0, scheme=image.scheme,
                  scheme_params=dict(image.scheme_params))


def nominal_map(image: FabricImage, design: Design | None = None) -> np.ndarray:
    """The scheme's defect-free map of the image's design: int64 (logical_rows, logical_cols) flat sites.

    Parameters
    ----------
    image : FabricImage
    design : Design, optional
        The image's design. Without it, the shipped preset the image names
        is used when its fingerprint matches; otherwise a design with the
        image's grids, scheme and parameters in which every site exists
        (near a clipped wafer edge the nominal map may then differ from the
        real design's).

    Examples
    --------
    >>> from firmware_map.image import build_image, parse_image
    >>> from yieldkit.design import load_design
    >>> small = load_design("small")
    >>> from yieldkit.defect_map import DefectMap
    >>> from yieldkit.redundancy import plan_repair
    >>> image = parse_image(build_image(plan_repair(small, DefectMap.empty(small))))
    >>> bool((nominal_map(image) == image.repair_map.physical_of_logical).all())
    True
    """
    from firmware_map.verify import preset_for

    rm = image.repair_map
    if design is None:
        design = preset_for(rm.design, image.design_fingerprint) or _bare_design(image)
    return design_nominal_map(design)


def site_classes(image: FabricImage, design: Design | None = None) -> np.ndarray:
    """int8 (physical_rows, physical_cols) array of IN_PLACE, MOVED, BYPASSED, DEAD, ABSENT.

    A serving site is in place when it serves the logical core that the
    scheme's nominal map (:func:`nominal_map`) puts there.
    """
    rm = image.repair_map
    out = np.full(rm.physical_rows * rm.physical_cols, BYPASSED, dtype=np.int8)
    p = rm.physical_of_logical
    nominal = nominal_map(image, design)
    h, w = min(p.shape[0], nominal.shape[0]), min(p.shape[1], nominal.shape[1])
    in_place = np.zeros(p.shape, dtype=bool)
    in_place[:h, :w] = p[:h, :w] == nominal[:h, :w]
    out[p.ravel()] = np.where(in_place.ravel(), IN_PLACE, MOVED)
    out[rm.defects.dead_sites] = DEAD
    if image.absent_sites is not None:
        out[image.absent_sites] = ABSENT
    return out.reshape(rm.physical_rows, rm.physical_cols)


@dataclass(frozen=True, eq=False)
class ImageInspection:
    """A parsed fabric image with its site classes (see :func:`site_classes`).

    Attributes
    ----------
    image : FabricImage
    classes : ndarray of int8, shape (physical_rows, physical_cols)
    """

    image: FabricImage
    classes: np.ndarray

    def __repr__(self) -> str:
        counts = np.bincount(self.classes.ravel(), minlength=5)
        return (f"ImageInspection(wafer {self.image.wafer_id!r}, {int(counts[IN_PLACE] + counts[MOVED])} serving "
                f"sites, {int(counts[MOVED])} moved here, {int(counts[DEAD])} dead)")

    def to_dict(self) -> dict[str, Any]:
        """Header fields, section sizes and counts, as printed by ``firmware inspect`` (flat, JSON-safe)."""
        return _record(self.image, self.classes)


def inspect_image(image: FabricImage, design: Design | None = None) -> ImageInspection:
    """Classify the sites of ``image`` against its scheme's nominal map (``design``: see :func:`nominal_map`).

    Examples
    --------
    >>> from firmware_map.image import build_image, parse_image
    >>> from yieldkit.design import load_design
    >>> from yieldkit.defect_map import DefectMap
    >>> from yieldkit.redundancy import plan_repair
    >>> small = load_design("small")
    >>> image = parse_image(build_image(plan_repair(small, DefectMap.empty(small)), wafer_id="W1"))
    >>> inspect_image(image).to_dict()["moved_cores"]
    0
    """
    return ImageInspection(image, site_classes(image, design))



def _record(image: FabricImage, classes: np.ndarray) -> dict[str, Any]:
    rm = image.repair_map
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
        "serving_sites": int(counts[IN_PLACE] + counts[MOVED]),
        "mapped_out_sites": int(n_sites - counts[IN_PLACE] - counts[MOVED]),
        "dead_cores": rm.defects.n_dead_sites,
        "dead_links": rm.defects.n_dead_links,
        "moved_cores": int(counts[MOVED]),
        "bypassed_alive_sites": int(counts[BYPASSED]),
        "absent_sites": int(counts[ABSENT]) if image.absent_sites is not None else None,
        "enabled_east_links": int(image.router[1].sum()),
        "enabled_south_links": int(image.router[2].sum()),
        "explicit_map_rows": image.n_explicit_rows,
        "map_router_bytes_per_core": map_router / n_logical,
        "image_bytes_per_core": image.image_length / n_logical,
    }


def plot_image(image: FabricImage, ax: Any = None, *, origin: str = "upper", title: str | None = None,
               design: Design | None = None) -> Any:
    """Rasterised picture of the physical grid: in place, moved here, bypassed and dead sites.

    Parameters
    ----------
    image : FabricImage
    ax : matplotlib Axes, optional
        Draw here; otherwise a new Figure (not attached to pyplot) is made.
    origin : {"upper", "lower"}
        Where physical row 0 is drawn (``upper``: the top of the wafer, as in
        ``yieldkit.design``).
    title : str, optional
    design : Design, optional
        The image's design, for the site classes (see :func:`site_classes`).

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
    classes = site_classes(image, design)
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
