"""Vote history (issue 20, "minds changed"): every first vote, move and withdrawal.

The table; the triggers on ``votes`` that append to it in the statement that changed
the vote (a frozen copy of webapp/models/vote_history_triggers.py as introduced:
tests/test_migrations.py checks that a migrated database has the same triggers as one
made from the models); and a backfill: every vote already stored gets one first-vote
row at its ``created_at``, for the answer it holds now. What happened before the
history began is not known: a vote moved before this revision shows as a first vote
for its current answer (its moves are lost), and earlier withdrawals left no row.

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

_COLUMNS = "(poll_id, vote_id, from_option_id, to_option_id, signed_in, set_aside, changed_at)"
_THIS_VOTES_ROWS = (
    "vote_id = NEW.id AND id >= coalesce((SELECT max(f.id) FROM vote_changes f "
    "WHERE f.vote_id = NEW.id AND f.from_option_id IS NULL), 0)"
)

SQLITE_CREATE = (
    f"""
CREATE TRIGGER IF NOT EXISTS votes_history_insert AFTER INSERT ON votes
BEGIN
    INSERT INTO vote_changes {_COLUMNS}
    VALUES (NEW.poll_id, NEW.id, NULL, NEW.option_id, NEW.user_id IS NOT NULL,
        NEW.set_aside_at IS NOT NULL, NEW.created_at);
END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS votes_history_move AFTER UPDATE OF option_id ON votes
WHEN NEW.option_id <> OLD.option_id
BEGIN
    INSERT INTO vote_changes {_COLUMNS}
    VALUES (NEW.poll_id, NEW.id, OLD.option_id, NEW.option_id, NEW.user_id IS NOT NULL,
        NEW.set_aside_at IS NOT NULL, NEW.updated_at);
END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS votes_history_set_aside AFTER UPDATE OF set_aside_at ON votes
WHEN (OLD.set_aside_at IS NULL) <> (NEW.set_aside_at IS NULL)
BEGIN
    UPDATE vote_changes SET set_aside = NEW.set_aside_at IS NOT NULL
    WHERE {_THIS_VOTES_ROWS};
END
""",  # nosec B608
    f"""
CREATE TRIGGER IF NOT EXISTS votes_history_delete AFTER DELETE ON votes
WHEN EXISTS (SELECT 1 FROM poll_options o JOIN polls p ON p.id = o.poll_id
    WHERE o.id = OLD.option_id)
BEGIN
    INSERT INTO vote_changes {_COLUMNS}
    VALUES (OLD.poll_id, OLD.id, OLD.option_id, NULL, OLD.user_id IS NOT NULL,
        OLD.set_aside_at IS NOT NULL, strftime('%Y-%m-%d %H:%M:%f', 'now') || '000');
END
""",
)

SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS votes_history_insert",
    "DROP TRIGGER IF EXISTS votes_history_move",
    "DROP TRIGGER IF EXISTS votes_history_set_aside",
    "DROP TRIGGER IF EXISTS votes_history_delete",
)

POSTGRES_CREATE = (
    f"""
CREATE OR REPLACE FUNCTION pulse_vote_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO vote_changes {_COLUMNS}
        VALUES (NEW.poll_id, NEW.id, NULL, NEW.option_id, NEW.user_id IS NOT NULL,
            NEW.set_aside_at IS NOT NULL, NEW.created_at);
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM 1 FROM poll_options o JOIN polls p ON p.id = o.poll_id
        WHERE o.id = OLD.option_id;
        IF FOUND THEN  -- else the option or the poll is being deleted with its votes
            INSERT INTO vote_changes {_COLUMNS}
            VALUES (OLD.poll_id, OLD.id, OLD.option_id, NULL, OLD.user_id IS NOT NULL,
                OLD.set_aside_at IS NOT NULL, now());
        END IF;
        RETURN NULL;
    END IF;
    IF (OLD.set_aside_at IS NULL) <> (NEW.set_aside_at IS NULL) THEN
        UPDATE vote_changes SET set_aside = NEW.set_aside_at IS NOT NULL
        WHERE {_THIS_VOTES_ROWS};
    END IF;
    IF NEW.option_id <> OLD.option_id THEN
        INSERT INTO vote_changes {_COLUMNS}
        VALUES (NEW.poll_id, NEW.id, OLD.option_id, NEW.option_id, NEW.user_id IS NOT NULL,
            NEW.set_aside_at IS NOT NULL, NEW.updated_at);
    END IF;
    RETURN NULL;
END
$$
""",  # nosec B608
    """
CREATE OR REPLACE TRIGGER votes_vote_changes
AFTER INSERT OR DELETE OR UPDATE OF option_id, set_aside_at ON votes
FOR EACH ROW EXECUTE FUNCTION pulse_vote_changes()
""",
)

POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS votes_vote_changes ON votes",
    "DROP FUNCTION IF EXISTS pulse_vote_changes()",
)

# Every vote already stored: a first vote at its creation, for the answer it holds now.
_BACKFILL = f"""
INSERT INTO vote_changes {_COLUMNS}
SELECT poll_id, id, NULL, option_id, user_id IS NOT NULL, set_aside_at IS NOT NULL, created_at
FROM votes ORDER BY id
"""  # nosec B608


def _run(statements: tuple[str, ...]) -> None:
    for statement in statements:
        op.execute(statement)


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
    op.execute(_BACKFILL)
    postgres = op.get_bind().dialect.name == "postgresql"
    _run(POSTGRES_CREATE if postgres else SQLITE_CREATE)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    _run(POSTGRES_DROP if postgres else SQLITE_DROP)
    op.drop_index(op.f("ix_vote_changes_vote_id"), table_name="vote_changes")
    op.drop_index("ix_vote_changes_poll_id_changed_at", table_name="vote_changes")
    op.drop_table("vote_changes")
