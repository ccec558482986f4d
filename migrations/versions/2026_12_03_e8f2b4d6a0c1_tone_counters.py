"""Tone counters (issue 15): placeholder, filled in by the revision's author.

Revision ID: e8f2b4d6a0c1
Revises: d5e1a7c3b9f2
Create Date: 2026-12-03 19:16:00

"""

# revision identifiers, used by Alembic.
revision = "e8f2b4d6a0c1"
down_revision = "d5e1a7c3b9f2"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
