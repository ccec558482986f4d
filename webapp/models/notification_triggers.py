"""Database triggers that note a published reply for its subscriber's next mail (issue 21).

A reply to a comment in ``reply_subscriptions`` writes a ``pending_reply_notices`` row
for the comment's subscriber when it becomes public: inserted published, or moved to
published later (a moderator approving a held reply, one by one or in bulk). The
comment a reply answers is ``in_reply_to_id`` when set (a reply at the deepest level
hangs under its target's parent), else ``parent_id``. A reader's own reply notes
nothing. ``ON CONFLICT DO NOTHING``: a reply published, hidden and published again is
told once.

So noting costs the posting path no statement of its own, and no path that publishes
a reply (the page, the API, moderation, a console) can forget it. What is no longer
worth telling when the mail is written (the reply deleted or rejected since, the
reader banned or unsubscribed, the comment out of their sight) is dropped then
(webapp/services/notifications/replies.py).

The statements are attached to the metadata so ``create_all`` installs them; the
Alembic revision f2b4c6d8e0a2 carries its own frozen copy, and tests/test_migrations.py
checks the two agree.
"""

from __future__ import annotations

from webapp.models.triggers import TriggerSet

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

TRIGGERS = TriggerSet(
    create={"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE},
    drop={"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP},
)
