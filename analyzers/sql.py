"""Which tables a raw SQL string reads and writes: ``cursor.execute("UPDATE ...")``.

A monolith's raw SQL is where the shared-table writers hide from an ORM-only view:
``UPDATE orders_order SET ...`` in a report job couples it to every other writer of
``orders_order`` exactly as ``Order.objects.update()`` would.

sqlparse (already Django's dependency) tokenizes: string literals, comments, quoted
identifiers and placeholders (``%s``, ``%(name)s``) are its job. The small state
machine below is ours: sqlparse groups tokens into statements but names no tables,
and a full SQL parser (sqlglot) costs more to import than this whole step costs on
Django's source. What it reads:

- writes: ``INSERT``/``REPLACE``/``MERGE INTO t``, ``UPDATE t``, ``DELETE FROM t``,
  ``TRUNCATE [TABLE] t``, ``CREATE``/``ALTER``/``DROP TABLE t``;
- reads: every other ``FROM``/``JOIN`` list (``FROM a x, b``), ``USING t``;
- ``FOR UPDATE`` locks the rows read (like ``select_for_update``);
- ``WITH name AS (...)``: ``name`` is no table. Schema prefixes and quotes are dropped
  (``public."Order"`` -> ``Order``).

Anything it cannot place (a table named by a placeholder, a string built at run time)
is simply not reported: never a guessed table.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlparse import lexer
from sqlparse import tokens as T

from analyzers.facts import OrmOp

__all__ = ["SqlTables", "tables_of"]

_SKIP = frozenset(
    {"IF", "NOT", "EXISTS", "IF EXISTS", "IF NOT EXISTS", "ONLY", "TABLE", "IGNORE", "LATERAL"}
)
"""Keywords that may stand between a table keyword and its name."""
_WRITES_INTO = frozenset({"INSERT", "REPLACE", "MERGE"})
_DDL = frozenset({"CREATE", "ALTER", "DROP", "TRUNCATE"})


@dataclass(frozen=True, slots=True)
class SqlTables:
    """Tables a SQL string names, in order of first appearance, each once per op."""

    accesses: tuple[tuple[str, OrmOp], ...] = ()
    locks: bool = False  # ``SELECT ... FOR UPDATE``


def tables_of(sql: str) -> SqlTables:
    """The tables ``sql`` reads and writes (see the module docstring for the rules)."""
    state = _State()
    for ttype, value in lexer.tokenize(sql):  # type: ignore[no-untyped-call]
        if ttype in T.Whitespace or ttype in T.Comment or ttype is T.Newline:
            continue
        state.feed(ttype, value)
    return SqlTables(tuple(dict.fromkeys(state.found)), state.locks)


class _State:
    def __init__(self) -> None:
        self.found: list[tuple[str, OrmOp]] = []
        self.locks = False
        self._verb = ""  # the statement's DML/DDL keyword
        self._expect: OrmOp | None = None  # what the next name is, if a table
        self._list = False  # after a table in a FROM list: ``,`` expects another
        self._alias = False  # the name just read may be followed by an alias
        self._target_taken = False  # DELETE's first FROM is its target
        self._after_for = False
        self._ctes: set[str] = set()
        self._in_with = False  # between ``WITH`` and the statement's own verb
        self._depth = 0  # parentheses: a subquery's verb is not the statement's
        self._list_op = OrmOp.READ

    def feed(self, ttype: object, value: str) -> None:
        upper = value.upper()
        if ttype is T.Punctuation:
            self._punctuation(value)
        elif ttype in T.Keyword:
            self._keyword(ttype, upper)
        elif ttype in T.Name or ttype is T.String.Symbol:
            self._name(ttype, value)
        else:
            self._expect, self._list, self._alias = None, False, False

    def _punctuation(self, value: str) -> None:
        if value == ";":
            self._verb, self._target_taken, self._ctes, self._in_with = "", False, set(), False
            self._expect, self._depth = None, 0
        elif value == "(" or value == ")":
            self._depth += 1 if value == "(" else -1
            self._expect = None
        elif value == "," and self._list:
            self._expect = self._list_op
        elif value == "." and self._alias:  # ``schema.table``: the part after the dot
            self._expect, self._alias = self._list_op, False
            if self.found:
                self.found.pop()
        else:
            self._expect = None
        if value != ".":
            self._list = self._list and value == ","
            self._alias = False

    def _keyword(self, ttype: object, upper: str) -> None:
        self._alias = False
        if self._after_for and upper == "UPDATE":
            self.locks, self._after_for = True, False
            return
        self._after_for = upper == "FOR"
        if ttype is T.Keyword.CTE:
            self._in_with = True
            return
        if ttype is T.Keyword.DML or ttype is T.Keyword.DDL:
            if self._depth <= 0:
                self._verb = self._verb or upper
                self._in_with = False
            self._expect = OrmOp.WRITE if upper == "UPDATE" or upper == "TRUNCATE" else None
            self._list = False
            return
        if self._expect is not None and upper in _SKIP:
            if upper == "TABLE" and self._verb in _DDL:
                self._expect = OrmOp.WRITE
            return
        if (upper == "TABLE" and self._verb in _DDL) or upper == "INTO":
            self._expect = OrmOp.WRITE
        elif upper == "FROM":
            if self._verb == "DELETE" and not self._target_taken:
                self._expect = OrmOp.WRITE
            else:
                self._expect = OrmOp.READ
        elif upper.endswith("JOIN") or upper == "USING":
            self._expect = OrmOp.READ
        elif upper == "AS" and self._list:
            self._alias = True  # ``FROM a AS x``: keep the list open for ``x``
            return
        else:
            self._expect = None
        self._list = False

    def _name(self, ttype: object, value: str) -> None:
        if ttype is T.Name.Placeholder:
            self._expect, self._list, self._alias = None, False, False
            return
        name = value.strip('"`[]')
        if self._in_with and self._depth <= 0:  # ``WITH name AS (...)``: not a table
            self._ctes.add(name.lower())
            return
        if self._expect is not None:
            op = self._expect
            if name.lower() not in self._ctes:
                self.found.append((name, op))
            if op is OrmOp.WRITE and self._verb == "DELETE":
                self._target_taken = True
            self._list_op, self._expect, self._list, self._alias = op, None, True, True
            return
        if self._alias:  # ``FROM orders_order o``: the alias
            self._alias = False
            return
        self._list = False
