"""A set of database triggers kept beside the models, for SQLite and PostgreSQL.

The tally triggers (tally_triggers.py) and the comment triggers (comment_triggers.py)
are each one ``TriggerSet``: their SQL per dialect, installed with ``create_all``
(``attach``) or by hand around a bulk load (``remove``, then ``install``).
"""

from __future__ import annotations

import sqlalchemy as sa


class TriggerSet:
    def __init__(
        self, create: dict[str, tuple[str, ...]], drop: dict[str, tuple[str, ...]]
    ) -> None:
        self.create = create
        self.drop = drop

    def install(self, connection: sa.Connection) -> None:
        """Create the triggers (after the tables exist)."""
        for statement in self.create[connection.dialect.name]:
            connection.exec_driver_sql(statement)

    def remove(self, connection: sa.Connection) -> None:
        """Drop the triggers: for a bulk load that sets the figures itself afterwards."""
        for statement in self.drop[connection.dialect.name]:
            connection.exec_driver_sql(statement)

    def attach(self, metadata: sa.MetaData) -> None:
        """Install with ``create_all``, once every table exists; on PostgreSQL, drop
        the functions with ``drop_all`` (the triggers go with their tables)."""
        for dialect, statements in self.create.items():
            for statement in statements:
                # DDL formats its text with %: a literal one (strftime's) is doubled.
                ddl = sa.DDL(statement.replace("%", "%%")).execute_if(dialect=dialect)
                sa.event.listen(metadata, "after_create", ddl)
        for statement in self.drop["postgresql"]:
            if statement.startswith("DROP FUNCTION"):
                ddl = sa.DDL(statement).execute_if(dialect="postgresql")
                sa.event.listen(metadata, "after_drop", ddl)
