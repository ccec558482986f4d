"""Embedding Pulse in other sites (issue 22): registered sites, threads by URL, host
sign-in.

Revision ID: a3c5e7f9b1d3
Revises: f2b4c6d8e0a2
Create Date: 2026-12-04 10:50:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "a3c5e7f9b1d3"
down_revision = "f2b4c6d8e0a2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
