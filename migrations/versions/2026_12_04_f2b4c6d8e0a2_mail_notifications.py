"""Mail notifications (issue 21): reply notifications, unsubscribes, staff alerts.

Revision ID: f2b4c6d8e0a2
Revises: e1a3b5c7d9f1
Create Date: 2026-12-04 10:45:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = "f2b4c6d8e0a2"
down_revision = "e1a3b5c7d9f1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
