"""An anonymous vote no longer calls the common-ground trigger function (PostgreSQL).

``votes_weigh_common_ground`` ran ``pulse_vote_common_ground()`` for every vote, and
for an anonymous one (most first votes) the function found nothing to do only after
taking a lock query and two calls. It becomes three triggers, one per event, whose
WHEN clause lets only a vote that is or was an account's reach the function, as the
tone counters' triggers and SQLite's common-ground triggers already do. The function
is unchanged. Nothing changes on SQLite.

A frozen copy of webapp/models/common_ground_triggers.py's statements as of this
revision (tests/test_migrations.py checks a migrated database against the models).

Revision ID: d1f3a5c7e9b2
Revises: c5e7a9b1d3f5
Create Date: 2026-12-04 16:10:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "d1f3a5c7e9b2"
down_revision = "c5e7a9b1d3f5"
branch_labels = None
depends_on = None

_SPLIT = (
    """
CREATE OR REPLACE TRIGGER votes_weigh_common_ground_delete AFTER DELETE ON votes
FOR EACH ROW WHEN (OLD.user_id IS NOT NULL) EXECUTE FUNCTION pulse_vote_common_ground()
""",
    """
CREATE OR REPLACE TRIGGER votes_weigh_common_ground_insert AFTER INSERT ON votes
FOR EACH ROW WHEN (NEW.user_id IS NOT NULL) EXECUTE FUNCTION pulse_vote_common_ground()
""",
    """
CREATE OR REPLACE TRIGGER votes_weigh_common_ground_update
AFTER UPDATE OF option_id, set_aside_at, user_id, poll_id ON votes
FOR EACH ROW WHEN (OLD.user_id IS NOT NULL OR NEW.user_id IS NOT NULL)
EXECUTE FUNCTION pulse_vote_common_ground()
""",
)

_SINGLE = """
CREATE OR REPLACE TRIGGER votes_weigh_common_ground
AFTER INSERT OR DELETE OR UPDATE OF option_id, set_aside_at, user_id, poll_id ON votes
FOR EACH ROW EXECUTE FUNCTION pulse_vote_common_ground()
"""

_SPLIT_NAMES = (
    "votes_weigh_common_ground_delete",
    "votes_weigh_common_ground_insert",
    "votes_weigh_common_ground_update",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS votes_weigh_common_ground ON votes")
    for statement in _SPLIT:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in _SPLIT_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON votes")
    op.execute(_SINGLE)
