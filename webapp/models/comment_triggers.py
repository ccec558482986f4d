"""Database triggers that keep two figures in step with the comment rows.

- ``articles.comment_count``, the article's published comments: a comment counts
  while its status is ``published`` and it is not deleted (``deleted_at`` empty).
  Every insert, delete and change of ``status``, ``deleted_at`` or ``article_id`` of
  a comment moves the count of the article it leaves or joins, inside the statement
  that wrote the comment. A comment deleted because its article is being deleted
  moves nothing that stays (the article goes with it).
- ``users.last_rejected_at``, the latest ``moderated_at`` of the user's rejected
  comments (or later: a comment rejected and then approved leaves it as it was).
  Every insert, and every change of ``status``, ``moderated_at`` or ``author_id``,
  of a comment that is then rejected with a ``moderated_at`` moves it forward, never
  back. So an author with no rejection since a moment has no rejected comment
  moderated since then, and the moderation check asks for the author's recent
  rejections only when this says there may be some.

So a posted comment is one statement from the app, not an INSERT and an UPDATE;
both figures stay right for every write, including ones made outside the app (a
console, a script, a cascade from a deleted user), and no new code path can forget
them. ``webapp.services.comments.recount_article`` is the check for the counts.

On PostgreSQL a comment moved between two articles (nothing in the app does so)
touches the two in ascending id order, as the poll tallies do, so two such moves
cannot deadlock.

The statements are attached to the metadata so ``create_all`` installs them; the
Alembic revision that introduced them carries its own frozen copy, and
tests/test_migrations.py checks the two agree.
"""

from __future__ import annotations

from webapp.models.triggers import TriggerSet

SQLITE_CREATE = (
    """
CREATE TRIGGER IF NOT EXISTS comments_count_insert AFTER INSERT ON comments
WHEN NEW.status = 'published' AND NEW.deleted_at IS NULL
BEGIN
    UPDATE articles SET comment_count = comment_count + 1 WHERE id = NEW.article_id;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS comments_count_delete AFTER DELETE ON comments
WHEN OLD.status = 'published' AND OLD.deleted_at IS NULL
BEGIN
    UPDATE articles SET comment_count = comment_count - 1 WHERE id = OLD.article_id;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS comments_count_update
AFTER UPDATE OF status, deleted_at, article_id ON comments
WHEN (OLD.status = 'published' AND OLD.deleted_at IS NULL)
    <> (NEW.status = 'published' AND NEW.deleted_at IS NULL)
    OR (NEW.article_id <> OLD.article_id AND NEW.status = 'published'
        AND NEW.deleted_at IS NULL)
BEGIN
    UPDATE articles SET comment_count = comment_count - 1
    WHERE id = OLD.article_id AND OLD.status = 'published' AND OLD.deleted_at IS NULL;
    UPDATE articles SET comment_count = comment_count + 1
    WHERE id = NEW.article_id AND NEW.status = 'published' AND NEW.deleted_at IS NULL;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS comments_rejection_insert AFTER INSERT ON comments
WHEN NEW.status = 'rejected' AND NEW.moderated_at IS NOT NULL
BEGIN
    UPDATE users SET last_rejected_at = NEW.moderated_at
    WHERE id = NEW.author_id
        AND (last_rejected_at IS NULL OR last_rejected_at < NEW.moderated_at);
END
""",
    """
CREATE TRIGGER IF NOT EXISTS comments_rejection_update
AFTER UPDATE OF status, moderated_at, author_id ON comments
WHEN NEW.status = 'rejected' AND NEW.moderated_at IS NOT NULL
BEGIN
    UPDATE users SET last_rejected_at = NEW.moderated_at
    WHERE id = NEW.author_id
        AND (last_rejected_at IS NULL OR last_rejected_at < NEW.moderated_at);
END
""",
)

SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS comments_count_insert",
    "DROP TRIGGER IF EXISTS comments_count_delete",
    "DROP TRIGGER IF EXISTS comments_count_update",
    "DROP TRIGGER IF EXISTS comments_rejection_insert",
    "DROP TRIGGER IF EXISTS comments_rejection_update",
)

POSTGRES_CREATE = (
    """
CREATE OR REPLACE FUNCTION pulse_comment_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    leaves integer;  -- the article losing a counted comment, if any
    joins integer;  -- the article gaining one, if any
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.status = 'published' AND OLD.deleted_at IS NULL THEN
            leaves := OLD.article_id;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.status = 'published' AND NEW.deleted_at IS NULL THEN
            joins := NEW.article_id;
        END IF;
    END IF;
    IF leaves IS NOT DISTINCT FROM joins THEN
        RETURN NULL;
    END IF;
    IF leaves IS NOT NULL AND (joins IS NULL OR leaves < joins) THEN
        UPDATE articles SET comment_count = comment_count - 1 WHERE id = leaves;
        leaves := NULL;
    END IF;
    IF joins IS NOT NULL THEN
        UPDATE articles SET comment_count = comment_count + 1 WHERE id = joins;
    END IF;
    IF leaves IS NOT NULL THEN
        UPDATE articles SET comment_count = comment_count - 1 WHERE id = leaves;
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION pulse_comment_rejection() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET last_rejected_at = NEW.moderated_at
    WHERE id = NEW.author_id
        AND (last_rejected_at IS NULL OR last_rejected_at < NEW.moderated_at);
    RETURN NULL;
END
$$
""",
    """
CREATE OR REPLACE TRIGGER comments_count
AFTER INSERT OR DELETE OR UPDATE OF status, deleted_at, article_id ON comments
FOR EACH ROW EXECUTE FUNCTION pulse_comment_count()
""",
    """
CREATE OR REPLACE TRIGGER comments_rejection
AFTER INSERT OR UPDATE OF status, moderated_at, author_id ON comments
FOR EACH ROW WHEN (NEW.status = 'rejected' AND NEW.moderated_at IS NOT NULL)
EXECUTE FUNCTION pulse_comment_rejection()
""",
)

POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS comments_count ON comments",
    "DROP TRIGGER IF EXISTS comments_rejection ON comments",
    "DROP FUNCTION IF EXISTS pulse_comment_count()",
    "DROP FUNCTION IF EXISTS pulse_comment_rejection()",
)

TRIGGERS = TriggerSet(
    create={"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE},
    drop={"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP},
)
