"""What the moderation queues count and rank by, kept by database triggers.

- ``moderation_queue_counts``: one row, the size of each queue (pending, reported,
  rejected, approved), for the navigation every moderator's page shows. A comment is
  in a queue by exactly the condition of that queue's partial index
  (webapp/services/moderation/queues.py, ``_queue_filter``):

  - pending: ``status = 'pending'`` and not deleted;
  - reported: ``reported_at`` set, not deleted, and not rejected;
  - rejected: ``status = 'rejected'`` and not deleted;
  - approved: ``status = 'published'``, ``moderated_at`` set, and not deleted.

  Every insert and delete of a comment, and every change of its ``status``,
  ``deleted_at``, ``moderated_at`` or ``reported_at``, moves the counts of the queues
  it leaves and joins, in the transaction that wrote it. One row rather than one per
  queue: a decision moves two queues, and two transactions taking two rows each in
  different orders could deadlock; one row is taken once. On PostgreSQL the row is
  moved when the transaction commits (deferred constraint triggers, each change as
  it was made): a transaction takes it after every other row it writes (comments,
  articles' counts, authors) and takes nothing after it, so a bulk decision and a
  decision on the same article cannot deadlock over it, and it is held only while
  committing. So within a transaction, PostgreSQL's counts show its own changes only
  once committed (SQLite moves them in the statement; it has one writer at a time).
  Its writes upsert, so a row emptied out of the table (a test's cleanup) starts again
  from zero.
- ``comments.open_reports``: the readers who reported a comment since a moderator last
  decided on it (reports made after its ``moderated_at``, all of them if none), which
  ranks the Reported queue (its partial index ``ix_comments_reported_queue_ranked``).
  A report inserted or deleted (a reader's account deleted takes their reports) moves
  it; a change of ``moderated_at`` (a decision) sets it from the comment's reports
  after the new time (none, for a decision made now).

So the counts and the rank stay right for every write, the app's and any other
(a console, a script, a cascade); ``webapp.services.moderation.counter_drift`` checks
them against the rows. The statements are attached to the metadata so ``create_all``
installs them; the Alembic revision that introduced them (d5e1a7c3b9f2) carries its
own frozen copy, and tests/test_migrations.py checks the two agree.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base
from webapp.models.triggers import TriggerSet

QUEUES = ("pending", "reported", "rejected", "approved")


class ModerationQueueCounts(Base):
    """The one row of queue sizes (id 1)."""

    __tablename__ = "moderation_queue_counts"
    __table_args__ = (sa.CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    pending: Mapped[int] = mapped_column(default=0, server_default="0")
    reported: Mapped[int] = mapped_column(default=0, server_default="0")
    rejected: Mapped[int] = mapped_column(default=0, server_default="0")
    approved: Mapped[int] = mapped_column(default=0, server_default="0")


def in_queue(row: str) -> dict[str, str]:
    """Each queue's condition on the comment ``row`` (NEW, OLD, or a table's name)."""
    live = f"{row}.deleted_at IS NULL"
    return {
        "pending": f"{row}.status = 'pending' AND {live}",
        "reported": f"{row}.reported_at IS NOT NULL AND {live} AND {row}.status <> 'rejected'",
        "rejected": f"{row}.status = 'rejected' AND {live}",
        "approved": f"{row}.status = 'published' AND {row}.moderated_at IS NOT NULL AND {live}",
    }


_NEW, _OLD = in_queue("NEW"), in_queue("OLD")
_COLUMNS = ", ".join(QUEUES)
_ADD = ", ".join(f"{q} = moderation_queue_counts.{q} + excluded.{q}" for q in QUEUES)


def _sqlite_upsert(deltas: dict[str, str]) -> str:
    values = ", ".join(deltas[q] for q in QUEUES)
    return (
        f"INSERT INTO moderation_queue_counts (id, {_COLUMNS}) VALUES (1, {values})\n"
        f"    ON CONFLICT (id) DO UPDATE SET {_ADD};"  # nosec B608
    )


def _any(conditions: dict[str, str]) -> str:
    return " OR ".join(f"({conditions[q]})" for q in QUEUES)


def _changed() -> str:
    return " OR ".join(f"({_NEW[q]}) <> ({_OLD[q]})" for q in QUEUES)


SQLITE_CREATE = (
    f"""
CREATE TRIGGER IF NOT EXISTS moderation_queue_counts_insert AFTER INSERT ON comments
WHEN {_any(_NEW)}
BEGIN
    {_sqlite_upsert({q: f"({_NEW[q]})" for q in QUEUES})}
END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS moderation_queue_counts_delete AFTER DELETE ON comments
WHEN {_any(_OLD)}
BEGIN
    {_sqlite_upsert({q: f"-({_OLD[q]})" for q in QUEUES})}
END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS moderation_queue_counts_update
AFTER UPDATE OF status, deleted_at, moderated_at, reported_at ON comments
WHEN {_changed()}
BEGIN
    {_sqlite_upsert({q: f"({_NEW[q]}) - ({_OLD[q]})" for q in QUEUES})}
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


def _pg_deltas(row: str, sign: str) -> str:
    conditions = in_queue(row)
    return "\n".join(
        f"        d_{q} := d_{q} {sign} CAST({conditions[q]} AS integer);" for q in QUEUES
    )


POSTGRES_CREATE = (
    f"""
CREATE OR REPLACE FUNCTION pulse_moderation_queue_counts() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    d_pending integer := 0;
    d_reported integer := 0;
    d_rejected integer := 0;
    d_approved integer := 0;
BEGIN
    IF TG_OP <> 'DELETE' THEN
{_pg_deltas("NEW", "+")}
    END IF;
    IF TG_OP <> 'INSERT' THEN
{_pg_deltas("OLD", "-")}
    END IF;
    IF d_pending = 0 AND d_reported = 0 AND d_rejected = 0 AND d_approved = 0 THEN
        RETURN NULL;
    END IF;
    INSERT INTO moderation_queue_counts AS c (id, {_COLUMNS})
    VALUES (1, d_pending, d_reported, d_rejected, d_approved)
    ON CONFLICT (id) DO UPDATE SET
        {", ".join(f"{q} = c.{q} + EXCLUDED.{q}" for q in QUEUES)};
    RETURN NULL;
END
$$
""",  # nosec B608
    f"""
CREATE CONSTRAINT TRIGGER moderation_queue_counts_insert AFTER INSERT ON comments
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({_any(_NEW)})
EXECUTE FUNCTION pulse_moderation_queue_counts()
""",
    f"""
CREATE CONSTRAINT TRIGGER moderation_queue_counts_delete AFTER DELETE ON comments
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({_any(_OLD)})
EXECUTE FUNCTION pulse_moderation_queue_counts()
""",
    f"""
CREATE CONSTRAINT TRIGGER moderation_queue_counts_update
AFTER UPDATE OF status, deleted_at, moderated_at, reported_at ON comments
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({_changed()})
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

TRIGGERS = TriggerSet(
    create={"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE},
    drop={"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP},
)
# Registered here, on import (webapp/models/__init__.py imports this module in one line).
TRIGGERS.attach(Base.metadata)
