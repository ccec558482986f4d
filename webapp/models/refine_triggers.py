"""Database triggers that queue a comment's background re-score (issue 17).

When the configured sentiment analyser is slow, a comment is stored with the fast
analyser's score and ``tone_pending`` set (webapp/services/comments/posting.py); the
"sentiment.refine" job (webapp/services/insights/refine.py) scores it again. These
triggers write that job into ``jobs``, inside the statement that stores the comment:

- a comment inserted with ``tone_pending`` gets a job;
- an update that leaves a comment pending gets a job when its body changed or it was
  not pending before (an edit, or a re-queue); the job of an earlier body finds the
  body changed and stores nothing (``refine.refine``), so the new job scores it.

So queueing costs the posting path no statement of its own (comment posting is
measured against its floor in bench/comments.py), the job exists exactly when the
comment does, and no write path, in the app or a console, can leave a comment waiting
with no job to end the wait.

Times: ``run_after`` and ``created_at`` are the moment of the statement, in the form
the app writes them (UTC; SQLAlchemy's ``YYYY-MM-DD HH:MM:SS.ffffff`` on SQLite).

The statements are attached to the metadata so ``create_all`` installs them; the
Alembic revision that introduced them carries its own frozen copy, and
tests/test_migrations.py checks the two agree.
"""

from __future__ import annotations

from webapp.models.triggers import TriggerSet

#: The job kind these triggers queue; the handler is registered under it.
REFINE_JOB_KIND = "sentiment.refine"

_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"
_SQLITE_QUEUE = f"""
    INSERT INTO jobs (kind, payload, status, attempts, run_after, created_at)
    VALUES ('{REFINE_JOB_KIND}', json_object('comment_id', NEW.id), 'queued', 0,
        {_SQLITE_NOW}, {_SQLITE_NOW});
"""  # nosec B608 (constants only)

SQLITE_CREATE = (
    f"""
CREATE TRIGGER IF NOT EXISTS comments_refine_insert AFTER INSERT ON comments
WHEN NEW.tone_pending
BEGIN{_SQLITE_QUEUE}END
""",  # nosec B608 (constants only)
    f"""
CREATE TRIGGER IF NOT EXISTS comments_refine_update
AFTER UPDATE OF body, tone_pending ON comments
WHEN NEW.tone_pending AND (NOT OLD.tone_pending OR NEW.body IS NOT OLD.body)
BEGIN{_SQLITE_QUEUE}END
""",  # nosec B608 (constants only)
)

SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS comments_refine_insert",
    "DROP TRIGGER IF EXISTS comments_refine_update",
)

POSTGRES_CREATE = (
    f"""
CREATE OR REPLACE FUNCTION pulse_queue_refine() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO jobs (kind, payload, status, attempts, run_after, created_at)
    VALUES ('{REFINE_JOB_KIND}', json_build_object('comment_id', NEW.id), 'queued', 0,
        now(), now());
    RETURN NULL;
END
$$
""",  # nosec B608 (constants only)
    """
CREATE OR REPLACE TRIGGER comments_refine_insert
AFTER INSERT ON comments
FOR EACH ROW WHEN (NEW.tone_pending)
EXECUTE FUNCTION pulse_queue_refine()
""",
    """
CREATE OR REPLACE TRIGGER comments_refine_update
AFTER UPDATE OF body, tone_pending ON comments
FOR EACH ROW WHEN (NEW.tone_pending
    AND (NOT OLD.tone_pending OR NEW.body IS DISTINCT FROM OLD.body))
EXECUTE FUNCTION pulse_queue_refine()
""",
)

POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS comments_refine_insert ON comments",
    "DROP TRIGGER IF EXISTS comments_refine_update ON comments",
    "DROP FUNCTION IF EXISTS pulse_queue_refine()",
)

TRIGGERS = TriggerSet(
    create={"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE},
    drop={"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP},
)
