"""Mail notifications (issue 21): readers' and staff's settings, reply subscriptions,
replies waiting for their batch mail (noted by trigger), the staff alerts' marks and
the polls' hourly share snapshots (webapp/models/notifications.py).

A frozen copy of the triggers as introduced (webapp/models/notification_triggers.py);
tests/test_migrations.py checks that a migrated database has the same triggers as one
made from the models.

Revision ID: f2b4c6d8e0a2
Revises: e1a3b5c7d9f1
Create Date: 2026-12-04 10:45:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f2b4c6d8e0a2"
down_revision = "e1a3b5c7d9f1"
branch_labels = None
depends_on = None

_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"
_SQLITE_NOTE = f"""
    INSERT INTO pending_reply_notices (user_id, reply_id, created_at)
    SELECT s.user_id, NEW.id, {_SQLITE_NOW} FROM reply_subscriptions s
    WHERE s.comment_id = COALESCE(NEW.in_reply_to_id, NEW.parent_id)
        AND s.user_id <> NEW.author_id
    ON CONFLICT DO NOTHING;
"""  # nosec B608 (constants only)

SQLITE_CREATE = (
    f"""
CREATE TRIGGER IF NOT EXISTS comments_reply_notice_insert AFTER INSERT ON comments
WHEN NEW.status = 'published' AND NEW.parent_id IS NOT NULL
BEGIN{_SQLITE_NOTE}END
""",  # nosec B608 (constants only)
    f"""
CREATE TRIGGER IF NOT EXISTS comments_reply_notice_update AFTER UPDATE OF status ON comments
WHEN NEW.status = 'published' AND OLD.status <> 'published' AND NEW.parent_id IS NOT NULL
BEGIN{_SQLITE_NOTE}END
""",  # nosec B608 (constants only)
)

SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS comments_reply_notice_insert",
    "DROP TRIGGER IF EXISTS comments_reply_notice_update",
)

POSTGRES_CREATE = (
    """
CREATE OR REPLACE FUNCTION pulse_note_reply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pending_reply_notices (user_id, reply_id, created_at)
    SELECT s.user_id, NEW.id, now() FROM reply_subscriptions s
    WHERE s.comment_id = COALESCE(NEW.in_reply_to_id, NEW.parent_id)
        AND s.user_id <> NEW.author_id
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$
""",
    """
CREATE OR REPLACE TRIGGER comments_reply_notice_insert
AFTER INSERT ON comments
FOR EACH ROW WHEN (NEW.status = 'published' AND NEW.parent_id IS NOT NULL)
EXECUTE FUNCTION pulse_note_reply()
""",
    """
CREATE OR REPLACE TRIGGER comments_reply_notice_update
AFTER UPDATE OF status ON comments
FOR EACH ROW WHEN (NEW.status = 'published' AND OLD.status <> 'published'
    AND NEW.parent_id IS NOT NULL)
EXECUTE FUNCTION pulse_note_reply()
""",
)

POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS comments_reply_notice_insert ON comments",
    "DROP TRIGGER IF EXISTS comments_reply_notice_update ON comments",
    "DROP FUNCTION IF EXISTS pulse_note_reply()",
)


def upgrade() -> None:
    op.create_table(
        "notification_settings",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reply_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("replies_enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("last_reply_mail_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pending_threshold", sa.Integer(), nullable=True),
        sa.Column("reported_threshold", sa.Integer(), nullable=True),
        sa.Column("daily_digest", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_digest_on", sa.Date(), nullable=True),
        sa.Column("poll_shift_alerts", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("set_aside_alerts", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"],
            name=op.f("fk_notification_settings_user_id_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_settings")),
    )  # fmt: skip
    op.create_table(
        "reply_subscriptions",
        sa.Column("comment_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"],
            name=op.f("fk_reply_subscriptions_comment_id_comments"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"],
            name=op.f("fk_reply_subscriptions_user_id_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("comment_id", name=op.f("pk_reply_subscriptions")),
    )  # fmt: skip
    op.create_index(op.f("ix_reply_subscriptions_user_id"), "reply_subscriptions", ["user_id"])
    op.create_table(
        "pending_reply_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("reply_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reply_id"], ["comments.id"],
            name=op.f("fk_pending_reply_notices_reply_id_comments"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"],
            name=op.f("fk_pending_reply_notices_user_id_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_reply_notices")),
        sa.UniqueConstraint(
            "user_id", "reply_id", name=op.f("uq_pending_reply_notices_user_id_reply_id")
        ),
    )  # fmt: skip
    op.create_index("ix_pending_reply_notices_created_at", "pending_reply_notices", ["created_at"])
    op.create_index(
        op.f("ix_pending_reply_notices_reply_id"), "pending_reply_notices", ["reply_id"]
    )
    op.create_table(
        "staff_alert_marks",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("value", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_staff_alert_marks")),
    )
    op.create_table(
        "poll_share_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("votes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"],
            name=op.f("fk_poll_share_snapshots_poll_id_polls"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_share_snapshots")),
    )  # fmt: skip
    op.create_index(
        "ix_poll_share_snapshots_poll_id_taken_at",
        "poll_share_snapshots",
        ["poll_id", "taken_at"],
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_CREATE if postgres else SQLITE_CREATE:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_DROP if postgres else SQLITE_DROP:
        op.execute(statement)
    op.drop_index("ix_poll_share_snapshots_poll_id_taken_at", table_name="poll_share_snapshots")
    op.drop_table("poll_share_snapshots")
    op.drop_table("staff_alert_marks")
    op.drop_index(op.f("ix_pending_reply_notices_reply_id"), table_name="pending_reply_notices")
    op.drop_index("ix_pending_reply_notices_created_at", table_name="pending_reply_notices")
    op.drop_table("pending_reply_notices")
    op.drop_index(op.f("ix_reply_subscriptions_user_id"), table_name="reply_subscriptions")
    op.drop_table("reply_subscriptions")
    op.drop_table("notification_settings")
