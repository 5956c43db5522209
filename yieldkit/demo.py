"""The demo study behind ``yieldkit demo``: a yield analysis of the ``wse`` preset.

Sweeps the full-fabric yield over defect density with and without
clustering, sets it beside the closed forms (a monolithic die of the same
area with no redundancy, and the row-spare product of binomial tails),
samples one wafer, draws its map and plans its repair, and writes tables,
pictures and an HTML report into one folder.

Packages above ``yieldkit`` in the import order add their own stages (the
firmware image of the repaired wafer, ...) through the ``yieldkit.demo``
entry point: a callable taking the :class:`DemoContext`, run in name order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pandas as pd

from yieldkit.defect_map import DefectMap
from yieldkit.defects import DefectModel, sample_wafer
from yieldkit.design import Design
from yieldkit.models import negative_binomial_yield, poisson_yield, row_spare_yield, site_failure_probability
from yieldkit.outputs import atomic_path, atomic_write
from yieldkit.plots import plot_wafer_map, plot_yield_curves
from yieldkit.repair import repair_wafer
from yieldkit.report import Report
from yieldkit.sweep import sweep, write_table

__all__ = ["DemoContext", "run_yield_demo", "run_repair_demo", "run_plugin_stages", "DEMO_D0", "DEMO_ALPHAS"]

DEMO_D0 = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
DEMO_ALPHAS: tuple[float | None, ...] = (None, 2.0)


@dataclass(repr=False)
class DemoContext:
    """What every demo stage sees: the design, the output folder, the report, the files so far."""

    design: Design
    out_dir: Path
    seed: int
    report: Report
    files: dict[str, Path] = field(default_factory=dict)
    wafer: DefectMap | None = None

    def __repr__(self) -> str:
        return f"DemoContext({self.design.name!r}, {str(self.out_dir)!r}, seed={self.seed}, {len(self.files)} files)"


def closed_form_references(design: Design, d0s: np.ndarray, alpha: float) -> pd.DataFrame:
    """Reference curves: no-redundancy NB and Poisson yields, and the row-spare product.

    Parameters
    ----------
    design : Design
        The design whose silicon the curves describe.
    d0s : ndarray
        Defect densities [cm^-2].
    alpha : float
        Clustering of the negative-binomial curve [-].

    Returns
    -------
    DataFrame
        Columns ``d0_per_cm2`` [cm^-2], ``yield`` [-] and ``label``.

    Examples
    --------
    >>> from yieldkit.design import load_design
    >>> refs = closed_form_references(load_design("small"), np.array([0.1, 1.0]), 2.0)
    >>> y = refs[refs["d0_per_cm2"] == 0.1].set_index("label")["yield"]
    >>> bool(y["no redundancy, Poisson"] < y["no redundancy, NB alpha=2"]
    ...      < y["row spares, unlimited reach, Poisson closed form"])
    True
    """
    area = design.existing_area_cm2
    p_dead = site_failure_probability(d0s, design.site_area_mm2)
    curves = {
        "no redundancy, Poisson": poisson_yield(d0s, area),
        f"no redundancy, NB alpha={alpha:g}": negative_binomial_yield(d0s, area, alpha),
        "row spares, unlimited reach, Poisson closed form": row_spare_yield(p_dead, design.sites_per_row[
            design.logical_row_offset:design.logical_row_offset + design.logical_rows], design.spares_per_row),
    }
    return pd.concat([pd.DataFrame({"d0_per_cm2": d0s, "yield": y, "label": label}) for label, y in curves.items()])


def run_yield_demo(ctx: DemoContext, n_wafers: int, progress: Callable[[int], None] | None = None,
                   workers: int = 1) -> pd.DataFrame:
    """Run the yield study, write its files into ``ctx.out_dir`` and add it to ``ctx.report``.

    Sweeps :data:`DEMO_D0` [cm^-2] x :data:`DEMO_ALPHAS` with ``n_wafers``
    wafers per point and writes ``yield_sweep.csv`` and ``yield_curves.png``.

    Parameters
    ----------
    ctx : DemoContext
        Design, folder, seed and report.
    n_wafers : int
        Monte-Carlo wafers per point [-].
    progress : callable, optional
        Called with the wafers finished.
    workers : int
        Local worker processes.

    Returns
    -------
    DataFrame
        The sweep table (see :func:`yieldkit.sweep.sweep`).
    """
    design, out_dir, seed, report = ctx.design, ctx.out_dir, ctx.seed, ctx.report
    base = DefectModel(d0_per_cm2=DEMO_D0[0])
    table = sweep(design, base, DEMO_D0, n_wafers, seed, alphas=DEMO_ALPHAS, progress=progress, workers=workers)
    ctx.files["yield_sweep"] = out_dir / "yield_sweep.csv"
    write_table(table, ctx.files["yield_sweep"])
    refs = closed_form_references(design, np.geomspace(DEMO_D0[0], DEMO_D0[-1], 60), 2.0)
    own = (int(design.spares_per_row.min()), int(design.spares_per_row.max()))
    fig = plot_yield_curves(table, closed_form=refs, design_spares=own)
    fig.axes[0].set_xscale("log")
    with atomic_path(out_dir / "yield_curves.png") as tmp:
        fig.savefig(tmp, dpi=120)

    s = design.to_dict()
    report.heading(f"Design '{design.name}'")
    report.paragraph(
        f"{s['rows']} x {s['cols']} physical core sites of {s['site_area_mm2']:.4f} mm^2 "
        f"({s['existing_sites']:,} inside the usable circle of a {s['wafer_diameter_mm']:g} mm wafer), "
        f"presenting a {s['logical_cols']} x {s['logical_rows']} logical fabric ({s['logical_cores']:,} cores) "
        f"with scheme {s['scheme']} {s['scheme_params']}; {s['min_spares_per_row']} to {s['max_spares_per_row']} "
        f"spare sites per row.")
    report.heading("Full-fabric yield against defect density")
    report.paragraph(
        f"{n_wafers:,} simulated wafers per point, seed {seed}, point-like and large defects on cores. "
        "Black lines: closed forms for the same silicon with no redundancy (it would almost never yield), "
        "and the row-spare product of binomial tails (row-shift with unlimited routing reach); the gap to "
        "the simulated curves is the cost of the design's finite reach.", note=True)
    report.image("yield_curves.png", "Full-fabric yield with 95 % Clopper-Pearson bands")
    columns = ["d0_per_cm2", "alpha", "full_fabric_yield", "ci_low", "ci_high", "mean_defects", "mean_dead_cores",
               "mean_dead_links", "mean_logical_cores"]
    report.table(table[columns].assign(alpha=table["alpha"].map(lambda a: "Poisson" if pd.isna(a) else f"{a:g}")))

    return table


def run_repair_demo(ctx: DemoContext) -> None:
    """Sample one wafer, draw it, plan and verify its repair, save the repair map.

    The wafer has D0 = 0.1 cm^-2, alpha = 2 and 2 % of defects on links,
    seed ``ctx.seed``; writes ``wafer_defects.json``, ``wafer_map.png`` and
    ``wafer_repair.npz`` and records them in ``ctx.files``.

    Examples
    --------
    >>> import tempfile
    >>> from yieldkit.design import load_design
    >>> ctx = DemoContext(load_design("small"), Path(tempfile.mkdtemp()), 3, Report("demo"))
    >>> run_repair_demo(ctx)
    >>> sorted(ctx.files), ctx.wafer.n_dead_sites > 0
    (['repair_map', 'wafer_defects'], True)
    """
    design = ctx.design
    wafer = sample_wafer(design, DefectModel(0.1, alpha=2.0, link_fraction=0.02), ctx.seed)
    ctx.wafer = wafer
    ctx.files["wafer_defects"] = ctx.out_dir / "wafer_defects.json"
    with atomic_write(ctx.files["wafer_defects"]) as handle:
        wafer.dump(handle)
    repair = repair_wafer(design, wafer)
    with atomic_path(ctx.out_dir / "wafer_map.png") as tmp:
        plot_wafer_map(design, wafer, repair_map=repair.repair_map).savefig(tmp, dpi=120)
    ctx.files["repair_map"] = ctx.out_dir / "wafer_repair.npz"
    with atomic_write(ctx.files["repair_map"], "wb") as handle:
        repair.repair_map.save(handle)
    ctx.report.heading("One sampled wafer (D0 = 0.1 cm^-2, alpha = 2) and its repair")
    ctx.report.image("wafer_map.png", f"{wafer.n_dead_sites} dead cores and {wafer.n_dead_links} dead links")
    summary = repair.to_dict()
    ctx.report.table(pd.DataFrame([{k: summary[k] for k in (
        "scheme", "repairable", "logical_rows", "logical_cols", "dead_cores", "dead_links", "max_detour",
        "algorithm", "violations")}]))
    ctx.report.paragraph(f"Defect map: wafer_defects.json; repair map: wafer_repair.npz "
                         f"(checked by the independent verifier: {summary['violations']} violations).", note=True)


def run_plugin_stages(ctx: DemoContext) -> list[str]:
    """Run the stages other packages register under ``yieldkit.demo``, in name order; return their names.

    Each stage is a callable taking the :class:`DemoContext`; it adds its
    files to ``ctx.files`` and its section to ``ctx.report``.
    """
    stages = sorted(entry_points(group="yieldkit.demo"), key=lambda ep: ep.name)
    for stage in stages:
        stage.load()(ctx)
    return [stage.name for stage in stages]
