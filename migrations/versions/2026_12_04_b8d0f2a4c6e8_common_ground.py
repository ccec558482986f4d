"""Common ground (issue 20): each comment's reactions by the reactors' poll answers, and
the comment's common-ground and divisiveness scores.

Upgrading adds the columns and the table, installs the triggers that keep them (a
frozen copy of webapp/models/common_ground_triggers.py as of this revision), then
fills them from the reactions and the reactors' counted votes (grouped as the
triggers group them, with the formula of webapp/services/comments/common_ground.py),
in one transaction, so no write falls between the fill and the triggers.
Downgrading removes the triggers first.

Revision ID: b8d0f2a4c6e8
Revises: a7c9e1f3b5d8
Create Date: 2026-12-04 10:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b8d0f2a4c6e8"
down_revision = "a7c9e1f3b5d8"
branch_labels = None
depends_on = None

_TOP_LEVEL = "parent_id IS NULL"
_DIVISIVE = "divisiveness > 0"
_AUTHOR_SIDE = "author_side"

# The triggers that keep them, frozen as webapp/models/common_ground_triggers.py stood at
# this revision.
SQLITE_CREATE = (
    """
CREATE TRIGGER IF NOT EXISTS comment_reactions_common_ground_insert
AFTER INSERT ON comment_reactions
BEGIN
    INSERT INTO comment_answer_reactions (comment_id, option_id, article_id, ups, downs, approval, author_side)
    SELECT c.id, v.option_id, c.article_id, NEW.value = 1, NEW.value = -1, 0.5,
        EXISTS (SELECT 1 FROM comments ac JOIN polls ap ON ap.article_id = ac.article_id JOIN votes av ON av.poll_id = ap.id AND av.user_id = ac.author_id WHERE ac.id = c.id AND av.option_id = v.option_id AND av.set_aside_at IS NULL)
    FROM comments c JOIN polls p ON p.article_id = c.article_id
        JOIN votes v ON v.poll_id = p.id
    WHERE c.id = NEW.comment_id AND v.user_id = NEW.user_id AND v.set_aside_at IS NULL
    ON CONFLICT (comment_id, option_id) DO UPDATE SET
        ups = ups + excluded.ups, downs = downs + excluded.downs;
    UPDATE comment_answer_reactions SET approval = CAST(ups + 1 AS DOUBLE PRECISION) / (ups + downs + 2)
    WHERE comment_id IN (NEW.comment_id) AND approval <> CAST(ups + 1 AS DOUBLE PRECISION) / (ups + downs + 2);
    UPDATE comments SET common_ground = (SELECT CASE WHEN count(*) >= 2 AND min(g.approval) > 0.5 THEN min(g.approval) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2), divisiveness = (SELECT CASE WHEN count(*) >= 2 AND max(g.approval) > 0.5 AND min(g.approval) < 0.5 THEN (max(g.approval) - min(g.approval)) * sum(g.ups + g.downs) / CAST(sum(g.ups + g.downs) + 10 AS DOUBLE PRECISION) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2) WHERE id IN (NEW.comment_id);
END
""",
    """
CREATE TRIGGER IF NOT EXISTS comment_reactions_common_ground_delete
AFTER DELETE ON comment_reactions
BEGIN
    UPDATE comment_answer_reactions SET ups = ups - (OLD.value = 1), downs = downs - (OLD.value = -1)
    WHERE comment_id = OLD.comment_id AND option_id = (
        SELECT v.option_id FROM comments c JOIN polls p ON p.article_id = c.article_id
            JOIN votes v ON v.poll_id = p.id
        WHERE c.id = OLD.comment_id AND v.user_id = OLD.user_id
            AND v.set_aside_at IS NULL);
    UPDATE comment_answer_reactions SET approval = CAST(ups + 1 AS DOUBLE PRECISION) / (ups + downs + 2)
    WHERE comment_id IN (OLD.comment_id) AND approval <> CAST(ups + 1 AS DOUBLE PRECISION) / (ups + downs + 2);
    UPDATE comments SET common_ground = (SELECT CASE WHEN count(*) >= 2 AND min(g.approval) > 0.5 THEN min(g.approval) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2), divisiveness = (SELECT CASE WHEN count(*) >= 2 AND max(g.approval) > 0.5 AND min(g.approval) < 0.5 THEN (max(g.approval) - min(g.approval)) * sum(g.ups + g.downs) / CAST(sum(g.ups + g.downs) + 10 AS DOUBLE PRECISION) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2) WHERE id IN (OLD.comment_id);
END
""",
    """
CREATE TRIGGER IF NOT EXISTS comment_reactions_common_ground_update
AFTER UPDATE OF value, comment_id, user_id ON comment_reactions
WHEN OLD.value <> NEW.value OR OLD.comment_id <> NEW.comment_id OR OLD.user_id <> NEW.user_id
BEGIN
    UPDATE comment_answer_reactions SET ups = ups - (OLD.value = 1), downs = downs - (OLD.value = -1)
    WHERE comment_id = OLD.comment_id AND option_id = (
        SELECT v.option_id FROM comments c JOIN polls p ON p.article_id = c.article_id
            JOIN votes v ON v.poll_id = p.id
        WHERE c.id = OLD.comment_id AND v.user_id = OLD.user_id
            AND v.set_aside_at IS NULL);
    INSERT INTO comment_answer_reactions (comment_id, option_id, article_id, ups, downs, approval, author_side)
    SELECT c.id, v.option_id, c.article_id, NEW.value = 1, NEW.value = -1, 0.5,
        EXISTS (SELECT 1 FROM comments ac JOIN polls ap ON ap.article_id = ac.article_id JOIN votes av ON av.poll_id = ap.id AND av.user_id = ac.author_id WHERE ac.id = c.id AND av.option_id = v.option_id AND av.set_aside_at IS NULL)
    FROM comments c JOIN polls p ON p.article_id = c.article_id
        JOIN votes v ON v.poll_id = p.id
    WHERE c.id = NEW.comment_id AND v.user_id = NEW.user_id AND v.set_aside_at IS NULL
    ON CONFLICT (comment_id, option_id) DO UPDATE SET
        ups = ups + excluded.ups, downs = downs + excluded.downs;
    UPDATE comment_answer_reactions SET approval = CAST(ups + 1 AS DOUBLE PRECISION) / (ups + downs + 2)
    WHERE comment_id IN (OLD.comment_id, NEW.comment_id) AND approval <> CAST(ups + 1 AS DOUBLE PRECISION) / (ups + downs + 2);
    UPDATE comments SET common_ground = (SELECT CASE WHEN count(*) >= 2 AND min(g.approval) > 0.5 THEN min(g.approval) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2), divisiveness = (SELECT CASE WHEN count(*) >= 2 AND max(g.approval) > 0.5 AND min(g.approval) < 0.5 THEN (max(g.approval) - min(g.approval)) * sum(g.ups + g.downs) / CAST(sum(g.ups + g.downs) + 10 AS DOUBLE PRECISION) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2) WHERE id IN (OLD.comment_id, NEW.comment_id);
END
""",
    """
CREATE TRIGGER IF NOT EXISTS votes_weigh_common_ground_insert AFTER INSERT ON votes
WHEN NEW.user_id IS NOT NULL AND NEW.set_aside_at IS NULL
BEGIN
    INSERT INTO comment_answer_reactions (comment_id, option_id, article_id, ups, downs, approval, author_side)
    SELECT c.id, NEW.option_id, c.article_id, r.value = 1, r.value = -1, 0.5,
        EXISTS (SELECT 1 FROM comments ac JOIN polls ap ON ap.article_id = ac.article_id JOIN votes av ON av.poll_id = ap.id AND av.user_id = ac.author_id WHERE ac.id = c.id AND av.option_id = NEW.option_id AND av.set_aside_at IS NULL)
    FROM comment_reactions r JOIN comments c ON c.id = r.comment_id
        JOIN polls p ON p.article_id = c.article_id
    WHERE r.user_id = NEW.user_id AND p.id = NEW.poll_id AND NEW.option_id IS NOT NULL
    ON CONFLICT (comment_id, option_id) DO UPDATE SET
        ups = ups + excluded.ups, downs = downs + excluded.downs;
    
    INSERT INTO comment_answer_reactions (comment_id, option_id, article_id, ups, downs, approval, author_side)
    SELECT c.id, NEW.option_id, c.article_id, 0, 0, 0.5, 1
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = NEW.poll_id AND c.author_id = NEW.user_id AND NEW.option_id IS NOT NULL
        AND EXISTS (SELECT 1 FROM poll_options o WHERE o.id = NEW.option_id)
    ON CONFLICT (comment_id, option_id) DO UPDATE SET author_side = excluded.author_side;
    UPDATE comment_answer_reactions SET approval = CAST(ups + 1 AS DOUBLE PRECISION) / (ups + downs + 2)
    WHERE comment_id IN (SELECT r.comment_id FROM comment_reactions r JOIN comments c ON c.id = r.comment_id JOIN polls p ON p.article_id = c.article_id WHERE r.user_id = NEW.user_id AND p.id = NEW.poll_id) AND approval <> CAST(ups + 1 AS DOUBLE PRECISION) / (ups + downs + 2);
    UPDATE comments SET common_ground = (SELECT CASE WHEN count(*) >= 2 AND min(g.approval) > 0.5 THEN min(g.approval) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2), divisiveness = (SELECT CASE WHEN count(*) >= 2 AND max(g.approval) > 0.5 AND min(g.approval) < 0.5 THEN (max(g.approval) - min(g.approval)) * sum(g.ups + g.downs) / CAST(sum(g.ups + g.downs) + 10 AS DOUBLE PRECISION) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2) WHERE id IN (SELECT r.comment_id FROM comment_reactions r JOIN comments c ON c.id = r.comment_id JOIN polls p ON p.article_id = c.article_id WHERE r.user_id = NEW.user_id AND p.id = NEW.poll_id);
END
""",
    """
CREATE TRIGGER IF NOT EXISTS votes_weigh_common_ground_delete AFTER DELETE ON votes
WHEN OLD.user_id IS NOT NULL AND OLD.set_aside_at IS NULL
BEGIN
    UPDATE comment_answer_reactions SET
        ups = ups - (SELECT count(*) FROM comment_reactions r WHERE r.comment_id = comment_answer_reactions.comment_id AND r.user_id = OLD.user_id AND r.value = 1),
        downs = downs - (SELECT count(*) FROM comment_reactions r WHERE r.comment_id = comment_answer_reactions.comment_id AND r.user_id = OLD.user_id AND r.value = -1)
    WHERE option_id = OLD.option_id AND comment_id IN (SELECT r.comment_id FROM comment_reactions r JOIN comments c ON c.id = r.comment_id JOIN polls p ON p.article_id = c.article_id WHERE r.user_id = OLD.user_id AND p.id = OLD.poll_id);
    
    INSERT INTO comment_answer_reactions (comment_id, option_id, article_id, ups, downs, approval, author_side)
    SELECT c.id, OLD.option_id, c.article_id, 0, 0, 0.5, 0
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = OLD.poll_id AND c.author_id = OLD.user_id AND OLD.option_id IS NOT NULL
        AND EXISTS (SELECT 1 FROM poll_options o WHERE o.id = OLD.option_id)
    ON CONFLICT (comment_id, option_id) DO UPDATE SET author_side = excluded.author_side;
    UPDATE comment_answer_reactions SET approval = CAST(ups + 1 AS DOUBLE PRECISION) / (ups + downs + 2)
    WHERE comment_id IN (SELECT r.comment_id FROM comment_reactions r JOIN comments c ON c.id = r.comment_id JOIN polls p ON p.article_id = c.article_id WHERE r.user_id = OLD.user_id AND p.id = OLD.poll_id) AND approval <> CAST(ups + 1 AS DOUBLE PRECISION) / (ups + downs + 2);
    UPDATE comments SET common_ground = (SELECT CASE WHEN count(*) >= 2 AND min(g.approval) > 0.5 THEN min(g.approval) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2), divisiveness = (SELECT CASE WHEN count(*) >= 2 AND max(g.approval) > 0.5 AND min(g.approval) < 0.5 THEN (max(g.approval) - min(g.approval)) * sum(g.ups + g.downs) / CAST(sum(g.ups + g.downs) + 10 AS DOUBLE PRECISION) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2) WHERE id IN (SELECT r.comment_id FROM comment_reactions r JOIN comments c ON c.id = r.comment_id JOIN polls p ON p.article_id = c.article_id WHERE r.user_id = OLD.user_id AND p.id = OLD.poll_id);
END
""",
    """
CREATE TRIGGER IF NOT EXISTS votes_weigh_common_ground_update
AFTER UPDATE OF option_id, set_aside_at, user_id, poll_id ON votes
WHEN OLD.user_id IS NOT NEW.user_id OR OLD.poll_id <> NEW.poll_id
    OR (CASE WHEN OLD.user_id IS NOT NULL AND OLD.set_aside_at IS NULL THEN OLD.option_id END) IS NOT (CASE WHEN NEW.user_id IS NOT NULL AND NEW.set_aside_at IS NULL THEN NEW.option_id END)
BEGIN
    UPDATE comment_answer_reactions SET
        ups = ups - (SELECT count(*) FROM comment_reactions r WHERE r.comment_id = comment_answer_reactions.comment_id AND r.user_id = OLD.user_id AND r.value = 1),
        downs = downs - (SELECT count(*) FROM comment_reactions r WHERE r.comment_id = comment_answer_reactions.comment_id AND r.user_id = OLD.user_id AND r.value = -1)
    WHERE option_id = (CASE WHEN OLD.user_id IS NOT NULL AND OLD.set_aside_at IS NULL THEN OLD.option_id END) AND comment_id IN (SELECT r.comment_id FROM comment_reactions r JOIN comments c ON c.id = r.comment_id JOIN polls p ON p.article_id = c.article_id WHERE r.user_id = OLD.user_id AND p.id = OLD.poll_id);
    
    INSERT INTO comment_answer_reactions (comment_id, option_id, article_id, ups, downs, approval, author_side)
    SELECT c.id, (CASE WHEN OLD.user_id IS NOT NULL AND OLD.set_aside_at IS NULL THEN OLD.option_id END), c.article_id, 0, 0, 0.5, 0
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = OLD.poll_id AND c.author_id = OLD.user_id AND (CASE WHEN OLD.user_id IS NOT NULL AND OLD.set_aside_at IS NULL THEN OLD.option_id END) IS NOT NULL
        AND EXISTS (SELECT 1 FROM poll_options o WHERE o.id = (CASE WHEN OLD.user_id IS NOT NULL AND OLD.set_aside_at IS NULL THEN OLD.option_id END))
    ON CONFLICT (comment_id, option_id) DO UPDATE SET author_side = excluded.author_side;
    INSERT INTO comment_answer_reactions (comment_id, option_id, article_id, ups, downs, approval, author_side)
    SELECT c.id, (CASE WHEN NEW.user_id IS NOT NULL AND NEW.set_aside_at IS NULL THEN NEW.option_id END), c.article_id, r.value = 1, r.value = -1, 0.5,
        EXISTS (SELECT 1 FROM comments ac JOIN polls ap ON ap.article_id = ac.article_id JOIN votes av ON av.poll_id = ap.id AND av.user_id = ac.author_id WHERE ac.id = c.id AND av.option_id = (CASE WHEN NEW.user_id IS NOT NULL AND NEW.set_aside_at IS NULL THEN NEW.option_id END) AND av.set_aside_at IS NULL)
    FROM comment_reactions r JOIN comments c ON c.id = r.comment_id
        JOIN polls p ON p.article_id = c.article_id
    WHERE r.user_id = NEW.user_id AND p.id = NEW.poll_id AND (CASE WHEN NEW.user_id IS NOT NULL AND NEW.set_aside_at IS NULL THEN NEW.option_id END) IS NOT NULL
    ON CONFLICT (comment_id, option_id) DO UPDATE SET
        ups = ups + excluded.ups, downs = downs + excluded.downs;
    
    INSERT INTO comment_answer_reactions (comment_id, option_id, article_id, ups, downs, approval, author_side)
    SELECT c.id, (CASE WHEN NEW.user_id IS NOT NULL AND NEW.set_aside_at IS NULL THEN NEW.option_id END), c.article_id, 0, 0, 0.5, 1
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = NEW.poll_id AND c.author_id = NEW.user_id AND (CASE WHEN NEW.user_id IS NOT NULL AND NEW.set_aside_at IS NULL THEN NEW.option_id END) IS NOT NULL
        AND EXISTS (SELECT 1 FROM poll_options o WHERE o.id = (CASE WHEN NEW.user_id IS NOT NULL AND NEW.set_aside_at IS NULL THEN NEW.option_id END))
    ON CONFLICT (comment_id, option_id) DO UPDATE SET author_side = excluded.author_side;
    UPDATE comment_answer_reactions SET approval = CAST(ups + 1 AS DOUBLE PRECISION) / (ups + downs + 2)
    WHERE comment_id IN (SELECT r.comment_id FROM comment_reactions r JOIN comments c ON c.id = r.comment_id JOIN polls p ON p.article_id = c.article_id WHERE r.user_id IN (OLD.user_id, NEW.user_id) AND p.id IN (OLD.poll_id, NEW.poll_id)) AND approval <> CAST(ups + 1 AS DOUBLE PRECISION) / (ups + downs + 2);
    UPDATE comments SET common_ground = (SELECT CASE WHEN count(*) >= 2 AND min(g.approval) > 0.5 THEN min(g.approval) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2), divisiveness = (SELECT CASE WHEN count(*) >= 2 AND max(g.approval) > 0.5 AND min(g.approval) < 0.5 THEN (max(g.approval) - min(g.approval)) * sum(g.ups + g.downs) / CAST(sum(g.ups + g.downs) + 10 AS DOUBLE PRECISION) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2) WHERE id IN (SELECT r.comment_id FROM comment_reactions r JOIN comments c ON c.id = r.comment_id JOIN polls p ON p.article_id = c.article_id WHERE r.user_id IN (OLD.user_id, NEW.user_id) AND p.id IN (OLD.poll_id, NEW.poll_id));
END
""",
    """
CREATE TRIGGER IF NOT EXISTS poll_options_common_ground AFTER DELETE ON poll_options
BEGIN
    DELETE FROM comment_answer_reactions WHERE option_id = OLD.id;
    
    UPDATE comments SET common_ground = (SELECT CASE WHEN count(*) >= 2 AND min(g.approval) > 0.5 THEN min(g.approval) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2), divisiveness = (SELECT CASE WHEN count(*) >= 2 AND max(g.approval) > 0.5 AND min(g.approval) < 0.5 THEN (max(g.approval) - min(g.approval)) * sum(g.ups + g.downs) / CAST(sum(g.ups + g.downs) + 10 AS DOUBLE PRECISION) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2)
    WHERE article_id = (SELECT p.article_id FROM polls p WHERE p.id = OLD.poll_id) AND (common_ground <> 0 OR divisiveness <> 0);
END
""",
    """
CREATE TRIGGER IF NOT EXISTS polls_common_ground AFTER DELETE ON polls
BEGIN
    DELETE FROM comment_answer_reactions WHERE article_id = OLD.article_id;
    
    UPDATE comments SET common_ground = (SELECT CASE WHEN count(*) >= 2 AND min(g.approval) > 0.5 THEN min(g.approval) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2), divisiveness = (SELECT CASE WHEN count(*) >= 2 AND max(g.approval) > 0.5 AND min(g.approval) < 0.5 THEN (max(g.approval) - min(g.approval)) * sum(g.ups + g.downs) / CAST(sum(g.ups + g.downs) + 10 AS DOUBLE PRECISION) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2)
    WHERE article_id = OLD.article_id AND (common_ground <> 0 OR divisiveness <> 0);
END
""",
)

SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS comment_reactions_common_ground_insert",
    "DROP TRIGGER IF EXISTS comment_reactions_common_ground_delete",
    "DROP TRIGGER IF EXISTS comment_reactions_common_ground_update",
    "DROP TRIGGER IF EXISTS votes_weigh_common_ground_insert",
    "DROP TRIGGER IF EXISTS votes_weigh_common_ground_delete",
    "DROP TRIGGER IF EXISTS votes_weigh_common_ground_update",
    "DROP TRIGGER IF EXISTS poll_options_common_ground",
    "DROP TRIGGER IF EXISTS polls_common_ground",
)

POSTGRES_CREATE = (
    """
CREATE OR REPLACE FUNCTION pulse_cg_refresh(p_comment integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    cg double precision;
    dv double precision;
BEGIN
    -- Only the groups whose counts moved change: no other group row is locked.
    UPDATE comment_answer_reactions SET approval = CAST(ups + 1 AS DOUBLE PRECISION) / (ups + downs + 2)
    WHERE comment_id = p_comment AND approval <> CAST(ups + 1 AS DOUBLE PRECISION) / (ups + downs + 2);
    SELECT CASE WHEN count(*) >= 2 AND min(g.approval) > 0.5 THEN min(g.approval) ELSE CAST(0 AS DOUBLE PRECISION) END, CASE WHEN count(*) >= 2 AND max(g.approval) > 0.5 AND min(g.approval) < 0.5 THEN (max(g.approval) - min(g.approval)) * sum(g.ups + g.downs) / CAST(sum(g.ups + g.downs) + 10 AS DOUBLE PRECISION) ELSE CAST(0 AS DOUBLE PRECISION) END INTO cg, dv
    FROM comment_answer_reactions g WHERE g.comment_id = p_comment AND g.ups + g.downs >= 2;
    UPDATE comments SET common_ground = cg, divisiveness = dv
    WHERE id = p_comment AND (common_ground <> cg OR divisiveness <> dv);
END
$$
""",
    """
CREATE OR REPLACE FUNCTION pulse_cg_bump(
    p_comment integer, p_option integer, p_article integer, d_ups integer, d_downs integer,
    p_side boolean
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_side IS NULL THEN
        -- A reaction: author_side is read only for a new row, and never overwritten.
        UPDATE comment_answer_reactions SET ups = ups + d_ups, downs = downs + d_downs
        WHERE comment_id = p_comment AND option_id = p_option;
        IF FOUND OR d_ups + d_downs <= 0 THEN
            RETURN;
        END IF;
        INSERT INTO comment_answer_reactions AS g (comment_id, option_id, article_id, ups, downs, author_side)
        SELECT p_comment, p_option, p_article, d_ups, d_downs,
            EXISTS (SELECT 1 FROM comments ac JOIN polls ap ON ap.article_id = ac.article_id JOIN votes av ON av.poll_id = ap.id AND av.user_id = ac.author_id WHERE ac.id = p_comment AND av.option_id = p_option AND av.set_aside_at IS NULL)
        ON CONFLICT (comment_id, option_id) DO UPDATE SET
            ups = g.ups + excluded.ups, downs = g.downs + excluded.downs;
    ELSE
        -- The author's vote: always an upsert, so that it meets a reaction's new row.
        INSERT INTO comment_answer_reactions AS g (comment_id, option_id, article_id, ups, downs, author_side)
        VALUES (p_comment, p_option, p_article, greatest(d_ups, 0), greatest(d_downs, 0),
            p_side)
        ON CONFLICT (comment_id, option_id) DO UPDATE SET ups = g.ups + d_ups,
            downs = g.downs + d_downs, author_side = excluded.author_side;
    END IF;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION pulse_reaction_common_ground() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    was_in boolean := TG_OP <> 'INSERT';
    is_in boolean := TG_OP <> 'DELETE';
    o_art integer; o_opt integer; n_art integer; n_opt integer;
    o_first boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.comment_id = NEW.comment_id AND OLD.user_id = NEW.user_id
        AND OLD.value = NEW.value THEN
        RETURN NULL;
    END IF;
    -- The reactors' locks, then the comments', each in ascending id order.
    PERFORM 1 FROM users WHERE id IN (
        CASE WHEN was_in THEN OLD.user_id END, CASE WHEN is_in THEN NEW.user_id END
    ) ORDER BY id FOR NO KEY UPDATE;
    PERFORM 1 FROM comments WHERE id IN (
        CASE WHEN was_in THEN OLD.comment_id END, CASE WHEN is_in THEN NEW.comment_id END
    ) ORDER BY id FOR NO KEY UPDATE;
    IF was_in THEN
        SELECT c.article_id, v.option_id INTO o_art, o_opt
        FROM comments c LEFT JOIN polls p ON p.article_id = c.article_id
            LEFT JOIN votes v ON v.poll_id = p.id AND v.user_id = OLD.user_id
                AND v.set_aside_at IS NULL
        WHERE c.id = OLD.comment_id;
    END IF;
    IF is_in THEN
        SELECT c.article_id, v.option_id INTO n_art, n_opt
        FROM comments c LEFT JOIN polls p ON p.article_id = c.article_id
            LEFT JOIN votes v ON v.poll_id = p.id AND v.user_id = NEW.user_id
                AND v.set_aside_at IS NULL
        WHERE c.id = NEW.comment_id;
    END IF;
    IF was_in AND is_in AND OLD.comment_id = NEW.comment_id
        AND o_opt IS NOT DISTINCT FROM n_opt THEN
        IF n_opt IS NOT NULL THEN
            PERFORM pulse_cg_bump(NEW.comment_id, n_opt, n_art,
                (NEW.value = 1)::integer - (OLD.value = 1)::integer,
                (NEW.value = -1)::integer - (OLD.value = -1)::integer, NULL);
        END IF;
    ELSE
        o_first := o_opt IS NOT NULL AND (n_opt IS NULL
            OR (OLD.comment_id, o_opt) < (NEW.comment_id, n_opt));
        IF o_first THEN
            PERFORM pulse_cg_bump(OLD.comment_id, o_opt, o_art, -(OLD.value = 1)::integer,
                -(OLD.value = -1)::integer, NULL);
        END IF;
        IF n_opt IS NOT NULL THEN
            PERFORM pulse_cg_bump(NEW.comment_id, n_opt, n_art, (NEW.value = 1)::integer,
                (NEW.value = -1)::integer, NULL);
        END IF;
        IF o_opt IS NOT NULL AND NOT o_first THEN
            PERFORM pulse_cg_bump(OLD.comment_id, o_opt, o_art, -(OLD.value = 1)::integer,
                -(OLD.value = -1)::integer, NULL);
        END IF;
    END IF;
    IF o_opt IS NOT NULL AND (n_opt IS NULL OR OLD.comment_id < NEW.comment_id) THEN
        PERFORM pulse_cg_refresh(OLD.comment_id);
    END IF;
    IF n_opt IS NOT NULL THEN
        PERFORM pulse_cg_refresh(NEW.comment_id);
    END IF;
    IF o_opt IS NOT NULL AND n_opt IS NOT NULL AND OLD.comment_id > NEW.comment_id THEN
        PERFORM pulse_cg_refresh(OLD.comment_id);
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION pulse_cg_move(
    p_poll integer, p_user integer, p_from integer, p_to integer
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    art integer;
    rec record;
    d_ups integer;
    d_downs integer;
BEGIN
    IF p_user IS NULL OR p_from IS NOT DISTINCT FROM p_to THEN
        RETURN;
    END IF;
    SELECT p.article_id INTO art FROM polls p WHERE p.id = p_poll;
    IF NOT FOUND THEN
        RETURN;  -- the poll is being deleted with its votes
    END IF;
    IF p_from IS NOT NULL AND NOT EXISTS (SELECT 1 FROM poll_options WHERE id = p_from) THEN
        p_from := NULL;  -- the option is being deleted with its votes (and its groups)
    END IF;
    -- The voter's reactions on the article and the comments they wrote there, in one
    -- ascending walk (the voter's lock is held: none of theirs changes meanwhile).
    FOR rec IN
        SELECT x.comment_id, max(x.value) AS value, bool_or(x.own) AS own
        FROM (
            SELECT r.comment_id, r.value, false AS own
            FROM comment_reactions r JOIN comments c ON c.id = r.comment_id
            WHERE r.user_id = p_user AND c.article_id = art
            UNION ALL
            SELECT c.id, NULL, true FROM comments c
            WHERE c.author_id = p_user AND c.article_id = art
        ) x
        GROUP BY x.comment_id ORDER BY x.comment_id
    LOOP
        IF rec.value IS NOT NULL THEN
            PERFORM 1 FROM comments WHERE id = rec.comment_id FOR NO KEY UPDATE;
        ELSE
            PERFORM 1 FROM comments WHERE id = rec.comment_id FOR KEY SHARE;
        END IF;
        IF NOT FOUND THEN
            CONTINUE;  -- deleted meanwhile
        END IF;
        d_ups := CASE WHEN rec.value = 1 THEN 1 ELSE 0 END;
        d_downs := CASE WHEN rec.value = -1 THEN 1 ELSE 0 END;
        IF p_from IS NOT NULL AND (p_to IS NULL OR p_from < p_to) THEN
            PERFORM pulse_cg_bump(rec.comment_id, p_from, art, -d_ups, -d_downs,
                CASE WHEN rec.own THEN false END);
        END IF;
        IF p_to IS NOT NULL THEN
            PERFORM pulse_cg_bump(rec.comment_id, p_to, art, d_ups, d_downs,
                CASE WHEN rec.own THEN true END);
        END IF;
        IF p_from IS NOT NULL AND p_to IS NOT NULL AND p_from > p_to THEN
            PERFORM pulse_cg_bump(rec.comment_id, p_from, art, -d_ups, -d_downs,
                CASE WHEN rec.own THEN false END);
        END IF;
        IF rec.value IS NOT NULL THEN
            PERFORM pulse_cg_refresh(rec.comment_id);
        END IF;
    END LOOP;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION pulse_vote_common_ground() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    o_user integer; o_poll integer; o_ans integer;
    n_user integer; n_poll integer; n_ans integer;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        o_user := OLD.user_id; o_poll := OLD.poll_id; o_ans := (CASE WHEN OLD.user_id IS NOT NULL AND OLD.set_aside_at IS NULL THEN OLD.option_id END);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        n_user := NEW.user_id; n_poll := NEW.poll_id; n_ans := (CASE WHEN NEW.user_id IS NOT NULL AND NEW.set_aside_at IS NULL THEN NEW.option_id END);
    END IF;
    IF o_user IS NOT DISTINCT FROM n_user AND o_poll IS NOT DISTINCT FROM n_poll
        AND o_ans IS NOT DISTINCT FROM n_ans THEN
        RETURN NULL;
    END IF;
    -- The voters' locks (a vote's tone trigger took them already), ascending.
    PERFORM 1 FROM users WHERE id IN (o_user, n_user) ORDER BY id FOR NO KEY UPDATE;
    IF o_user IS NOT DISTINCT FROM n_user AND o_poll = n_poll THEN
        PERFORM pulse_cg_move(n_poll, n_user, o_ans, n_ans);
    ELSE
        PERFORM pulse_cg_move(o_poll, o_user, o_ans, NULL);
        PERFORM pulse_cg_move(n_poll, n_user, NULL, n_ans);
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION pulse_poll_common_ground() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    art integer;
BEGIN
    IF TG_TABLE_NAME = 'polls' THEN
        art := OLD.article_id;
        DELETE FROM comment_answer_reactions WHERE article_id = art;
    ELSE
        SELECT p.article_id INTO art FROM polls p WHERE p.id = OLD.poll_id;
        DELETE FROM comment_answer_reactions WHERE option_id = OLD.id;
    END IF;
    UPDATE comments SET common_ground = (SELECT CASE WHEN count(*) >= 2 AND min(g.approval) > 0.5 THEN min(g.approval) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2), divisiveness = (SELECT CASE WHEN count(*) >= 2 AND max(g.approval) > 0.5 AND min(g.approval) < 0.5 THEN (max(g.approval) - min(g.approval)) * sum(g.ups + g.downs) / CAST(sum(g.ups + g.downs) + 10 AS DOUBLE PRECISION) ELSE CAST(0 AS DOUBLE PRECISION) END FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND g.ups + g.downs >= 2)
    WHERE article_id = art AND (common_ground <> 0 OR divisiveness <> 0);
    RETURN NULL;
END
$$
""",
    """
CREATE OR REPLACE TRIGGER comment_reactions_common_ground
AFTER INSERT OR DELETE OR UPDATE OF value, comment_id, user_id ON comment_reactions
FOR EACH ROW EXECUTE FUNCTION pulse_reaction_common_ground()
""",
    """
CREATE OR REPLACE TRIGGER votes_weigh_common_ground
AFTER INSERT OR DELETE OR UPDATE OF option_id, set_aside_at, user_id, poll_id ON votes
FOR EACH ROW EXECUTE FUNCTION pulse_vote_common_ground()
""",
    """
CREATE OR REPLACE TRIGGER poll_options_common_ground AFTER DELETE ON poll_options
FOR EACH ROW EXECUTE FUNCTION pulse_poll_common_ground()
""",
    """
CREATE OR REPLACE TRIGGER polls_common_ground AFTER DELETE ON polls
FOR EACH ROW EXECUTE FUNCTION pulse_poll_common_ground()
""",
)

POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS comment_reactions_common_ground ON comment_reactions",
    "DROP TRIGGER IF EXISTS votes_weigh_common_ground ON votes",
    "DROP TRIGGER IF EXISTS poll_options_common_ground ON poll_options",
    "DROP TRIGGER IF EXISTS polls_common_ground ON polls",
    "DROP FUNCTION IF EXISTS pulse_reaction_common_ground()",
    "DROP FUNCTION IF EXISTS pulse_vote_common_ground()",
    "DROP FUNCTION IF EXISTS pulse_poll_common_ground()",
    "DROP FUNCTION IF EXISTS pulse_cg_move(integer, integer, integer, integer)",
    "DROP FUNCTION IF EXISTS pulse_cg_bump(integer, integer, integer, integer, integer, boolean)",
    "DROP FUNCTION IF EXISTS pulse_cg_refresh(integer)",
)

_APPROVAL = "CAST(ups + 1 AS DOUBLE PRECISION) / (ups + downs + 2)"
_WEIGHS_IN = "g.ups + g.downs >= 2"
_COMMON_GROUND = (
    "CASE WHEN count(*) >= 2 AND min(g.approval) > 0.5 THEN min(g.approval) "
    "ELSE CAST(0 AS DOUBLE PRECISION) END"
)
_DIVISIVENESS = (
    "CASE WHEN count(*) >= 2 AND max(g.approval) > 0.5 AND min(g.approval) < 0.5 "
    "THEN (max(g.approval) - min(g.approval)) * sum(g.ups + g.downs) "
    "/ CAST(sum(g.ups + g.downs) + 10 AS DOUBLE PRECISION) "
    "ELSE CAST(0 AS DOUBLE PRECISION) END"
)
_GROUPS_OF = "FROM comment_answer_reactions g WHERE g.comment_id = comments.id AND " + _WEIGHS_IN
# Every reaction whose reactor holds a counted vote in the comment's article's poll,
# grouped by that vote's answer, with whether the comment's author holds the answer.
_FILL_GROUPS = """
INSERT INTO comment_answer_reactions (comment_id, option_id, article_id, ups, downs, approval,
    author_side)
SELECT r.comment_id, v.option_id, c.article_id,
    sum(CASE WHEN r.value = 1 THEN 1 ELSE 0 END), sum(CASE WHEN r.value = -1 THEN 1 ELSE 0 END),
    0.5, EXISTS (SELECT 1 FROM votes av WHERE av.poll_id = p.id AND av.user_id = c.author_id
        AND av.option_id = v.option_id AND av.set_aside_at IS NULL)
FROM comment_reactions r JOIN comments c ON c.id = r.comment_id
    JOIN polls p ON p.article_id = c.article_id
    JOIN votes v ON v.poll_id = p.id AND v.user_id = r.user_id AND v.set_aside_at IS NULL
GROUP BY r.comment_id, v.option_id, c.article_id, p.id, c.author_id
"""  # nosec B608
_FILL_APPROVALS = f"UPDATE comment_answer_reactions SET approval = {_APPROVAL}"  # nosec B608
_FILL_SCORES = f"""
UPDATE comments SET common_ground = (SELECT {_COMMON_GROUND} {_GROUPS_OF}),
    divisiveness = (SELECT {_DIVISIVENESS} {_GROUPS_OF})
WHERE id IN (SELECT comment_id FROM comment_answer_reactions)
"""  # nosec B608


def upgrade() -> None:
    # Constant defaults: PostgreSQL adds the columns without rewriting the table, and
    # SQLite's ADD COLUMN takes them as they are.
    op.add_column(
        "comments", sa.Column("common_ground", sa.Float(), server_default="0", nullable=False)
    )
    op.add_column(
        "comments", sa.Column("divisiveness", sa.Float(), server_default="0", nullable=False)
    )
    op.create_index(
        "ix_comments_thread_common_ground", "comments",
        ["article_id", "status", sa.text("common_ground DESC"), sa.text("score DESC"), "id"],
        postgresql_where=sa.text(_TOP_LEVEL), sqlite_where=sa.text(_TOP_LEVEL),
    )  # fmt: skip
    op.create_index(
        "ix_comments_divisive", "comments", [sa.text("divisiveness DESC"), "id"],
        postgresql_where=sa.text(_DIVISIVE), sqlite_where=sa.text(_DIVISIVE),
    )  # fmt: skip
    op.create_table(
        "comment_answer_reactions",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("ups", sa.Integer(), server_default="0", nullable=False),
        sa.Column("downs", sa.Integer(), server_default="0", nullable=False),
        sa.Column("approval", sa.Float(), server_default="0.5", nullable=False),
        sa.Column("author_side", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"],
            name=op.f("fk_comment_answer_reactions_article_id_articles"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"],
            name=op.f("fk_comment_answer_reactions_comment_id_comments"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["option_id"], ["poll_options.id"],
            name=op.f("fk_comment_answer_reactions_option_id_poll_options"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("comment_id", "option_id", name=op.f("pk_comment_answer_reactions")),
    )  # fmt: skip
    op.create_index(
        "ix_comment_answer_reactions_own_side", "comment_answer_reactions",
        ["article_id", "option_id", sa.text("approval DESC"), "comment_id"],
        postgresql_where=sa.text(_AUTHOR_SIDE), sqlite_where=sa.text(_AUTHOR_SIDE),
    )  # fmt: skip
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_CREATE if postgres else SQLITE_CREATE:
        op.execute(statement)
    for statement in (_FILL_GROUPS, _FILL_APPROVALS, _FILL_SCORES):
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_DROP if postgres else SQLITE_DROP:
        op.execute(statement)
    op.drop_index("ix_comment_answer_reactions_own_side", table_name="comment_answer_reactions")
    op.drop_table("comment_answer_reactions")
    op.drop_index("ix_comments_divisive", table_name="comments")
    op.drop_index("ix_comments_thread_common_ground", table_name="comments")
    for column in ("divisiveness", "common_ground"):
        if op.get_bind().dialect.name == "postgresql":
            op.drop_column("comments", column)
        else:
            # SQLite drops a column in place (3.35+); a batch copy of the table would
            # take the triggers on comments with it.
            op.execute(f"ALTER TABLE comments DROP COLUMN {column}")
