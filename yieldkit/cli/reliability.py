"""``yieldkit reliability``: life-data fits, failure rates, accelerated life tests, burn-in policy.

A thin layer over :mod:`yieldkit.reliability`: read the units, call the
library, print its records (``to_dict()``) and draw the probability plot.

Where the units come from
-------------------------
``FILE`` is a CSV (``-``: standard input) or Parquet file (``.parquet``,
``.pq``) with one row per unit (or per group of ``count`` units): either
``start_h`` and ``end_h`` (failed in ``(start_h, end_h]``; ``end_h == start_h``
an exact failure, ``end_h = inf`` survived to ``start_h``, ``start_h = 0``
failed before ``end_h``) or ``time_h`` and ``event`` (1 failed at
``time_h``, 0 survived to it).

``--db URL [--campaign C]`` asks a *life-data provider* for the same table,
built per core from the burn-in history. ``yieldkit`` never imports the
``db`` package (import order, ``docs/architecture.md``); a provider
registers under the entry-point group ``yieldkit.life_data``::

    [project.entry-points."yieldkit.life_data"]
    db = "db.life_data:survival_table"

a callable ``survival_table(url: str, campaign: str | None) -> DataFrame``
with the columns ``start_h``, ``end_h`` (inf: right-censored at the end of
the campaign), ``fault_class`` (empty for cores that did not fail) and any
others (``lot``, ``wafer``, ``temp_c``...). With several providers the
first by entry-point name is used; with none, ``--db`` is bad usage
(exit 2, one line).

Errors
------
Bad input exits 2 with one line naming the file and the column: missing
columns, non-numbers or NaN, negative times, an end before a start, too few
failures for the distribution. A fit that does not converge (the library
raises :class:`~yieldkit.errors.Failure`) exits 1: the data are valid, the
model does not fit them (a 3-parameter Weibull whose location runs into the
first failure, a flat likelihood); another distribution may.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from yieldkit.cli.command import Group, LibraryOption
from yieldkit.cli.inputs import INPUT_FILE
from yieldkit.cli.options import format_options, output_option, plot_option
from yieldkit.cli.output import emit
from yieldkit.cli.types import IntList, Number, NumberList
from yieldkit.errors import Failure, InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DISTRIBUTIONS", "LIFE_DATA_GROUP", "read_units", "reliability", "survival_table"]

#: Entry-point group of the life-data providers behind ``--db``.
LIFE_DATA_GROUP = "yieldkit.life_data"

#: ``--dist`` name -> fitter class name in :mod:`yieldkit.reliability` (imported when a command runs).
DISTRIBUTIONS = {
    "weibull": "WeibullFitter",
    "weibull3": "Weibull3Fitter",
    "weibull-ds": "LFPWeibullFitter",
    "lognormal": "LogNormalFitter",
    "exponential": "ExponentialFitter",
    "gamma": "GammaFitter",
}
_CI = {"lr": "likelihood-ratio", "fisher": "fisher"}
_PARQUET = (".parquet", ".pq")


@click.group(cls=Group)
def reliability() -> None:
    """Reliability of burn-in failures: life-data fits, FIT/ELFR, accelerated tests, burn-in policy."""


# --- reading the units ---------------------------------------------------------------------------

def read_units(path: str) -> pd.DataFrame:
    """The table of units in ``path``: CSV (``-``: stdin) or Parquet; :class:`InputError` naming the file."""
    import pandas as pd

    name = "<stdin>" if path == "-" else path
    try:
        if path != "-" and Path(path).suffix.lower() in _PARQUET:
            return pd.read_parquet(path)
        return pd.read_csv(sys.stdin if path == "-" else path, skipinitialspace=True)
    except (ValueError, UnicodeDecodeError, OSError, pd.errors.ParserError) as exc:
        what = "Parquet" if path != "-" and Path(path).suffix.lower() in _PARQUET else "CSV"
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{name}: not a {what} table of units ({detail})") from None


def survival_table(url: str, campaign: str | None) -> pd.DataFrame:
    """The survival table of ``url`` from the installed life-data provider (entry-point group ``yieldkit.life_data``).

    Raises
    ------
    InputError
        No provider is installed (naming ``--db``), or the provider did not return a table.
    """
    import pandas as pd

    found = sorted(entry_points(group=LIFE_DATA_GROUP), key=lambda ep: ep.name)
    if not found:
        raise InputError(f"no life-data provider is installed (entry-point group '{LIFE_DATA_GROUP}'; the db "
                         "package registers one); give a CSV or Parquet FILE instead", parameter="--db")
    frame = found[0].load()(url, campaign)
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"the life-data provider {found[0].value} returned {type(frame).__name__}, not a table",
                         parameter="--db")
    return frame


def _source(file: str | None, db: str | None, campaign: str | None) -> tuple[pd.DataFrame, str]:
    if (file is None) == (db is None):
        raise click.UsageError("give FILE or --db URL (one of them)")
    if campaign is not None and db is None:
        raise click.UsageError("--campaign applies only with --db")
    if db is not None:
        where = f"--db {db}" + (f" --campaign {campaign}" if campaign else "")
        return survival_table(db, campaign), where
    return read_units(file), "<stdin>" if file == "-" else file  # type: ignore[arg-type]


def _numbers(frame: pd.DataFrame, column: str, where: str):
    import numpy as np
    import pandas as pd

    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raw = frame[column].iloc[i]
        what = "empty or NaN (right-censored units have end_h inf)" if pd.isna(raw) else f"{str(raw)!r} is not a number"
        raise InputError(f"{where}: column {column!r}, row {i + 1}: {what}")
    return values


def life_data(frame: pd.DataFrame, where: str):
    """A :class:`~yieldkit.reliability.LifeData` from the columns of ``frame``, errors naming ``where``."""
    import numpy as np

    from yieldkit.reliability import LifeData

    columns = [str(c) for c in frame.columns]
    count = _numbers(frame, "count", where) if "count" in columns else None
    if {"start_h", "end_h"} <= set(columns):
        lo, hi = _numbers(frame, "start_h", where), _numbers(frame, "end_h", where)
        names = ("start_h", "end_h")
    elif {"time_h", "event"} <= set(columns):
        lo = _numbers(frame, "time_h", where)
        event = _numbers(frame, "event", where)
        if not np.isin(event, (0.0, 1.0)).all():
            i = int(np.flatnonzero(~np.isin(event, (0.0, 1.0)))[0])
            raise InputError(f"{where}: column 'event', row {i + 1}: must be 0 (survived) or 1 (failed), "
                             f"got {event[i]:g}")
        hi = np.where(event == 1.0, lo, np.inf)
        names = ("time_h", "time_h")
    else:
        have = ", ".join(columns) or "none"
        raise InputError(f"{where}: needs the columns start_h and end_h (or time_h and event); it has {have}")
    if len(lo) == 0:
        raise InputError(f"{where}: no units (the table has no rows)")
    for values, column in ((lo, names[0]), (hi, names[1])):
        if (values < 0).any():
            i = int(np.flatnonzero(values < 0)[0])
            raise InputError(f"{where}: column {column!r}, row {i + 1}: negative time {values[i]:g} h")
    if np.isinf(lo).any():
        i = int(np.flatnonzero(np.isinf(lo))[0])
        raise InputError(f"{where}: column {names[0]!r}, row {i + 1}: must be finite")
    if (hi < lo).any():
        i = int(np.flatnonzero(hi < lo)[0])
        raise InputError(f"{where}: row {i + 1}: end before start (end_h {hi[i]:g} < start_h {lo[i]:g})")
    if (hi == 0).any():
        i = int(np.flatnonzero(hi == 0)[0])
        raise InputError(f"{where}: row {i + 1}: a failure at time 0 (no positive life distribution has one)")
    try:
        return LifeData.from_intervals(lo, hi, count)
    except InputError as err:
        raise InputError(f"{where}: {err}") from None


def _fitter(dist: str):
    import yieldkit.reliability as rel

    return getattr(rel, DISTRIBUTIONS[dist])


def _fit_or_explain(where: str, fit_call):
    """Run a fit; InputError (too few failures) and Failure (no convergence) name the data."""
    try:
        return fit_call()
    except InputError as err:
        raise InputError(f"{where}: {err.reason if err.parameter in ('data', None) else err}") from None
    except Failure as err:
        raise Failure(f"{where}: {err}") from None


def _is_cause(frame: pd.DataFrame, column: str, data) -> bool:
    """Whether ``column`` is a failure cause: empty on every unit that did not fail."""
    labels = frame[column]
    return bool(labels[data.is_right].isna().all() | (labels[data.is_right].astype(str) == "").all()) \
        and bool(data.is_right.any())


# --- shared options ------------------------------------------------------------------------------

def _db_options(func):
    func = click.option("--campaign", metavar="C", default=None,
                        help="With --db: the burn-in campaign to read (default: all).")(func)
    return click.option("--db", "db", metavar="URL", default=None,
                        help=f"Read the units from the burn-in database at URL through the installed "
                             f"life-data provider (entry point '{LIFE_DATA_GROUP}') instead of FILE.")(func)


def _confidence(default: float = 0.95, text: str = "Two-sided level of the intervals and bounds [-].") -> Any:
    return click.option("--confidence", "confidence", cls=LibraryOption, type=Number(0, 1, min_open=True,
                                                                                      max_open=True),
                        default=default, show_default=True, help=text)


def _acceleration_options(func):
    opts = [
        click.option("--ea-ev", "activation_energy_ev", cls=LibraryOption, type=Number(min=0), default=0.7,
                     show_default=True, help="Activation energy of the Arrhenius law [eV]."),
        click.option("--use-temp-c", "use_temp_c", cls=LibraryOption, type=Number(min=-273.15, min_open=True),
                     default=55.0, show_default=True, help="Use (field) junction temperature [degC]."),
        click.option("--use-voltage-v", "use_voltage_v", cls=LibraryOption, type=Number(min=0, min_open=True),
                     default=None, help="Use supply voltage [V]; with a stress voltage: the exponential "
                                        "voltage law."),
        click.option("--voltage-gamma-per-v", "voltage_gamma_per_v", cls=LibraryOption, type=Number(min=0),
                     default=10.0, show_default=True, help="gamma of the exponential voltage law [1/V]."),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


def _acceleration(activation_energy_ev: float, use_temp_c: float, use_voltage_v: float | None,
                  voltage_gamma_per_v: float, voltage: bool):
    from yieldkit.reliability import AccelerationModel

    if voltage and use_voltage_v is None:
        raise click.UsageError("a stress voltage needs --use-voltage-v")
    return AccelerationModel(activation_energy_ev=activation_energy_ev, use_temp_c=use_temp_c,
                             use_voltage_v=use_voltage_v or 1.0, voltage_law="exponential" if voltage else "none",
                             voltage_gamma_per_v=voltage_gamma_per_v)


def _save_plot(figure, plot_path: str) -> None:
    from yieldkit.outputs import atomic_path

    with atomic_path(plot_path) as tmp:
        figure.savefig(tmp, dpi=150, format=Path(plot_path).suffix.lstrip(".").lower())


# --- fit -----------------------------------------------------------------------------------------

@reliability.command("fit")
@click.argument("file", type=INPUT_FILE, required=False, metavar="[FILE]")
@_db_options
@click.option("--dist", type=click.Choice(list(DISTRIBUTIONS)), default="weibull", show_default=True,
              help="Life distribution: weibull, weibull3 (with a failure-free time), weibull-ds (defective "
                   "subpopulation: a fraction p of the units can fail), lognormal, exponential, gamma.")
@click.option("--by", "by", metavar="COLUMN", default=None,
              help="One fit per value of COLUMN. A failure cause (empty on every unit that did not fail, e.g. "
                   "fault_class) gives competing risks: each class is fitted on all units, the other classes' "
                   "failures censored at their last passing scan. Any other column (lot, campaign) splits the "
                   "units into groups fitted separately.")
@click.option("--ci", type=click.Choice(list(_CI)), default=None,
              help="Intervals: lr (profile likelihood ratio) or fisher (Fisher matrix); default: the "
                   "distribution's own (lr for weibull-ds, fisher otherwise).")
@_confidence()
@plot_option("Also draw the probability plot (Weibull or lognormal paper: data points, fitted line, "
             "pointwise delta-method bounds) to FILE (.png, .svg, .pdf).")
@format_options
def fit(file: str | None, db: str | None, campaign: str | None, dist: str, by: str | None, ci: str | None,
        confidence: float, plot_path: str | None, fmt: str | None) -> None:
    """Fit a life distribution to burn-in units (interval- and right-censored); '-' reads CSV from stdin.

    FILE (CSV or Parquet) has one row per unit: start_h and end_h (failed
    between two scans; end_h = inf: survived to start_h) or time_h and event
    (1 failed, 0 survived); an optional count column counts identical units.
    Prints one record per fit: the parameters with their intervals, the
    log-likelihood, AIC and BIC. A fit that does not converge exits 1.

    \b
    Examples:
      yieldkit reliability fit units.csv --dist weibull-ds --plot weibull.png
      yieldkit reliability fit units.csv --by fault_class --ci fisher --table
      yieldkit reliability fit --db sqlite:///burnin.db --campaign C1 --dist weibull-ds
    """
    frame, where = _source(file, db, campaign)
    data = life_data(frame, where)
    fitter = _fitter(dist)
    alpha = 1.0 - confidence
    ci_method = _CI[ci] if ci else None
    fits: dict = {}
    analysis = "single"
    if by is not None:
        if by not in frame.columns:
            raise InputError(f"{where}: no column {by!r} for --by (it has {', '.join(map(str, frame.columns))})")
        if _is_cause(frame, by, data):
            from yieldkit.reliability import CompetingRisksFitter

            analysis = "competing-risks"
            cause = frame[by].astype(object).where(frame[by].notna(), None).to_numpy()
            cr = _fit_or_explain(where, lambda: CompetingRisksFitter(fitter, alpha=alpha).fit(
                data, cause=cause, ci_method=ci_method))
            fits = dict(cr.fits_)
        else:
            analysis = "by-group"
            labels = frame[by].astype(str).to_numpy()
            for value in sorted(set(labels)):
                sub = data.subset(labels == value)
                fits[value] = _fit_or_explain(f"{where}, {by} {value}", lambda sub=sub: fitter(alpha=alpha).fit(
                    sub, ci_method=ci_method))
    else:
        fits[None] = _fit_or_explain(where, lambda: fitter(alpha=alpha).fit(data, ci_method=ci_method))
    records = []
    for value, one in fits.items():
        head = {} if value is None else {by: value, "analysis": analysis}
        records.append({**head, **one.to_dict()})
    if plot_path is not None:
        from yieldkit.reliability.plotting import plot_probability

        title = f"{Path(where).name if file else where}: {dist}" + (f" by {by}" if by else "")
        _save_plot(plot_probability(fits if by else fits[None], title=title), plot_path)
    if by is None:
        emit(records[0], fmt)
    else:
        params = [k for k in records[0] if k in fits[next(iter(fits))].params_]
        emit(records, fmt, table_columns=[by, "distribution", "n_units", "n_failures", *params, "log_likelihood"])


# --- rate ----------------------------------------------------------------------------------------

@reliability.command("rate")
@click.option("--units", "units", cls=LibraryOption, type=click.IntRange(min=1), required=True,
              help="Units (cores or parts) on test [-].")
@click.option("--hours", "stress_hours", cls=LibraryOption, type=Number(min=0, min_open=True), required=True,
              help="Test duration at stress [h].")
@click.option("--failures", "failures", cls=LibraryOption, type=click.IntRange(min=0), required=True,
              help="Failures observed [-] (0 allowed).")
@click.option("--stress-temp-c", "stress_temp_c", type=Number(min=-273.15, min_open=True), default=None,
              help="Stress (oven) temperature [degC]; omitted: the test ran at use temperature.")
@click.option("--stress-voltage-v", "stress_voltage_v", type=Number(min=0, min_open=True), default=None,
              help="Stress voltage [V] (needs --use-voltage-v).")
@_acceleration_options
@click.option("--confidence", "confidence", cls=LibraryOption, metavar="LIST",
              type=NumberList(Number(0, 1, min_open=True, max_open=True)), default="0.6,0.9", show_default=True,
              help="One-sided confidence levels of the bounds [-], one record each.")
@click.option("--field-window-h", "field_window_h", cls=LibraryOption, type=Number(min=0, min_open=True),
              default=8760.0, show_default=True, help="Early-life field window of the ELFR [h].")
@format_options
def rate(units: int, stress_hours: float, failures: int, stress_temp_c: float | None,
         stress_voltage_v: float | None, activation_energy_ev: float, use_temp_c: float,
         use_voltage_v: float | None, voltage_gamma_per_v: float, confidence: list[float], field_window_h: float,
         fmt: str | None) -> None:
    """Constant failure rate (FIT, chi-square bounds, JESD85) and ELFR (JESD74) of a stress test.

    The acceleration factor of the stress relative to use is Arrhenius in
    temperature (--ea-ev) times the exponential voltage law when a stress
    voltage is given. Prints one record per confidence level: FIT with its
    lower and upper bounds, the MTTF at the upper bound and the ELFR [ppm]
    over the field window.

    \b
    Example:
      yieldkit reliability rate --units 2000 --hours 48 --failures 3 --stress-temp-c 125 \\
        --use-temp-c 55 --ea-ev 0.7 --confidence 0.6,0.9 --table
    """
    from yieldkit.reliability import elfr_constant_rate, failure_rate_fit

    model = _acceleration(activation_energy_ev, use_temp_c, use_voltage_v, voltage_gamma_per_v,
                          stress_voltage_v is not None)
    af = model.af(use_temp_c if stress_temp_c is None else stress_temp_c,
                  model.use_voltage_v if stress_voltage_v is None else stress_voltage_v)
    records = []
    for level in confidence:
        fr = failure_rate_fit(failures, units * stress_hours, af, level).to_dict()
        elfr = elfr_constant_rate(failures, units, stress_hours, af, field_window_h, level)
        records.append({"confidence": level, "units": units, "stress_hours": stress_hours, "failures": failures,
                        "acceleration_factor": af, "equivalent_device_hours": fr["equivalent_device_hours"],
                        "fit": fr["fit"], "fit_lower": fr["fit_lower"], "fit_upper": fr["fit_upper"],
                        "mttf_lower_h": fr["mttf_lower_h"], "field_window_h": field_window_h,
                        "elfr_point_ppm": elfr["elfr_point_ppm"], "elfr_upper_ppm": elfr["elfr_ppm"],
                        "method": f"{fr['method']}; {elfr['method']}"})
    emit(records, fmt, table_columns=["confidence", "acceleration_factor", "fit", "fit_lower", "fit_upper",
                                      "mttf_lower_h", "elfr_point_ppm", "elfr_upper_ppm"])


# --- alt -----------------------------------------------------------------------------------------

_STRESSES = ("temp_c", "voltage_v")


def _stress_list(ctx: click.Context, param: click.Parameter, value: str) -> list[str]:
    names = [v.strip() for v in value.split(",")]
    bad = [n for n in names if n not in _STRESSES]
    if bad or not names or len(set(names)) != len(names):
        raise click.BadParameter(f"must be temp_c, voltage_v or temp_c,voltage_v, got {value!r}")
    return names


@reliability.command("alt")
@click.argument("file", type=INPUT_FILE, metavar="FILE")
@click.option("--stress", "stress", default="temp_c", show_default=True, metavar="temp_c[,voltage_v]",
              callback=_stress_list, help="The stress columns of FILE: temperature [degC] and/or voltage [V].")
@click.option("--dist", type=click.Choice(["weibull", "lognormal"]), default="weibull", show_default=True,
              help="Life distribution at each stress level (common shape).")
@click.option("--model", "life_stress", default=None,
              type=click.Choice(["arrhenius", "eyring", "power", "exponential", "arrhenius-power",
                                 "arrhenius-exponential"]),
              help="Life-stress relation; default arrhenius (temp_c), exponential (voltage_v), "
                   "arrhenius-exponential (both).")
@click.option("--use-temp-c", "use_temp_c", type=Number(min=-273.15, min_open=True), default=55.0,
              show_default=True, help="Use temperature to extrapolate to [degC].")
@click.option("--use-voltage-v", "use_voltage_v", type=Number(min=0, min_open=True), default=None,
              help="Use voltage to extrapolate to [V] (needed with a voltage stress).")
@click.option("--quantile", "q", cls=LibraryOption, parameter="q", type=Number(0, 1, min_open=True, max_open=True),
              default=0.1, show_default=True, help="Fraction failing of the life predicted at use [-] (0.1: B10).")
@click.option("--ci", type=click.Choice(list(_CI)), default=None, help="Intervals: lr or fisher (default fisher).")
@_confidence()
@plot_option("Also draw the probability plot of every stress level (data points, the fitted line at that level, "
             "pointwise delta-method bounds) to FILE (.png, .svg, .pdf).")
@format_options
def alt(file: str, stress: list[str], dist: str, life_stress: str | None, use_temp_c: float,
        use_voltage_v: float | None, q: float, ci: str | None, confidence: float, plot_path: str | None,
        fmt: str | None) -> None:
    """Accelerated life test: fit life at several stress levels and extrapolate to use conditions.

    FILE has the columns of 'reliability fit' plus the stress columns (one
    value per unit). Prints the fit (shape, scale at the centre stress, Ea
    [eV] and/or the voltage coefficient), the life quantile at use
    conditions with its interval and the acceleration factor of each stress
    level relative to use.

    \b
    Example:
      yieldkit reliability alt alt.csv --stress temp_c --use-temp-c 55 --plot alt.png --table
    """
    from yieldkit.reliability import ALTFitter

    frame = read_units(file)
    where = "<stdin>" if file == "-" else file
    data = life_data(frame, where)
    missing = [s for s in stress if s not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns))
        raise InputError(f"{where}: no stress column {', '.join(missing)} (it has {have})")
    if "voltage_v" in stress and use_voltage_v is None:
        raise click.UsageError("a voltage stress needs --use-voltage-v")
    if life_stress is None:
        life_stress = {("temp_c",): "arrhenius", ("voltage_v",): "exponential"}.get(tuple(stress),
                                                                                    "arrhenius-exponential")
    stresses = {s: _numbers(frame, s, where) for s in stress}
    model = ALTFitter(dist, life_stress, alpha=1.0 - confidence)
    ci_method = _CI[ci] if ci else None
    fitted = _fit_or_explain(where, lambda: model.fit(data, ci_method=ci_method, **stresses))
    use = {"temp_c": use_temp_c, "voltage_v": use_voltage_v}
    use = {k: use[k] for k in stress}
    pred = fitted.predict(q=q, **use).iloc[0]
    record = fitted.to_dict()
    record.update({f"use_{k}": v for k, v in use.items()})
    record.update({"use_quantile": q, "use_life_h": float(pred["estimate"]), "use_life_lower_h": float(pred["lower"]),
                   "use_life_upper_h": float(pred["upper"])})
    levels = sorted({tuple(float(stresses[s][i]) for s in stress) for i in range(len(data))})
    for level in levels:
        at = dict(zip(stress, level, strict=True))
        af = fitted.acceleration_factor(use, at)
        label = "_".join(f"{v:g}{'C' if s == 'temp_c' else 'V'}" for s, v in at.items())
        record[f"af_{label}"] = af["estimate"]
        record[f"af_{label}_lower"] = af["lower"]
        record[f"af_{label}_upper"] = af["upper"]
    if plot_path is not None:
        from yieldkit.reliability.plotting import plot_probability

        params = ", ".join(f"{k}={v:.3g}" for k, v in fitted.params_.items())
        _save_plot(plot_probability(fitted, title=f"{Path(where).name}: {fitted._distribution} ({params})"),
                   plot_path)
    emit(record, fmt)


# --- policy --------------------------------------------------------------------------------------

@reliability.command("policy")
@click.argument("file", type=INPUT_FILE, required=False, metavar="[FILE]")
@_db_options
@click.option("--p", "p", type=Number(0, 1, min_open=True), default=None,
              help="Defective fraction of the units [-] (instead of FILE/--db).")
@click.option("--beta", "beta", type=Number(min=0, min_open=True), default=None,
              help="Weibull shape of the defective units [-] (< 1: infant mortality).")
@click.option("--eta-h", "eta_h", type=Number(min=0, min_open=True), default=None,
              help="Weibull scale of the defective units at use conditions [h].")
@click.option("--fit-temp-c", "fit_temp_c", cls=LibraryOption, type=Number(min=-273.15, min_open=True),
              default=None, help="With FILE/--db: temperature of the fitted burn-in [degC] (its scale is moved to "
                                 "use conditions).")
@click.option("--fit-voltage-v", "fit_voltage_v", cls=LibraryOption, type=Number(min=0, min_open=True),
              default=None, help="With FILE/--db: voltage of the fitted burn-in [V].")
@_acceleration_options
@click.option("--durations-h", "durations_h", cls=LibraryOption, metavar="LIST", type=NumberList(Number(min=0)),
              default="0,6,12,24,48,96", show_default=True, help="Candidate burn-in durations [h] (0: none).")
@click.option("--temps-c", "temps_c", cls=LibraryOption, metavar="LIST",
              type=NumberList(Number(min=-273.15, min_open=True)), default="125", show_default=True,
              help="Candidate oven temperatures [degC].")
@click.option("--voltages-v", "voltages_v", cls=LibraryOption, metavar="LIST",
              type=NumberList(Number(min=0, min_open=True)), default=None,
              help="Candidate burn-in voltages [V] (need --use-voltage-v); default: the use voltage.")
@click.option("--oven-per-hour", "oven_per_hour", cls=LibraryOption, type=Number(min=0), required=True,
              help="Cost of one system-hour in the oven.")
@click.option("--fallout-per-unit", "fallout_per_unit", cls=LibraryOption, type=Number(min=0), required=True,
              help="Cost of a unit failing during burn-in (mapping out a core).")
@click.option("--field-failure-per-unit", "field_failure_per_unit", cls=LibraryOption, type=Number(min=0),
              required=True, help="Cost of a unit failing in the field window.")
@click.option("--units-per-system", "units_per_system", cls=LibraryOption, type=click.IntRange(min=1), default=1,
              show_default=True, help="Units (cores) per system [-].")
@click.option("--field-window-h", "field_window_h", cls=LibraryOption, type=Number(min=0, min_open=True),
              default=8760.0, show_default=True, help="Early-life field window [h].")
@click.option("--target-elfr-ppm", "target_elfr_ppm", cls=LibraryOption, type=Number(min=0, min_open=True),
              required=True, help="Target residual ELFR per unit [ppm].")
@format_options
def policy(file: str | None, db: str | None, campaign: str | None, p: float | None, beta: float | None,
           eta_h: float | None, fit_temp_c: float | None, fit_voltage_v: float | None, activation_energy_ev: float,
           use_temp_c: float, use_voltage_v: float | None, voltage_gamma_per_v: float, durations_h: list[float],
           temps_c: list[float], voltages_v: list[float] | None, oven_per_hour: float, fallout_per_unit: float,
           field_failure_per_unit: float, units_per_system: int, field_window_h: float, target_elfr_ppm: float,
           fmt: str | None) -> None:
    """Recommend the burn-in duration, temperature and voltage meeting a target ELFR at least cost.

    The defective subpopulation comes from --p/--beta/--eta-h (at use
    conditions) or from a defective-subpopulation Weibull (weibull-ds) fit
    of FILE or --db (at --fit-temp-c/--fit-voltage-v, moved to use
    conditions with the acceleration model; without them the data are
    taken to be at use conditions). Prints the frontier, one row
    per candidate sorted by cost (residual ELFR, fallout, cost per system;
    pareto: no other is both cheaper and lower in ELFR; chosen: the
    cheapest meeting the target), then the choice on stderr. When no
    candidate meets the target the frontier is printed and the command
    exits 1 saying so.

    \b
    Example:
      yieldkit reliability policy --p 0.001 --beta 0.4 --eta-h 1e5 --durations-h 0,12,24,48 \\
        --temps-c 125 --oven-per-hour 2 --fallout-per-unit 10 --field-failure-per-unit 5000 \\
        --target-elfr-ppm 200 --table
    """
    from yieldkit.reliability import BurnInCosts, LFPWeibullFitter, burn_in_policy

    given_params = [name for name, v in (("--p", p), ("--beta", beta), ("--eta-h", eta_h)) if v is not None]
    if given_params and (file is not None or db is not None):
        raise click.UsageError(f"{', '.join(given_params)} and FILE/--db are exclusive: give one population")
    if file is None and db is None:
        if len(given_params) != 3:
            raise click.UsageError("give the population: --p, --beta and --eta-h, or FILE or --db to fit it")
        population: Any = {"p": p, "beta": beta, "eta_h": eta_h}
        if fit_temp_c is not None or fit_voltage_v is not None:
            raise click.UsageError("--fit-temp-c/--fit-voltage-v apply only with FILE or --db")
    else:
        frame, where = _source(file, db, campaign)
        data = life_data(frame, where)
        population = _fit_or_explain(where, lambda: LFPWeibullFitter().fit(data))
    voltage = voltages_v is not None or fit_voltage_v is not None
    model = _acceleration(activation_energy_ev, use_temp_c, use_voltage_v, voltage_gamma_per_v, voltage)
    costs = BurnInCosts(oven_per_hour=oven_per_hour, fallout_per_unit=fallout_per_unit,
                        field_failure_per_unit=field_failure_per_unit, units_per_system=units_per_system)
    result = burn_in_policy(population, model, durations_h=durations_h, temps_c=temps_c,
                            voltages_v=voltages_v or [model.use_voltage_v], costs=costs,
                            field_window_h=field_window_h, target_elfr_ppm=target_elfr_ppm, fit_temp_c=fit_temp_c,
                            fit_voltage_v=fit_voltage_v)
    columns = ["duration_h", "temp_c", "voltage_v", "residual_elfr_ppm", "fallout_ppm", "total_cost", "pareto",
               "chosen"]
    if voltages_v is None:
        result.frontier = result.frontier.drop(columns=["voltage_v"])
    emit(result.frontier, fmt, table_columns=columns)
    message = result.message
    if voltages_v is None:  # the voltage is not a candidate: leave the placeholder out of the message
        message = message.replace(f", {model.use_voltage_v:g} V", "")
    if result.choice is None:
        raise Failure(message)
    click.echo(message, err=True)


# --- sample --------------------------------------------------------------------------------------

@reliability.command("sample")
@click.option("--dist", type=click.Choice(["weibull", "weibull-ds", "lognormal"]), default="weibull-ds",
              show_default=True, help="Life distribution of the units (weibull-ds: only a fraction --p can fail).")
@click.option("--units", "units", type=click.IntRange(min=1), required=True, help="Units (cores) on test [-].")
@click.option("--p", "p", type=Number(0, 1, min_open=True), default=1.0, show_default=True,
              help="With weibull-ds: defective fraction [-].")
@click.option("--beta", "beta", type=Number(min=0, min_open=True), default=1.0, show_default=True,
              help="Weibull shape [-] (lognormal: sigma).")
@click.option("--eta-h", "eta_h", type=Number(min=0, min_open=True), required=True,
              help="Weibull scale [h] (lognormal: median) at use conditions, or at the test when no "
                   "--stress-temp-c is given.")
@click.option("--hours", "hours", type=Number(min=0, min_open=True), required=True,
              help="Length of the burn-in [h]: units alive then are right-censored.")
@click.option("--scan-h", "scan_h", type=Number(min=0), default=0.0, show_default=True,
              help="Hours between functional scans: failures are interval-censored between scans; 0: exact times.")
@click.option("--stress-temp-c", "stress_temp_c", metavar="LIST", type=NumberList(Number(min=-273.15, min_open=True)),
              default=None, help="Stress temperatures [degC], the units split evenly among them (a temp_c column); "
                                 "the scale at each is --eta-h / AF(Arrhenius, --ea-ev, --use-temp-c).")
@click.option("--ea-ev", "ea_ev", type=Number(min=0), default=0.7, show_default=True,
              help="With --stress-temp-c: activation energy [eV].")
@click.option("--use-temp-c", "use_temp_c", type=Number(min=-273.15, min_open=True), default=55.0,
              show_default=True, help="With --stress-temp-c: the temperature of --eta-h [degC].")
@click.option("--classes", "classes", metavar="LIST", default=None,
              help="Fault classes (comma list) given at random to the failures (a fault_class column).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Random seed.")
@output_option("Table of units to write (.csv, .parquet; '-' or omitted: CSV on stdout).", stdout=True,
               suffixes=(".csv", ".parquet", ".pq"))
def sample(dist: str, units: int, p: float, beta: float, eta_h: float, hours: float, scan_h: float,
           stress_temp_c: list[float] | None, ea_ev: float, use_temp_c: float, classes: str | None, seed: int,
           output: str | None) -> None:
    """Simulate a burn-in: a table of units with start_h/end_h for 'fit', 'alt' and 'policy' (what-if studies).

    Each unit fails at a time drawn from the distribution (with weibull-ds
    only a fraction --p of them can fail); a failure is seen at the first
    scan after it (interval-censored between scans); units alive at --hours
    are right-censored (end_h = inf). Identical rows are merged into a
    count column.

    \b
    Example:
      yieldkit reliability sample --units 5000 --p 0.02 --beta 0.5 --eta-h 40 --hours 168 --scan-h 12 \\
        --seed 1 -o units.csv
    """
    import numpy as np
    import pandas as pd

    from yieldkit.reliability import arrhenius_af

    if p < 1 and dist != "weibull-ds":
        raise click.UsageError("--p applies only with --dist weibull-ds")
    if scan_h > hours:
        raise InputError(f"{scan_h:g} h is longer than the burn-in (--hours {hours:g})", parameter="--scan-h")
    rng = np.random.default_rng(seed)
    scale = np.full(units, eta_h)
    temps = None
    if stress_temp_c is not None:
        temps = np.resize(np.asarray(stress_temp_c, float), units)
        scale = eta_h / np.asarray(arrhenius_af(ea_ev, use_temp_c, temps), float)
    if dist == "lognormal":
        t = scale * np.exp(beta * rng.standard_normal(units))
    else:
        t = scale * rng.weibull(beta, units)
    if dist == "weibull-ds":
        t = np.where(rng.random(units) < p, t, np.inf)
    failed = t <= hours
    if scan_h > 0:
        scans = np.append(np.arange(0.0, hours, scan_h), hours)
        k = np.searchsorted(scans, t, side="left")  # first scan at or after the failure
        end = np.where(failed, scans[np.minimum(k, scans.size - 1)], np.inf)
        start = np.where(failed, scans[np.maximum(k - 1, 0)], hours)
    else:
        start = np.where(failed, t, hours)
        end = np.where(failed, t, np.inf)
    frame = pd.DataFrame({"start_h": start, "end_h": end})
    if temps is not None:
        frame["temp_c"] = temps
    if classes is not None:
        names = [c.strip() for c in classes.split(",") if c.strip()]
        if not names:
            raise InputError("needs at least one class name", parameter="--classes")
        frame["fault_class"] = np.where(failed, np.asarray(names, dtype=object)[rng.integers(0, len(names), units)],
                                        "")
    keys = list(frame.columns)
    frame = frame.groupby(keys, sort=True, dropna=False).size().rename("count").reset_index()
    if output in (None, "-"):
        frame.to_csv(sys.stdout, index=False, lineterminator="\n")
        return
    from yieldkit.outputs import atomic_path

    with atomic_path(output) as tmp:
        if Path(output).suffix.lower() in _PARQUET:
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False, lineterminator="\n")
    click.echo(f"{units} units, {int(failed.sum())} failed in {hours:g} h", err=True)
