"""Moderation counters (issue 15): placeholder, filled in by the revision's author.

Revision ID: d5e1a7c3b9f2
Revises: c04693f9a0b0
Create Date: 2026-12-03 19:15:00

"""

# revision identifiers, used by Alembic.
revision = "d5e1a7c3b9f2"
down_revision = "c04693f9a0b0"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
