"""Placeholder: issue 17, the database-backed job queue and comments waiting for a refined score (helper jobs). Filled in by its owner.

Revision ID: b2c4d6e8f0a2
Revises: a1b3c5d7e9f1
Create Date: 2026-12-03 22:00:00

"""

from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "b2c4d6e8f0a2"
down_revision = "a1b3c5d7e9f1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
