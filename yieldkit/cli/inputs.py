"""Input files the commands read: paths checked by click, text decoded with a one-line error."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from yieldkit.defect_map import DefectMap
from yieldkit.errors import InputError

__all__ = ["INPUT_FILE", "read_text", "read_defect_map"]

#: An existing file, or ``-`` for standard input (missing or a folder: exit 2 at parse time).
INPUT_FILE = click.Path(exists=True, dir_okay=False, allow_dash=True)


def read_text(path: str, what: str) -> str:
    """The UTF-8 text of ``path`` (``-``: standard input); a binary file is an :class:`InputError` naming it.

    Parameters
    ----------
    path : str
        File name, or ``-``.
    what : str
        What the file should be ("a defect map"), for the message.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.json"
    >>> _ = path.write_bytes(b"\\x89PNG\\xff")
    >>> read_text(str(path), "a defect map")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    yieldkit.errors.InputError: ...w.json: not a defect map (not UTF-8 text)
    """
    name = "<stdin>" if path == "-" else path
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{name}: not {what} (not UTF-8 text)") from None


def read_defect_map(path: str) -> DefectMap:
    """The defect map JSON at ``path`` (``-``: standard input); :class:`InputError` naming the file if it is not one."""
    return DefectMap.loads(read_text(path, "a defect map"), source="<stdin>" if path == "-" else path)
