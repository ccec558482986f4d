"""Poll integrity (issue 16): the signals kept with each vote, the groups of votes the
integrity pass finds, and the counts that keep set-aside votes out of the results.

- ``votes``: the keyed hash of the network (the address's is ``client_hash``), a hash
  of the user agent's family, the account's and the voter cookie's ages at the vote,
  whether the voter loaded the article first, and ``set_aside_at``; indexes by poll
  and address hash, and by poll and network hash, for the pass's groupings.
- ``poll_options``: ``signed_in_count`` (counted votes from accounts) and
  ``set_aside_count`` (votes set aside), kept with ``vote_count``.
- ``polls``: the editor's "signed-in readers only once under attack" and when the
  attack began; where the integrity pass got to; when the signals were dropped.
- ``integrity_groups`` and ``integrity_group_votes``: the groups and their votes.

Upgrading counts each option's signed-in votes from the rows (no vote is set aside
yet). Columns are added and dropped with plain ALTER TABLE on SQLite too (3.35 and
later): a batch copy would drop and remake ``votes`` and ``polls``, which with foreign
keys on deletes what refers to them.

Revision ID: f1c3e5a7b9d0
Revises: e8f2b4d6a0c1
Create Date: 2026-12-03 19:21:02

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f1c3e5a7b9d0"
down_revision = "e8f2b4d6a0c1"
branch_labels = None
depends_on = None

COUNT_SIGNED_IN = """
UPDATE poll_options SET signed_in_count = (
    SELECT count(*) FROM votes
    WHERE votes.option_id = poll_options.id AND votes.user_id IS NOT NULL
)
"""

VOTE_COLUMNS = [
    sa.Column("network_hash", sa.String(length=32), nullable=True),
    sa.Column("agent_hash", sa.String(length=16), nullable=True),
    sa.Column("account_age_seconds", sa.Integer(), nullable=True),
    sa.Column("cookie_age_seconds", sa.Integer(), nullable=True),
    sa.Column("saw_article", sa.Boolean(), nullable=True),
    sa.Column("set_aside_at", sa.DateTime(timezone=True), nullable=True),
]
POLL_COLUMNS = [
    sa.Column(
        "signed_in_only_under_attack", sa.Boolean(), server_default=sa.false(), nullable=False
    ),
    sa.Column("under_attack_since", sa.DateTime(timezone=True), nullable=True),
    sa.Column("integrity_scanned_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("integrity_last_vote_id", sa.Integer(), server_default="0", nullable=False),
    sa.Column("signals_dropped_at", sa.DateTime(timezone=True), nullable=True),
]
OPTION_COLUMNS = [
    sa.Column("signed_in_count", sa.Integer(), server_default="0", nullable=False),
    sa.Column("set_aside_count", sa.Integer(), server_default="0", nullable=False),
]
VOTE_INDEXES = [
    ("ix_votes_poll_id_client_hash", "client_hash"),
    ("ix_votes_poll_id_network_hash", "network_hash"),
]


def upgrade():
    op.create_table(
        "integrity_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("by_option", sa.JSON(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("z_score", sa.Float(), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('address', 'network', 'fresh_cookies', 'account_cohort', 'rate_burst')",
            name=op.f("ck_integrity_groups_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('suspect', 'set_aside', 'cleared')", name=op.f("ck_integrity_groups_status")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_integrity_groups_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_integrity_groups_poll_id_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_groups")),
        sa.UniqueConstraint(
            "poll_id", "kind", "origin", name=op.f("uq_integrity_groups_poll_id_kind_origin")
        ),
    )
    op.create_index(
        "ix_integrity_groups_poll_id_votes", "integrity_groups", ["poll_id", "votes"], unique=False
    )
    op.create_table(
        "integrity_group_votes",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["integrity_groups.id"],
            name=op.f("fk_integrity_group_votes_group_id_integrity_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vote_id"],
            ["votes.id"],
            name=op.f("fk_integrity_group_votes_vote_id_votes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "vote_id", name=op.f("pk_integrity_group_votes")),
    )
    op.create_index(
        "ix_integrity_group_votes_vote_id", "integrity_group_votes", ["vote_id"], unique=False
    )
    for column in OPTION_COLUMNS:
        op.add_column("poll_options", column)
    for column in POLL_COLUMNS:
        op.add_column("polls", column)
    for column in VOTE_COLUMNS:
        op.add_column("votes", column)
    for name, column in VOTE_INDEXES:
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            name,
            "votes",
            ["poll_id", column, "option_id"],
            unique=False,
            postgresql_where=where,
            sqlite_where=where,
        )
    op.execute(COUNT_SIGNED_IN)


def downgrade():
    for name, _column in VOTE_INDEXES:
        op.drop_index(name, table_name="votes")
    for column in reversed(VOTE_COLUMNS):
        op.drop_column("votes", column.name)
    for column in reversed(POLL_COLUMNS):
        op.drop_column("polls", column.name)
    for column in reversed(OPTION_COLUMNS):
        op.drop_column("poll_options", column.name)
    op.drop_index("ix_integrity_group_votes_vote_id", table_name="integrity_group_votes")
    op.drop_table("integrity_group_votes")
    op.drop_index("ix_integrity_groups_poll_id_votes", table_name="integrity_groups")
    op.drop_table("integrity_groups")
