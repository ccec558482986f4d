"""A news site's basics (issue 19): lead images, scheduled publication, site search.

Revision ID: a7c9e1f3b5d8
Revises: f6a8b0c2d4e6
Create Date: 2026-12-04 07:30:00

"""

# revision identifiers, used by Alembic.
revision = "a7c9e1f3b5d8"
down_revision = "f6a8b0c2d4e6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
