"""Readers' accounts by mail (issue 21): address checks, resets, address changes, deletion.

Revision ID: e1a3b5c7d9f1
Revises: d0f2a4c6e8b0
Create Date: 2026-12-04 10:45:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "e1a3b5c7d9f1"
down_revision = "d0f2a4c6e8b0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
