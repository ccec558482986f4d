"""Indexes for a big site (issue 15): every hot page reads index ranges.

- The thread: its top-level comments per article and status, in id order
  (``ix_comments_thread_roots``) and in "top" order, score down then id up
  (``ix_comments_thread_top``), partial indexes of top-level comments; the featured
  ones alone, in both orders; a reader's own unpublished ones by author.
- Comments answering a comment (``in_reply_to_id``), which deleting it sets to NULL:
  until now each deletion read every comment to find them.
- Votes: an account's vote in a poll (thread answers, tone by vote), a visitor's
  anonymous votes by key (adopted at sign-in), and a poll's votes in id order for the
  CSV export's batches, which replaces (poll_id, created_at), read by nothing now.
- The moderation lists: each queue (pending, rejected, approved, reported) as a
  partial index in its page order, a queue item's author history, a comment's reports
  by time; the audit log by action, moderator, reader and comment in id order (these
  replace the single-column indexes of the last three); the staff by role and name.
- The editor dashboard: articles by (updated_at, id).

On PostgreSQL each index is built and dropped CONCURRENTLY, outside the migration's
transaction, so a live site keeps taking votes and comments while it builds.

Revision ID: c04693f9a0b0
Revises: 9d2e61b0c4a7
Create Date: 2026-12-03 17:00:00

"""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c04693f9a0b0"
down_revision = "9d2e61b0c4a7"
branch_labels = None
depends_on = None


TOP_LEVEL = "parent_id IS NULL"
LIVE = "deleted_at IS NULL"

# (name, table, columns, partial condition), in the order they are built.
NEW = [
    ("ix_comments_thread_roots", "comments", ["article_id", "status", "id"], TOP_LEVEL),
    (
        "ix_comments_thread_top",
        "comments",
        ["article_id", "status", sa.text("score DESC"), "id"],
        TOP_LEVEL,
    ),
    (
        "ix_comments_thread_featured",
        "comments",
        ["article_id", "status", "parent_id", "id"],
        "featured_at IS NOT NULL",
    ),
    (
        "ix_comments_thread_featured_top",
        "comments",
        ["article_id", "status", "parent_id", sa.text("score DESC"), "id"],
        "featured_at IS NOT NULL",
    ),
    (
        "ix_comments_own_unpublished_roots",
        "comments",
        ["author_id", "article_id", "id"],
        f"{TOP_LEVEL} AND status <> 'published'",
    ),
    ("ix_comments_in_reply_to_id", "comments", ["in_reply_to_id"], "in_reply_to_id IS NOT NULL"),
    (
        "ix_comments_pending_queue",
        "comments",
        ["status", "created_at", "id"],
        f"status = 'pending' AND {LIVE}",
    ),
    (
        "ix_comments_rejected_queue",
        "comments",
        ["status", "created_at", "id"],
        f"status = 'rejected' AND {LIVE}",
    ),
    (
        "ix_comments_approved_queue",
        "comments",
        ["status", "created_at", "id"],
        f"status = 'published' AND moderated_at IS NOT NULL AND {LIVE}",
    ),
    (
        "ix_comments_reported_queue",
        "comments",
        ["reported_at", "id"],
        f"reported_at IS NOT NULL AND {LIVE} AND status <> 'rejected'",
    ),
    ("ix_comments_author_history", "comments", ["author_id", "status", "flag_count"], None),
    ("ix_comment_flags_comment_id_created_at", "comment_flags", ["comment_id", "created_at"], None),
    (
        "ix_votes_poll_id_user_id",
        "votes",
        ["poll_id", "user_id", "option_id"],
        "user_id IS NOT NULL",
    ),
    ("ix_votes_anonymous_voter_key", "votes", ["voter_key"], "user_id IS NULL"),
    ("ix_votes_poll_id_id", "votes", ["poll_id", "id"], None),
    ("ix_users_role_display_name", "users", ["role", "display_name"], None),
    ("ix_articles_updated_at_id", "articles", ["updated_at", "id"], None),
    ("ix_moderation_actions_action_id", "moderation_actions", ["action", "id"], None),
    ("ix_moderation_actions_actor_id_id", "moderation_actions", ["actor_id", "id"], None),
    (
        "ix_moderation_actions_target_user_id_id",
        "moderation_actions",
        ["target_user_id", "id"],
        None,
    ),
    ("ix_moderation_actions_comment_id_id", "moderation_actions", ["comment_id", "id"], None),
]

# Indexes the new ones make redundant: (name, table, columns).
REPLACED = [
    ("ix_votes_poll_id_created_at", "votes", ["poll_id", "created_at"]),
    ("ix_moderation_actions_actor_id", "moderation_actions", ["actor_id"]),
    ("ix_moderation_actions_target_user_id", "moderation_actions", ["target_user_id"]),
    ("ix_moderation_actions_comment_id", "moderation_actions", ["comment_id"]),
]


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


def upgrade():
    for name, table, columns, where in NEW:
        _create(name, table, columns, where)
    for name, table, _columns in REPLACED:
        _drop(name, table)


def downgrade():
    for name, table, columns in reversed(REPLACED):
        _create(name, table, columns)
    for name, table, _columns, _where in reversed(NEW):
        _drop(name, table)
