"""The ``strangler`` command line: thin by design.

Each command parses options, calls a use case, renders the result and maps it to an
exit code. Exit codes, for every command:

* 0 - success
* 1 - the command ran but found a problem it was asked to fail on (e.g. ``--strict``)
* 2 - bad input or usage: unknown path, bad option value, unknown feature
"""

from __future__ import annotations

import click

from strangler import __version__
from strangler.commands.analyze import analyze, explain, graph
from strangler.commands.dlq import dlq
from strangler.commands.extract import extract, retire
from strangler.commands.outbox import outbox
from strangler.commands.route import route

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="strangler")
def main() -> None:
    """Carve a Django monolith into event-driven functions, one capability at a time."""


# Commands are registered below, one module per command group, so that each stays
# small and `strangler --help` lists only what is implemented.
main.add_command(route)
main.add_command(analyze)
main.add_command(explain)
main.add_command(graph)
main.add_command(dlq)
main.add_command(outbox)
main.add_command(extract)
main.add_command(retire)
