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

- The tally triggers keep ``vote_count`` (counted votes only), ``signed_in_count`` and
  ``set_aside_count``, and the daily rollups of counted votes; the tone counters'
  triggers count an author whose vote is set aside as "no vote". Both sets are
  replaced here by the SQL of webapp/models/tally_triggers.py and tone_counters.py as
  of this revision (frozen below); downgrading puts back the ones revisions 7c1e2f9a4b30
  and e8f2b4d6a0c1 froze, read from those revisions' own modules (a revision never
  changes, so their copies are the SQL as it was).

Upgrading counts each option's signed-in votes from the rows (no vote is set aside
yet). Downgrading first restores every set-aside vote with this revision's triggers
still in place, which moves the tallies, rollups and tone back to the old meaning
(every stored vote counted), then puts the old triggers back. Columns are added and dropped with plain ALTER TABLE on SQLite too (3.35 and
later): a batch copy would drop and remake ``votes`` and ``polls``, which with foreign
keys on deletes what refers to them.

Revision ID: f1c3e5a7b9d0
Revises: e8f2b4d6a0c1
Create Date: 2026-12-03 19:21:02

"""

import sqlalchemy as sa
from alembic import context, op

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

# --- frozen copies: webapp/models/tally_triggers.py as of this revision

TALLY_SQLITE_CREATE = (
    """
CREATE TRIGGER IF NOT EXISTS votes_tally_insert AFTER INSERT ON votes
BEGIN
    UPDATE poll_options SET
        vote_count = vote_count + (NEW.set_aside_at IS NULL),
        signed_in_count = signed_in_count + (NEW.set_aside_at IS NULL AND NEW.user_id IS NOT NULL),
        set_aside_count = set_aside_count + (NEW.set_aside_at IS NOT NULL)
    WHERE id = NEW.option_id;
    INSERT INTO poll_daily_tallies (option_id, day, poll_id, votes_cast, votes_withdrawn)
    SELECT NEW.option_id, date(NEW.created_at), NEW.poll_id, 1, 0
    WHERE NEW.set_aside_at IS NULL
    ON CONFLICT (option_id, day) DO UPDATE SET
        votes_cast = votes_cast + excluded.votes_cast,
        votes_withdrawn = votes_withdrawn + excluded.votes_withdrawn;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS votes_tally_update
AFTER UPDATE OF option_id, set_aside_at, user_id ON votes
WHEN NEW.option_id <> OLD.option_id
    OR (OLD.set_aside_at IS NULL) <> (NEW.set_aside_at IS NULL)
    OR (OLD.user_id IS NULL) <> (NEW.user_id IS NULL)
BEGIN
    UPDATE poll_options SET
        vote_count = vote_count - (OLD.set_aside_at IS NULL),
        signed_in_count = signed_in_count - (OLD.set_aside_at IS NULL AND OLD.user_id IS NOT NULL),
        set_aside_count = set_aside_count - (OLD.set_aside_at IS NOT NULL)
    WHERE id = OLD.option_id;
    UPDATE poll_options SET
        vote_count = vote_count + (NEW.set_aside_at IS NULL),
        signed_in_count = signed_in_count + (NEW.set_aside_at IS NULL AND NEW.user_id IS NOT NULL),
        set_aside_count = set_aside_count + (NEW.set_aside_at IS NOT NULL)
    WHERE id = NEW.option_id;
    INSERT INTO poll_daily_tallies (option_id, day, poll_id, votes_cast, votes_withdrawn)
    SELECT OLD.option_id, date(NEW.updated_at), OLD.poll_id, 0, 1
    WHERE OLD.set_aside_at IS NULL AND NEW.set_aside_at IS NULL AND NEW.option_id <> OLD.option_id
    ON CONFLICT (option_id, day) DO UPDATE SET
        votes_cast = votes_cast + excluded.votes_cast,
        votes_withdrawn = votes_withdrawn + excluded.votes_withdrawn;
    INSERT INTO poll_daily_tallies (option_id, day, poll_id, votes_cast, votes_withdrawn)
    SELECT NEW.option_id, date(NEW.updated_at), NEW.poll_id, 1, 0
    WHERE OLD.set_aside_at IS NULL AND NEW.set_aside_at IS NULL AND NEW.option_id <> OLD.option_id
    ON CONFLICT (option_id, day) DO UPDATE SET
        votes_cast = votes_cast + excluded.votes_cast,
        votes_withdrawn = votes_withdrawn + excluded.votes_withdrawn;
    INSERT INTO poll_daily_tallies (option_id, day, poll_id, votes_cast, votes_withdrawn)
    SELECT OLD.option_id, date(OLD.updated_at), OLD.poll_id, -1, 0
    WHERE OLD.set_aside_at IS NULL AND NEW.set_aside_at IS NOT NULL
    ON CONFLICT (option_id, day) DO UPDATE SET
        votes_cast = votes_cast + excluded.votes_cast,
        votes_withdrawn = votes_withdrawn + excluded.votes_withdrawn;
    INSERT INTO poll_daily_tallies (option_id, day, poll_id, votes_cast, votes_withdrawn)
    SELECT NEW.option_id, date(NEW.updated_at), NEW.poll_id, 1, 0
    WHERE OLD.set_aside_at IS NOT NULL AND NEW.set_aside_at IS NULL
    ON CONFLICT (option_id, day) DO UPDATE SET
        votes_cast = votes_cast + excluded.votes_cast,
        votes_withdrawn = votes_withdrawn + excluded.votes_withdrawn;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS votes_tally_delete AFTER DELETE ON votes
BEGIN
    UPDATE poll_options SET
        vote_count = vote_count - (OLD.set_aside_at IS NULL),
        signed_in_count = signed_in_count - (OLD.set_aside_at IS NULL AND OLD.user_id IS NOT NULL),
        set_aside_count = set_aside_count - (OLD.set_aside_at IS NOT NULL)
    WHERE id = OLD.option_id;
    INSERT INTO poll_daily_tallies (option_id, day, poll_id, votes_cast, votes_withdrawn)
    SELECT OLD.option_id, date('now'), OLD.poll_id, 0, 1
    WHERE OLD.set_aside_at IS NULL AND EXISTS (SELECT 1 FROM poll_options WHERE id = OLD.option_id)
    ON CONFLICT (option_id, day) DO UPDATE SET
        votes_cast = votes_cast + excluded.votes_cast,
        votes_withdrawn = votes_withdrawn + excluded.votes_withdrawn;
END
""",
)

TALLY_SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS votes_tally_insert",
    "DROP TRIGGER IF EXISTS votes_tally_update",
    "DROP TRIGGER IF EXISTS votes_tally_delete",
)

TALLY_POSTGRES_CREATE = (
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

TALLY_POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS votes_tallies ON votes",
    "DROP FUNCTION IF EXISTS pulse_vote_tallies()",
    "DROP FUNCTION IF EXISTS pulse_bump_tallies(integer, integer, integer, integer, integer, date, integer, integer)",
)

# --- and webapp/models/tone_counters.py as of this revision

TONE_SQLITE_CREATE = (
    """
CREATE TRIGGER IF NOT EXISTS comments_tone_insert AFTER INSERT ON comments
WHEN (NEW.status = 'published' AND NEW.deleted_at IS NULL)
BEGIN
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total)
    SELECT NEW.article_id, coalesce((SELECT v.option_id FROM polls p JOIN votes v ON v.poll_id = p.id WHERE p.article_id = NEW.article_id AND v.user_id = NEW.author_id AND v.user_id IS NOT NULL AND v.set_aside_at IS NULL), 0),
        (1), (CASE WHEN NEW.sentiment_label = 'positive' THEN 1 ELSE 0 END), (CASE WHEN NEW.sentiment_label = 'neutral' THEN 1 ELSE 0 END), (CASE WHEN NEW.sentiment_label = 'negative' THEN 1 ELSE 0 END), (CASE WHEN NEW.sentiment IS NULL THEN 0 ELSE 1 END), (coalesce(CAST(round(NEW.sentiment * 1000000000000) AS INTEGER), 0))
    WHERE 1
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total;
    INSERT INTO article_comment_days (article_id, day, comments, scored, total)
    SELECT NEW.article_id, date(NEW.created_at), 1, CASE WHEN NEW.sentiment IS NULL THEN 0 ELSE 1 END, coalesce(CAST(round(NEW.sentiment * 1000000000000) AS INTEGER), 0)
    WHERE 1
    ON CONFLICT (article_id, day) DO UPDATE SET comments = comments + excluded.comments, scored = scored + excluded.scored, total = total + excluded.total;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS comments_tone_delete AFTER DELETE ON comments
WHEN (OLD.status = 'published' AND OLD.deleted_at IS NULL)
BEGIN
    UPDATE article_tone_counts SET comments = comments - 1,
        positive = positive - (CASE WHEN OLD.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        neutral = neutral - (CASE WHEN OLD.sentiment_label = 'neutral' THEN 1 ELSE 0 END),
        negative = negative - (CASE WHEN OLD.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        scored = scored - (CASE WHEN OLD.sentiment IS NULL THEN 0 ELSE 1 END), total = total - (coalesce(CAST(round(OLD.sentiment * 1000000000000) AS INTEGER), 0))
    WHERE 1 AND article_id = OLD.article_id
        AND option_id = coalesce((SELECT v.option_id FROM polls p JOIN votes v ON v.poll_id = p.id WHERE p.article_id = OLD.article_id AND v.user_id = OLD.author_id AND v.user_id IS NOT NULL AND v.set_aside_at IS NULL), 0);
    UPDATE article_comment_days SET comments = comments - 1,
        scored = scored - (CASE WHEN OLD.sentiment IS NULL THEN 0 ELSE 1 END), total = total - (coalesce(CAST(round(OLD.sentiment * 1000000000000) AS INTEGER), 0))
    WHERE 1 AND article_id = OLD.article_id AND day = date(OLD.created_at);
END
""",
    """
CREATE TRIGGER IF NOT EXISTS comments_tone_rescore
AFTER UPDATE OF sentiment, sentiment_label ON comments
WHEN (OLD.status = 'published' AND OLD.deleted_at IS NULL) AND (NEW.status = 'published' AND NEW.deleted_at IS NULL) AND OLD.article_id = NEW.article_id AND OLD.author_id = NEW.author_id AND date(OLD.created_at) = date(NEW.created_at) AND (OLD.sentiment IS NOT NEW.sentiment OR OLD.sentiment_label IS NOT NEW.sentiment_label)
BEGIN
    UPDATE article_tone_counts SET
        positive = positive + (CASE WHEN NEW.sentiment_label = 'positive' THEN 1 ELSE 0 END) - (CASE WHEN OLD.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        neutral = neutral + (CASE WHEN NEW.sentiment_label = 'neutral' THEN 1 ELSE 0 END) - (CASE WHEN OLD.sentiment_label = 'neutral' THEN 1 ELSE 0 END),
        negative = negative + (CASE WHEN NEW.sentiment_label = 'negative' THEN 1 ELSE 0 END) - (CASE WHEN OLD.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        scored = scored + (CASE WHEN NEW.sentiment IS NULL THEN 0 ELSE 1 END) - (CASE WHEN OLD.sentiment IS NULL THEN 0 ELSE 1 END),
        total = total + (coalesce(CAST(round(NEW.sentiment * 1000000000000) AS INTEGER), 0)) - (coalesce(CAST(round(OLD.sentiment * 1000000000000) AS INTEGER), 0))
    WHERE article_id = NEW.article_id
        AND option_id = coalesce((SELECT v.option_id FROM polls p JOIN votes v ON v.poll_id = p.id WHERE p.article_id = NEW.article_id AND v.user_id = NEW.author_id AND v.user_id IS NOT NULL AND v.set_aside_at IS NULL), 0);
    UPDATE article_comment_days SET
        scored = scored + (CASE WHEN NEW.sentiment IS NULL THEN 0 ELSE 1 END) - (CASE WHEN OLD.sentiment IS NULL THEN 0 ELSE 1 END),
        total = total + (coalesce(CAST(round(NEW.sentiment * 1000000000000) AS INTEGER), 0)) - (coalesce(CAST(round(OLD.sentiment * 1000000000000) AS INTEGER), 0))
    WHERE article_id = NEW.article_id AND day = date(NEW.created_at);
END
""",
    """
CREATE TRIGGER IF NOT EXISTS comments_tone_update
AFTER UPDATE OF status, deleted_at, sentiment, sentiment_label, article_id, author_id,
    created_at ON comments
WHEN ((OLD.status = 'published' AND OLD.deleted_at IS NULL) OR (NEW.status = 'published' AND NEW.deleted_at IS NULL))
    AND NOT ((OLD.status = 'published' AND OLD.deleted_at IS NULL) AND (NEW.status = 'published' AND NEW.deleted_at IS NULL) AND OLD.article_id = NEW.article_id AND OLD.author_id = NEW.author_id AND date(OLD.created_at) = date(NEW.created_at))
BEGIN
    UPDATE article_tone_counts SET comments = comments - 1,
        positive = positive - (CASE WHEN OLD.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        neutral = neutral - (CASE WHEN OLD.sentiment_label = 'neutral' THEN 1 ELSE 0 END),
        negative = negative - (CASE WHEN OLD.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        scored = scored - (CASE WHEN OLD.sentiment IS NULL THEN 0 ELSE 1 END), total = total - (coalesce(CAST(round(OLD.sentiment * 1000000000000) AS INTEGER), 0))
    WHERE (OLD.status = 'published' AND OLD.deleted_at IS NULL) AND article_id = OLD.article_id
        AND option_id = coalesce((SELECT v.option_id FROM polls p JOIN votes v ON v.poll_id = p.id WHERE p.article_id = OLD.article_id AND v.user_id = OLD.author_id AND v.user_id IS NOT NULL AND v.set_aside_at IS NULL), 0);
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total)
    SELECT NEW.article_id, coalesce((SELECT v.option_id FROM polls p JOIN votes v ON v.poll_id = p.id WHERE p.article_id = NEW.article_id AND v.user_id = NEW.author_id AND v.user_id IS NOT NULL AND v.set_aside_at IS NULL), 0),
        (1), (CASE WHEN NEW.sentiment_label = 'positive' THEN 1 ELSE 0 END), (CASE WHEN NEW.sentiment_label = 'neutral' THEN 1 ELSE 0 END), (CASE WHEN NEW.sentiment_label = 'negative' THEN 1 ELSE 0 END), (CASE WHEN NEW.sentiment IS NULL THEN 0 ELSE 1 END), (coalesce(CAST(round(NEW.sentiment * 1000000000000) AS INTEGER), 0))
    WHERE (NEW.status = 'published' AND NEW.deleted_at IS NULL)
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total;
    UPDATE article_comment_days SET comments = comments - 1,
        scored = scored - (CASE WHEN OLD.sentiment IS NULL THEN 0 ELSE 1 END), total = total - (coalesce(CAST(round(OLD.sentiment * 1000000000000) AS INTEGER), 0))
    WHERE (OLD.status = 'published' AND OLD.deleted_at IS NULL) AND article_id = OLD.article_id AND day = date(OLD.created_at);
    INSERT INTO article_comment_days (article_id, day, comments, scored, total)
    SELECT NEW.article_id, date(NEW.created_at), 1, CASE WHEN NEW.sentiment IS NULL THEN 0 ELSE 1 END, coalesce(CAST(round(NEW.sentiment * 1000000000000) AS INTEGER), 0)
    WHERE (NEW.status = 'published' AND NEW.deleted_at IS NULL)
    ON CONFLICT (article_id, day) DO UPDATE SET comments = comments + excluded.comments, scored = scored + excluded.scored, total = total + excluded.total;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS votes_tone_insert AFTER INSERT ON votes
WHEN NEW.user_id IS NOT NULL AND NEW.set_aside_at IS NULL
BEGIN
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total)
    SELECT p.article_id, 0, -count(*), -sum(CASE WHEN c.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        -sum(CASE WHEN c.sentiment_label = 'neutral' THEN 1 ELSE 0 END), -sum(CASE WHEN c.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        -count(c.sentiment), -sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS INTEGER), 0))
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = NEW.poll_id AND c.author_id = NEW.user_id
        AND c.status = 'published' AND c.deleted_at IS NULL
    GROUP BY p.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total;
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total)
    SELECT p.article_id, NEW.option_id, count(*), sum(CASE WHEN c.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        sum(CASE WHEN c.sentiment_label = 'neutral' THEN 1 ELSE 0 END), sum(CASE WHEN c.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        count(c.sentiment), sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS INTEGER), 0))
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = NEW.poll_id AND c.author_id = NEW.user_id
        AND c.status = 'published' AND c.deleted_at IS NULL
    GROUP BY p.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS votes_tone_delete AFTER DELETE ON votes
WHEN OLD.user_id IS NOT NULL AND OLD.set_aside_at IS NULL
BEGIN
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total)
    SELECT p.article_id, OLD.option_id, -count(*), -sum(CASE WHEN c.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        -sum(CASE WHEN c.sentiment_label = 'neutral' THEN 1 ELSE 0 END), -sum(CASE WHEN c.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        -count(c.sentiment), -sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS INTEGER), 0))
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = OLD.poll_id AND c.author_id = OLD.user_id
        AND c.status = 'published' AND c.deleted_at IS NULL
    GROUP BY p.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total;
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total)
    SELECT p.article_id, 0, count(*), sum(CASE WHEN c.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        sum(CASE WHEN c.sentiment_label = 'neutral' THEN 1 ELSE 0 END), sum(CASE WHEN c.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        count(c.sentiment), sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS INTEGER), 0))
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = OLD.poll_id AND c.author_id = OLD.user_id
        AND c.status = 'published' AND c.deleted_at IS NULL
    GROUP BY p.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS votes_tone_update
AFTER UPDATE OF option_id, user_id, poll_id, set_aside_at ON votes
WHEN OLD.user_id IS NOT NEW.user_id OR OLD.poll_id <> NEW.poll_id
    OR (CASE WHEN OLD.set_aside_at IS NULL THEN OLD.option_id ELSE 0 END) <> (CASE WHEN NEW.set_aside_at IS NULL THEN NEW.option_id ELSE 0 END)
BEGIN
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total)
    SELECT p.article_id, CASE WHEN OLD.set_aside_at IS NULL THEN OLD.option_id ELSE 0 END, -count(*), -sum(CASE WHEN c.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        -sum(CASE WHEN c.sentiment_label = 'neutral' THEN 1 ELSE 0 END), -sum(CASE WHEN c.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        -count(c.sentiment), -sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS INTEGER), 0))
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = OLD.poll_id AND c.author_id = OLD.user_id
        AND c.status = 'published' AND c.deleted_at IS NULL
    GROUP BY p.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total;
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total)
    SELECT p.article_id, 0, count(*), sum(CASE WHEN c.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        sum(CASE WHEN c.sentiment_label = 'neutral' THEN 1 ELSE 0 END), sum(CASE WHEN c.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        count(c.sentiment), sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS INTEGER), 0))
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = OLD.poll_id AND c.author_id = OLD.user_id
        AND c.status = 'published' AND c.deleted_at IS NULL
    GROUP BY p.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total;
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total)
    SELECT p.article_id, 0, -count(*), -sum(CASE WHEN c.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        -sum(CASE WHEN c.sentiment_label = 'neutral' THEN 1 ELSE 0 END), -sum(CASE WHEN c.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        -count(c.sentiment), -sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS INTEGER), 0))
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = NEW.poll_id AND c.author_id = NEW.user_id
        AND c.status = 'published' AND c.deleted_at IS NULL
    GROUP BY p.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total;
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total)
    SELECT p.article_id, CASE WHEN NEW.set_aside_at IS NULL THEN NEW.option_id ELSE 0 END, count(*), sum(CASE WHEN c.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        sum(CASE WHEN c.sentiment_label = 'neutral' THEN 1 ELSE 0 END), sum(CASE WHEN c.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        count(c.sentiment), sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS INTEGER), 0))
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = NEW.poll_id AND c.author_id = NEW.user_id
        AND c.status = 'published' AND c.deleted_at IS NULL
    GROUP BY p.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS polls_tone_delete AFTER DELETE ON polls
BEGIN
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total)
    SELECT t.article_id, 0, sum(t.comments), sum(t.positive), sum(t.neutral),
        sum(t.negative), sum(t.scored), sum(t.total)
    FROM article_tone_counts t
    WHERE t.article_id = OLD.article_id AND t.option_id <> 0
        AND EXISTS (SELECT 1 FROM articles a WHERE a.id = OLD.article_id)
    GROUP BY t.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total;
    DELETE FROM article_tone_counts
    WHERE article_id = OLD.article_id AND option_id <> 0;
END
""",
)

TONE_SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS comments_tone_insert",
    "DROP TRIGGER IF EXISTS comments_tone_delete",
    "DROP TRIGGER IF EXISTS comments_tone_rescore",
    "DROP TRIGGER IF EXISTS comments_tone_update",
    "DROP TRIGGER IF EXISTS votes_tone_insert",
    "DROP TRIGGER IF EXISTS votes_tone_delete",
    "DROP TRIGGER IF EXISTS votes_tone_update",
    "DROP TRIGGER IF EXISTS polls_tone_delete",
)

TONE_POSTGRES_CREATE = (
    """
CREATE OR REPLACE FUNCTION pulse_tone_bump(
    p_article integer, p_option integer, d_comments integer, d_pos integer, d_neu integer,
    d_neg integer, d_scored integer, d_total bigint
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE article_tone_counts SET comments = comments + d_comments,
        positive = positive + d_pos, neutral = neutral + d_neu, negative = negative + d_neg,
        scored = scored + d_scored, total = total + d_total
    WHERE article_id = p_article AND option_id = p_option;
    IF NOT FOUND AND d_comments > 0 THEN
        INSERT INTO article_tone_counts AS t (article_id, option_id, comments, positive, neutral, negative, scored, total)
        VALUES (p_article, p_option, d_comments, d_pos, d_neu, d_neg, d_scored, d_total)
        ON CONFLICT (article_id, option_id) DO UPDATE SET
            comments = t.comments + excluded.comments, positive = t.positive + excluded.positive,
            neutral = t.neutral + excluded.neutral, negative = t.negative + excluded.negative,
            scored = t.scored + excluded.scored, total = t.total + excluded.total;
    END IF;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION pulse_day_bump(
    p_article integer, p_day date, d_comments integer, d_scored integer, d_total bigint
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE article_comment_days SET comments = comments + d_comments,
        scored = scored + d_scored, total = total + d_total
    WHERE article_id = p_article AND day = p_day;
    IF NOT FOUND AND d_comments > 0 THEN
        INSERT INTO article_comment_days AS d (article_id, day, comments, scored, total)
        VALUES (p_article, p_day, d_comments, d_scored, d_total)
        ON CONFLICT (article_id, day) DO UPDATE SET comments = d.comments + excluded.comments,
            scored = d.scored + excluded.scored, total = d.total + excluded.total;
    END IF;
END
$$
""",
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
    -- The author's lock on the article (see the module's docstring), before the vote is
    -- read: two authors' (raw SQL moving a comment) in ascending order.
    IF was_in AND is_in AND (NEW.article_id, NEW.author_id) < (OLD.article_id, OLD.author_id)
    THEN
        PERFORM pg_advisory_xact_lock(NEW.article_id, NEW.author_id);
    END IF;
    IF was_in THEN
        PERFORM pg_advisory_xact_lock(OLD.article_id, OLD.author_id);
    END IF;
    IF is_in THEN
        PERFORM pg_advisory_xact_lock(NEW.article_id, NEW.author_id);
    END IF;
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
    -- The author's lock on the article, before their comments are read (a new snapshot).
    PERFORM pg_advisory_xact_lock(art, p_user);
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
    """
CREATE OR REPLACE FUNCTION pulse_vote_tone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pulse_tone_move(NEW.poll_id, NEW.user_id, 0, CASE WHEN NEW.set_aside_at IS NULL THEN NEW.option_id ELSE 0 END);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pulse_tone_move(OLD.poll_id, OLD.user_id, CASE WHEN OLD.set_aside_at IS NULL THEN OLD.option_id ELSE 0 END, 0);
    ELSIF OLD.user_id IS NOT DISTINCT FROM NEW.user_id AND OLD.poll_id = NEW.poll_id THEN
        IF NEW.user_id IS NOT NULL THEN
            PERFORM pulse_tone_move(NEW.poll_id, NEW.user_id, CASE WHEN OLD.set_aside_at IS NULL THEN OLD.option_id ELSE 0 END,
                CASE WHEN NEW.set_aside_at IS NULL THEN NEW.option_id ELSE 0 END);
        END IF;
    ELSE
        IF OLD.user_id IS NOT NULL THEN
            PERFORM pulse_tone_move(OLD.poll_id, OLD.user_id, CASE WHEN OLD.set_aside_at IS NULL THEN OLD.option_id ELSE 0 END, 0);
        END IF;
        IF NEW.user_id IS NOT NULL THEN
            PERFORM pulse_tone_move(NEW.poll_id, NEW.user_id, 0, CASE WHEN NEW.set_aside_at IS NULL THEN NEW.option_id ELSE 0 END);
        END IF;
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION pulse_poll_tone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO article_tone_counts AS t (article_id, option_id, comments, positive, neutral, negative, scored, total)
    SELECT s.article_id, 0, sum(s.comments), sum(s.positive), sum(s.neutral),
        sum(s.negative), sum(s.scored), sum(s.total)
    FROM article_tone_counts s
    WHERE s.article_id = OLD.article_id AND s.option_id <> 0
        AND EXISTS (SELECT 1 FROM articles a WHERE a.id = OLD.article_id)
    GROUP BY s.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET
        comments = t.comments + excluded.comments, positive = t.positive + excluded.positive,
        neutral = t.neutral + excluded.neutral, negative = t.negative + excluded.negative,
        scored = t.scored + excluded.scored, total = t.total + excluded.total;
    DELETE FROM article_tone_counts
    WHERE article_id = OLD.article_id AND option_id <> 0;
    RETURN NULL;
END
$$
""",
    """
CREATE OR REPLACE TRIGGER comments_tone
AFTER INSERT OR DELETE OR UPDATE OF status, deleted_at, sentiment, sentiment_label, article_id,
    author_id, created_at ON comments
FOR EACH ROW EXECUTE FUNCTION pulse_comment_tone()
""",
    """
CREATE OR REPLACE TRIGGER votes_tone_insert AFTER INSERT ON votes
FOR EACH ROW WHEN (NEW.user_id IS NOT NULL) EXECUTE FUNCTION pulse_vote_tone()
""",
    """
CREATE OR REPLACE TRIGGER votes_tone_delete AFTER DELETE ON votes
FOR EACH ROW WHEN (OLD.user_id IS NOT NULL) EXECUTE FUNCTION pulse_vote_tone()
""",
    """
CREATE OR REPLACE TRIGGER votes_tone_update
AFTER UPDATE OF option_id, user_id, poll_id, set_aside_at ON votes
FOR EACH ROW WHEN (OLD.user_id IS NOT NULL OR NEW.user_id IS NOT NULL)
EXECUTE FUNCTION pulse_vote_tone()
""",
    """
CREATE OR REPLACE TRIGGER polls_tone AFTER DELETE ON polls
FOR EACH ROW EXECUTE FUNCTION pulse_poll_tone()
""",
)

TONE_POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS comments_tone ON comments",
    "DROP TRIGGER IF EXISTS votes_tone_insert ON votes",
    "DROP TRIGGER IF EXISTS votes_tone_delete ON votes",
    "DROP TRIGGER IF EXISTS votes_tone_update ON votes",
    "DROP TRIGGER IF EXISTS polls_tone ON polls",
    "DROP FUNCTION IF EXISTS pulse_comment_tone()",
    "DROP FUNCTION IF EXISTS pulse_vote_tone()",
    "DROP FUNCTION IF EXISTS pulse_poll_tone()",
    "DROP FUNCTION IF EXISTS pulse_tone_move(integer, integer, integer, integer)",
    "DROP FUNCTION IF EXISTS pulse_tone_bump(integer, integer, integer, integer, integer, integer, integer, bigint)",
    "DROP FUNCTION IF EXISTS pulse_day_bump(integer, date, integer, integer, bigint)",
)


RESTORE_SET_ASIDE = "UPDATE votes SET set_aside_at = NULL WHERE set_aside_at IS NOT NULL"


def _postgres():
    return op.get_bind().dialect.name == "postgresql"


def _frozen(revision_id):
    """The module of an earlier revision, with the trigger SQL it froze."""
    return context.script.get_revision(revision_id).module


def _swap_triggers(drop, create):
    for statement in drop:
        op.execute(statement)
    for statement in create:
        op.execute(statement)


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
    tallies, tone = _frozen("7c1e2f9a4b30"), _frozen("e8f2b4d6a0c1")
    if _postgres():
        _swap_triggers(tallies.POSTGRES_DROP, TALLY_POSTGRES_CREATE)
        _swap_triggers(tone.POSTGRES_DROP, TONE_POSTGRES_CREATE)
    else:
        _swap_triggers(tallies.SQLITE_DROP, TALLY_SQLITE_CREATE)
        _swap_triggers(tone.SQLITE_DROP, TONE_SQLITE_CREATE)


def downgrade():
    op.execute(RESTORE_SET_ASIDE)
    tallies, tone = _frozen("7c1e2f9a4b30"), _frozen("e8f2b4d6a0c1")
    if _postgres():
        _swap_triggers(TALLY_POSTGRES_DROP, tallies.POSTGRES_CREATE)
        _swap_triggers(TONE_POSTGRES_DROP, tone.POSTGRES_CREATE)
    else:
        _swap_triggers(TALLY_SQLITE_DROP, tallies.SQLITE_CREATE)
        _swap_triggers(TONE_SQLITE_DROP, tone.SQLITE_CREATE)
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
