"""Moderation counters (issue 15): the queues read no more than they show.

- ``ix_comments_status_created_at`` (status, created_at) goes: each moderation queue
  has had its own partial index since c04693f9a0b0, and SQLite (no statistics) could
  still take the older one for a queue's page.

On PostgreSQL each index is built and dropped CONCURRENTLY, outside the migration's
transaction, as c04693f9a0b0 does.

Revision ID: d5e1a7c3b9f2
Revises: c04693f9a0b0
Create Date: 2026-12-03 19:15:00

"""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d5e1a7c3b9f2"
down_revision = "c04693f9a0b0"
branch_labels = None
depends_on = None


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


@contextmanager
def _outside_the_transaction() -> Iterator[None]:
    """PostgreSQL builds an index CONCURRENTLY only outside a transaction."""
    if _postgres():
        with op.get_context().autocommit_block():
            yield
    else:
        yield


def _create(name, table, columns, where=None):
    options = {}
    if where is not None:
        options = {"postgresql_where": sa.text(where), "sqlite_where": sa.text(where)}
    with _outside_the_transaction():
        op.create_index(name, table, columns, unique=False, postgresql_concurrently=True, **options)


def _drop(name, table):
    with _outside_the_transaction():
        op.drop_index(name, table_name=table, postgresql_concurrently=True)


def upgrade():
    _drop("ix_comments_status_created_at", "comments")


def downgrade():
    _create("ix_comments_status_created_at", "comments", ["status", "created_at"])
