"""Moderation counters (issue 15): the queues read no more than they show.

- ``ix_comments_status_created_at`` (status, created_at) goes: each moderation queue
  has had its own partial index since c04693f9a0b0, and SQLite (no statistics) could
  still take the older one for a queue's page.
- ``moderation_queue_counts`` (new): one row, the size of each queue (pending,
  reported, rejected, approved), kept by triggers on ``comments`` with every insert,
  delete and change of status, deleted_at, moderated_at or reported_at, so the
  navigation's counts are one read of one row instead of a count of each queue (on
  PostgreSQL deferred to the commit of the transaction that made the change, so the
  row is the last lock a transaction takes and cannot be part of a deadlock).
- ``comments.open_reports`` (new): the readers who reported a comment since a
  moderator last decided on it, kept by triggers on ``comment_flags`` and on
  ``moderated_at``; the Reported queue is read in its page order from the partial
  index ``ix_comments_reported_queue_ranked`` (open_reports DESC, reported_at, id),
  which replaces ``ix_comments_reported_queue`` (reported_at, id).

The trigger SQL is a frozen copy of webapp/models/moderation_counts.py as of this
revision; tests/test_migrations.py checks that a migrated database and one made from
the models end up with the same triggers. Upgrading installs the triggers and then
fills the counts and the open reports from the rows in one transaction (on
PostgreSQL with comments and reports locked against writes meanwhile, so no write
falls between the fill and the triggers).

On PostgreSQL each index is built and dropped CONCURRENTLY, outside the migration's
transaction, as c04693f9a0b0 does.

Revision ID: d5e1a7c3b9f2
Revises: c04693f9a0b0
Create Date: 2026-12-03 19:15:00

"""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d5e1a7c3b9f2"
down_revision = "c04693f9a0b0"
branch_labels = None
depends_on = None

REPORTED = "reported_at IS NOT NULL AND deleted_at IS NULL AND status <> 'rejected'"

SQLITE_CREATE = (
    """
CREATE TRIGGER IF NOT EXISTS moderation_queue_counts_insert AFTER INSERT ON comments
WHEN (NEW.status = 'pending' AND NEW.deleted_at IS NULL) OR (NEW.reported_at IS NOT NULL AND
    NEW.deleted_at IS NULL AND NEW.status <> 'rejected') OR (NEW.status = 'rejected' AND
    NEW.deleted_at IS NULL) OR (NEW.status = 'published' AND NEW.moderated_at IS NOT NULL AND
    NEW.deleted_at IS NULL)
BEGIN
    INSERT INTO moderation_queue_counts (id, pending, reported, rejected, approved) VALUES (1,
        (NEW.status = 'pending' AND NEW.deleted_at IS NULL), (NEW.reported_at IS NOT NULL AND
        NEW.deleted_at IS NULL AND NEW.status <> 'rejected'), (NEW.status = 'rejected' AND
        NEW.deleted_at IS NULL), (NEW.status = 'published' AND NEW.moderated_at IS NOT NULL AND
        NEW.deleted_at IS NULL))
    ON CONFLICT (id) DO UPDATE SET pending = moderation_queue_counts.pending + excluded.pending,
        reported = moderation_queue_counts.reported + excluded.reported, rejected =
        moderation_queue_counts.rejected + excluded.rejected, approved =
        moderation_queue_counts.approved + excluded.approved;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS moderation_queue_counts_delete AFTER DELETE ON comments
WHEN (OLD.status = 'pending' AND OLD.deleted_at IS NULL) OR (OLD.reported_at IS NOT NULL AND
    OLD.deleted_at IS NULL AND OLD.status <> 'rejected') OR (OLD.status = 'rejected' AND
    OLD.deleted_at IS NULL) OR (OLD.status = 'published' AND OLD.moderated_at IS NOT NULL AND
    OLD.deleted_at IS NULL)
BEGIN
    INSERT INTO moderation_queue_counts (id, pending, reported, rejected, approved) VALUES (1,
        -(OLD.status = 'pending' AND OLD.deleted_at IS NULL), -(OLD.reported_at IS NOT NULL AND
        OLD.deleted_at IS NULL AND OLD.status <> 'rejected'), -(OLD.status = 'rejected' AND
        OLD.deleted_at IS NULL), -(OLD.status = 'published' AND OLD.moderated_at IS NOT NULL AND
        OLD.deleted_at IS NULL))
    ON CONFLICT (id) DO UPDATE SET pending = moderation_queue_counts.pending + excluded.pending,
        reported = moderation_queue_counts.reported + excluded.reported, rejected =
        moderation_queue_counts.rejected + excluded.rejected, approved =
        moderation_queue_counts.approved + excluded.approved;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS moderation_queue_counts_update
AFTER UPDATE OF status, deleted_at, moderated_at, reported_at ON comments
WHEN (NEW.status = 'pending' AND NEW.deleted_at IS NULL) <> (OLD.status = 'pending' AND
    OLD.deleted_at IS NULL) OR (NEW.reported_at IS NOT NULL AND NEW.deleted_at IS NULL AND
    NEW.status <> 'rejected') <> (OLD.reported_at IS NOT NULL AND OLD.deleted_at IS NULL AND
    OLD.status <> 'rejected') OR (NEW.status = 'rejected' AND NEW.deleted_at IS NULL) <>
    (OLD.status = 'rejected' AND OLD.deleted_at IS NULL) OR (NEW.status = 'published' AND
    NEW.moderated_at IS NOT NULL AND NEW.deleted_at IS NULL) <> (OLD.status = 'published' AND
    OLD.moderated_at IS NOT NULL AND OLD.deleted_at IS NULL)
BEGIN
    INSERT INTO moderation_queue_counts (id, pending, reported, rejected, approved) VALUES (1,
        (NEW.status = 'pending' AND NEW.deleted_at IS NULL) - (OLD.status = 'pending' AND
        OLD.deleted_at IS NULL), (NEW.reported_at IS NOT NULL AND NEW.deleted_at IS NULL AND
        NEW.status <> 'rejected') - (OLD.reported_at IS NOT NULL AND OLD.deleted_at IS NULL AND
        OLD.status <> 'rejected'), (NEW.status = 'rejected' AND NEW.deleted_at IS NULL) -
        (OLD.status = 'rejected' AND OLD.deleted_at IS NULL), (NEW.status = 'published' AND
        NEW.moderated_at IS NOT NULL AND NEW.deleted_at IS NULL) - (OLD.status = 'published' AND
        OLD.moderated_at IS NOT NULL AND OLD.deleted_at IS NULL))
    ON CONFLICT (id) DO UPDATE SET pending = moderation_queue_counts.pending + excluded.pending,
        reported = moderation_queue_counts.reported + excluded.reported, rejected =
        moderation_queue_counts.rejected + excluded.rejected, approved =
        moderation_queue_counts.approved + excluded.approved;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS comment_flags_open_insert AFTER INSERT ON comment_flags
BEGIN
    UPDATE comments SET open_reports = open_reports + 1
    WHERE id = NEW.comment_id AND (moderated_at IS NULL OR moderated_at < NEW.created_at);
END
""",
    """
CREATE TRIGGER IF NOT EXISTS comment_flags_open_delete AFTER DELETE ON comment_flags
BEGIN
    UPDATE comments SET open_reports = open_reports - 1
    WHERE id = OLD.comment_id AND (moderated_at IS NULL OR moderated_at < OLD.created_at);
END
""",
    """
CREATE TRIGGER IF NOT EXISTS comment_flags_open_update
AFTER UPDATE OF comment_id, created_at ON comment_flags
BEGIN
    UPDATE comments SET open_reports = open_reports - 1
    WHERE id = OLD.comment_id AND (moderated_at IS NULL OR moderated_at < OLD.created_at);
    UPDATE comments SET open_reports = open_reports + 1
    WHERE id = NEW.comment_id AND (moderated_at IS NULL OR moderated_at < NEW.created_at);
END
""",
    """
CREATE TRIGGER IF NOT EXISTS comments_open_reports_decided
AFTER UPDATE OF moderated_at ON comments
WHEN NEW.moderated_at IS NOT OLD.moderated_at
BEGIN
    UPDATE comments SET open_reports = (
        SELECT count(*) FROM comment_flags f
        WHERE f.comment_id = NEW.id
            AND (NEW.moderated_at IS NULL OR f.created_at > NEW.moderated_at)
    )
    WHERE id = NEW.id;
END
""",
)

SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS moderation_queue_counts_insert",
    "DROP TRIGGER IF EXISTS moderation_queue_counts_delete",
    "DROP TRIGGER IF EXISTS moderation_queue_counts_update",
    "DROP TRIGGER IF EXISTS comment_flags_open_insert",
    "DROP TRIGGER IF EXISTS comment_flags_open_delete",
    "DROP TRIGGER IF EXISTS comment_flags_open_update",
    "DROP TRIGGER IF EXISTS comments_open_reports_decided",
)

POSTGRES_CREATE = (
    """
CREATE OR REPLACE FUNCTION pulse_moderation_queue_counts() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    d_pending integer := 0;
    d_reported integer := 0;
    d_rejected integer := 0;
    d_approved integer := 0;
BEGIN
    IF TG_OP <> 'DELETE' THEN
        d_pending := d_pending + CAST(NEW.status = 'pending' AND NEW.deleted_at IS NULL AS
            integer);
        d_reported := d_reported + CAST(NEW.reported_at IS NOT NULL AND NEW.deleted_at IS NULL
            AND NEW.status <> 'rejected' AS integer);
        d_rejected := d_rejected + CAST(NEW.status = 'rejected' AND NEW.deleted_at IS NULL AS
            integer);
        d_approved := d_approved + CAST(NEW.status = 'published' AND NEW.moderated_at IS NOT
            NULL AND NEW.deleted_at IS NULL AS integer);
    END IF;
    IF TG_OP <> 'INSERT' THEN
        d_pending := d_pending - CAST(OLD.status = 'pending' AND OLD.deleted_at IS NULL AS
            integer);
        d_reported := d_reported - CAST(OLD.reported_at IS NOT NULL AND OLD.deleted_at IS NULL
            AND OLD.status <> 'rejected' AS integer);
        d_rejected := d_rejected - CAST(OLD.status = 'rejected' AND OLD.deleted_at IS NULL AS
            integer);
        d_approved := d_approved - CAST(OLD.status = 'published' AND OLD.moderated_at IS NOT
            NULL AND OLD.deleted_at IS NULL AS integer);
    END IF;
    IF d_pending = 0 AND d_reported = 0 AND d_rejected = 0 AND d_approved = 0 THEN
        RETURN NULL;
    END IF;
    INSERT INTO moderation_queue_counts AS c (id, pending, reported, rejected, approved)
    VALUES (1, d_pending, d_reported, d_rejected, d_approved)
    ON CONFLICT (id) DO UPDATE SET
        pending = c.pending + EXCLUDED.pending, reported = c.reported + EXCLUDED.reported,
            rejected = c.rejected + EXCLUDED.rejected, approved = c.approved +
            EXCLUDED.approved;
    RETURN NULL;
END
$$
""",
    """
CREATE CONSTRAINT TRIGGER moderation_queue_counts_insert AFTER INSERT ON comments
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ((NEW.status = 'pending' AND NEW.deleted_at IS
    NULL) OR (NEW.reported_at IS NOT NULL AND NEW.deleted_at IS NULL AND NEW.status <>
    'rejected') OR (NEW.status = 'rejected' AND NEW.deleted_at IS NULL) OR (NEW.status =
    'published' AND NEW.moderated_at IS NOT NULL AND NEW.deleted_at IS NULL))
EXECUTE FUNCTION pulse_moderation_queue_counts()
""",
    """
CREATE CONSTRAINT TRIGGER moderation_queue_counts_delete AFTER DELETE ON comments
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ((OLD.status = 'pending' AND OLD.deleted_at IS
    NULL) OR (OLD.reported_at IS NOT NULL AND OLD.deleted_at IS NULL AND OLD.status <>
    'rejected') OR (OLD.status = 'rejected' AND OLD.deleted_at IS NULL) OR (OLD.status =
    'published' AND OLD.moderated_at IS NOT NULL AND OLD.deleted_at IS NULL))
EXECUTE FUNCTION pulse_moderation_queue_counts()
""",
    """
CREATE CONSTRAINT TRIGGER moderation_queue_counts_update
AFTER UPDATE OF status, deleted_at, moderated_at, reported_at ON comments
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ((NEW.status = 'pending' AND NEW.deleted_at IS
    NULL) <> (OLD.status = 'pending' AND OLD.deleted_at IS NULL) OR (NEW.reported_at IS NOT NULL
    AND NEW.deleted_at IS NULL AND NEW.status <> 'rejected') <> (OLD.reported_at IS NOT NULL AND
    OLD.deleted_at IS NULL AND OLD.status <> 'rejected') OR (NEW.status = 'rejected' AND
    NEW.deleted_at IS NULL) <> (OLD.status = 'rejected' AND OLD.deleted_at IS NULL) OR
    (NEW.status = 'published' AND NEW.moderated_at IS NOT NULL AND NEW.deleted_at IS NULL) <>
    (OLD.status = 'published' AND OLD.moderated_at IS NOT NULL AND OLD.deleted_at IS NULL))
EXECUTE FUNCTION pulse_moderation_queue_counts()
""",
    """
CREATE OR REPLACE FUNCTION pulse_comment_open_reports() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE comments SET open_reports = open_reports - 1
        WHERE id = OLD.comment_id
            AND (moderated_at IS NULL OR moderated_at < OLD.created_at);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE comments SET open_reports = open_reports + 1
        WHERE id = NEW.comment_id
            AND (moderated_at IS NULL OR moderated_at < NEW.created_at);
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE OR REPLACE TRIGGER comment_flags_open_reports
AFTER INSERT OR DELETE OR UPDATE OF comment_id, created_at ON comment_flags
FOR EACH ROW EXECUTE FUNCTION pulse_comment_open_reports()
""",
    """
CREATE OR REPLACE FUNCTION pulse_comment_open_reports_decided() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.open_reports := (
        SELECT count(*) FROM comment_flags f
        WHERE f.comment_id = NEW.id
            AND (NEW.moderated_at IS NULL OR f.created_at > NEW.moderated_at)
    );
    RETURN NEW;
END
$$
""",
    """
CREATE OR REPLACE TRIGGER comments_open_reports_decided
BEFORE UPDATE OF moderated_at ON comments
FOR EACH ROW WHEN (NEW.moderated_at IS DISTINCT FROM OLD.moderated_at)
EXECUTE FUNCTION pulse_comment_open_reports_decided()
""",
)

POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS moderation_queue_counts_insert ON comments",
    "DROP TRIGGER IF EXISTS moderation_queue_counts_delete ON comments",
    "DROP TRIGGER IF EXISTS moderation_queue_counts_update ON comments",
    "DROP TRIGGER IF EXISTS comment_flags_open_reports ON comment_flags",
    "DROP TRIGGER IF EXISTS comments_open_reports_decided ON comments",
    "DROP FUNCTION IF EXISTS pulse_moderation_queue_counts()",
    "DROP FUNCTION IF EXISTS pulse_comment_open_reports()",
    "DROP FUNCTION IF EXISTS pulse_comment_open_reports_decided()",
)


# Each queue's condition, as the triggers and webapp/services/moderation/queues.py have it.
QUEUES = {
    "pending": "status = 'pending' AND deleted_at IS NULL",
    "reported": REPORTED,
    "rejected": "status = 'rejected' AND deleted_at IS NULL",
    "approved": "status = 'published' AND moderated_at IS NOT NULL AND deleted_at IS NULL",
}


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


@contextmanager
def _outside_the_transaction() -> Iterator[None]:
    """PostgreSQL builds an index CONCURRENTLY only outside a transaction."""
    if _postgres():
        with op.get_context().autocommit_block():
            yield
    else:
        yield


def _create(name, table, columns, where=None):
    options = {}
    if where is not None:
        options = {"postgresql_where": sa.text(where), "sqlite_where": sa.text(where)}
    with _outside_the_transaction():
        op.create_index(name, table, columns, unique=False, postgresql_concurrently=True, **options)


def _drop(name, table):
    with _outside_the_transaction():
        op.drop_index(name, table_name=table, postgresql_concurrently=True)


def _statements(kind):
    postgres = _postgres()
    if kind == "create":
        return POSTGRES_CREATE if postgres else SQLITE_CREATE
    return POSTGRES_DROP if postgres else SQLITE_DROP


def upgrade():
    _drop("ix_comments_status_created_at", "comments")
    op.create_table(
        "moderation_queue_counts",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("pending", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reported", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("approved", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_moderation_queue_counts_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_queue_counts")),
    )
    op.add_column(
        "comments", sa.Column("open_reports", sa.Integer(), server_default="0", nullable=False)
    )
    if _postgres():
        op.execute("LOCK TABLE comments, comment_flags IN SHARE ROW EXCLUSIVE MODE")
    for statement in _statements("create"):
        op.execute(statement)
    # The open reports first: setting them moves no queue (no trigger reads the column).
    op.execute(
        "UPDATE comments SET open_reports = (SELECT count(*) FROM comment_flags f "
        "WHERE f.comment_id = comments.id AND (comments.moderated_at IS NULL "
        "OR f.created_at > comments.moderated_at)) "
        "WHERE id IN (SELECT comment_id FROM comment_flags)"
    )
    counts = ", ".join(
        f"(SELECT count(*) FROM comments WHERE {condition})" for condition in QUEUES.values()
    )
    op.execute(f"INSERT INTO moderation_queue_counts (id, {', '.join(QUEUES)}) SELECT 1, {counts}")
    # Committed before the index builds (outside any transaction on PostgreSQL).
    _create(
        "ix_comments_reported_queue_ranked",
        "comments",
        [sa.text("open_reports DESC"), "reported_at", "id"],
        REPORTED,
    )
    _drop("ix_comments_reported_queue", "comments")


def downgrade():
    _create("ix_comments_reported_queue", "comments", ["reported_at", "id"], REPORTED)
    _drop("ix_comments_reported_queue_ranked", "comments")
    for statement in _statements("drop"):
        op.execute(statement)
    if _postgres():
        op.drop_column("comments", "open_reports")
    else:
        # SQLite drops a column in place (3.35+); a batch copy of the table would take
        # the other triggers on comments with it.
        op.execute("ALTER TABLE comments DROP COLUMN open_reports")
    op.drop_table("moderation_queue_counts")
    _create("ix_comments_status_created_at", "comments", ["status", "created_at"])
