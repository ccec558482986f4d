"""Comments queue their background re-score by trigger (issue 17): a comment stored
with ``tone_pending`` writes its "sentiment.refine" job in the statement that stores
it, instead of the app sending an INSERT of its own (webapp/models/refine_triggers.py).

A frozen copy of the triggers as introduced; tests/test_migrations.py checks that a
migrated database has the same triggers as one made from the models.

Revision ID: e5f7a9b1c3d5
Revises: d4e6f8a0b2c4
Create Date: 2026-12-04 07:10:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "e5f7a9b1c3d5"
down_revision = "d4e6f8a0b2c4"
branch_labels = None
depends_on = None

_SQLITE_QUEUE = """
    INSERT INTO jobs (kind, payload, status, attempts, run_after, created_at)
    VALUES ('sentiment.refine', json_object('comment_id', NEW.id), 'queued', 0,
        strftime('%Y-%m-%d %H:%M:%f', 'now') || '000',
        strftime('%Y-%m-%d %H:%M:%f', 'now') || '000');
"""

SQLITE_CREATE = (
    f"""
CREATE TRIGGER IF NOT EXISTS comments_refine_insert AFTER INSERT ON comments
WHEN NEW.tone_pending
BEGIN{_SQLITE_QUEUE}END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS comments_refine_update
AFTER UPDATE OF body, tone_pending ON comments
WHEN NEW.tone_pending AND (NOT OLD.tone_pending OR NEW.body IS NOT OLD.body)
BEGIN{_SQLITE_QUEUE}END
""",
)

SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS comments_refine_insert",
    "DROP TRIGGER IF EXISTS comments_refine_update",
)

POSTGRES_CREATE = (
    """
CREATE OR REPLACE FUNCTION pulse_queue_refine() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO jobs (kind, payload, status, attempts, run_after, created_at)
    VALUES ('sentiment.refine', json_build_object('comment_id', NEW.id), 'queued', 0,
        now(), now());
    RETURN NULL;
END
$$
""",
    """
CREATE OR REPLACE TRIGGER comments_refine_insert
AFTER INSERT ON comments
FOR EACH ROW WHEN (NEW.tone_pending)
EXECUTE FUNCTION pulse_queue_refine()
""",
    """
CREATE OR REPLACE TRIGGER comments_refine_update
AFTER UPDATE OF body, tone_pending ON comments
FOR EACH ROW WHEN (NEW.tone_pending
    AND (NOT OLD.tone_pending OR NEW.body IS DISTINCT FROM OLD.body))
EXECUTE FUNCTION pulse_queue_refine()
""",
)

POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS comments_refine_insert ON comments",
    "DROP TRIGGER IF EXISTS comments_refine_update ON comments",
    "DROP FUNCTION IF EXISTS pulse_queue_refine()",
)


def _run(statements: tuple[str, ...]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    _run(POSTGRES_CREATE if postgres else SQLITE_CREATE)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    _run(POSTGRES_DROP if postgres else SQLITE_DROP)
