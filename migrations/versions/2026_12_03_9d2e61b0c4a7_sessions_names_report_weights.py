"""Revocable sessions, look-alike names and weighted reports.

- ``users.session_generation``: part of every session cookie's identity; raising it
  ends the user's sessions (logout, sign out everywhere, password change, ban).
- ``users.name_skeleton``: the TR39 skeleton of the display name, indexed, so a new
  name that looks like an existing one is found with one read. Existing rows are
  filled by ``flask --app wsgi users reskeleton`` (left empty here: a revision must
  not depend on the app's Unicode tables of the day).
- ``comment_flags.weight``: how much a report counts toward the automatic hide.

One open report now puts a comment in the Reported queue (before, only reports up
to the threshold did), so upgrading marks comments that already have reports since
their last moderator decision as reported, from their first such report.

Revision ID: 9d2e61b0c4a7
Revises: 4cbd1791234c
Create Date: 2026-12-03 13:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9d2e61b0c4a7"
down_revision = "4cbd1791234c"
branch_labels = None
depends_on = None


OPEN_REPORTS_TO_QUEUE = """
UPDATE comments SET reported_at = (
    SELECT min(f.created_at) FROM comment_flags f
    WHERE f.comment_id = comments.id
      AND (comments.moderated_at IS NULL OR f.created_at > comments.moderated_at))
WHERE reported_at IS NULL AND deleted_at IS NULL AND status <> 'rejected'
  AND EXISTS (
    SELECT 1 FROM comment_flags f
    WHERE f.comment_id = comments.id
      AND (comments.moderated_at IS NULL OR f.created_at > comments.moderated_at))
"""


def upgrade():
    # Plain ALTER TABLE (no batch copy): a rebuilt users table would cascade-delete
    # on SQLite with foreign keys on.
    op.add_column(
        "users",
        sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column("users", sa.Column("name_skeleton", sa.String(length=255), nullable=True))
    op.create_index(op.f("ix_users_name_skeleton"), "users", ["name_skeleton"], unique=False)
    op.add_column(
        "comment_flags", sa.Column("weight", sa.Float(), server_default="1", nullable=False)
    )
    op.execute(OPEN_REPORTS_TO_QUEUE)


def downgrade():
    op.drop_column("comment_flags", "weight")
    op.drop_index(op.f("ix_users_name_skeleton"), table_name="users")
    op.drop_column("users", "name_skeleton")
    op.drop_column("users", "session_generation")
