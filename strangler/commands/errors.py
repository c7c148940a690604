"""The one way a command stops with an error: ``strangler: error: ...`` on one line.

Click's own ``ClickException`` prints ``Error: ...``; every ``strangler`` command uses
this instead so an operator, a CI log and a test see one format (see ``strangler.cli``
for the exit codes).
"""

from __future__ import annotations

from typing import NoReturn

import click

from strangler.render.cells import shown

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "fail"]

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print ``message`` as one ``strangler: error:`` line on stderr and exit ``code``
    (a control character left in it shown as its escape, never sent to the terminal)."""
    click.echo(f"strangler: error: {shown(' '.join(message.split()))}", err=True)
    raise click.exceptions.Exit(code)
