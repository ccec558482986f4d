"""Tone counters (issue 15): the author's row, not an advisory lock, serialises a
reader's vote with their comments on PostgreSQL.

The tone triggers (webapp/models/tone_counters.py) read the author's vote when a
comment is written and the author's comments when their vote moves; each first locks
something of the author's so the two cannot interleave. Revision e8f2b4d6a0c1 took a
transaction-scoped advisory lock per (article, author): one entry in the server's
shared lock table per pair, so one transaction writing many readers' comments (a bulk
load, a test site) ran out of them ("out of shared memory"). The author's ``users``
row locked ``FOR NO KEY UPDATE`` does the same job as a row lock, kept in the row,
whatever the number. Only the two PostgreSQL functions change; SQLite writes one
transaction at a time and has no such lock. The SQL is a frozen copy of the module as
of this revision.

Revision ID: b4d6f8a0c2e4
Revises: f1c3e5a7b9d0
Create Date: 2026-12-03 19:40:00

"""

from alembic import context, op

# revision identifiers, used by Alembic.
revision = "b4d6f8a0c2e4"
down_revision = "f1c3e5a7b9d0"
branch_labels = None
depends_on = None


POSTGRES_CREATE = (
    """
CREATE OR REPLACE FUNCTION pulse_comment_tone() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was_in boolean := false;  -- the comment counted before the statement
    is_in boolean := false;  -- it counts after it
    was_first boolean;  -- its old place comes first in lock order
    o_opt integer; o_pos integer; o_neu integer; o_neg integer; o_sc integer;
    o_tot bigint; o_day date;
    n_opt integer; n_pos integer; n_neu integer; n_neg integer; n_sc integer;
    n_tot bigint; n_day date;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        was_in := (OLD.status = 'published' AND OLD.deleted_at IS NULL);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        is_in := (NEW.status = 'published' AND NEW.deleted_at IS NULL);
    END IF;
    IF NOT (was_in OR is_in) THEN
        RETURN NULL;
    END IF;
    -- The author's lock (see the module's docstring), before the vote is read: two
    -- authors' (raw SQL giving a comment to another author) in ascending order.
    PERFORM 1 FROM users WHERE id IN (
        CASE WHEN was_in THEN OLD.author_id END, CASE WHEN is_in THEN NEW.author_id END
    )
    ORDER BY id FOR NO KEY UPDATE;
    IF was_in THEN
        o_opt := coalesce((SELECT v.option_id FROM polls p JOIN votes v ON v.poll_id = p.id WHERE p.article_id = OLD.article_id AND v.user_id = OLD.author_id AND v.user_id IS NOT NULL AND v.set_aside_at IS NULL), 0);
        o_pos := CASE WHEN OLD.sentiment_label = 'positive' THEN 1 ELSE 0 END;
        o_neu := CASE WHEN OLD.sentiment_label = 'neutral' THEN 1 ELSE 0 END;
        o_neg := CASE WHEN OLD.sentiment_label = 'negative' THEN 1 ELSE 0 END;
        o_sc := CASE WHEN OLD.sentiment IS NULL THEN 0 ELSE 1 END;
        o_tot := coalesce(CAST(round(OLD.sentiment * 1000000000000) AS bigint), 0);
        o_day := CAST((OLD.created_at AT TIME ZONE 'UTC') AS date);
    END IF;
    IF is_in THEN
        n_opt := coalesce((SELECT v.option_id FROM polls p JOIN votes v ON v.poll_id = p.id WHERE p.article_id = NEW.article_id AND v.user_id = NEW.author_id AND v.user_id IS NOT NULL AND v.set_aside_at IS NULL), 0);
        n_pos := CASE WHEN NEW.sentiment_label = 'positive' THEN 1 ELSE 0 END;
        n_neu := CASE WHEN NEW.sentiment_label = 'neutral' THEN 1 ELSE 0 END;
        n_neg := CASE WHEN NEW.sentiment_label = 'negative' THEN 1 ELSE 0 END;
        n_sc := CASE WHEN NEW.sentiment IS NULL THEN 0 ELSE 1 END;
        n_tot := coalesce(CAST(round(NEW.sentiment * 1000000000000) AS bigint), 0);
        n_day := CAST((NEW.created_at AT TIME ZONE 'UTC') AS date);
    END IF;
    IF was_in AND is_in AND OLD.article_id = NEW.article_id AND o_opt = n_opt THEN
        IF (o_pos, o_neu, o_neg, o_sc, o_tot) IS DISTINCT FROM (n_pos, n_neu, n_neg, n_sc, n_tot)
        THEN
            PERFORM pulse_tone_bump(NEW.article_id, n_opt, 0, n_pos - o_pos, n_neu - o_neu,
                n_neg - o_neg, n_sc - o_sc, n_tot - o_tot);
        END IF;
    ELSE
        was_first := was_in AND (NOT is_in OR (OLD.article_id, o_opt) < (NEW.article_id, n_opt));
        IF was_first THEN
            PERFORM pulse_tone_bump(OLD.article_id, o_opt, -1, -o_pos, -o_neu, -o_neg, -o_sc,
                -o_tot);
        END IF;
        IF is_in THEN
            PERFORM pulse_tone_bump(NEW.article_id, n_opt, 1, n_pos, n_neu, n_neg, n_sc, n_tot);
        END IF;
        IF was_in AND NOT was_first THEN
            PERFORM pulse_tone_bump(OLD.article_id, o_opt, -1, -o_pos, -o_neu, -o_neg, -o_sc,
                -o_tot);
        END IF;
    END IF;
    IF was_in AND is_in AND OLD.article_id = NEW.article_id AND o_day = n_day THEN
        IF (o_sc, o_tot) IS DISTINCT FROM (n_sc, n_tot) THEN
            PERFORM pulse_day_bump(NEW.article_id, n_day, 0, n_sc - o_sc, n_tot - o_tot);
        END IF;
    ELSE
        was_first := was_in AND (NOT is_in OR (OLD.article_id, o_day) < (NEW.article_id, n_day));
        IF was_first THEN
            PERFORM pulse_day_bump(OLD.article_id, o_day, -1, -o_sc, -o_tot);
        END IF;
        IF is_in THEN
            PERFORM pulse_day_bump(NEW.article_id, n_day, 1, n_sc, n_tot);
        END IF;
        IF was_in AND NOT was_first THEN
            PERFORM pulse_day_bump(OLD.article_id, o_day, -1, -o_sc, -o_tot);
        END IF;
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION pulse_tone_move(
    p_poll integer, p_user integer, p_from integer, p_to integer
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    art integer; c integer; pos integer; neu integer; neg integer; sc integer; tot bigint;
BEGIN
    IF p_from = p_to THEN
        RETURN;
    END IF;
    SELECT p.article_id INTO art FROM polls p WHERE p.id = p_poll;
    IF NOT FOUND THEN
        RETURN;  -- the poll is being deleted with its votes
    END IF;
    -- The author's lock, before their comments are read (a new snapshot).
    PERFORM 1 FROM users WHERE id = p_user FOR NO KEY UPDATE;
    SELECT count(*), coalesce(sum(CASE WHEN c.sentiment_label = 'positive' THEN 1 ELSE 0 END), 0),
        coalesce(sum(CASE WHEN c.sentiment_label = 'neutral' THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN c.sentiment_label = 'negative' THEN 1 ELSE 0 END), 0),
        count(c.sentiment), coalesce(sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS bigint), 0)), 0)
    INTO c, pos, neu, neg, sc, tot
    FROM comments c
    WHERE c.author_id = p_user AND c.article_id = art
        AND c.status = 'published' AND c.deleted_at IS NULL;
    IF c = 0 THEN
        RETURN;
    END IF;
    IF p_from < p_to THEN
        PERFORM pulse_tone_bump(art, p_from, -c, -pos, -neu, -neg, -sc, -tot);
        PERFORM pulse_tone_bump(art, p_to, c, pos, neu, neg, sc, tot);
    ELSE
        PERFORM pulse_tone_bump(art, p_to, c, pos, neu, neg, sc, tot);
        PERFORM pulse_tone_bump(art, p_from, -c, -pos, -neu, -neg, -sc, -tot);
    END IF;
END
$$
""",
)


def _postgres():
    return op.get_bind().dialect.name == "postgresql"


FUNCTIONS = (
    "CREATE OR REPLACE FUNCTION pulse_comment_tone()",
    "CREATE OR REPLACE FUNCTION pulse_tone_move(",
)


def _before():
    """The two functions as revision f1c3e5a7b9d0 froze them (advisory locks)."""
    module = context.script.get_revision("f1c3e5a7b9d0").module
    return [
        statement
        for statement in module.TONE_POSTGRES_CREATE
        if statement.lstrip().startswith(FUNCTIONS)
    ]


def upgrade():
    if _postgres():
        for statement in POSTGRES_CREATE:
            op.execute(statement)


def downgrade():
    if _postgres():
        for statement in _before():
            op.execute(statement)
