"""Common ground (issue 20): each comment's reactions by the reactors' poll answers, and
the comment's common-ground and divisiveness scores.

Revision ID: b8d0f2a4c6e8
Revises: a7c9e1f3b5d8
Create Date: 2026-12-04 10:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b8d0f2a4c6e8"
down_revision = "a7c9e1f3b5d8"
branch_labels = None
depends_on = None

_TOP_LEVEL = "parent_id IS NULL"
_DIVISIVE = "divisiveness > 0"
_AUTHOR_SIDE = "author_side"


def upgrade() -> None:
    # Constant defaults: PostgreSQL adds the columns without rewriting the table, and
    # SQLite's ADD COLUMN takes them as they are.
    op.add_column(
        "comments", sa.Column("common_ground", sa.Float(), server_default="0", nullable=False)
    )
    op.add_column(
        "comments", sa.Column("divisiveness", sa.Float(), server_default="0", nullable=False)
    )
    op.create_index(
        "ix_comments_thread_common_ground", "comments",
        ["article_id", "status", sa.text("common_ground DESC"), sa.text("score DESC"), "id"],
        postgresql_where=sa.text(_TOP_LEVEL), sqlite_where=sa.text(_TOP_LEVEL),
    )  # fmt: skip
    op.create_index(
        "ix_comments_divisive", "comments", [sa.text("divisiveness DESC"), "id"],
        postgresql_where=sa.text(_DIVISIVE), sqlite_where=sa.text(_DIVISIVE),
    )  # fmt: skip
    op.create_table(
        "comment_answer_reactions",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("ups", sa.Integer(), server_default="0", nullable=False),
        sa.Column("downs", sa.Integer(), server_default="0", nullable=False),
        sa.Column("approval", sa.Float(), server_default="0.5", nullable=False),
        sa.Column("author_side", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"],
            name=op.f("fk_comment_answer_reactions_article_id_articles"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"],
            name=op.f("fk_comment_answer_reactions_comment_id_comments"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["option_id"], ["poll_options.id"],
            name=op.f("fk_comment_answer_reactions_option_id_poll_options"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("comment_id", "option_id", name=op.f("pk_comment_answer_reactions")),
    )  # fmt: skip
    op.create_index(
        "ix_comment_answer_reactions_own_side", "comment_answer_reactions",
        ["article_id", "option_id", sa.text("approval DESC"), "comment_id"],
        postgresql_where=sa.text(_AUTHOR_SIDE), sqlite_where=sa.text(_AUTHOR_SIDE),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_comment_answer_reactions_own_side", table_name="comment_answer_reactions")
    op.drop_table("comment_answer_reactions")
    op.drop_index("ix_comments_divisive", table_name="comments")
    op.drop_index("ix_comments_thread_common_ground", table_name="comments")
    for column in ("divisiveness", "common_ground"):
        if op.get_bind().dialect.name == "postgresql":
            op.drop_column("comments", column)
        else:
            # SQLite drops a column in place (3.35+); a batch copy of the table would
            # take the triggers on comments with it.
            op.execute(f"ALTER TABLE comments DROP COLUMN {column}")
