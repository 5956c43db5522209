"""The error classes every package shares, and what the CLI makes of them.

- :class:`InputError`: the user gave something unusable (a malformed file,
  an out-of-range value). The CLI prints one line and exits with code 2.
  A library error may name the Python parameter it concerns
  (``parameter="kill_probability"``); the CLI then names the option the
  user typed (``--kill-probability``) instead, through :meth:`InputError.naming`.
- :class:`Failure`: the input was fine but the job could not be done (a
  wafer that cannot be repaired, a planned map the verifier rejects). One
  line, exit code 1.
"""

from __future__ import annotations

import copy

__all__ = ["Failure", "InputError"]


class InputError(ValueError):
    """The user gave something unusable: a malformed file, an out-of-range value.

    Parameters
    ----------
    message : str
        What is wrong. With ``parameter`` it is the reason alone
        ("must be finite and >= 0, got inf"); the full text is then
        ``"{parameter}: {message}"``.
    parameter : str, optional
        The library parameter (or file key) at fault.
    """

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        self.reason = message
        self.parameter = parameter
        super().__init__(f"{parameter}: {message}" if parameter else message)

    def naming(self, name: str) -> InputError:
        """The same error, naming ``name`` (e.g. the CLI option ``--d0``) instead of the parameter."""
        renamed = copy.copy(self)
        renamed.parameter = name
        renamed.args = (f"{name}: {self.reason}",)
        return renamed


class Failure(RuntimeError):
    """The input was valid but the job failed; the CLI prints one line and exits with code 1."""
