"""Database triggers that append the vote history (``vote_changes``, issue 20's
"minds changed") in the statement that changed the vote.

- a vote inserted: a first vote, from nothing (``from_option_id`` NULL) to its option,
  at its ``created_at``;
- its ``option_id`` changed (a move): from the old option to the new, at its new
  ``updated_at`` (the app sets it with the move, as the tally triggers expect);
- a vote deleted (a withdrawal): from its option to nothing (``to_option_id`` NULL),
  at the database's current time. A vote deleted because its option or its poll is
  being deleted writes nothing: that is no reader's doing, and the history rows go
  with the option or the poll. A vote deleted with its account does count as a
  withdrawal: the answer is no longer held by anyone.
- its ``set_aside_at`` going from NULL to a time, or back (the integrity checks,
  often as one UPDATE of many rows): ``set_aside`` follows it on the history rows of
  that vote, so a set-aside vote's moves are left out of the flow and a restored
  vote's come back. A vote already set aside when it moves or is withdrawn writes its
  row set aside too.

An adoption (an anonymous vote becomes an account's at sign-in: ``user_id`` set)
changes no answer and writes nothing; ``signed_in`` says whether the vote was an
account's when that row was written.

"The history rows of that vote" are those since its latest first-vote row: SQLite
may give a new vote the id of the last vote withdrawn (a rowid is reused when the
largest one is deleted), and that earlier vote's history is not the new one's to
set aside. PostgreSQL never reuses an id, and the same rule holds there.

Locks on PostgreSQL: the INSERTs lock no shared row (a new row is nobody else's);
their foreign key checks take ``KEY SHARE`` on the vote's poll and options, which no
vote, move, comment or integrity decision conflicts with (those take ``FOR NO KEY
UPDATE`` at most). The set-aside UPDATE locks history rows, but only of the vote
whose row the statement has just locked itself, and every statement that writes a
vote's history holds that vote's row: nobody else can be holding those rows, or
waiting for them while holding anything this statement wants. Triggers of one event
fire in the order of their names, so this one is named ``votes_vote_changes`` to fire
after ``votes_tallies`` and the tone counters' ``votes_tone_*`` (and after any
``votes_common_ground*``): by then the tally trigger holds the options (``FOR NO
KEY UPDATE``, stronger than the checks' ``KEY SHARE``), so the history takes no
new lock on a shared row before the others' locks, and their documented order
(options, the author, tone rows) is unchanged.

The statements are attached to the metadata (webapp/models/__init__.py), so
``create_all`` installs them; the Alembic revision c9e1a3b5d7f9 carries its own
frozen copy, and tests/test_migrations.py checks the two agree.
"""

from __future__ import annotations

from webapp.models.triggers import TriggerSet

_COLUMNS = "(poll_id, vote_id, from_option_id, to_option_id, signed_in, set_aside, changed_at)"
# The history rows of the vote NEW: those since its latest first vote (see above).
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
""",  # nosec B608 (trigger text from constants, no input)
    f"""
CREATE TRIGGER IF NOT EXISTS votes_history_move AFTER UPDATE OF option_id ON votes
WHEN NEW.option_id <> OLD.option_id
BEGIN
    INSERT INTO vote_changes {_COLUMNS}
    VALUES (NEW.poll_id, NEW.id, OLD.option_id, NEW.option_id, NEW.user_id IS NOT NULL,
        NEW.set_aside_at IS NOT NULL, NEW.updated_at);
END
""",  # nosec B608 (trigger text from constants, no input)
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
""",  # nosec B608 (trigger text from constants, no input)
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

TRIGGERS = TriggerSet(
    create={"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE},
    drop={"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP},
)
