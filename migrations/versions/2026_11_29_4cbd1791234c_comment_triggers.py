"""Comment counts and authors' last rejection kept by database triggers.

``articles.comment_count`` moves with every insert, delete and change of a comment
in the statement that wrote it, so posting a comment is one statement from the app
and the counts stay right for writes made outside it. ``users.last_rejected_at``
(new) holds the latest moderation time of the user's rejected comments, so the
moderation check counts an author's recent rejections only for authors rejected
lately. The SQL is a frozen copy of webapp/models/comment_triggers.py as of this
revision (a revision must keep meaning what it meant when it ran);
tests/test_migrations.py checks that a migrated database and one made from the
models end up with the same triggers.

Upgrading recounts every article's published comments (the app kept them, but a
recount costs one statement and makes sure the triggers start from the truth) and
fills ``last_rejected_at`` from the rejected comments.

Revision ID: 4cbd1791234c
Revises: 7c1e2f9a4b30
Create Date: 2026-11-29 22:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "4cbd1791234c"
down_revision = "7c1e2f9a4b30"
branch_labels = None
depends_on = None

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


RECOUNT = """
UPDATE articles SET comment_count = (
    SELECT count(*) FROM comments
    WHERE comments.article_id = articles.id
        AND comments.status = 'published' AND comments.deleted_at IS NULL
)
"""

FILL_LAST_REJECTED = """
UPDATE users SET last_rejected_at = (
    SELECT max(comments.moderated_at) FROM comments
    WHERE comments.author_id = users.id AND comments.status = 'rejected'
)
"""


def _run(statements):
    for statement in statements:
        op.execute(statement)


def upgrade():
    op.add_column("users", sa.Column("last_rejected_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(RECOUNT)
    op.execute(FILL_LAST_REJECTED)
    _run(POSTGRES_CREATE if op.get_bind().dialect.name == "postgresql" else SQLITE_CREATE)


def downgrade():
    _run(POSTGRES_DROP if op.get_bind().dialect.name == "postgresql" else SQLITE_DROP)
    # A plain ALTER TABLE on SQLite too (3.35 and later): a batch copy would drop and
    # remake the users table, which with foreign keys on deletes what refers to it.
    op.drop_column("users", "last_rejected_at")
