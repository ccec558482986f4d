"""Readers' accounts by mail (issue 21): address checks, resets, address changes, deletion.

Revision ID: e1a3b5c7d9f1
Revises: d0f2a4c6e8b0
Create Date: 2026-12-04 10:45:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e1a3b5c7d9f1"
down_revision = "d0f2a4c6e8b0"
branch_labels = None
depends_on = None


_COLUMNS = ("email_verified_at", "deleted_at")


def upgrade() -> None:
    # Accounts made before address checks existed start unproven: nothing says their
    # address was ever theirs (README: "only verified readers may comment").
    for name in _COLUMNS:
        op.add_column("users", sa.Column(name, sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for name in reversed(_COLUMNS):
        if op.get_bind().dialect.name == "postgresql":
            op.drop_column("users", name)
        else:
            # SQLite drops a column in place (3.35+); a batch copy of the table would
            # take the triggers on users with it.
            op.execute(f"ALTER TABLE users DROP COLUMN {name}")
