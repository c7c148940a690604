"""Which tables a raw SQL string reads and writes: ``cursor.execute("UPDATE ...")``.

A monolith's raw SQL is where the shared-table writers hide from an ORM-only view:
``UPDATE orders_order SET ...`` in a report job couples it to every other writer of
``orders_order`` exactly as ``Order.objects.update()`` would.

sqlparse (already Django's dependency) tokenizes: string literals, comments, quoted
identifiers and placeholders (``%s``, ``%(name)s``) are its job. The small state
machine below is ours: sqlparse groups tokens into statements but names no tables,
and a full SQL parser (sqlglot) costs more to import than this whole step costs on
Django's source. What it reads, per statement and per parenthesised subquery:

- writes: ``INSERT``/``REPLACE``/``MERGE INTO t``, ``UPDATE t`` (as the statement's
  verb: not MySQL's ``ON DUPLICATE KEY UPDATE`` nor ``ON CONFLICT DO UPDATE``),
  ``DELETE FROM t``, ``TRUNCATE [TABLE] t``, ``CREATE``/``ALTER``/``DROP TABLE t``;
- reads: every other ``FROM``/``JOIN`` list (``FROM a x, b``), ``USING t`` of a
  ``DELETE``/``MERGE``. A ``FROM`` inside a function call (``EXTRACT(EPOCH FROM
  c)``, ``x IS DISTINCT FROM y``) and a function in a ``FROM`` list
  (``generate_series(...)``) are no tables;
- locks: ``FOR [NO KEY] UPDATE`` / ``FOR [KEY] SHARE`` lock the tables the statement
  reads (those named by ``OF``, when given); ``LOCK [TABLE] t`` locks ``t``;
- ``WITH name AS (...)``: ``name`` is no table. Schema prefixes and quotes are
  dropped; unquoted names are lowercased, as the database folds them
  (``public."Order"`` -> ``Order``, ``ORDERS`` -> ``orders``).

Anything it cannot place (a table named by a placeholder, a string built at run
time) is not reported: never a guessed table. Known misses: MySQL's multi-table
``UPDATE a, b SET ...`` (both are reported written).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlparse import lexer
from sqlparse import tokens as T

from analyzers.facts import OrmOp

__all__ = ["SqlTables", "tables_of"]

_R, _W = OrmOp.READ, OrmOp.WRITE
_SKIP = frozenset(
    {"IF", "NOT", "EXISTS", "IF EXISTS", "IF NOT EXISTS", "ONLY", "TABLE", "IGNORE", "LATERAL"}
)
"""Keywords that may stand between a table keyword and its name."""
_STRUCTURAL = frozenset(
    {
        "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE", "SET", "WHERE",
        "VALUES", "VALUE", "ON", "USING", "AS", "FROM", "INTO", "TABLE", "DEFAULT",
        "GROUP BY", "ORDER BY", "HAVING", "LIMIT", "OFFSET", "RETURNING", "UNION",
        "UNION ALL", "INTERSECT", "EXCEPT", "WINDOW", "FOR", "WITH", "NATURAL",
        "CROSS", "LEFT", "RIGHT", "INNER", "OUTER", "FULL", "IN", "NOT", "NULL",
        "AND", "OR", "CASE", "WHEN", "THEN", "ELSE", "END", "SEQUENCE",
    }
)  # fmt: skip
"""Keywords that are never a table's name where one is expected; any other keyword
there is a name sqlparse knows as a keyword (``data``, ``user``, ``events``)."""
_DDL = frozenset({"CREATE", "ALTER", "DROP", "TRUNCATE"})
_LOCK_MODES = frozenset({"UPDATE", "SHARE"})
_LOCK_WORDS = frozenset({"NO", "KEY"})  # FOR NO KEY UPDATE, FOR KEY SHARE


@dataclass(frozen=True, slots=True)
class SqlTables:
    """Tables a SQL string names, in order of first appearance, each once per op;
    ``locked``: those whose rows (or the whole table) it locks."""

    accesses: tuple[tuple[str, OrmOp], ...] = ()
    locked: frozenset[str] = frozenset()

    @property
    def locks(self) -> bool:
        return bool(self.locked)


def tables_of(sql: str) -> SqlTables:
    """The tables ``sql`` reads and writes (see the module docstring for the rules)."""
    state = _State()
    for ttype, value in lexer.tokenize(sql):  # type: ignore[no-untyped-call]
        if ttype in T.Whitespace or ttype in T.Comment or ttype is T.Newline:
            continue
        state.feed(ttype, value)
    state.end_statement()
    accesses = tuple(dict.fromkeys((name, op) for name, op in state.found))
    return SqlTables(accesses, frozenset(state.locked))


@dataclass(slots=True)
class _Frame:
    """A statement, or a parenthesised part of one (a subquery when it starts with
    a verb; a function's arguments or a value list otherwise)."""

    verb: str = ""
    query: bool = False
    target_taken: bool = False  # DELETE's first FROM is its target


@dataclass(slots=True)
class _State:
    found: list[tuple[str, OrmOp]] = field(default_factory=list)
    locked: set[str] = field(default_factory=set)
    frames: list[_Frame] = field(default_factory=lambda: [_Frame(query=True)])
    expect: OrmOp | None = None  # what the next name is, if a table
    list_op: OrmOp = _R
    in_list: bool = False  # after a table in a list: ``,`` expects another
    alias_ok: bool = False  # the name just read may be followed by an alias
    last_table: int = -1  # index in ``found`` of the name just read
    statement_start: int = 0  # index in ``found`` where this statement began
    aliases: dict[str, str] = field(default_factory=dict)
    ctes: set[str] = field(default_factory=set)
    in_with: bool = False  # between ``WITH`` and the statement's own verb
    prev: str = ""  # the previous token's keyword (upper) or punctuation
    after_for: bool = False  # ``FOR`` [NO KEY] ... waiting for UPDATE/SHARE
    locking: bool = False  # the statement has FOR UPDATE/SHARE
    lock_of: list[str] | None = None  # names after ``OF``
    lock_table: bool = False  # ``LOCK TABLE`` statement

    def feed(self, ttype: object, value: str) -> None:
        if ttype is T.Punctuation:
            self._punctuation(value)
            self.prev = value
            return
        if ttype in T.Keyword:
            upper = value.upper()
            if self.expect is not None and self._keyword_as_name(ttype, upper):
                self._name(value)
            else:
                self._keyword(ttype, upper)
            self.prev = upper
            return
        self.after_for = False
        if ttype in T.Name or ttype is T.String.Symbol:
            if ttype is T.Name.Placeholder:
                self._reset_expect()
            else:
                self._name(value)
        else:
            self._reset_expect()
        self.prev = ""

    def end_statement(self) -> None:
        """Apply the statement's locks, then start afresh."""
        if self.locking:
            reads = [n for n, op in self.found[self.statement_start :] if op is _R]
            if self.lock_of:
                wanted = {self.aliases.get(n, n) for n in self.lock_of}
                self.locked.update(n for n in reads if n in wanted)
            else:
                self.locked.update(reads)
        self.frames = [_Frame(query=True)]
        self.statement_start = len(self.found)
        self.aliases, self.ctes = {}, set()
        self.in_with = self.after_for = self.locking = self.lock_table = False
        self.lock_of = None
        self._reset_expect()

    # ------------------------------------------------------------------ tokens
    def _reset_expect(self) -> None:
        self.expect, self.in_list, self.alias_ok, self.last_table = None, False, False, -1

    def _keyword_as_name(self, ttype: object, upper: str) -> bool:
        return ttype is T.Keyword and upper not in _STRUCTURAL and upper not in _SKIP

    def _punctuation(self, value: str) -> None:
        self.after_for = False
        if value == ";":
            self.end_statement()
            return
        if value == "(":
            if self.last_table >= 0 and self.expect is None and self.list_op is _R:
                del self.found[self.last_table]  # ``FROM generate_series(...)``: a function
            self.frames.append(_Frame())
            self._reset_expect()
            return
        if value == ")":
            if len(self.frames) > 1:
                self.frames.pop()
            self._reset_expect()
            return
        if value == "," and (self.in_list or self.lock_of is not None):
            self.expect = self.list_op if self.in_list else None
            self.alias_ok, self.last_table = False, -1
            return
        if value == "." and self.alias_ok and self.last_table >= 0:
            del self.found[self.last_table]  # ``schema.table``: the part after the dot
            self.expect, self.alias_ok, self.last_table = self.list_op, False, -1
            return
        self._reset_expect()

    def _keyword(self, ttype: object, upper: str) -> None:
        frame = self.frames[-1]
        if upper == "AS" and self.in_list and self.last_table >= 0:
            self.alias_ok = True  # ``FROM a AS x``: keep the list open for ``x``
            return
        self.alias_ok, self.last_table = False, -1
        if self.after_for:
            if upper in _LOCK_MODES:
                self.locking, self.after_for = True, False
                return
            if upper in _LOCK_WORDS:
                return
            self.after_for = False
        if upper == "FOR":
            self.after_for = True
            self._reset_expect()
            return
        if upper == "OF" and self.locking:
            self.lock_of = []
            return
        if ttype is T.Keyword.CTE:
            self.in_with = len(self.frames) == 1
            return
        if ttype is T.Keyword.DML or ttype is T.Keyword.DDL:
            self._verb(frame, upper)
            return
        if upper == "LOCK" and not frame.verb and len(self.frames) == 1:
            frame.verb, self.lock_table, self.expect = "LOCK", True, _R
            return
        if not (frame.query or len(self.frames) == 1):
            self._reset_expect()  # a function's arguments: ``EXTRACT(EPOCH FROM c)``
            return
        if self.expect is not None and upper in _SKIP:
            if upper == "TABLE" and frame.verb in _DDL:
                self.expect = _W
            return
        self._table_keyword(frame, upper)

    def _verb(self, frame: _Frame, upper: str) -> None:
        """A DML/DDL keyword: the verb of its statement or subquery if it starts one
        (``UPDATE t``), else part of a clause (``ON DUPLICATE KEY UPDATE``)."""
        starts = not frame.verb and (len(self.frames) == 1 or self.prev == "(")
        self.in_list = False
        if not starts:
            self.expect = None
            return
        frame.verb, frame.query = upper, True
        if len(self.frames) == 1:
            self.in_with = False
        self.expect = _W if upper in ("UPDATE", "TRUNCATE") else None
        self.list_op = self.expect or _R

    def _table_keyword(self, frame: _Frame, upper: str) -> None:
        expect: OrmOp | None = None
        if (upper == "TABLE" and frame.verb in _DDL) or upper == "INTO":
            expect = _W
        elif upper == "FROM":
            if self.prev == "DISTINCT":  # ``x IS DISTINCT FROM y``
                expect = None
            elif frame.verb == "DELETE" and not frame.target_taken:
                expect = _W
            else:
                expect = _R
        elif upper.endswith("JOIN") or (upper == "USING" and frame.verb in ("DELETE", "MERGE")):
            expect = _R
        self.expect, self.in_list = expect, False
        if expect is not None:
            self.list_op = expect

    def _name(self, value: str) -> None:
        self.after_for = False
        quoted = value[:1] in '"`['
        name = value.strip('"`[]')
        if not quoted:
            name = name.lower()
        if self.lock_of is not None:
            self.lock_of.append(name)
            return
        if self.in_with and len(self.frames) == 1:  # ``WITH name AS (...)``: no table
            self.ctes.add(name.lower())
            return
        if self.expect is not None:
            op = self.expect
            self.last_table = -1
            if name.lower() not in self.ctes:
                self.found.append((name, op))
                self.last_table = len(self.found) - 1
                if self.lock_table:
                    self.locked.add(name)
            frame = self.frames[-1]
            if op is _W and frame.verb == "DELETE":
                frame.target_taken = True
            self.list_op, self.expect, self.in_list, self.alias_ok = op, None, True, True
            return
        if self.alias_ok and self.last_table >= 0:  # ``FROM orders_order o``: the list
            self.aliases[name] = self.found[self.last_table][0]  # goes on after it
        else:
            self.in_list = False
        self.alias_ok, self.last_table = False, -1
