"""Issue 17: the database-backed job queue, and comments waiting for a refined score.

The ``jobs`` table holds work written in the same transaction as its cause and run by
``flask --app wsgi worker`` (webapp/jobs/); ``comments.tone_pending`` is true while a
comment's re-score by the slow analyser is queued. Existing comments have none queued.

Revision ID: b2c4d6e8f0a2
Revises: a1b3c5d7e9f1
Create Date: 2026-12-03 22:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b2c4d6e8f0a2"
down_revision = "a1b3c5d7e9f1"
branch_labels = None
depends_on = None

# As webapp/models/comments.py says it: the shown comments waiting for a refined score.
_TONE_PENDING = "tone_pending AND status = 'published' AND deleted_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_jobs_attempts")),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_jobs_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(
        "ix_jobs_due",
        "jobs",
        ["run_after", "id"],
        postgresql_where=sa.text("status = 'queued'"),
        sqlite_where=sa.text("status = 'queued'"),
    )
    op.create_index(
        "ix_jobs_running",
        "jobs",
        ["locked_at"],
        postgresql_where=sa.text("status = 'running'"),
        sqlite_where=sa.text("status = 'running'"),
    )
    op.create_index(
        "ix_jobs_finished",
        "jobs",
        ["status", "finished_at"],
        postgresql_where=sa.text("finished_at IS NOT NULL"),
        sqlite_where=sa.text("finished_at IS NOT NULL"),
    )
    # A constant default: PostgreSQL adds the column without rewriting the table, and
    # SQLite's ADD COLUMN takes it as is.
    op.add_column(
        "comments",
        sa.Column("tone_pending", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index(
        "ix_comments_tone_pending",
        "comments",
        ["article_id"],
        postgresql_where=sa.text(_TONE_PENDING),
        sqlite_where=sa.text(_TONE_PENDING),
    )


def downgrade() -> None:
    op.drop_index("ix_comments_tone_pending", table_name="comments")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("comments", "tone_pending")
    else:
        # SQLite drops a column in place (3.35+); a batch copy of the table would take
        # the triggers on comments with it.
        op.execute("ALTER TABLE comments DROP COLUMN tone_pending")
    op.drop_index("ix_jobs_finished", table_name="jobs")
    op.drop_index("ix_jobs_running", table_name="jobs")
    op.drop_index("ix_jobs_due", table_name="jobs")
    op.drop_table("jobs")
