"""Database triggers that keep the poll tallies in step with the vote rows.

Each option keeps three counts (poll integrity, issue 16):

- ``vote_count``: its counted votes, those not set aside (``set_aside_at IS NULL``):
  what every public answer shows;
- ``signed_in_count``: of those, the votes of accounts (``user_id`` set);
- ``set_aside_count``: its votes set aside by the integrity checks (kept, not counted).

Every insert and delete of a vote, and every change of its ``option_id`` (a move),
``set_aside_at`` (set aside, restored) or ``user_id`` (an anonymous vote adopted when
its voter signs in) moves them, and the day's rollup (``poll_daily_tallies``), inside
the statement that wrote the vote, so:

- a vote costs one statement from the app, not three round trips;
- the tallies stay right for every write, including ones made outside the app
  (a console, a script, the integrity decisions' raw UPDATE), and
  ``flask --app wsgi polls recount`` is the check;
- they cannot be forgotten by a new code path.

The rollup holds counted votes only, so the sum of ``votes_cast - votes_withdrawn``
over an option's days is always its ``vote_count``. The day of a first vote is the
UTC day of its ``created_at``, of a move the UTC day of its new ``updated_at`` (the
app sets both), and of a withdrawal the database's current UTC day. A vote set aside
counts as never cast on the day it was cast for its current option (``votes_cast - 1``
on the day of its ``updated_at``); restoring it casts it again on that day. A vote
deleted because its option or poll is being deleted touches no rollup: the option's
rows are going away with it.

On PostgreSQL two votes moving in opposite directions would lock the same two
tally rows in opposite orders and deadlock, so a move touches its two options in
ascending id order, as every other write does. A statement that sets aside or
restores many votes would touch their options in the order of its rows, so the first
such row locks all of the poll's options in ascending id order (``FOR NO KEY
UPDATE``, what the tally updates take anyway, which does not block the votes' foreign
key checks) and the rest find them held. The tally triggers fire before the tone
counters' (``votes_tallies`` sorts before ``votes_tone_*``), so a vote's statement
always takes the options first, then the author's advisory lock, then the tone rows.

The statements are attached to the metadata so ``create_all`` installs
them; the Alembic revision that last changed them (f1c3e5a7b9d0) carries its own
frozen copy, and tests/test_migrations.py checks the two agree.
"""

from __future__ import annotations

from webapp.models.triggers import TriggerSet

# What a vote row adds to its option's three counts (SQLite: a comparison is 0 or 1).
_COUNTED = "({row}.set_aside_at IS NULL)"
_SIGNED_IN = "({row}.set_aside_at IS NULL AND {row}.user_id IS NOT NULL)"
_ASIDE = "({row}.set_aside_at IS NOT NULL)"


def _sqlite_counts(row: str, sign: str) -> str:
    return f"""
    UPDATE poll_options SET
        vote_count = vote_count {sign} {_COUNTED.format(row=row)},
        signed_in_count = signed_in_count {sign} {_SIGNED_IN.format(row=row)},
        set_aside_count = set_aside_count {sign} {_ASIDE.format(row=row)}
    WHERE id = {row}.option_id;"""  # nosec B608


def _sqlite_rollup(row: str, day: str, cast: str, withdrawn: str, where: str) -> str:
    return f"""
    INSERT INTO poll_daily_tallies (option_id, day, poll_id, votes_cast, votes_withdrawn)
    SELECT {row}.option_id, {day}, {row}.poll_id, {cast}, {withdrawn}
    WHERE {where}
    ON CONFLICT (option_id, day) DO UPDATE SET
        votes_cast = votes_cast + excluded.votes_cast,
        votes_withdrawn = votes_withdrawn + excluded.votes_withdrawn;"""  # nosec B608


_BOTH_COUNTED = "OLD.set_aside_at IS NULL AND NEW.set_aside_at IS NULL"

SQLITE_CREATE = (
    f"""
CREATE TRIGGER IF NOT EXISTS votes_tally_insert AFTER INSERT ON votes
BEGIN{_sqlite_counts("NEW", "+")}{
        _sqlite_rollup("NEW", "date(NEW.created_at)", "1", "0", "NEW.set_aside_at IS NULL")
    }
END
""",
    # A move, a set-aside or restore, an adoption (or several at once): the vote's old
    # contribution leaves its old option and its new one joins its new option.
    f"""
CREATE TRIGGER IF NOT EXISTS votes_tally_update
AFTER UPDATE OF option_id, set_aside_at, user_id ON votes
WHEN NEW.option_id <> OLD.option_id
    OR (OLD.set_aside_at IS NULL) <> (NEW.set_aside_at IS NULL)
    OR (OLD.user_id IS NULL) <> (NEW.user_id IS NULL)
BEGIN{_sqlite_counts("OLD", "-")}{_sqlite_counts("NEW", "+")}{
        _sqlite_rollup(
            "OLD",
            "date(NEW.updated_at)",
            "0",
            "1",
            f"{_BOTH_COUNTED} AND NEW.option_id <> OLD.option_id",
        )
    }{
        _sqlite_rollup(
            "NEW",
            "date(NEW.updated_at)",
            "1",
            "0",
            f"{_BOTH_COUNTED} AND NEW.option_id <> OLD.option_id",
        )
    }{
        _sqlite_rollup(
            "OLD",
            "date(OLD.updated_at)",
            "-1",
            "0",
            "OLD.set_aside_at IS NULL AND NEW.set_aside_at IS NOT NULL",
        )
    }{
        _sqlite_rollup(
            "NEW",
            "date(NEW.updated_at)",
            "1",
            "0",
            "OLD.set_aside_at IS NOT NULL AND NEW.set_aside_at IS NULL",
        )
    }
END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS votes_tally_delete AFTER DELETE ON votes
BEGIN{_sqlite_counts("OLD", "-")}{
        _sqlite_rollup(
            "OLD",
            "date('now')",
            "0",
            "1",
            "OLD.set_aside_at IS NULL "
            "AND EXISTS (SELECT 1 FROM poll_options WHERE id = OLD.option_id)",
        )
    }
END
""",
)

SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS votes_tally_insert",
    "DROP TRIGGER IF EXISTS votes_tally_update",
    "DROP TRIGGER IF EXISTS votes_tally_delete",
)

POSTGRES_CREATE = (
    """
CREATE OR REPLACE FUNCTION pulse_bump_tallies(
    p_option integer, p_poll integer, d_counted integer, d_signed_in integer,
    d_set_aside integer, p_day date, d_cast integer, d_withdrawn integer
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE poll_options SET vote_count = vote_count + d_counted,
        signed_in_count = signed_in_count + d_signed_in,
        set_aside_count = set_aside_count + d_set_aside
    WHERE id = p_option;
    IF NOT FOUND THEN
        RETURN;  -- the option is being deleted with its votes
    END IF;
    IF d_cast <> 0 OR d_withdrawn <> 0 THEN
        INSERT INTO poll_daily_tallies AS d (option_id, day, poll_id, votes_cast, votes_withdrawn)
        VALUES (p_option, p_day, p_poll, d_cast, d_withdrawn)
        ON CONFLICT (option_id, day) DO UPDATE SET
            votes_cast = d.votes_cast + excluded.votes_cast,
            votes_withdrawn = d.votes_withdrawn + excluded.votes_withdrawn;
    END IF;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION pulse_vote_tallies() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o_counted integer := 0; o_signed integer := 0;  -- what the old row counted
    n_counted integer := 0; n_signed integer := 0;  -- what the new row counts
    o_day date; o_cast integer := 0; o_withdrawn integer := 0;  -- the old option's rollup
    n_day date; n_cast integer := 0;  -- the new option's rollup
BEGIN
    IF TG_OP <> 'INSERT' THEN
        o_counted := CASE WHEN OLD.set_aside_at IS NULL THEN 1 ELSE 0 END;
        o_signed := CASE WHEN OLD.user_id IS NOT NULL THEN o_counted ELSE 0 END;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        n_counted := CASE WHEN NEW.set_aside_at IS NULL THEN 1 ELSE 0 END;
        n_signed := CASE WHEN NEW.user_id IS NOT NULL THEN n_counted ELSE 0 END;
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM pulse_bump_tallies(NEW.option_id, NEW.poll_id, n_counted, n_signed,
            1 - n_counted, (NEW.created_at AT TIME ZONE 'UTC')::date, n_counted, 0);
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM pulse_bump_tallies(OLD.option_id, OLD.poll_id, -o_counted, -o_signed,
            o_counted - 1, (now() AT TIME ZONE 'UTC')::date, 0, o_counted);
        RETURN NULL;
    END IF;
    IF OLD.option_id = NEW.option_id AND o_counted = n_counted AND o_signed = n_signed THEN
        RETURN NULL;
    END IF;
    o_day := (NEW.updated_at AT TIME ZONE 'UTC')::date;
    n_day := o_day;
    IF o_counted = 1 AND n_counted = 1 THEN
        IF OLD.option_id <> NEW.option_id THEN  -- a move
            o_withdrawn := 1;
            n_cast := 1;
        END IF;
    ELSIF o_counted = 1 THEN  -- set aside: as if never cast for its option
        o_day := (OLD.updated_at AT TIME ZONE 'UTC')::date;
        o_cast := -1;
    ELSIF n_counted = 1 THEN  -- restored
        n_cast := 1;
    END IF;
    IF o_counted <> n_counted THEN
        -- Set aside or restored, perhaps with many other votes of the statement: take
        -- the poll's options in ascending id order first (see the module's docstring).
        PERFORM 1 FROM poll_options WHERE poll_id = NEW.poll_id ORDER BY id
        FOR NO KEY UPDATE;
    END IF;
    IF OLD.option_id <= NEW.option_id THEN
        PERFORM pulse_bump_tallies(OLD.option_id, OLD.poll_id, -o_counted, -o_signed,
            o_counted - 1, o_day, o_cast, o_withdrawn);
        PERFORM pulse_bump_tallies(NEW.option_id, NEW.poll_id, n_counted, n_signed,
            1 - n_counted, n_day, n_cast, 0);
    ELSE
        PERFORM pulse_bump_tallies(NEW.option_id, NEW.poll_id, n_counted, n_signed,
            1 - n_counted, n_day, n_cast, 0);
        PERFORM pulse_bump_tallies(OLD.option_id, OLD.poll_id, -o_counted, -o_signed,
            o_counted - 1, o_day, o_cast, o_withdrawn);
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE OR REPLACE TRIGGER votes_tallies
AFTER INSERT OR DELETE OR UPDATE OF option_id, set_aside_at, user_id ON votes
FOR EACH ROW EXECUTE FUNCTION pulse_vote_tallies()
""",
)

POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS votes_tallies ON votes",
    "DROP FUNCTION IF EXISTS pulse_vote_tallies()",
    "DROP FUNCTION IF EXISTS pulse_bump_tallies("
    "integer, integer, integer, integer, integer, date, integer, integer)",
)

TRIGGERS = TriggerSet(
    create={"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE},
    drop={"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP},
)
