"""Articles in publication order (issue 15): the editors' overview and its CSV, which
list every article (drafts too) newest first, and a running question's trend walk
``ix_articles_published_at_id`` instead of sorting every article for each page.
``ix_articles_status_published_at`` serves only lists of one status.

On PostgreSQL the index is built and dropped CONCURRENTLY, outside the migration's
transaction, so a live site keeps publishing while it builds.

Revision ID: d4e6f8a0b2c4
Revises: c3d5e7f9a1b3
Create Date: 2026-12-03 22:05:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "d4e6f8a0b2c4"
down_revision = "c3d5e7f9a1b3"
branch_labels = None
depends_on = None

NAME = "ix_articles_published_at_id"


def _outside_the_transaction():  # type: ignore[no-untyped-def]
    """PostgreSQL builds an index CONCURRENTLY only outside a transaction."""
    if op.get_bind().dialect.name == "postgresql":
        return op.get_context().autocommit_block()
    from contextlib import nullcontext

    return nullcontext()


def upgrade() -> None:
    with _outside_the_transaction():
        op.create_index(NAME, "articles", ["published_at", "id"], postgresql_concurrently=True)


def downgrade() -> None:
    with _outside_the_transaction():
        op.drop_index(NAME, table_name="articles", postgresql_concurrently=True)
