"""Database triggers that keep the poll tallies in step with the vote rows.

Every insert, move (a change of ``option_id``) and delete of a vote moves its
option's stored tally (``poll_options.vote_count``) and the day's rollup
(``poll_daily_tallies``) inside the statement that wrote the vote, so:

- a vote costs one statement from the app, not three round trips;
- the tallies stay right for every write, including ones made outside the app
  (a console, a script), and ``flask --app wsgi polls recount`` is the check;
- they cannot be forgotten by a new code path.

The day of a first vote is the UTC day of its ``created_at``, of a move the UTC
day of its new ``updated_at`` (the app sets both), and of a withdrawal the
database's current UTC day. A vote deleted because its option or poll is being
deleted touches no rollup: the option's rows are going away with it.

On PostgreSQL two votes moving in opposite directions would lock the same two
tally rows in opposite orders and deadlock, so a move touches its two options
in ascending id order, as every other write does.

The statements are attached to the metadata so ``create_all`` installs
them; the Alembic revision that introduced them carries its own frozen copy, and
tests/test_migrations.py checks the two agree.
"""

from __future__ import annotations

from webapp.models.triggers import TriggerSet

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

TRIGGERS = TriggerSet(
    create={"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE},
    drop={"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP},
)
