"""Progress bars on stderr, only when it is a terminal and the user did not ask for ``--quiet``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

__all__ = ["progress_bar"]


@contextmanager
def progress_bar(total: int, quiet: bool, label: str = "wafers") -> Iterator[Callable[[int], None] | None]:
    """Yield an ``update(n)`` callback drawing a bar of ``total`` steps, or None when silent.

    Parameters
    ----------
    total : int
        Steps of the whole job (wafers, levels, ...).
    quiet : bool
        The user's ``--quiet``: no bar.
    label : str
        What the steps are.

    Examples
    --------
    >>> with progress_bar(10, quiet=True) as update:
    ...     update is None
    True
    """
    if quiet or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label=label, file=click.get_text_stream("stderr")) as bar:
        yield bar.update
