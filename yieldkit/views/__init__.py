"""Analyst views: pure functions from core types or DataFrames to matplotlib Figures.

No view touches the database or the screen: the DataFrames come from
``db.queries`` and ``db.analysis`` (documented in each view), the Figures go
to a file, a notebook or :class:`yieldkit.report.Report`. Analysis functions
(signatures, zone statistics, commonality tests, control-chart rules,
waterfall numbers) return DataFrames or records.

===========================  ====================================================
module                       view
===========================  ====================================================
``wafer_map``                one wafer: dead, mapped-out, spares in use, links
``stacked_map``              per-site failure frequency of a lot
``signatures``               spatial signature and zone statistics (analysis)
``gallery``                  small multiples of a lot's wafers
``waterfall``                yield-loss waterfall, sites to logical fabric
``pareto``                   failures by fault class with the cumulative share
``hazard``                   failures per burn-in hour by class, fitted hazard
``weibull``                  Weibull probability plot with bounds
``commonality``              failures against station, operator, oven, lot
``control_chart``            p- / u-chart by lot or week, Western Electric rules
``yield_curves``             full-fabric yield against defect density
===========================  ====================================================

A lot report (what a ``yieldkit report --lot`` command or a notebook does)::

    design = load_design(name)                      # the wafers' design
    maps = db.analysis.wafer_maps(engine, lot=lot)  # dead_sites, mapped_out, lost per wafer
    classified = classify_wafers(design, maps)
    report.figure(plot_wafer_gallery(design, maps.assign(label=classified["signature"])), ...)
    report.figure(plot_stacked_map(design, *stack_frequency(design, maps["dead_sites"])), ...)
    report.table(lot_signature_summary(classified))
    report.figure(plot_waterfall(lot_waterfall(design, db.analysis.waterfall_counts(engine, lot=lot))), ...)
    report.figure(plot_pareto(db.queries.pareto(engine, lot=lot)), ...)
    report.figure(plot_failures_per_hour(db.queries.failures_per_hour(engine, by_class=True, lot=lot)), ...)
    runs = db.analysis.run_failures(engine, cores_per_wafer=design.logical_cores)
    report.figure(plot_commonality(commonality(runs, exposure="core_hours"), runs, exposure="core_hours"), ...)
    by_lot = db.analysis.failure_rate_by_period(engine, cores_per_wafer=design.logical_cores)
    report.figure(plot_control_chart(p_chart(by_lot)), ...)
"""

from __future__ import annotations

from yieldkit.views.commonality import commonality, commonality_levels, plot_commonality
from yieldkit.views.control_chart import p_chart, plot_control_chart, u_chart, western_electric
from yieldkit.views.feedback import lot_feedback, plot_feedback
from yieldkit.views.gallery import plot_wafer_gallery
from yieldkit.views.hazard import plot_failures_per_hour
from yieldkit.views.pareto import plot_pareto
from yieldkit.views.signatures import (
    classify_signature,
    classify_wafers,
    lot_signature_summary,
    signature_features,
    zone_statistics,
)
from yieldkit.views.stacked_map import frequency_from_counts, plot_stacked_map, stack_frequency
from yieldkit.views.wafer_map import plot_wafer_map, site_categories
from yieldkit.views.waterfall import lot_waterfall, plot_waterfall, waterfall_steps
from yieldkit.views.weibull import plot_weibull_probability, weibull_bounds
from yieldkit.views.yield_curves import plot_yield_curves, spares_label

__all__ = [
    "classify_signature", "classify_wafers", "commonality", "frequency_from_counts", "commonality_levels", "lot_signature_summary",
    "lot_feedback", "lot_waterfall", "p_chart", "plot_commonality", "plot_control_chart", "plot_failures_per_hour",
    "plot_feedback", "plot_pareto", "plot_stacked_map", "plot_wafer_gallery", "plot_wafer_map", "plot_waterfall",
    "plot_weibull_probability", "plot_yield_curves", "signature_features", "site_categories",
    "spares_label", "stack_frequency", "u_chart", "waterfall_steps", "weibull_bounds",
    "western_electric", "zone_statistics",
]
