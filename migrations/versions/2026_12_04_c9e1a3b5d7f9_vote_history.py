"""Vote history (issue 20, "minds changed"): every first vote, move and withdrawal.

Revision ID: c9e1a3b5d7f9
Revises: b8d0f2a4c6e8
Create Date: 2026-12-04 10:12:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c9e1a3b5d7f9"
down_revision = "b8d0f2a4c6e8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vote_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("from_option_id", sa.Integer(), nullable=True),
        sa.Column("to_option_id", sa.Integer(), nullable=True),
        sa.Column("signed_in", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("set_aside", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_option_id"], ["poll_options.id"],
            name=op.f("fk_vote_changes_from_option_id_poll_options"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_option_id"], ["poll_options.id"],
            name=op.f("fk_vote_changes_to_option_id_poll_options"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"],
            name=op.f("fk_vote_changes_poll_id_polls"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vote_changes")),
    )  # fmt: skip
    op.create_index("ix_vote_changes_poll_id_changed_at", "vote_changes", ["poll_id", "changed_at"])
    op.create_index(op.f("ix_vote_changes_vote_id"), "vote_changes", ["vote_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_vote_changes_vote_id"), table_name="vote_changes")
    op.drop_index("ix_vote_changes_poll_id_changed_at", table_name="vote_changes")
    op.drop_table("vote_changes")
