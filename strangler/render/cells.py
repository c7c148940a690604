"""Table cells from stored data, shown as written and never interpreted by the terminal.

A dead letter holds what an event carried (its id, the error it caused) and a route's
history what an operator typed: rich reads a plain ``str`` cell as markup, so a ``[/]``
in one crashed the command with a ``MarkupError`` and a ``[link=...]`` made a hyperlink,
and a raw escape sequence (``\\x1b[2J``, ``\\x1b]8;;...``) reached the operator's terminal.
"""

from __future__ import annotations

from rich.text import Text

__all__ = ["literal", "shown"]


def literal(value: str, style: str = "") -> Text:
    """``value`` as rich text without markup, each control character as its escape."""
    return Text(shown(value), style=style)


def shown(value: str) -> str:
    """``value`` with each control (non-printable) character as its escape: ``\\x1b``."""
    return "".join(_shown(char) for char in value)


def _shown(char: str) -> str:
    return char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
