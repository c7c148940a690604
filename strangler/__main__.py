"""``strangler`` and ``python -m strangler``: the CLI, with Ctrl-C honoured from the start.

Why not point the console script at :func:`strangler.cli.main` directly: importing the
commands (click, rich, django, celery, networkx) takes most of a second, and a Ctrl-C
then printed a 26-line traceback from inside an import. Here it is the same one line
and exit code (130) as a Ctrl-C while a command runs.
"""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130


def main() -> None:
    try:
        from strangler.cli import main as cli
    except KeyboardInterrupt:
        sys.stderr.write("strangler: interrupted\n")
        raise SystemExit(EXIT_INTERRUPTED) from None
    cli()


if __name__ == "__main__":
    main()
