"""Placeholder: issue 17, tone intervals and moderators' tone corrections (helper trust). Filled in by its owner.

Revision ID: c3d5e7f9a1b3
Revises: b2c4d6e8f0a2
Create Date: 2026-12-03 22:00:00

"""

from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "c3d5e7f9a1b3"
down_revision = "b2c4d6e8f0a2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
