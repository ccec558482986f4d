"""Comments in place (issue 19): what retried posts and undoable deletes need.

Revision ID: f6a8b0c2d4e6
Revises: e5f7a9b1c3d5
Create Date: 2026-12-04 07:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f6a8b0c2d4e6"
down_revision = "e5f7a9b1c3d5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A comment form's idempotency key (per author): a retried POST finds its comment.
    op.create_table(
        "comment_post_keys",
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"],
            name=op.f("fk_comment_post_keys_author_id_users"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"],
            name=op.f("fk_comment_post_keys_comment_id_comments"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("author_id", "key", name=op.f("pk_comment_post_keys")),
    )  # fmt: skip
    op.create_index(op.f("ix_comment_post_keys_comment_id"), "comment_post_keys", ["comment_id"])
    # A deletion its reader may still undo, with the text it took away.
    op.create_table(
        "comment_deletions",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("deleted_by", sa.Integer(), nullable=False),
        sa.Column("undo_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("featured_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"],
            name=op.f("fk_comment_deletions_comment_id_comments"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"], ["users.id"],
            name=op.f("fk_comment_deletions_deleted_by_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("comment_id", name=op.f("pk_comment_deletions")),
    )  # fmt: skip
    op.create_index(op.f("ix_comment_deletions_undo_until"), "comment_deletions", ["undo_until"])


def downgrade() -> None:
    op.drop_index(op.f("ix_comment_deletions_undo_until"), table_name="comment_deletions")
    op.drop_table("comment_deletions")
    op.drop_index(op.f("ix_comment_post_keys_comment_id"), table_name="comment_post_keys")
    op.drop_table("comment_post_keys")
