"""Tables named by raw SQL (``analyzers.sql.tables_of``): what a cursor's SQL reads and writes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzers.facts import OrmOp
from analyzers.sql import tables_of

R, W = OrmOp.READ, OrmOp.WRITE


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM orders_order WHERE id = %s", [("orders_order", R)]),
        ('UPDATE "orders_order" SET paid = 1 WHERE id = %s', [("orders_order", W)]),
        ("INSERT INTO audit_log (x, y) VALUES (%s, %s)", [("audit_log", W)]),
        ("DELETE FROM cart_line WHERE cart_id = %(cart)s", [("cart_line", W)]),
        ("REPLACE INTO z VALUES (1)", [("z", W)]),
        ("TRUNCATE TABLE stock_level", [("stock_level", W)]),
        ("TRUNCATE stock_level", [("stock_level", W)]),
        ('DROP TABLE IF EXISTS "tmp_x"', [("tmp_x", W)]),
        ("CREATE TABLE IF NOT EXISTS tmp_y (id int)", [("tmp_y", W)]),
        # a list, aliases with and without AS, schema prefixes and quotes
        (
            "select a.x from public.orders_order as a, `orders_item` b where a.id = b.order_id",
            [("orders_order", R), ("orders_item", R)],
        ),
        # joins of every kind read
        (
            "SELECT 1 FROM o LEFT OUTER JOIN i ON i.o = o.id INNER JOIN p ON p.id = i.p",
            [("o", R), ("i", R), ("p", R)],
        ),
        # the target is written, the tables it is computed from are read
        (
            "INSERT INTO report (n) SELECT count(*) FROM orders_order",
            [("report", W), ("orders_order", R)],
        ),
        ("UPDATE a SET x = (SELECT max(y) FROM b)", [("a", W), ("b", R)]),
        ("DELETE FROM a WHERE id IN (SELECT id FROM b)", [("a", W), ("b", R)]),
        ("MERGE INTO a USING b ON a.id = b.id", [("a", W), ("b", R)]),
        # a subquery in FROM: its tables, not its alias
        (
            "SELECT * FROM (SELECT * FROM inner_t) AS q JOIN other USING (id)",
            [("inner_t", R), ("other", R)],
        ),
        # a CTE's name is no table; the statement's verb is the one after it
        (
            "WITH t AS (SELECT * FROM a), u AS (SELECT 1 FROM c) DELETE FROM b USING t",
            [("a", R), ("c", R), ("b", W)],
        ),
        # several statements
        ("UPDATE a SET x = 1; SELECT * FROM a", [("a", W), ("a", R)]),
        # words in strings and comments are not SQL
        ("SELECT 'UPDATE x SET' FROM y -- DELETE FROM z", [("y", R)]),
        ("/* INSERT INTO q */ SELECT 1", []),
        # UPDATE as a clause, not a statement: no table written
        (
            "INSERT INTO stock (sku, qty) VALUES (%s, 1) ON DUPLICATE KEY UPDATE qty = qty + 1",
            [("stock", W)],
        ),
        ("INSERT INTO a (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET x = 1", [("a", W)]),
        # FROM inside a function call, IS DISTINCT FROM, functions in a FROM list
        ("SELECT EXTRACT(EPOCH FROM created_at) FROM t", [("t", R)]),
        ("SELECT trim(leading 'x' FROM name) FROM t WHERE a IS DISTINCT FROM b", [("t", R)]),
        ("SELECT * FROM generate_series(1, 10) g JOIN t ON t.id = g", [("t", R)]),
        ("SELECT * FROM t, unnest(%s) AS u(x)", [("t", R)]),
        # USING outside DELETE/MERGE is no table
        ("CREATE INDEX i ON t USING gin (doc)", []),
        ("ALTER TABLE t ALTER c TYPE int USING c::int", [("t", W)]),
        # a write in a CTE is a write; a later statement is not lost after FOR in a call
        ("WITH d AS (DELETE FROM a WHERE x RETURNING *) SELECT * FROM d", [("a", W)]),
        ("UPDATE a SET x = substring(y FROM 1 FOR 3); UPDATE b SET y = 1", [("a", W), ("b", W)]),
        # names sqlparse knows as keywords; unquoted names fold to lowercase
        ("SELECT * FROM data d, user u, events", [("data", R), ("user", R), ("events", R)]),
        ("UPDATE LEDGER SET n = 1", [("ledger", W)]),
        ('UPDATE "Ledger" SET n = 1', [("Ledger", W)]),
        # nothing to name
        ("SELECT 1", []),
        ("SELECT * FROM %s", []),  # a table chosen at run time: never guessed
        ("", []),
        ("not sql at all", []),
    ],
)
def test_tables_and_what_is_done_to_them(sql: str, expected: list[tuple[str, OrmOp]]) -> None:
    assert list(tables_of(sql).accesses) == expected


def test_each_table_is_named_once_per_operation() -> None:
    found = tables_of("SELECT * FROM a JOIN a x ON x.p = a.id; SELECT 1 FROM a")
    assert found.accesses == (("a", R),)


def test_for_update_locks_and_a_plain_select_does_not() -> None:
    assert tables_of("SELECT * FROM a WHERE id = %s FOR UPDATE SKIP LOCKED").locked == {"a"}
    assert not tables_of("SELECT * FROM a WHERE id = %s").locks
    # ``FOR UPDATE`` is no UPDATE statement: nothing is written
    assert tables_of("SELECT * FROM a FOR UPDATE").accesses == (("a", R),)


@pytest.mark.parametrize(
    ("sql", "locked"),
    [
        ("SELECT * FROM a JOIN b ON b.a = a.id FOR UPDATE", {"a", "b"}),
        ("SELECT * FROM a JOIN b ON b.a = a.id FOR UPDATE OF a", {"a"}),
        ("SELECT * FROM orders_order o, stock s FOR UPDATE OF o NOWAIT", {"orders_order"}),
        ("SELECT * FROM a FOR NO KEY UPDATE", {"a"}),  # select_for_update(no_key=True)
        ("SELECT * FROM a FOR SHARE", {"a"}),
        ("LOCK TABLE t IN ACCESS EXCLUSIVE MODE", {"t"}),
        # a lock belongs to its statement
        ("SELECT * FROM a FOR UPDATE; SELECT * FROM b", {"a"}),
    ],
)
def test_locks_are_per_statement_and_follow_of(sql: str, locked: set[str]) -> None:
    assert tables_of(sql).locked == locked


@given(st.text(max_size=200))
def test_any_string_gives_an_answer_not_an_error(sql: str) -> None:
    found = tables_of(sql)
    assert all(name and op in (R, W) for name, op in found.accesses)
