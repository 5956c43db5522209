"""Output files: checked before the work starts, written whole or not at all.

Every file yieldkit writes goes through :func:`atomic_write` (a file object)
or :func:`atomic_path` (a temporary path, for writers that take a path, such
as ``Figure.savefig`` or ``DataFrame.to_parquet``): the content goes to a
temporary file in the target's own directory, is flushed to disk, and is
renamed over the target only when complete. A full disk, an exception or a
SIGKILL half-way leaves the previous file untouched and no stray temporary
file (on SIGKILL, a hidden ``.NAME.*.tmp`` may remain beside it; it is never
the target). New files follow the umask like any other file (``mode=0o600``
is for private keys only).

:func:`check_output_path` validates a path the user gave before any work is
done, so that a missing folder is reported in a second, not after an hour
of simulation.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from yieldkit.errors import Failure, InputError

__all__ = ["OutputError", "atomic_path", "atomic_write", "check_output_path"]


class OutputError(Failure):
    """A file could not be written (full disk, I/O error); the message names the file."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output_path(path: str | os.PathLike[str], what: str = "output") -> Path:
    """Raise :class:`InputError` naming ``what`` unless ``path`` can be created or replaced.

    Parameters
    ----------
    path : str or path-like
        The file the command will write.
    what : str
        How to name it in the message: the option (``--output``) or a word.

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Examples
    --------
    >>> check_output_path("/nonexistent-folder/x.csv", "--output")
    Traceback (most recent call last):
    ...
    yieldkit.errors.InputError: --output: /nonexistent-folder/x.csv: folder /nonexistent-folder does not exist
    """
    text = os.fspath(path)
    if not text:
        raise InputError("empty file name", parameter=what)
    target = Path(text)
    parent = target.parent
    if target.is_dir():
        raise InputError(f"{text}: is a directory", parameter=what)
    if not parent.is_dir():
        reason = "is not a folder" if parent.exists() else "does not exist"
        raise InputError(f"{text}: folder {parent} {reason}", parameter=what)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{text}: folder {parent} is not writable", parameter=what)
    if target.exists() and not os.access(target, os.W_OK):
        raise InputError(f"{text}: file is not writable", parameter=what)
    return target


@contextmanager
def atomic_path(target: str | os.PathLike[str], mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    The temporary name keeps ``target``'s suffix, so writers that infer the
    format from it (matplotlib, pandas) behave as with the real name.

    Parameters
    ----------
    target : str or path-like
        The final file.
    mode : int, optional
        Permission bits of the new file; default ``0o666`` less the umask.

    Raises
    ------
    OutputError
        The file could not be written; the target is unchanged.
    """
    final = Path(target)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=f".tmp{final.suffix}",
                                        dir=final.parent if str(final.parent) else ".")
    except OSError as exc:
        raise OutputError(f"cannot write {final}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, (0o666 & ~_umask()) if mode is None else mode)
        os.replace(tmp, final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {final}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_write(target: str | os.PathLike[str], mode: str = "w", *, permissions: int | None = None,
                 **open_kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``target`` for writing; it replaces ``target`` when the block ends.

    Parameters
    ----------
    target : str or path-like
        The final file.
    mode : {"w", "wb"}
        Text or binary.
    permissions : int, optional
        Permission bits (``0o600`` for private keys); default follows the umask.
    **open_kwargs
        Passed to :func:`open` (``encoding``, ``newline``).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_write(folder / "a.txt") as fh:
    ...     _ = fh.write("hello")
    >>> (folder / "a.txt").read_text()
    'hello'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    if mode == "w":
        open_kwargs.setdefault("encoding", "utf-8")
    with atomic_path(target, permissions) as tmp:
        try:
            with open(tmp, mode, **open_kwargs) as handle:
                yield handle
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
