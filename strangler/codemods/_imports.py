"""Import statements for generated modules, laid out the way ruff's isort rule wants them.

Hand-written because the generated package must pass ``ruff check`` (rule ``I``) as it
is written, and calling ruff from the product would make a dev tool a runtime
dependency. The layout is isort's default profile as ruff implements it: sections
future / standard library / third party / first party, straight imports before
``from`` imports, members ordered constants, classes, then the rest (case-insensitive),
aliased members on their own line, long lines wrapped one member a line.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Collection, Iterable
from dataclasses import dataclass

__all__ = ["ImportLine", "member_key", "render_imports"]


@dataclass(frozen=True, slots=True, order=True)
class ImportLine:
    """``import module [as asname]`` when ``name`` is None, else ``from module import name``."""

    module: str
    name: str | None = None
    asname: str | None = None
    type_checking: bool = False  # only needed by annotations: under ``if TYPE_CHECKING:``

    @property
    def bound(self) -> str:
        if self.asname:
            return self.asname
        return self.name if self.name else self.module.split(".")[0]


def _section(module: str, first_party: Collection[str]) -> int:
    top = module.split(".")[0]
    if top == "__future__":
        return 0
    if top in first_party:
        return 3
    return 1 if top in sys.stdlib_module_names else 2


def natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Case-insensitive natural order, as ruff sorts: ``name_2`` before ``name_10``."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part)
        for part in re.split(r"(\d+)", text.lower())
        if part
    )


def member_key(name: str) -> tuple[int, tuple[tuple[int, int | str], ...], str]:
    """isort's order-by-type: CONSTANTS, then Classes, then the rest, case-insensitive."""
    if len(name) > 1 and name.isupper():
        kind = 0
    elif name[:1].isupper():
        kind = 1
    else:
        kind = 2
    return (kind, natural(name), name)


def _alias(name: str, asname: str | None) -> str:
    return f"{name} as {asname}" if asname else name


def _from_statement(module: str, members: list[str], indent: str, line_length: int) -> str:
    line = f"{indent}from {module} import {', '.join(members)}"
    if len(line) <= line_length:
        return line
    inner = "".join(f"{indent}    {member},\n" for member in members)
    return f"{indent}from {module} import (\n{inner}{indent})"


def _block(lines: Iterable[ImportLine], indent: str, line_length: int) -> list[str]:
    """One section's statements, in isort order."""
    lines = set(lines)
    straight = sorted(
        (line for line in lines if line.name is None),
        key=lambda line: (natural(line.module), line.asname or ""),
    )
    out = [f"{indent}import {_alias(line.module, line.asname)}" for line in straight]
    by_module: dict[str, list[ImportLine]] = {}
    for line in lines:
        if line.name is not None:
            by_module.setdefault(line.module, []).append(line)
    for module in sorted(by_module, key=natural):
        plain = sorted({line.name for line in by_module[module] if line.name and not line.asname})
        if plain:
            members = sorted(plain, key=member_key)
            out.append(_from_statement(module, members, indent, line_length))
        aliased = [line for line in by_module[module] if line.asname and line.name]
        for line in sorted(aliased, key=lambda line: member_key(line.name or "")):
            member = _alias(line.name or "", line.asname)
            out.append(_from_statement(module, [member], indent, line_length))
    return out


def render_imports(
    lines: Iterable[ImportLine], first_party: Collection[str], line_length: int = 88
) -> str:
    """The import block (sections separated by one blank line), ending with a newline."""
    lines = set(lines)
    runtime = [line for line in lines if not line.type_checking]
    guarded = [line for line in lines if line.type_checking]
    if guarded:
        runtime.append(ImportLine("typing", "TYPE_CHECKING"))
    sections: dict[int, list[ImportLine]] = {}
    for line in runtime:
        sections.setdefault(_section(line.module, first_party), []).append(line)
    blocks = ["\n".join(_block(sections[key], "", line_length)) for key in sorted(sections)]
    text = "\n\n".join(blocks) + "\n" if blocks else ""
    if guarded:
        body = _guarded(guarded, first_party, line_length)
        text += f"\nif TYPE_CHECKING:\n{body}\n"
    return text


def _guarded(lines: list[ImportLine], first_party: Collection[str], line_length: int) -> str:
    sections: dict[int, list[ImportLine]] = {}
    for line in lines:
        sections.setdefault(_section(line.module, first_party), []).append(line)
    blocks = ["\n".join(_block(sections[key], "    ", line_length)) for key in sorted(sections)]
    return "\n\n".join(blocks)
