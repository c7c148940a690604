"""The ``strangler`` command line: thin by design.

Each command parses options, calls a use case, renders the result and maps it to an
exit code. Exit codes, for every command:

* 0 - success
* 1 - the command ran but found a problem it was asked to fail on (e.g. ``--strict``)
* 2 - bad input or usage: unknown path, bad option value, unknown feature
* 130 - interrupted (Ctrl-C): nothing half-written
"""

from __future__ import annotations

from typing import IO, Any

import click

from strangler import __version__
from strangler.commands.analyze import analyze, explain, graph
from strangler.commands.dlq import dlq
from strangler.commands.extract import extract, retire
from strangler.commands.outbox import outbox
from strangler.commands.route import route

__all__ = ["EXIT_INTERRUPTED", "OneLineUsageError", "StranglerGroup", "main"]

EXIT_INTERRUPTED = 130


class OneLineUsageError(click.ClickException):
    """A usage error shown as ``strangler: error: <message>`` on one line, exit 2.

    Click prints usage errors as four lines (usage, a hint, a blank, the error); an
    operator's terminal, a CI log and a test all want the one line that matters.
    """

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"strangler: error: {self.format_message()}", err=True, file=file)


def _one_line(exc: click.UsageError) -> OneLineUsageError:
    return OneLineUsageError(" ".join(exc.format_message().split()))


class StranglerGroup(click.Group):
    """The root group: every usage error below it, parsing or raised, is one line."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:  # fmt: skip
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _one_line(exc) from None
        except KeyboardInterrupt:
            # Click's own answer is "Aborted!" and exit 1, which here means "found a
            # problem it was asked to fail on"; a shell's convention is 128 + SIGINT
            click.echo("strangler: interrupted", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None


@click.group(cls=StranglerGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
