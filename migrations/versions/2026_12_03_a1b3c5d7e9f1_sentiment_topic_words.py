"""Placeholder: issue 17, topic words carry no valence (helper topic). Filled in by its owner.

Revision ID: a1b3c5d7e9f1
Revises: b4d6f8a0c2e4
Create Date: 2026-12-03 22:00:00

"""

from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "a1b3c5d7e9f1"
down_revision = "b4d6f8a0c2e4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
