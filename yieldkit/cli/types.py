"""Click parameter types for numbers: finite floats, ranges and comma lists.

Every float a ``yieldkit`` command reads goes through :class:`Number`, so
``nan`` is refused everywhere (and ``inf`` unless the option allows it)
with the option's name, before any work starts.
"""

from __future__ import annotations

import math
from typing import Any

import click

__all__ = ["Number", "NumberList", "IntList"]


class Number(click.FloatRange):
    """A float that is never NaN, finite unless ``allow_inf``, optionally within a range.

    Parameters
    ----------
    min, max : float, optional
        Bounds of the accepted values.
    min_open, max_open : bool
        Whether the bound itself is excluded.
    allow_inf : bool
        Accept ``inf``/``-inf`` (within the bounds).

    Examples
    --------
    >>> Number(min=0).convert("0.5", None, None)
    0.5
    >>> Number(min=0).convert("nan", None, None)
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: 'nan' is not a number.
    """

    name = "number"

    def __init__(self, min: float | None = None, max: float | None = None, *, min_open: bool = False,  # noqa: A002
                 max_open: bool = False, allow_inf: bool = False) -> None:
        super().__init__(min, max, min_open=min_open, max_open=max_open)
        self.allow_inf = allow_inf

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number = click.types.FloatParamType.convert(self, value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number.", param, ctx)
        if math.isinf(number) and not self.allow_inf:
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:  # noqa: D102
        return "FLOAT"


class _ListOf(click.ParamType):
    """A comma-separated list whose items are converted by ``item``; empty items are refused."""

    def __init__(self, item: click.ParamType, words: dict[str, Any] | None = None) -> None:
        self.item = item
        self.words = {k.lower(): v for k, v in (words or {}).items()}
        self.name = f"{item.name} list"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> list[Any]:
        if isinstance(value, list):
            return value
        parts = [part.strip() for part in str(value).split(",")]
        if any(not part for part in parts):
            self.fail(f"empty item in {value!r} (a comma list such as 0.1,0.2).", param, ctx)
        out = []
        for part in parts:
            if part.lower() in self.words:
                out.append(self.words[part.lower()])
                continue
            try:
                out.append(self.item.convert(part, param, ctx))
            except click.BadParameter as exc:
                self.fail(f"item {part!r}: {exc.message}", param, ctx)
        return out

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:  # noqa: D102
        return "LIST"


def NumberList(item: Number | None = None, words: dict[str, Any] | None = None) -> click.ParamType:  # noqa: N802
    """A comma list of :class:`Number` items; ``words`` maps names (``poisson``) to values.

    Examples
    --------
    >>> NumberList(Number(min=0)).convert("0.5,1,2", None, None)
    [0.5, 1.0, 2.0]
    >>> NumberList(Number(min=0)).convert("1,,2", None, None)
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: empty item in '1,,2' (a comma list such as 0.1,0.2).
    """
    return _ListOf(item or Number(), words)


def IntList(min: int | None = None) -> click.ParamType:  # noqa: N802, A002
    """A comma list of integers ``>= min``.

    Examples
    --------
    >>> IntList(min=0).convert("2,4", None, None)
    [2, 4]
    """
    return _ListOf(click.IntRange(min=min))
