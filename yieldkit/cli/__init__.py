"""The ``yieldkit`` command line: one package, shared options, one error boundary.

- :mod:`yieldkit.cli.root`: the root group, the sub-command registry and the
  exit codes (0 success, 1 failure, 2 bad input, 130 interrupted).
- :mod:`yieldkit.cli.command`: command classes whose errors name options.
- :mod:`yieldkit.cli.options`, :mod:`yieldkit.cli.types`: the shared options
  and number types, declared once.
- :mod:`yieldkit.cli.output`, :mod:`yieldkit.cli.progress`,
  :mod:`yieldkit.cli.inputs`: printing, progress bars, reading files.
- One module per command (``design``, ``simulate``, ``sweep``, ``defects``,
  ``repair``, ``plan``, ``demo``); ``reference`` writes the README's CLI
  reference from ``--help``.
"""

from yieldkit.cli.root import cli, main

__all__ = ["cli", "main"]
