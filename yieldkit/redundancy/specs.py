"""The redundancy scheme registry: one declared :class:`SchemeSpec` per scheme.

A spec says what a scheme is (name, one-line label), which parameters it
takes (defaults, minimum, whether ``inf`` = unlimited is allowed), where its
planner and batch assessor live, and how the sizing study varies it. Design
loading, the ``repair --param`` overrides, the verifier's defaults, sizing
and the CLI help (:func:`describe_schemes`) are all driven from here.

This module is deliberately light (no numpy-heavy or numba imports): a
design is validated through it whenever it is loaded.

Parameter values, as given in a design's ``[redundancy]`` table or on the
command line: an integer (``3``, ``3.0``, ``"3"``), or, where unlimited is
allowed, ``"inf"`` / ``"unlimited"`` / ``float("inf")``. They are normalised
once (:func:`parse_scheme_params`): integers stay integers, unlimited
becomes the string ``"inf"`` (JSON-safe, so it survives repair maps, images
and the database). :func:`resolve_scheme_params` fills in defaults and turns
``"inf"`` into ``math.inf`` for the algorithms.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from yieldkit.errors import InputError

__all__ = ["Param", "SchemeSpec", "SCHEMES", "UNLIMITED", "scheme_spec", "parse_scheme_params",
           "resolve_scheme_params", "scheme_reach", "describe_schemes", "check_scheme_fits"]

#: The normalised spelling of an unlimited parameter.
UNLIMITED = "inf"
_UNLIMITED_WORDS = ("inf", "infinity", "unlimited")


class SchemeError(InputError):
    """An unknown redundancy scheme or a bad scheme parameter."""


@dataclass(frozen=True)
class Param:
    """One scheme parameter.

    Attributes
    ----------
    name : str
    default : int or None
        Value when absent; None = unlimited (or, for ``block.reach``, derived).
    minimum : int
        Smallest integer allowed.
    unlimited : bool
        ``inf`` is allowed.
    unit : str
    help : str
        One line for the CLI help and the README.
    """

    name: str
    default: int | None
    minimum: int = 0
    unlimited: bool = False
    unit: str = "sites"
    help: str = ""

    def parse(self, value: Any) -> int | str:
        """The normalised value; SchemeError naming the parameter when it is not acceptable.

        Examples
        --------
        >>> Param("reach", None, unlimited=True).parse("3"), Param("d", 1, unlimited=True).parse(float("inf"))
        (3, 'inf')
        """
        allowed = f"an integer >= {self.minimum}" + (f" or '{UNLIMITED}' (unlimited)" if self.unlimited else "")
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _UNLIMITED_WORDS and self.unlimited:
                return UNLIMITED
            try:
                value = int(text)
            except ValueError:
                raise SchemeError(f"must be {allowed}, got {value!r}", parameter=self.name) from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SchemeError(f"must be {allowed}, got {value!r}", parameter=self.name)
        if isinstance(value, float):
            if math.isinf(value) and value > 0 and self.unlimited:
                return UNLIMITED
            if not math.isfinite(value) or value != int(value):
                raise SchemeError(f"must be {allowed}, got {value!r}", parameter=self.name)
            value = int(value)
        if value < self.minimum:
            raise SchemeError(f"must be {allowed}, got {value!r}", parameter=self.name)
        return value


@dataclass(frozen=True)
class SchemeSpec:
    """What a redundancy scheme is and takes.

    Attributes
    ----------
    name : str
        As written in ``[redundancy] scheme``.
    label : str
        One line for help texts.
    params : tuple of Param
    module : str
        Module under ``yieldkit.redundancy`` with ``plan(design, defects,
        allow_degraded)`` and ``assessor(design)``.
    sizing : str
        What one level of the sizing ladder adds ("" = not sized by levels).
    variant : callable, optional
        ``variant(design, level) -> Design``: the design with ``level`` units
        of this scheme's redundancy around the same logical grid.
    level_label : callable, optional
        ``level_label(level, params) -> str`` for the sizing table.
    """

    name: str
    label: str
    params: tuple[Param, ...]
    module: str
    sizing: str = ""
    variant: Callable[[Any, int], Any] | None = None
    level_label: Callable[[int, Mapping[str, Any]], str] | None = None

    def param(self, key: str) -> Param:
        for p in self.params:
            if p.name == key:
                return p
        known = ", ".join(p.name for p in self.params) or "none"
        raise SchemeError(f"scheme '{self.name}' has no parameter '{key}' (it takes: {known})", parameter=key)


def scheme_spec(name: str) -> SchemeSpec:
    """The spec of scheme ``name``; SchemeError (exit 2) when unknown.

    Examples
    --------
    >>> [p.name for p in scheme_spec("block").params]
    ['b', 's', 'reach']
    """
    spec = SCHEMES.get(name) if isinstance(name, str) else None
    if spec is None:
        raise SchemeError(f"unknown redundancy scheme {name!r} (known: {', '.join(SCHEMES)})", parameter="scheme")
    return spec


def parse_scheme_params(name: str, raw: Mapping[str, Any]) -> dict[str, int | str]:
    """Check and normalise the parameters of scheme ``name`` (only those given; no defaults added).

    Raises SchemeError (an InputError, exit 2) naming the parameter: unknown
    scheme, unknown parameter, or a value that is not an integer >= the
    minimum (or ``inf`` where unlimited is allowed).

    Examples
    --------
    >>> parse_scheme_params("row-col", {"d": "inf", "sr": 2.0})
    {'d': 'inf', 'sr': 2}
    >>> parse_scheme_params("row-shift", {"reach": -1})
    Traceback (most recent call last):
    ...
    yieldkit.redundancy.specs.SchemeError: reach: must be an integer >= 0 or 'inf' (unlimited), got -1
    """
    spec = scheme_spec(name)
    return {str(key): spec.param(str(key)).parse(value) for key, value in raw.items()}


def resolve_scheme_params(name: str, params: Mapping[str, Any]) -> dict[str, float]:
    """Every parameter of scheme ``name`` with its default, unlimited as ``math.inf``.

    ``block.reach`` defaults to the longest logical edge of the block model
    (:func:`yieldkit.verify.block_worst_reach`), so only dead links and the
    wafer edge can break a default block map.

    Examples
    --------
    >>> resolve_scheme_params("row-shift", {})
    {'reach': inf}
    >>> resolve_scheme_params("block", {"b": 4, "s": 0})
    {'b': 4, 's': 0, 'reach': 1}
    """
    spec = scheme_spec(name)
    given = parse_scheme_params(name, params)
    out: dict[str, Any] = {}
    for p in spec.params:
        value = given.get(p.name, p.default)
        if value is None and name == "block" and p.name == "reach":
            from yieldkit.verify import block_worst_reach

            value = block_worst_reach(int(out["b"]), int(out["s"]))
        out[p.name] = math.inf if value in (None, UNLIMITED) else value
    return out


def scheme_reach(name: str, params: Mapping[str, Any]) -> float:
    """The routing reach of a scheme [sites]: 0 for ``none``, ``reach`` or ``d`` otherwise (``inf`` unlimited).

    Examples
    --------
    >>> scheme_reach("row-shift", {"reach": 2}), scheme_reach("row-col", {}), scheme_reach("block", {"b": 4, "s": 0})
    (2.0, 1.0, 1.0)
    """
    resolved = resolve_scheme_params(name, params)
    if name == "none":
        return 0.0
    return float(resolved["d" if name == "row-col" else "reach"])


def check_scheme_fits(name: str, params: Mapping[str, Any], rows: int, cols: int, logical_rows: int,
                      logical_cols: int) -> None:
    """SchemeError when the scheme's geometry cannot hold the logical grid (``block``: tiles must fit).

    Examples
    --------
    >>> check_scheme_fits("block", {"b": 8, "s": 8}, rows=64, cols=68, logical_rows=64, logical_cols=64)
    Traceback (most recent call last):
    ...
    yieldkit.redundancy.specs.SchemeError: s: block(b=8, s=8) needs 64 rows x 72 columns of sites, the grid has 64x68
    """
    if name != "block":
        return
    resolved = resolve_scheme_params(name, params)
    b, s = int(resolved["b"]), int(resolved["s"])
    if logical_rows % b or logical_cols % b:
        raise SchemeError(f"the logical grid {logical_rows}x{logical_cols} must be a multiple of b={b} in both "
                          "directions", parameter="b")
    need = logical_cols // b * (b + -(-s // b))
    if need > cols:
        raise SchemeError(f"block(b={b}, s={s}) needs {logical_rows} rows x {need} columns of sites, the grid has "
                          f"{rows}x{cols}", parameter="s")


def describe_schemes() -> str:
    """A few lines per scheme for ``repair --help`` and the README: label, parameters, defaults.

    Examples
    --------
    >>> print(describe_schemes().splitlines()[0])
    none: no redundancy; a dead site in the logical footprint, or a dead link inside it, kills the fabric
    """
    lines = []
    for spec in SCHEMES.values():
        lines.append(f"{spec.name}: {spec.label}")
        for p in spec.params:
            if p.default is None:
                default = "unlimited" if p.name != "reach" or spec.name != "block" else "the model's longest edge"
            else:
                default = str(p.default)
            lines.append(f"  {p.name} = integer >= {p.minimum}{' or inf' if p.unlimited else ''} "
                         f"[{p.unit}], default {default}: {p.help}")
    return "\n".join(lines)


# -- sizing variants ---------------------------------------------------------------------------

def _row_shift_variant(design: Any, level: int) -> Any:
    reach = design.scheme_params.get("reach", 2) if design.scheme == "row-shift" else 2
    return replace(design, rows=design.logical_rows, cols=design.logical_cols + level, scheme="row-shift",
                   scheme_params={"reach": reach})


def _row_col_variant(design: Any, level: int) -> Any:
    d = design.scheme_params.get("d", 1) if design.scheme == "row-col" else 1
    return replace(design, rows=design.logical_rows + level, cols=design.logical_cols + level, scheme="row-col",
                   scheme_params={"sr": level, "sc": level, "d": d})


def _block_b(design: Any) -> int:
    if design.scheme == "block":
        return int(resolve_scheme_params("block", design.scheme_params)["b"])
    for b in (8, 4, 2, 1):
        if design.logical_rows % b == 0 and design.logical_cols % b == 0:
            return b
    return 1


def _block_variant(design: Any, level: int) -> Any:
    b = _block_b(design)
    cols = design.logical_cols // b * (b + -(-level // b))
    return replace(design, rows=design.logical_rows, cols=cols, scheme="block", scheme_params={"b": b, "s": level})


def _none_variant(design: Any, level: int) -> Any:
    return replace(design, rows=design.logical_rows, cols=design.logical_cols, scheme="none", scheme_params={})


SCHEMES: dict[str, SchemeSpec] = {
    "none": SchemeSpec(
        "none", "no redundancy; a dead site in the logical footprint, or a dead link inside it, kills the fabric", (),
        "none",
        sizing="", variant=_none_variant, level_label=lambda level, params: "none"),
    "row-shift": SchemeSpec(
        "row-shift", "spare sites at the ends of every row; logical cores take the row's live sites in order",
        (Param("reach", None, unlimited=True, unit="columns",
               help="how far a vertical logical link may bend between adjacent rows"),),
        "row_shift", sizing="spare sites per row", variant=_row_shift_variant,
        level_label=lambda level, params: f"{level} spare sites/row (reach {params.get('reach')})"),
    "row-col": SchemeSpec(
        "row-col", "spare rows and columns; rows bypass dead sites, columns reroute within distance d",
        (Param("sr", 0, help="spare rows the design adds (documentation; the planner uses every row)", unit="rows"),
         Param("sc", 0, help="spare columns the design adds (documentation)", unit="columns"),
         Param("d", 1, unlimited=True, unit="columns",
               help="compensation distance: column shift between consecutive logical rows")),
        "row_col", sizing="spare rows and columns", variant=_row_col_variant,
        level_label=lambda level, params: f"{level} spare rows + {level} spare cols (d={params.get('d')})"),
    "block": SchemeSpec(
        "block", "s spare sites inside every block of b x b logical cores",
        (Param("b", 8, minimum=1, unit="cores", help="block side"),
         Param("s", 1, help="spare sites per block"),
         Param("reach", None, unlimited=True, unit="hops",
               help="longest logical link allowed, Manhattan hops")),
        "block", sizing="spare sites per block", variant=_block_variant,
        level_label=lambda level, params: f"{level} spare sites per {params.get('b')}x{params.get('b')} block"),
}
