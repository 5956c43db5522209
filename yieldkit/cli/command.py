"""Click command and group classes of every ``yieldkit`` command.

They differ from click's in one way: an :class:`~yieldkit.errors.InputError`
that names a library parameter (``kill_probability``) is re-raised naming
the option the user typed (``--kill-probability``). The table is the
command's own option declarations: an option made with
:class:`LibraryOption` states the library parameter it feeds, any other
option is matched by its Python name.
"""

from __future__ import annotations

from typing import Any

import click

from yieldkit.errors import InputError

__all__ = ["Command", "Group", "LibraryOption", "option_name", "name_the_option"]


class LibraryOption(click.Option):
    """A click option that feeds the library parameter ``parameter`` (e.g. ``--d0`` feeds ``d0_per_cm2``)."""

    def __init__(self, *args: Any, parameter: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parameter = parameter or self.name


def option_name(param: click.Parameter) -> str:
    """How the user spells ``param``: its long option (``--kill-probability``) or its metavar.

    Examples
    --------
    >>> option_name(click.Option(["-o", "--output"]))
    '--output'
    """
    if isinstance(param, click.Option):
        longs = [o for o in param.opts if o.startswith("--")]
        return (longs or param.opts)[0]
    return param.human_readable_name


def name_the_option(error: InputError, command: click.Command) -> InputError:
    """``error`` naming the option of ``command`` that feeds its parameter, if there is one.

    Examples
    --------
    >>> @click.command(cls=Command)
    ... @click.option("--kill-probability", "kill", cls=LibraryOption, parameter="kill_probability")
    ... def cmd(kill): ...
    >>> str(name_the_option(InputError("must be in [0, 1], got 2.0", parameter="kill_probability"), cmd))
    '--kill-probability: must be in [0, 1], got 2.0'
    """
    if not error.parameter or error.parameter.startswith("-"):
        return error
    for param in command.params:
        if getattr(param, "parameter", None) == error.parameter or param.name == error.parameter:
            return error.naming(option_name(param))
    return error


class Command(click.Command):
    """A click command whose input errors name options, not library parameters."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as error:
            renamed = name_the_option(error, self)
            if renamed is error:
                raise
            raise renamed from None


class Group(click.Group):
    """A click group whose commands and sub-groups are :class:`Command` and :class:`Group`."""

    command_class = Command
    group_class = type
