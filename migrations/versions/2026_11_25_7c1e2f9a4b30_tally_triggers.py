"""Poll tallies kept by database triggers.

Every insert, move and delete of a vote moves its option's tally and the day's
rollup in the same statement, so a vote is one statement from the app and the
tallies stay right for writes made outside it. The SQL is a frozen copy of
webapp/models/tally_triggers.py as of this revision (a revision must keep meaning
what it meant when it ran); tests/test_migrations.py checks that a migrated
database and one made from the models end up with the same triggers.

The tallies were already exact (the app kept them in the same transaction), so
nothing is recounted here.

Revision ID: 7c1e2f9a4b30
Revises: 38e0649469a6
Create Date: 2026-11-25 09:55:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "7c1e2f9a4b30"
down_revision = "38e0649469a6"
branch_labels = None
depends_on = None

SQLITE_CREATE = (
    """
CREATE TRIGGER IF NOT EXISTS votes_tally_insert AFTER INSERT ON votes
BEGIN
    UPDATE poll_options SET vote_count = vote_count + 1 WHERE id = NEW.option_id;
    INSERT INTO poll_daily_tallies (option_id, day, poll_id, votes_cast, votes_withdrawn)
    VALUES (NEW.option_id, date(NEW.created_at), NEW.poll_id, 1, 0)
    ON CONFLICT (option_id, day) DO UPDATE SET votes_cast = votes_cast + 1;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS votes_tally_move AFTER UPDATE OF option_id ON votes
WHEN NEW.option_id <> OLD.option_id
BEGIN
    UPDATE poll_options SET vote_count = vote_count - 1 WHERE id = OLD.option_id;
    UPDATE poll_options SET vote_count = vote_count + 1 WHERE id = NEW.option_id;
    INSERT INTO poll_daily_tallies (option_id, day, poll_id, votes_cast, votes_withdrawn)
    VALUES (OLD.option_id, date(NEW.updated_at), OLD.poll_id, 0, 1)
    ON CONFLICT (option_id, day) DO UPDATE SET votes_withdrawn = votes_withdrawn + 1;
    INSERT INTO poll_daily_tallies (option_id, day, poll_id, votes_cast, votes_withdrawn)
    VALUES (NEW.option_id, date(NEW.updated_at), NEW.poll_id, 1, 0)
    ON CONFLICT (option_id, day) DO UPDATE SET votes_cast = votes_cast + 1;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS votes_tally_delete AFTER DELETE ON votes
BEGIN
    UPDATE poll_options SET vote_count = vote_count - 1 WHERE id = OLD.option_id;
    INSERT INTO poll_daily_tallies (option_id, day, poll_id, votes_cast, votes_withdrawn)
    SELECT OLD.option_id, date('now'), OLD.poll_id, 0, 1
    WHERE EXISTS (SELECT 1 FROM poll_options WHERE id = OLD.option_id)
    ON CONFLICT (option_id, day) DO UPDATE SET votes_withdrawn = votes_withdrawn + 1;
END
""",
)

SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS votes_tally_insert",
    "DROP TRIGGER IF EXISTS votes_tally_move",
    "DROP TRIGGER IF EXISTS votes_tally_delete",
)

POSTGRES_CREATE = (
    """
CREATE OR REPLACE FUNCTION pulse_bump_tally(
    p_option integer, p_poll integer, p_day date, p_delta integer
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE poll_options SET vote_count = vote_count + p_delta WHERE id = p_option;
    IF NOT FOUND THEN
        RETURN;  -- the option is being deleted with its votes
    END IF;
    INSERT INTO poll_daily_tallies AS d (option_id, day, poll_id, votes_cast, votes_withdrawn)
    VALUES (p_option, p_day, p_poll, greatest(p_delta, 0), greatest(-p_delta, 0))
    ON CONFLICT (option_id, day) DO UPDATE SET
        votes_cast = d.votes_cast + excluded.votes_cast,
        votes_withdrawn = d.votes_withdrawn + excluded.votes_withdrawn;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION pulse_vote_tallies() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moved_on date;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pulse_bump_tally(
            NEW.option_id, NEW.poll_id, (NEW.created_at AT TIME ZONE 'UTC')::date, 1);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pulse_bump_tally(
            OLD.option_id, OLD.poll_id, (now() AT TIME ZONE 'UTC')::date, -1);
    ELSIF NEW.option_id <> OLD.option_id THEN
        moved_on := (NEW.updated_at AT TIME ZONE 'UTC')::date;
        IF OLD.option_id < NEW.option_id THEN
            PERFORM pulse_bump_tally(OLD.option_id, OLD.poll_id, moved_on, -1);
            PERFORM pulse_bump_tally(NEW.option_id, NEW.poll_id, moved_on, 1);
        ELSE
            PERFORM pulse_bump_tally(NEW.option_id, NEW.poll_id, moved_on, 1);
            PERFORM pulse_bump_tally(OLD.option_id, OLD.poll_id, moved_on, -1);
        END IF;
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE OR REPLACE TRIGGER votes_tallies AFTER INSERT OR DELETE OR UPDATE OF option_id ON votes
FOR EACH ROW EXECUTE FUNCTION pulse_vote_tallies()
""",
)

POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS votes_tallies ON votes",
    "DROP FUNCTION IF EXISTS pulse_vote_tallies()",
    "DROP FUNCTION IF EXISTS pulse_bump_tally(integer, integer, date, integer)",
)


def _run(statements):
    for statement in statements:
        op.execute(statement)


def upgrade():
    _run(POSTGRES_CREATE if op.get_bind().dialect.name == "postgresql" else SQLITE_CREATE)


def downgrade():
    _run(POSTGRES_DROP if op.get_bind().dialect.name == "postgresql" else SQLITE_DROP)
