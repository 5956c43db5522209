"""Click options shared by the commands that sample defects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from yieldkit.defects import DefectModel

__all__ = ["design_option", "defect_model_options", "defect_model_from", "run_options", "ProgressReporter"]

F = TypeVar("F", bound=Callable[..., Any])


def design_option(func: F) -> F:
    """``--design NAME|FILE`` (default ``wse``), resolved to a Design."""
    return click.option("--design", "design_name", default="wse", show_default=True, metavar="NAME|FILE",
                        help="Preset name (see 'yieldkit design list') or design TOML file.")(func)


_MODEL_OPTIONS: list[tuple[str, str, Any, Any, str]] = [
    ("--spatial", "spatial", click.Choice(["uniform", "radial", "thomas"]), "uniform", "Placement of defects on the wafer."),
    ("--radial-beta", "radial_beta", float, 0.0, "Radial profile: density ~ 1 + beta (r/R)^p."),
    ("--radial-power", "radial_power", float, 4.0, "Radial profile exponent p."),
    ("--cluster-size", "cluster_mean_size", float, 5.0, "Thomas process: mean defects per cluster."),
    ("--cluster-sigma-mm", "cluster_sigma_mm", float, 2.0, "Thomas process: cluster spread [mm]."),
    ("--x0-um", "x0_um", float, 0.5, "Defect size scale of the x0^2/x^3 tail [um]; 0 = point defects."),
    ("--max-size-um", "max_size_um", float, 2000.0, "Largest defect diameter [um]."),
    ("--kill-probability", "kill_probability", float, 1.0, "Critical-area fraction: P(defect kills)."),
    ("--link-fraction", "link_fraction", float, 0.0, "Fraction of defects that hit a fabric link."),
]


def defect_model_options(func: F) -> F:
    """The DefectModel parameters other than D0 and alpha."""
    for flag, dest, kind, default, text in reversed(_MODEL_OPTIONS):
        func = click.option(flag, dest, type=kind, default=default, show_default=True, help=text)(func)
    return func


def defect_model_from(d0: float, alpha: float | None, options: dict[str, Any]) -> DefectModel:
    """Build the DefectModel; pops the model options out of ``options``."""
    fields = {dest: options.pop(dest) for _, dest, *_ in _MODEL_OPTIONS}
    return DefectModel(d0_per_cm2=d0, alpha=alpha, **fields)


def run_options(func: F) -> F:
    """Wafers, seed, workers, scheduler, quiet."""
    for decorator in reversed([
        click.option("--wafers", type=click.IntRange(min=1), default=10_000, show_default=True, help="Wafers to simulate."),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Root random seed."),
        click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Local worker processes."),
        click.option("--scheduler", metavar="ADDRESS", default=None, help="Dask scheduler address (tcp://host:8786)."),
        click.option("--confidence", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.95,
                     show_default=True, help="Level of the Clopper-Pearson interval."),
        click.option("--quiet", "-q", is_flag=True, help="No progress bar."),
    ]):
        func = decorator(func)
    return func


class ProgressReporter:
    """A click progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, total: int, enabled: bool, label: str = "wafers") -> None:
        self._bar = click.progressbar(length=total, label=label, file=click.get_text_stream("stderr")) if enabled else None

    def __enter__(self) -> Callable[[int], None] | None:
        if self._bar is None:
            return None
        bar = self._bar.__enter__()
        return bar.update

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
