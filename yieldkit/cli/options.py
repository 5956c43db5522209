"""The options ``yieldkit`` commands share, declared once.

Each declaration knows both names of what it sets: the option the user
types (``--kill-probability``) and the library parameter it feeds
(``kill_probability``), so a library :class:`~yieldkit.errors.InputError`
is reported with the option (see :mod:`yieldkit.cli.command`). Every float
is a :class:`~yieldkit.cli.types.Number` (NaN refused), and every output
path is checked before any work is done.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from yieldkit.cli.command import LibraryOption
from yieldkit.cli.types import Number, NumberList
from yieldkit.defects import DefectModel
from yieldkit.errors import InputError
from yieldkit.outputs import check_output_path

__all__ = [
    "design_option", "defect_model_options", "wafers_option", "seed_option", "workers_option", "scheduler_option",
    "confidence_option", "quiet_option", "format_options", "output_option", "plot_option", "check_output",
    "check_output_folder", "check_wafer_output",
    "given", "given_model_options", "model_provenance",
]

F = TypeVar("F", bound=Callable[..., Any])

PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def given(name: str) -> bool:
    """Whether the user typed the option whose Python name is ``name`` (not its default)."""
    source = click.get_current_context().get_parameter_source(name)
    return source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def _apply(func: F, decorators: list[Callable[[F], F]]) -> F:
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def design_option(default: str | None = "wse", help: str | None = None) -> Callable[[F], F]:  # noqa: A002
    """``--design NAME|FILE``: a preset name or a design TOML file (Python name ``design_name``)."""
    text = help or "Preset name (see 'yieldkit design list') or design TOML file."
    return click.option("--design", "design_name", cls=LibraryOption, parameter="design", default=default,
                        show_default=default is not None, metavar="NAME|FILE", help=text)


# (flag, python name, library parameter, type, default, help) of the DefectModel fields other than D0 and alpha
_MODEL_FIELDS: list[tuple[str, str, click.ParamType, Any, str]] = [
    ("--spatial", "spatial", click.Choice(["uniform", "radial", "thomas"]), "uniform",
     "Placement of defects on the wafer."),
    ("--radial-beta", "radial_beta", Number(min=0), 0.0, "With --spatial radial: density ~ 1 + beta (r/R)^p [-]."),
    ("--radial-power", "radial_power", Number(min=0, min_open=True), 4.0, "With --spatial radial: exponent p [-]."),
    ("--cluster-size", "cluster_mean_size", Number(min=0, min_open=True), 5.0,
     "With --spatial thomas: mean defects per cluster [-]."),
    ("--cluster-sigma-mm", "cluster_sigma_mm", Number(min=0), 2.0, "With --spatial thomas: cluster spread [mm]."),
    ("--x0-um", "x0_um", Number(min=0), 0.5, "Defect size scale of the x0^2/x^3 tail [um]; 0 = point defects."),
    ("--max-size-um", "max_size_um", Number(min=0), 2000.0, "Largest defect diameter [um], >= --x0-um."),
    ("--kill-probability", "kill_probability", Number(0, 1), 1.0, "Critical-area fraction: P(defect kills) [-]."),
    ("--link-fraction", "link_fraction", Number(0, 1), 0.0, "Fraction of defects that hit a fabric link [-]."),
]
_SPATIAL_ONLY = {"radial_beta": "radial", "radial_power": "radial", "cluster_mean_size": "thomas",
                 "cluster_sigma_mm": "thomas"}
_ALPHA_HELP = "Negative-binomial clustering alpha [-]; omit for Poisson (no clustering)."
_D0_HELP = "Killer-defect density D0 over the usable wafer area [cm^-2]."


def defect_model_options(*, d0: str = "required", lists: bool = False) -> Callable[[F], F]:
    """``--model FILE``, ``--d0``, ``--alpha`` and the other defect-model options; the command receives ``model``.

    Parameters
    ----------
    d0 : {"required"} or str
        ``"required"``, or the default D0 [cm^-2] as text (``"0.1"``).
    lists : bool
        ``--d0`` and ``--alpha`` take comma lists (``--alpha poisson,2``); the
        command also receives ``d0_list`` and ``alpha_list``, and ``model``
        is built from their first items.

    The command gets one :class:`~yieldkit.defects.DefectModel` argument
    ``model``. With ``--model FILE`` (a model file of
    :mod:`yieldkit.model_file`, e.g. written by ``yieldkit calibrate``) the
    file's model is the base and only the options the user typed override
    it; ``--d0`` is then not required. Without it, a required ``--d0`` must
    be given. Options that do nothing in context are refused: a radial
    parameter without ``--spatial radial``, a cluster parameter without
    ``--spatial thomas`` (the file's spatial model counts); ``--x0-um``
    above ``--max-size-um`` names the one the user typed. The file's path
    and SHA-256 are available to the command as :func:`model_provenance`.
    """
    required = d0 == "required"
    d0_help = _D0_HELP + (" Required unless --model." if required else "")
    if lists:
        d0_decl = click.option("--d0", "d0_per_cm2", cls=LibraryOption, default=None, metavar="LIST",
                               type=NumberList(Number(min=0)),
                               help="Comma list of D0 values [cm^-2]. Required unless --model.")
        alpha_decl = click.option("--alpha", "alpha", cls=LibraryOption, default=None, metavar="LIST",
                                  type=NumberList(Number(min=0, min_open=True), {"poisson": None, "none": None}),
                                  help="Comma list of alphas; 'poisson' for no clustering (the default).")
    else:
        rate = {"default": None} if required else {"default": float(d0), "show_default": True}
        d0_decl = click.option("--d0", "d0_per_cm2", cls=LibraryOption, type=Number(min=0), help=d0_help, **rate)
        alpha_decl = click.option("--alpha", "alpha", cls=LibraryOption, type=Number(min=0, min_open=True),
                                  default=None, help=_ALPHA_HELP)
    model_decl = click.option("--model", "model_file", type=click.Path(exists=True, dir_okay=False), default=None,
                              metavar="FILE", help=_MODEL_HELP)
    fields = [click.option(flag, name, cls=LibraryOption, type=kind, default=default, show_default=True, help=text)
              for flag, name, kind, default, text in _MODEL_FIELDS]

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for _, name, *_ in _MODEL_FIELDS}
            d0_value, alpha_value = kwargs.pop("d0_per_cm2"), kwargs.pop("alpha")
            model_file = kwargs.pop("model_file")
            base = _model_from_file(model_file) if model_file is not None else None
            if base is None and d0_value is None:
                raise click.MissingParameter(ctx=click.get_current_context(), param_type="option",
                                             param_hint="'--d0' (or --model FILE)")
            if base is not None:
                values = {name: (value if given(name) else getattr(base, name)) for name, value in values.items()}
                defaults = {name: default for _, name, _, default, _ in _MODEL_FIELDS}
                for name, spatial in _SPATIAL_ONLY.items():  # --spatial typed over the file's: drop its parameters
                    if values["spatial"] != spatial and not given(name):
                        values[name] = defaults[name]
            _refuse_idle_options(values)
            if lists:
                if base is not None:
                    d0_value = d0_value if given("d0_per_cm2") else [base.d0_per_cm2]
                    alpha_value = alpha_value if given("alpha") else [base.alpha]
                alpha_value = [None] if alpha_value is None else alpha_value
                kwargs["d0_list"], kwargs["alpha_list"] = d0_value, alpha_value
                d0_value, alpha_value = d0_value[0], alpha_value[0]
            elif base is not None:
                d0_value = d0_value if given("d0_per_cm2") else base.d0_per_cm2
                alpha_value = alpha_value if given("alpha") else base.alpha
            kwargs["model"] = DefectModel(d0_per_cm2=d0_value, alpha=alpha_value, **values)
            return func(*args, **kwargs)

        return _apply(wrapper, [model_decl, d0_decl, alpha_decl, *fields])  # type: ignore[arg-type]

    return decorate


_MODEL_HELP = ("Defect model file (TOML, e.g. from 'yieldkit calibrate'): the base model; the options given "
               "here override it.")
_PROVENANCE_KEY = "yieldkit.model_file"


def _model_from_file(path: str) -> DefectModel:
    """The model of ``--model FILE``; its path and SHA-256 are kept on the click context (:func:`model_provenance`)."""
    from yieldkit.model_file import file_sha256, load_model

    try:
        model, provenance = load_model(path)
    except InputError as error:
        raise error.naming("--model") if not error.parameter else error from None
    click.get_current_context().meta[_PROVENANCE_KEY] = {
        "model_file": path, "model_sha256": file_sha256(path), "model_method": provenance.method,
        "model_date": provenance.date}
    return model


def model_provenance() -> dict[str, Any]:
    """``model_file``, ``model_sha256``, ``model_method``, ``model_date`` of ``--model FILE``; empty without it.

    For the command's JSON record: where its defect model came from.
    """
    ctx = click.get_current_context(silent=True)
    return dict(ctx.meta.get(_PROVENANCE_KEY, {})) if ctx is not None else {}


def given_model_options() -> list[str]:
    """The defect-model options (``--model``, ``--d0``, ``--alpha``, ``--spatial``, ...) the user typed."""
    names = [("--model", "model_file"), ("--d0", "d0_per_cm2"), ("--alpha", "alpha")]
    names += [(flag, name) for flag, name, *_ in _MODEL_FIELDS]
    return [flag for flag, name in names if given(name)]


def _refuse_idle_options(values: dict[str, Any]) -> None:
    for name, spatial in _SPATIAL_ONLY.items():
        if given(name) and values["spatial"] != spatial:
            flag = next(f for f, n, *_ in _MODEL_FIELDS if n == name)
            raise click.UsageError(f"{flag} applies only with --spatial {spatial}")
    if values["x0_um"] > values["max_size_um"]:
        blame = "--max-size-um" if given("max_size_um") and not given("x0_um") else "--x0-um"
        raise click.BadParameter(f"the smallest defect size scale --x0-um ({values['x0_um']:g} um) exceeds the "
                                 f"largest defect --max-size-um ({values['max_size_um']:g} um)", param_hint=blame)


def wafers_option(default: int, help: str = "Wafers to simulate.") -> Callable[[F], F]:  # noqa: A002
    """``--wafers N`` (Python name ``n_wafers``)."""
    return click.option("--wafers", "n_wafers", cls=LibraryOption, type=click.IntRange(min=1), default=default,
                        show_default=True, help=help)


def seed_option(default: int | None = 0, help: str = "Root random seed.") -> Callable[[F], F]:  # noqa: A002
    """``--seed N``; with ``default=None`` it is optional and has no default."""
    return click.option("--seed", "seed", cls=LibraryOption, type=click.IntRange(min=0), default=default,
                        show_default=default is not None, help=help)


def _cap_workers(ctx: click.Context, param: click.Parameter, value: int) -> int:
    cpus = os.cpu_count() or 1
    if value > cpus:
        click.echo(f"Warning: --workers {value} is more than the {cpus} CPUs of this machine; using {cpus}.", err=True)
        return cpus
    return value


def workers_option(func: F) -> F:
    """``--workers N`` local processes, capped at the CPUs of the machine (with a warning)."""
    return click.option("--workers", "workers", cls=LibraryOption, type=click.IntRange(min=1), default=1,
                        show_default=True, callback=_cap_workers,
                        help="Local worker processes (at most the CPUs of this machine).")(func)


def scheduler_option(func: F) -> F:
    """``--scheduler ADDRESS`` of a Dask cluster."""
    return click.option("--scheduler", "scheduler", cls=LibraryOption, metavar="ADDRESS", default=None,
                        help="Dask scheduler address (tcp://host:8786); overrides --workers.")(func)


def confidence_option(func: F) -> F:
    """``--confidence`` level of the Clopper-Pearson interval."""
    return click.option("--confidence", "confidence", cls=LibraryOption,
                        type=Number(0, 1, min_open=True, max_open=True), default=0.95, show_default=True,
                        help="Level of the Clopper-Pearson interval [-].")(func)


def quiet_option(func: F) -> F:
    """``-q/--quiet``: no progress bar."""
    return click.option("--quiet", "-q", is_flag=True, help="No progress bar.")(func)


def format_options(func: F) -> F:
    """``--json``, ``--csv`` or ``--table`` (one of them); the command receives ``fmt`` (None: by terminal)."""
    flags = (("--table", "table", "Readable table (default on a terminal)."),
             ("--csv", "csv", "CSV with a header row."),
             ("--json", "json", "JSON (default when stdout is not a terminal)."))

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        chosen = [flag for flag, value, _ in flags if kwargs.pop(f"as_{value}")]
        if len(chosen) > 1:
            raise click.UsageError(f"{' and '.join(sorted(chosen))} are exclusive: choose one output format")
        kwargs["fmt"] = next((value for flag, value, _ in flags if flag in chosen), None)
        return func(*args, **kwargs)

    return _apply(wrapper, [click.option(flag, f"as_{value}", is_flag=True, help=text)  # type: ignore[arg-type]
                            for flag, value, text in flags])


def output_option(help: str, *, required: bool = False, stdout: bool = False,  # noqa: A002
                  suffixes: tuple[str, ...] = (), folder: bool = False, default: str | None = None,
                  per_wafer: str | None = None) -> Callable[[F], F]:
    """``-o/--output FILE`` (``--out`` is a hidden alias), checked before the command runs.

    Parameters
    ----------
    help : str
        The option's help text.
    required : bool
        The command cannot run without it.
    stdout : bool
        ``-`` means standard output; otherwise ``-`` is refused.
    suffixes : tuple of str
        Allowed file extensions (lower case), if restricted.
    folder : bool
        The output is a folder (created if needed) rather than a file.
    default : str, optional
        Used when the option is not given.
    per_wafer : str, optional
        One file per wafer, of this suffix (``".json"``): ``-o`` is a file of
        that suffix, a folder or a pattern with ``{wafer}``
        (:func:`check_wafer_output`).

    The command receives ``output`` (a ``str`` or None).
    """

    metavar = "FILE|DIR|PATTERN" if per_wafer else "DIR" if folder else "FILE"

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            output, alias = kwargs.pop("output"), kwargs.pop("out_alias")
            if output is not None and alias is not None:
                raise click.UsageError("give --output once (--out is its old spelling)")
            output = output if output is not None else alias if alias is not None else default
            if output is None and required:
                raise click.MissingParameter(ctx=click.get_current_context(), param_type="option",
                                             param_hint="'-o' / '--output'")
            if per_wafer and output is not None:
                check_wafer_output(output, "--output", per_wafer)
            elif folder and output is not None:
                check_output_folder(output, "--output")
            elif output is not None:
                check_output(output, "--output", stdout=stdout, suffixes=suffixes)
            kwargs["output"] = output
            return func(*args, **kwargs)

        return _apply(wrapper, [  # type: ignore[arg-type]
            click.option("-o", "--output", "output", metavar=metavar, default=None,
                         help=help + (" Required." if required else f" [default: {default}]" if default else "")),
            click.option("--out", "out_alias", metavar=metavar, default=None, hidden=True),
        ])

    return decorate


def check_output(path: str, option: str, *, stdout: bool = False, suffixes: tuple[str, ...] = ()) -> None:
    """Refuse an output path before any work: ``-`` where stdout is not allowed, a bad extension, a bad folder.

    Parameters
    ----------
    path : str
        The file the user gave.
    option : str
        The option that gave it, named in the error (``--plot``).
    stdout : bool
        ``-`` (standard output) is allowed.
    suffixes : tuple of str
        Allowed extensions, lower case; empty: any.

    Raises
    ------
    InputError
        Naming ``option``.

    Examples
    --------
    >>> check_output("-", "--output", stdout=True)
    >>> check_output("w17.bmp", "--plot", suffixes=(".png", ".svg", ".pdf"))
    Traceback (most recent call last):
    ...
    yieldkit.errors.InputError: --plot: w17.bmp: extension must be one of .png, .svg, .pdf
    """
    if path == "-":
        if not stdout:
            raise InputError("'-' (standard output) is not possible here; give a file name", parameter=option)
        return
    if suffixes and Path(path).suffix.lower() not in suffixes:
        raise InputError(f"{path}: extension must be one of {', '.join(suffixes)}", parameter=option)
    check_output_path(path, option)


def check_wafer_output(path: str, option: str, suffix: str = ".json") -> None:
    """Refuse an output of one file per wafer that cannot be written, before any work.

    ``path`` is a pattern holding ``{wafer}`` (and optionally ``{lot}``), a
    file ending in ``suffix`` (one wafer), or else a folder (created when
    the files are written).

    Examples
    --------
    >>> check_wafer_output("maps/{wafer}-{x}.json", "--output")
    Traceback (most recent call last):
    ...
    yieldkit.errors.InputError: --output: maps/{wafer}-{x}.json: a pattern may hold only {wafer} and {lot} ('x')
    """
    if "{wafer}" in path:
        try:
            example = path.format(wafer="W", lot="L")
        except (KeyError, IndexError, ValueError) as exc:
            raise InputError(f"{path}: a pattern may hold only {{wafer}} and {{lot}} ({exc})",
                             parameter=option) from None
        check_output(example, option)
    elif path.lower().endswith(suffix):
        check_output(path, option)
    else:
        check_output_folder(path, option)


def plot_option(help: str = "Also draw a picture to FILE (.png, .svg, .pdf).") -> Callable[[F], F]:  # noqa: A002
    """``--plot FILE``: a picture file, checked before the command runs; the command receives ``plot_path``."""

    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is not None:
            check_output(value, "--plot", suffixes=PLOT_SUFFIXES)
        return value

    return click.option("--plot", "plot_path", metavar="FILE", default=None, callback=check, help=help)


def check_output_folder(path: str, option: str) -> Path:
    """Refuse a folder that cannot be created or written, before any work.

    The folder itself may not exist yet: its nearest existing ancestor must
    be a writable folder.

    Examples
    --------
    >>> import tempfile
    >>> check_output_folder(tempfile.mkdtemp() + "/new/report", "--output").name
    'report'
    >>> check_output_folder("/etc/hostname/report", "--output")
    Traceback (most recent call last):
    ...
    yieldkit.errors.InputError: --output: /etc/hostname/report: /etc/hostname is not a folder
    """
    if not path:
        raise InputError("empty folder name", parameter=option)
    folder = Path(path)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"{path}: {existing} is not a folder", parameter=option)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{path}: folder {existing} is not writable", parameter=option)
    return folder
