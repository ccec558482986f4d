"""Tone trust (issue 17): a sum of squares beside each tone counter's sum, for the
95 % interval around a mean tone; and the moderators' tone corrections.

- ``article_tone_counts.total_sq``: the sum of the counted comments' squared scores,
  in trillionths like ``total`` (each square rounded once, so the integer sum is exact
  and ``sentiment recount`` compares it exactly). Its triggers and functions are a
  frozen copy of webapp/models/tone_counters.py as of this revision: every statement
  that moves ``total`` moves ``total_sq`` too. On PostgreSQL ``pulse_tone_bump`` takes
  one more argument, so the old functions are dropped, not replaced.
- ``tone_corrections``: a moderator's label for a comment, with the text and the
  analyser's label and score at that moment, kept as labelled data
  (webapp/models/tone_corrections.py).

Upgrading adds the column, swaps the triggers and then fills the column from the rows
(grouped as the triggers group them), in one transaction, so no write falls between
the fill and the triggers. Downgrading drops the table, puts back the triggers as
revisions f1c3e5a7b9d0 (SQLite) and b4d6f8a0c2e4 (PostgreSQL's two functions) froze
them, and drops the column.

Revision ID: c3d5e7f9a1b3
Revises: b2c4d6e8f0a2
Create Date: 2026-12-03 22:00:00

"""

import sqlalchemy as sa
from alembic import context, op

# revision identifiers, used by Alembic.
revision = "c3d5e7f9a1b3"
down_revision = "b2c4d6e8f0a2"
branch_labels = None
depends_on = None

SQLITE_CREATE = (
    """
CREATE TRIGGER IF NOT EXISTS comments_tone_insert AFTER INSERT ON comments
WHEN (NEW.status = 'published' AND NEW.deleted_at IS NULL)
BEGIN
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total, total_sq)
    SELECT NEW.article_id, coalesce((SELECT v.option_id FROM polls p JOIN votes v ON v.poll_id = p.id WHERE p.article_id = NEW.article_id AND v.user_id = NEW.author_id AND v.user_id IS NOT NULL AND v.set_aside_at IS NULL), 0),
        (1), (CASE WHEN NEW.sentiment_label = 'positive' THEN 1 ELSE 0 END), (CASE WHEN NEW.sentiment_label = 'neutral' THEN 1 ELSE 0 END), (CASE WHEN NEW.sentiment_label = 'negative' THEN 1 ELSE 0 END), (CASE WHEN NEW.sentiment IS NULL THEN 0 ELSE 1 END), (coalesce(CAST(round(NEW.sentiment * 1000000000000) AS INTEGER), 0)), (coalesce(CAST(round(NEW.sentiment * NEW.sentiment * 1000000000000) AS INTEGER), 0))
    WHERE 1
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total, total_sq = total_sq + excluded.total_sq;
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
        scored = scored - (CASE WHEN OLD.sentiment IS NULL THEN 0 ELSE 1 END), total = total - (coalesce(CAST(round(OLD.sentiment * 1000000000000) AS INTEGER), 0)),
        total_sq = total_sq - (coalesce(CAST(round(OLD.sentiment * OLD.sentiment * 1000000000000) AS INTEGER), 0))
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
        total = total + (coalesce(CAST(round(NEW.sentiment * 1000000000000) AS INTEGER), 0)) - (coalesce(CAST(round(OLD.sentiment * 1000000000000) AS INTEGER), 0)),
        total_sq = total_sq + (coalesce(CAST(round(NEW.sentiment * NEW.sentiment * 1000000000000) AS INTEGER), 0)) - (coalesce(CAST(round(OLD.sentiment * OLD.sentiment * 1000000000000) AS INTEGER), 0))
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
        scored = scored - (CASE WHEN OLD.sentiment IS NULL THEN 0 ELSE 1 END), total = total - (coalesce(CAST(round(OLD.sentiment * 1000000000000) AS INTEGER), 0)),
        total_sq = total_sq - (coalesce(CAST(round(OLD.sentiment * OLD.sentiment * 1000000000000) AS INTEGER), 0))
    WHERE (OLD.status = 'published' AND OLD.deleted_at IS NULL) AND article_id = OLD.article_id
        AND option_id = coalesce((SELECT v.option_id FROM polls p JOIN votes v ON v.poll_id = p.id WHERE p.article_id = OLD.article_id AND v.user_id = OLD.author_id AND v.user_id IS NOT NULL AND v.set_aside_at IS NULL), 0);
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total, total_sq)
    SELECT NEW.article_id, coalesce((SELECT v.option_id FROM polls p JOIN votes v ON v.poll_id = p.id WHERE p.article_id = NEW.article_id AND v.user_id = NEW.author_id AND v.user_id IS NOT NULL AND v.set_aside_at IS NULL), 0),
        (1), (CASE WHEN NEW.sentiment_label = 'positive' THEN 1 ELSE 0 END), (CASE WHEN NEW.sentiment_label = 'neutral' THEN 1 ELSE 0 END), (CASE WHEN NEW.sentiment_label = 'negative' THEN 1 ELSE 0 END), (CASE WHEN NEW.sentiment IS NULL THEN 0 ELSE 1 END), (coalesce(CAST(round(NEW.sentiment * 1000000000000) AS INTEGER), 0)), (coalesce(CAST(round(NEW.sentiment * NEW.sentiment * 1000000000000) AS INTEGER), 0))
    WHERE (NEW.status = 'published' AND NEW.deleted_at IS NULL)
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total, total_sq = total_sq + excluded.total_sq;
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
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total, total_sq)
    SELECT p.article_id, 0, -count(*), -sum(CASE WHEN c.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        -sum(CASE WHEN c.sentiment_label = 'neutral' THEN 1 ELSE 0 END), -sum(CASE WHEN c.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        -count(c.sentiment), -sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS INTEGER), 0)),
        -sum(coalesce(CAST(round(c.sentiment * c.sentiment * 1000000000000) AS INTEGER), 0))
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = NEW.poll_id AND c.author_id = NEW.user_id
        AND c.status = 'published' AND c.deleted_at IS NULL
    GROUP BY p.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total, total_sq = total_sq + excluded.total_sq;
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total, total_sq)
    SELECT p.article_id, NEW.option_id, count(*), sum(CASE WHEN c.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        sum(CASE WHEN c.sentiment_label = 'neutral' THEN 1 ELSE 0 END), sum(CASE WHEN c.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        count(c.sentiment), sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS INTEGER), 0)),
        sum(coalesce(CAST(round(c.sentiment * c.sentiment * 1000000000000) AS INTEGER), 0))
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = NEW.poll_id AND c.author_id = NEW.user_id
        AND c.status = 'published' AND c.deleted_at IS NULL
    GROUP BY p.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total, total_sq = total_sq + excluded.total_sq;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS votes_tone_delete AFTER DELETE ON votes
WHEN OLD.user_id IS NOT NULL AND OLD.set_aside_at IS NULL
BEGIN
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total, total_sq)
    SELECT p.article_id, OLD.option_id, -count(*), -sum(CASE WHEN c.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        -sum(CASE WHEN c.sentiment_label = 'neutral' THEN 1 ELSE 0 END), -sum(CASE WHEN c.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        -count(c.sentiment), -sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS INTEGER), 0)),
        -sum(coalesce(CAST(round(c.sentiment * c.sentiment * 1000000000000) AS INTEGER), 0))
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = OLD.poll_id AND c.author_id = OLD.user_id
        AND c.status = 'published' AND c.deleted_at IS NULL
    GROUP BY p.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total, total_sq = total_sq + excluded.total_sq;
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total, total_sq)
    SELECT p.article_id, 0, count(*), sum(CASE WHEN c.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        sum(CASE WHEN c.sentiment_label = 'neutral' THEN 1 ELSE 0 END), sum(CASE WHEN c.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        count(c.sentiment), sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS INTEGER), 0)),
        sum(coalesce(CAST(round(c.sentiment * c.sentiment * 1000000000000) AS INTEGER), 0))
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = OLD.poll_id AND c.author_id = OLD.user_id
        AND c.status = 'published' AND c.deleted_at IS NULL
    GROUP BY p.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total, total_sq = total_sq + excluded.total_sq;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS votes_tone_update
AFTER UPDATE OF option_id, user_id, poll_id, set_aside_at ON votes
WHEN OLD.user_id IS NOT NEW.user_id OR OLD.poll_id <> NEW.poll_id
    OR (CASE WHEN OLD.set_aside_at IS NULL THEN OLD.option_id ELSE 0 END) <> (CASE WHEN NEW.set_aside_at IS NULL THEN NEW.option_id ELSE 0 END)
BEGIN
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total, total_sq)
    SELECT p.article_id, CASE WHEN OLD.set_aside_at IS NULL THEN OLD.option_id ELSE 0 END, -count(*), -sum(CASE WHEN c.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        -sum(CASE WHEN c.sentiment_label = 'neutral' THEN 1 ELSE 0 END), -sum(CASE WHEN c.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        -count(c.sentiment), -sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS INTEGER), 0)),
        -sum(coalesce(CAST(round(c.sentiment * c.sentiment * 1000000000000) AS INTEGER), 0))
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = OLD.poll_id AND c.author_id = OLD.user_id
        AND c.status = 'published' AND c.deleted_at IS NULL
    GROUP BY p.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total, total_sq = total_sq + excluded.total_sq;
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total, total_sq)
    SELECT p.article_id, 0, count(*), sum(CASE WHEN c.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        sum(CASE WHEN c.sentiment_label = 'neutral' THEN 1 ELSE 0 END), sum(CASE WHEN c.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        count(c.sentiment), sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS INTEGER), 0)),
        sum(coalesce(CAST(round(c.sentiment * c.sentiment * 1000000000000) AS INTEGER), 0))
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = OLD.poll_id AND c.author_id = OLD.user_id
        AND c.status = 'published' AND c.deleted_at IS NULL
    GROUP BY p.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total, total_sq = total_sq + excluded.total_sq;
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total, total_sq)
    SELECT p.article_id, 0, -count(*), -sum(CASE WHEN c.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        -sum(CASE WHEN c.sentiment_label = 'neutral' THEN 1 ELSE 0 END), -sum(CASE WHEN c.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        -count(c.sentiment), -sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS INTEGER), 0)),
        -sum(coalesce(CAST(round(c.sentiment * c.sentiment * 1000000000000) AS INTEGER), 0))
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = NEW.poll_id AND c.author_id = NEW.user_id
        AND c.status = 'published' AND c.deleted_at IS NULL
    GROUP BY p.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total, total_sq = total_sq + excluded.total_sq;
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total, total_sq)
    SELECT p.article_id, CASE WHEN NEW.set_aside_at IS NULL THEN NEW.option_id ELSE 0 END, count(*), sum(CASE WHEN c.sentiment_label = 'positive' THEN 1 ELSE 0 END),
        sum(CASE WHEN c.sentiment_label = 'neutral' THEN 1 ELSE 0 END), sum(CASE WHEN c.sentiment_label = 'negative' THEN 1 ELSE 0 END),
        count(c.sentiment), sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS INTEGER), 0)),
        sum(coalesce(CAST(round(c.sentiment * c.sentiment * 1000000000000) AS INTEGER), 0))
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = NEW.poll_id AND c.author_id = NEW.user_id
        AND c.status = 'published' AND c.deleted_at IS NULL
    GROUP BY p.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total, total_sq = total_sq + excluded.total_sq;
END
""",
    """
CREATE TRIGGER IF NOT EXISTS polls_tone_delete AFTER DELETE ON polls
BEGIN
    INSERT INTO article_tone_counts (article_id, option_id, comments, positive, neutral, negative, scored, total, total_sq)
    SELECT t.article_id, 0, sum(t.comments), sum(t.positive), sum(t.neutral),
        sum(t.negative), sum(t.scored), sum(t.total), sum(t.total_sq)
    FROM article_tone_counts t
    WHERE t.article_id = OLD.article_id AND t.option_id <> 0
        AND EXISTS (SELECT 1 FROM articles a WHERE a.id = OLD.article_id)
    GROUP BY t.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET comments = comments + excluded.comments, positive = positive + excluded.positive, neutral = neutral + excluded.neutral, negative = negative + excluded.negative, scored = scored + excluded.scored, total = total + excluded.total, total_sq = total_sq + excluded.total_sq;
    DELETE FROM article_tone_counts
    WHERE article_id = OLD.article_id AND option_id <> 0;
END
""",
)

SQLITE_DROP = (
    """DROP TRIGGER IF EXISTS comments_tone_insert""",
    """DROP TRIGGER IF EXISTS comments_tone_delete""",
    """DROP TRIGGER IF EXISTS comments_tone_rescore""",
    """DROP TRIGGER IF EXISTS comments_tone_update""",
    """DROP TRIGGER IF EXISTS votes_tone_insert""",
    """DROP TRIGGER IF EXISTS votes_tone_delete""",
    """DROP TRIGGER IF EXISTS votes_tone_update""",
    """DROP TRIGGER IF EXISTS polls_tone_delete""",
)

POSTGRES_CREATE = (
    """
CREATE OR REPLACE FUNCTION pulse_tone_bump(
    p_article integer, p_option integer, d_comments integer, d_pos integer, d_neu integer,
    d_neg integer, d_scored integer, d_total bigint, d_sq bigint
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE article_tone_counts SET comments = comments + d_comments,
        positive = positive + d_pos, neutral = neutral + d_neu, negative = negative + d_neg,
        scored = scored + d_scored, total = total + d_total, total_sq = total_sq + d_sq
    WHERE article_id = p_article AND option_id = p_option;
    IF NOT FOUND AND d_comments > 0 THEN
        INSERT INTO article_tone_counts AS t (article_id, option_id, comments, positive, neutral, negative, scored, total, total_sq)
        VALUES (p_article, p_option, d_comments, d_pos, d_neu, d_neg, d_scored, d_total, d_sq)
        ON CONFLICT (article_id, option_id) DO UPDATE SET
            comments = t.comments + excluded.comments, positive = t.positive + excluded.positive,
            neutral = t.neutral + excluded.neutral, negative = t.negative + excluded.negative,
            scored = t.scored + excluded.scored, total = t.total + excluded.total,
            total_sq = t.total_sq + excluded.total_sq;
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
    o_tot bigint; o_sq bigint; o_day date;
    n_opt integer; n_pos integer; n_neu integer; n_neg integer; n_sc integer;
    n_tot bigint; n_sq bigint; n_day date;
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
        o_sq := coalesce(CAST(round(OLD.sentiment * OLD.sentiment * 1000000000000) AS bigint), 0);
        o_day := CAST((OLD.created_at AT TIME ZONE 'UTC') AS date);
    END IF;
    IF is_in THEN
        n_opt := coalesce((SELECT v.option_id FROM polls p JOIN votes v ON v.poll_id = p.id WHERE p.article_id = NEW.article_id AND v.user_id = NEW.author_id AND v.user_id IS NOT NULL AND v.set_aside_at IS NULL), 0);
        n_pos := CASE WHEN NEW.sentiment_label = 'positive' THEN 1 ELSE 0 END;
        n_neu := CASE WHEN NEW.sentiment_label = 'neutral' THEN 1 ELSE 0 END;
        n_neg := CASE WHEN NEW.sentiment_label = 'negative' THEN 1 ELSE 0 END;
        n_sc := CASE WHEN NEW.sentiment IS NULL THEN 0 ELSE 1 END;
        n_tot := coalesce(CAST(round(NEW.sentiment * 1000000000000) AS bigint), 0);
        n_sq := coalesce(CAST(round(NEW.sentiment * NEW.sentiment * 1000000000000) AS bigint), 0);
        n_day := CAST((NEW.created_at AT TIME ZONE 'UTC') AS date);
    END IF;
    IF was_in AND is_in AND OLD.article_id = NEW.article_id AND o_opt = n_opt THEN
        IF (o_pos, o_neu, o_neg, o_sc, o_tot, o_sq)
            IS DISTINCT FROM (n_pos, n_neu, n_neg, n_sc, n_tot, n_sq)
        THEN
            PERFORM pulse_tone_bump(NEW.article_id, n_opt, 0, n_pos - o_pos, n_neu - o_neu,
                n_neg - o_neg, n_sc - o_sc, n_tot - o_tot, n_sq - o_sq);
        END IF;
    ELSE
        was_first := was_in AND (NOT is_in OR (OLD.article_id, o_opt) < (NEW.article_id, n_opt));
        IF was_first THEN
            PERFORM pulse_tone_bump(OLD.article_id, o_opt, -1, -o_pos, -o_neu, -o_neg, -o_sc,
                -o_tot, -o_sq);
        END IF;
        IF is_in THEN
            PERFORM pulse_tone_bump(NEW.article_id, n_opt, 1, n_pos, n_neu, n_neg, n_sc, n_tot,
                n_sq);
        END IF;
        IF was_in AND NOT was_first THEN
            PERFORM pulse_tone_bump(OLD.article_id, o_opt, -1, -o_pos, -o_neu, -o_neg, -o_sc,
                -o_tot, -o_sq);
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
    sq bigint;
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
        count(c.sentiment), coalesce(sum(coalesce(CAST(round(c.sentiment * 1000000000000) AS bigint), 0)), 0),
        coalesce(sum(coalesce(CAST(round(c.sentiment * c.sentiment * 1000000000000) AS bigint), 0)), 0)
    INTO c, pos, neu, neg, sc, tot, sq
    FROM comments c
    WHERE c.author_id = p_user AND c.article_id = art
        AND c.status = 'published' AND c.deleted_at IS NULL;
    IF c = 0 THEN
        RETURN;
    END IF;
    IF p_from < p_to THEN
        PERFORM pulse_tone_bump(art, p_from, -c, -pos, -neu, -neg, -sc, -tot, -sq);
        PERFORM pulse_tone_bump(art, p_to, c, pos, neu, neg, sc, tot, sq);
    ELSE
        PERFORM pulse_tone_bump(art, p_to, c, pos, neu, neg, sc, tot, sq);
        PERFORM pulse_tone_bump(art, p_from, -c, -pos, -neu, -neg, -sc, -tot, -sq);
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
    INSERT INTO article_tone_counts AS t (article_id, option_id, comments, positive, neutral, negative, scored, total, total_sq)
    SELECT s.article_id, 0, sum(s.comments), sum(s.positive), sum(s.neutral),
        sum(s.negative), sum(s.scored), sum(s.total), sum(s.total_sq)
    FROM article_tone_counts s
    WHERE s.article_id = OLD.article_id AND s.option_id <> 0
        AND EXISTS (SELECT 1 FROM articles a WHERE a.id = OLD.article_id)
    GROUP BY s.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET
        comments = t.comments + excluded.comments, positive = t.positive + excluded.positive,
        neutral = t.neutral + excluded.neutral, negative = t.negative + excluded.negative,
        scored = t.scored + excluded.scored, total = t.total + excluded.total,
        total_sq = t.total_sq + excluded.total_sq;
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

POSTGRES_DROP = (
    """DROP TRIGGER IF EXISTS comments_tone ON comments""",
    """DROP TRIGGER IF EXISTS votes_tone_insert ON votes""",
    """DROP TRIGGER IF EXISTS votes_tone_delete ON votes""",
    """DROP TRIGGER IF EXISTS votes_tone_update ON votes""",
    """DROP TRIGGER IF EXISTS polls_tone ON polls""",
    """DROP FUNCTION IF EXISTS pulse_comment_tone()""",
    """DROP FUNCTION IF EXISTS pulse_vote_tone()""",
    """DROP FUNCTION IF EXISTS pulse_poll_tone()""",
    """DROP FUNCTION IF EXISTS pulse_tone_move(integer, integer, integer, integer)""",
    """DROP FUNCTION IF EXISTS pulse_tone_bump(integer, integer, integer, integer, integer, integer, integer, bigint, bigint)""",
    """DROP FUNCTION IF EXISTS pulse_day_bump(integer, date, integer, integer, bigint)""",
)

# Each tone row's squares, from the comments grouped as the triggers group them (the
# author's standing vote in the article's poll, or 0).
FILL = """
UPDATE article_tone_counts SET total_sq = coalesce((
    SELECT sum(CAST(round(c.sentiment * c.sentiment * 1000000000000) AS {integer}))
    FROM comments c
    LEFT JOIN polls p ON p.article_id = c.article_id
    LEFT JOIN votes v ON v.poll_id = p.id AND v.user_id = c.author_id
        AND v.user_id IS NOT NULL AND v.set_aside_at IS NULL
    WHERE c.article_id = article_tone_counts.article_id
        AND coalesce(v.option_id, 0) = article_tone_counts.option_id
        AND c.status = 'published' AND c.deleted_at IS NULL
), 0)
"""


def _postgres():
    return op.get_bind().dialect.name == "postgresql"


def _frozen(revision_id):
    """The module of an earlier revision, with the trigger SQL it froze."""
    return context.script.get_revision(revision_id).module


def _run(statements):
    for statement in statements:
        op.execute(statement)


def _before():
    """The tone triggers as they stood before this revision: (drop, create)."""
    integrity = _frozen("f1c3e5a7b9d0")
    if not _postgres():
        return integrity.TONE_SQLITE_DROP, integrity.TONE_SQLITE_CREATE
    locks = _frozen("b4d6f8a0c2e4")
    replaced = {statement.lstrip().split("(")[0]: statement for statement in locks.POSTGRES_CREATE}
    create = [
        replaced.get(statement.lstrip().split("(")[0], statement)
        for statement in integrity.TONE_POSTGRES_CREATE
    ]
    return integrity.TONE_POSTGRES_DROP, create


def upgrade():
    op.add_column(
        "article_tone_counts",
        sa.Column("total_sq", sa.BigInteger(), server_default="0", nullable=False),
    )
    old_drop, _old_create = _before()
    _run(old_drop)
    _run(POSTGRES_CREATE if _postgres() else SQLITE_CREATE)
    op.execute(FILL.format(integer="BIGINT" if _postgres() else "INTEGER"))
    op.create_table(
        "tone_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=10), nullable=False),
        sa.Column("moderator_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("analyser", sa.String(length=200), nullable=False),
        sa.Column("analyser_score", sa.Float(), nullable=True),
        sa.Column("analyser_label", sa.String(length=10), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "label IN ('positive', 'neutral', 'negative')", name=op.f("ck_tone_corrections_label")
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_tone_corrections_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["moderator_id"],
            ["users.id"],
            name=op.f("fk_tone_corrections_moderator_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tone_corrections")),
    )
    op.create_index(
        "ix_tone_corrections_comment_id_id", "tone_corrections", ["comment_id", "id"], unique=False
    )
    op.create_index(
        op.f("ix_tone_corrections_moderator_id"), "tone_corrections", ["moderator_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_tone_corrections_moderator_id"), table_name="tone_corrections")
    op.drop_index("ix_tone_corrections_comment_id_id", table_name="tone_corrections")
    op.drop_table("tone_corrections")
    _run(POSTGRES_DROP if _postgres() else SQLITE_DROP)
    # SQLite refuses to drop a column a trigger names: the old triggers come after.
    op.drop_column("article_tone_counts", "total_sq")
    _old_drop, old_create = _before()
    _run(old_create)
