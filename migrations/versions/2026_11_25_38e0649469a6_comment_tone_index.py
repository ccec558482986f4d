"""Index for sentiment results: published comments by article, in tone order.

Serves the per-article examples (most positive and most negative comments
without sorting them all) and the editors' overview (comment count and mean
tone grouped by article, read from the index alone on PostgreSQL).

Revision ID: 38e0649469a6
Revises: 5ba704596d6b
Create Date: 2026-11-25 07:05:43.224748

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "38e0649469a6"
down_revision = "5ba704596d6b"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_comments_tone", ["status", "article_id", "sentiment", "deleted_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_tone")
