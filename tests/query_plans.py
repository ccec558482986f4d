"""What a block of code asks the database, for the tests that keep pages flat: the
statements it runs (counted, not timed) and how the database plans each one, read from
its own EXPLAIN (PostgreSQL's JSON plan, SQLite's EXPLAIN QUERY PLAN) into one shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True)
class Ran:
    statement: str
    parameters: Any


@contextmanager
def statements(engine: sa.Engine) -> Iterator[list[Ran]]:
    """Every statement ``engine`` runs inside the block, with its parameters."""
    seen: list[Ran] = []

    def record(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        seen.append(Ran(statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def selects(ran: list[Ran]) -> list[Ran]:
    return [r for r in ran if r.statement.lstrip().upper().startswith(("SELECT", "WITH"))]


@dataclass
class Access:
    """One read of a table in a plan: through which index (None: the table itself), and
    whether it is a range of the index (a search) or the whole of it (a scan)."""

    table: str
    index: str | None
    ranged: bool
    #: What bounds the range, as the database prints it ("" for a scan).
    condition: str = ""


@dataclass
class Plan:
    text: str
    accesses: list[Access] = field(default_factory=list)
    #: For each sort the database does itself (not reading rows in index order), the
    #: (table, index) reads whose rows reach it with no LIMIT between: a sort of a page
    #: of rows merged from limited parts reads no table unlimited.
    sorts: list[set[tuple[str, str | None]]] = field(default_factory=list)

    def indexes(self, table: str) -> set[str | None]:
        return {a.index for a in self.accesses if a.table == table}

    def full_reads(self, *tables: str) -> list[Access]:
        """Reads of the whole of a table or of an index of it."""
        return [a for a in self.accesses if a.table in tables and not a.ranged]

    def sorts_of(self, table: str, small: frozenset[str] = frozenset()) -> int:
        """Sorts of ``table``'s rows as read (not of a page a LIMIT let through), but
        for rows read through one of the ``small`` indexes (a few rows by design)."""
        return sum(
            1
            for reads in self.sorts
            if any(name == table and index not in small for name, index in reads)
        )


def explain(connection: sa.Connection, ran: Ran) -> Plan:
    """The plan of one recorded statement, on the connection's database."""
    if connection.dialect.name == "postgresql":
        return _postgres_plan(connection, ran)
    return _sqlite_plan(connection, ran)


_SQLITE_READ = re.compile(r"(SEARCH|SCAN) (\w+)(?: AS \w+)?(?: USING (?:COVERING )?INDEX (\w+))?")


def _sqlite_plan(connection: sa.Connection, ran: Ran) -> Plan:
    rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + ran.statement, ran.parameters).all()
    depth: dict[int, int] = {0: -1}
    lines: list[str] = []
    reads: list[tuple[int, Access]] = []
    sorts: list[int] = []
    for node_id, parent, _unused, detail in rows:
        depth[node_id] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node_id] + detail)
        found = _SQLITE_READ.match(detail)
        if found:
            kind, table, index = found.groups()
            if "PRIMARY KEY" in detail:
                index = "primary key"
            bounds = detail[detail.index("(") :] if kind == "SEARCH" and "(" in detail else ""
            reads.append((parent, Access(table, index, kind == "SEARCH", bounds)))
        if detail.startswith("USE TEMP B-TREE FOR") and "ORDER BY" in detail:
            sorts.append(parent)
    # SQLite sorts what the loops beside it (the same parent) read.
    return Plan(
        "\n".join(lines),
        [access for _parent, access in reads],
        [{(a.table, a.index) for parent, a in reads if parent == where} for where in sorts],
    )


def _postgres_plan(connection: sa.Connection, ran: Ran) -> Plan:
    document = connection.exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + ran.statement, ran.parameters
    ).scalar_one()
    text = "\n".join(
        row[0]
        for row in connection.exec_driver_sql("EXPLAIN " + ran.statement, ran.parameters).all()
    )
    plan = Plan(text)
    _walk(document[0]["Plan"], plan)
    return plan


def _walk(node: dict[str, Any], plan: Plan) -> None:
    kind = node["Node Type"]
    relation = node.get("Relation Name")
    if kind == "Seq Scan" and relation:
        plan.accesses.append(Access(relation, None, False))
    elif kind in ("Index Scan", "Index Only Scan") and relation:
        condition = node.get("Index Cond", "")
        plan.accesses.append(Access(relation, node["Index Name"], bool(condition), condition))
    elif kind == "Bitmap Heap Scan" and relation:
        for index, condition in zip(
            _below(node, "Index Name"), _below(node, "Index Cond"), strict=True
        ):
            plan.accesses.append(Access(relation, index, True, condition))
    if kind in ("Sort", "Incremental Sort"):
        plan.sorts.append(set(_reads_below(node)))
    for child in node.get("Plans", []):
        _walk(child, plan)


def _below(node: dict[str, Any], key: str) -> list[str]:
    """``key`` of every node under ``node``."""
    found = []
    for child in node.get("Plans", []):
        if key in child:
            found.append(child[key])
        found.extend(_below(child, key))
    return found


def _reads_below(node: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The (table, index) reads under ``node``, not looking below a Limit."""
    found: list[tuple[str, str | None]] = []
    for child in node.get("Plans", []):
        if child["Node Type"] == "Limit":
            continue
        if "Relation Name" in child:
            indexes = [child["Index Name"]] if "Index Name" in child else []
            indexes = indexes or _below(child, "Index Name")
            found.extend((child["Relation Name"], index) for index in indexes or [None])
        found.extend(_reads_below(child))
    return found
