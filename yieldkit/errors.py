"""The one base class for bad input, shared by every package.

The CLI root turns an :class:`InputError` into one line on stderr and exit
code 2; any other failure becomes one line and exit code 1.
"""

__all__ = ["InputError"]


class InputError(ValueError):
    """The user gave something unusable: a malformed file, an out-of-range value."""
