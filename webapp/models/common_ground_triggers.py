"""Database triggers that keep common ground (issue 20) in step with the reactions and
the votes: ``comment_answer_reactions`` (each comment's up and down reactions per poll
answer of the reactors, the group's smoothed approval, and whether the comment's
author holds that answer) and ``comments.common_ground`` / ``comments.divisiveness``.
The formula is webapp/services/comments/common_ground.py; the SQL here computes it
with the same double-precision arithmetic.

A reaction counts in the group of its reactor's counted vote in the comment's
article's poll (an account's vote, ``set_aside_at`` empty); without one it counts
nowhere. They move inside the statement that wrote the rows:

- every insert, delete and change (``value``, ``comment_id``, ``user_id``) of a
  reaction: its group's counts, then the comment's approvals and scores;
- every insert, delete and change (``option_id``, ``set_aside_at``, ``user_id``,
  ``poll_id``) of a vote (a first vote, a move, a withdrawal, a set-aside or restore,
  an anonymous vote adopted on sign-in): the voter's reactions on the poll's
  article's comments leave the old answer's groups and join the new one's, and those
  comments' scores are recomputed; and the rows of the comments the voter wrote on
  that article get ``author_side`` right (off in the old answer's row, on in the new
  one's). Those two rows are written even when the comment has no reaction from that
  answer yet (a row of zero reactions; see "locks" below for why);
- a new group row (a reaction from an answer the comment had none from) reads the
  author's vote for its ``author_side``;
- a poll option or poll deleted: its groups go, and the article's scored comments
  are recomputed.

So the sort by common ground is one index range (ix_comments_thread_common_ground),
the figures stay right for writes made outside the app too, and
``webapp.services.comments.common_ground.recount_article`` is the check.

Locks (PostgreSQL, READ COMMITTED). A reaction's group depends on a vote another
transaction may be moving, and a vote's move on reactions others may be writing.
So both triggers first lock the reactor's (voter's) row in ``users`` ``FOR NO KEY
UPDATE`` (as the tone counters' triggers lock an author; a vote's tone trigger has
taken it already) and only then read the vote or the reactions: one reader's vote
and reactions are written one transaction at a time, and each statement after the
lock sees what the other committed. Then, per comment in ascending id order, the
comment's row (``FOR NO KEY UPDATE`` where its scores change; ``FOR KEY SHARE``
where only its author's ``author_side`` flips, which a moderator's decision on it
does not wait for), then its group rows in ascending option order, then the scores.
A comment's groups' counts are written only by a holder of its row's lock, so the
recomputed scores see every committed count. Deleting a comment takes its row
before its groups' (the cascade), in the same order.

``author_side`` is not serialised by a lock (locking the author as well would wait
on a moderator holding their comment): a vote's trigger upserts the two rows, so a
reaction creating one of them at the same moment conflicts with it on the key, and
whichever comes second keeps the author's answer as the vote's trigger wrote it (a
reaction's upsert sets ``author_side`` only on insert).

The votes' trigger is named to fire after ``votes_tallies`` and the tone triggers
(PostgreSQL fires one table's row triggers in name order): a vote's statement takes
the poll's options, then the voter, then the tone rows, then these rows. Set-aside
decisions take every voter's lock before their UPDATE (``polls.lock_for_set_aside``),
so a decision's many rows cannot deadlock with a reader's reaction.

Known limit: a write that holds a comment's row and then waits for its author's
lock (a moderator's bulk decision, which takes its comments, then their authors; a
reply, which bumps its parent, then takes its author's lock for the tone counters)
can meet a reaction or vote of that author on one of those comments, which holds
the author and waits for the comment: PostgreSQL detects the deadlock and cancels
one of the two (nothing is miscounted). It takes the same reader reacting to (or
moving their vote over) a comment while their own comment is decided in the same
bulk action, or while replying to it.

The statements are attached to the metadata (in webapp/models/__init__.py, after the
tally and tone triggers) so ``create_all`` installs them; the Alembic revision
b8d0f2a4c6e8 carries its own frozen copy, and tests/test_migrations.py checks the two
agree.
"""

from __future__ import annotations

from webapp.models.triggers import TriggerSet

_GROUPS = "comment_answer_reactions"
_APPROVAL = "CAST(ups + 1 AS DOUBLE PRECISION) / (ups + downs + 2)"
# The formula's MIN_GROUP_REACTIONS and DIVISIVE_DAMPING (common_ground.py).
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


def _scores_set(comment: str) -> str:
    """The SET clause of an UPDATE of comments: both scores from the comment's groups."""
    groups = f"FROM {_GROUPS} g WHERE g.comment_id = {comment} AND {_WEIGHS_IN}"
    return (
        f"common_ground = (SELECT {_COMMON_GROUND} {groups}), "
        f"divisiveness = (SELECT {_DIVISIVENESS} {groups})"  # nosec B608
    )


def _author_side(comment: str, option: str) -> str:
    """Whether the comment's author holds ``option`` (a counted vote)."""
    return (
        f"EXISTS (SELECT 1 FROM comments ac JOIN polls ap ON ap.article_id = ac.article_id "  # nosec B608
        f"JOIN votes av ON av.poll_id = ap.id AND av.user_id = ac.author_id "
        f"WHERE ac.id = {comment} AND av.option_id = {option} AND av.set_aside_at IS NULL)"
    )  # nosec B608


def _answer(row: str) -> str:
    """The group a vote row puts its voter's reactions in, or NULL (none)."""
    return (
        f"(CASE WHEN {row}.user_id IS NOT NULL AND {row}.set_aside_at IS NULL "
        f"THEN {row}.option_id END)"
    )


# --- SQLite: one writer at a time, so statements in any order ----------------------------


def _sqlite_refresh(comments: str) -> str:
    """The approvals and scores of the comments ``comments`` (an IN list) names."""
    return f"""
    UPDATE {_GROUPS} SET approval = {_APPROVAL}
    WHERE comment_id IN ({comments}) AND approval <> {_APPROVAL};
    UPDATE comments SET {_scores_set("comments.id")} WHERE id IN ({comments});"""  # nosec B608


def _sqlite_reaction_add(row: str) -> str:
    return f"""
    INSERT INTO {_GROUPS} (comment_id, option_id, article_id, ups, downs, approval, author_side)
    SELECT c.id, v.option_id, c.article_id, {row}.value = 1, {row}.value = -1, 0.5,
        {_author_side("c.id", "v.option_id")}
    FROM comments c JOIN polls p ON p.article_id = c.article_id
        JOIN votes v ON v.poll_id = p.id
    WHERE c.id = {row}.comment_id AND v.user_id = {row}.user_id AND v.set_aside_at IS NULL
    ON CONFLICT (comment_id, option_id) DO UPDATE SET
        ups = ups + excluded.ups, downs = downs + excluded.downs;"""  # nosec B608


def _sqlite_reaction_take(row: str) -> str:
    return f"""
    UPDATE {_GROUPS} SET ups = ups - ({row}.value = 1), downs = downs - ({row}.value = -1)
    WHERE comment_id = {row}.comment_id AND option_id = (
        SELECT v.option_id FROM comments c JOIN polls p ON p.article_id = c.article_id
            JOIN votes v ON v.poll_id = p.id
        WHERE c.id = {row}.comment_id AND v.user_id = {row}.user_id
            AND v.set_aside_at IS NULL);"""  # nosec B608


def _sqlite_reacted(poll: str, user: str) -> str:
    """The comments of the poll's article that the account reacted to."""
    return (
        f"SELECT r.comment_id FROM comment_reactions r JOIN comments c ON c.id = r.comment_id "  # nosec B608
        f"JOIN polls p ON p.article_id = c.article_id WHERE r.user_id = {user} AND p.id = {poll}"
    )  # nosec B608


def _sqlite_vote_take(poll: str, user: str, option: str) -> str:
    """The account's reactions leave ``option``'s groups; its comments' rows of that
    option lose ``author_side``."""
    mine = "FROM comment_reactions r WHERE r.comment_id = {0}.comment_id AND r.user_id = {1}"
    return f"""
    UPDATE {_GROUPS} SET
        ups = ups - (SELECT count(*) {mine.format(_GROUPS, user)} AND r.value = 1),
        downs = downs - (SELECT count(*) {mine.format(_GROUPS, user)} AND r.value = -1)
    WHERE option_id = {option} AND comment_id IN ({_sqlite_reacted(poll, user)});
    {_sqlite_own_side(poll, user, option, "0")}"""  # nosec B608


def _sqlite_own_side(poll: str, user: str, option: str, side: str) -> str:
    return f"""
    INSERT INTO {_GROUPS} (comment_id, option_id, article_id, ups, downs, approval, author_side)
    SELECT c.id, {option}, c.article_id, 0, 0, 0.5, {side}
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = {poll} AND c.author_id = {user} AND {option} IS NOT NULL
        AND EXISTS (SELECT 1 FROM poll_options o WHERE o.id = {option})
    ON CONFLICT (comment_id, option_id) DO UPDATE SET author_side = excluded.author_side;"""  # nosec B608


def _sqlite_vote_add(poll: str, user: str, option: str) -> str:
    return f"""
    INSERT INTO {_GROUPS} (comment_id, option_id, article_id, ups, downs, approval, author_side)
    SELECT c.id, {option}, c.article_id, r.value = 1, r.value = -1, 0.5,
        {_author_side("c.id", option)}
    FROM comment_reactions r JOIN comments c ON c.id = r.comment_id
        JOIN polls p ON p.article_id = c.article_id
    WHERE r.user_id = {user} AND p.id = {poll} AND {option} IS NOT NULL
    ON CONFLICT (comment_id, option_id) DO UPDATE SET
        ups = ups + excluded.ups, downs = downs + excluded.downs;
    {_sqlite_own_side(poll, user, option, "1")}"""  # nosec B608


def _sqlite_article_rescore(article: str) -> str:
    return f"""
    UPDATE comments SET {_scores_set("comments.id")}
    WHERE article_id = {article} AND (common_ground <> 0 OR divisiveness <> 0);"""  # nosec B608


_REACTED_EITHER = (
    "SELECT r.comment_id FROM comment_reactions r JOIN comments c ON c.id = r.comment_id "
    "JOIN polls p ON p.article_id = c.article_id "
    "WHERE r.user_id IN (OLD.user_id, NEW.user_id) AND p.id IN (OLD.poll_id, NEW.poll_id)"
)

SQLITE_CREATE = (
    f"""
CREATE TRIGGER IF NOT EXISTS comment_reactions_common_ground_insert
AFTER INSERT ON comment_reactions
BEGIN{_sqlite_reaction_add("NEW")}{_sqlite_refresh("NEW.comment_id")}
END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS comment_reactions_common_ground_delete
AFTER DELETE ON comment_reactions
BEGIN{_sqlite_reaction_take("OLD")}{_sqlite_refresh("OLD.comment_id")}
END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS comment_reactions_common_ground_update
AFTER UPDATE OF value, comment_id, user_id ON comment_reactions
WHEN OLD.value <> NEW.value OR OLD.comment_id <> NEW.comment_id OR OLD.user_id <> NEW.user_id
BEGIN{_sqlite_reaction_take("OLD")}{_sqlite_reaction_add("NEW")}\
{_sqlite_refresh("OLD.comment_id, NEW.comment_id")}
END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS votes_weigh_common_ground_insert AFTER INSERT ON votes
WHEN NEW.user_id IS NOT NULL AND NEW.set_aside_at IS NULL
BEGIN{_sqlite_vote_add("NEW.poll_id", "NEW.user_id", "NEW.option_id")}\
{_sqlite_refresh(_sqlite_reacted("NEW.poll_id", "NEW.user_id"))}
END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS votes_weigh_common_ground_delete AFTER DELETE ON votes
WHEN OLD.user_id IS NOT NULL AND OLD.set_aside_at IS NULL
BEGIN{_sqlite_vote_take("OLD.poll_id", "OLD.user_id", "OLD.option_id")}\
{_sqlite_refresh(_sqlite_reacted("OLD.poll_id", "OLD.user_id"))}
END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS votes_weigh_common_ground_update
AFTER UPDATE OF option_id, set_aside_at, user_id, poll_id ON votes
WHEN OLD.user_id IS NOT NEW.user_id OR OLD.poll_id <> NEW.poll_id
    OR {_answer("OLD")} IS NOT {_answer("NEW")}
BEGIN{_sqlite_vote_take("OLD.poll_id", "OLD.user_id", _answer("OLD"))}\
{_sqlite_vote_add("NEW.poll_id", "NEW.user_id", _answer("NEW"))}{_sqlite_refresh(_REACTED_EITHER)}
END
""",
    # An option deleted (an editor's poll edit): its groups go, so do its votes (whose
    # triggers find no option to move from).
    f"""
CREATE TRIGGER IF NOT EXISTS poll_options_common_ground AFTER DELETE ON poll_options
BEGIN
    DELETE FROM {_GROUPS} WHERE option_id = OLD.id;
    {_sqlite_article_rescore("(SELECT p.article_id FROM polls p WHERE p.id = OLD.poll_id)")}
END
""",  # nosec B608 (trigger text from constants, no input)
    f"""
CREATE TRIGGER IF NOT EXISTS polls_common_ground AFTER DELETE ON polls
BEGIN
    DELETE FROM {_GROUPS} WHERE article_id = OLD.article_id;
    {_sqlite_article_rescore("OLD.article_id")}
END
""",  # nosec B608 (trigger text from constants, no input)
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


# --- PostgreSQL: locks in one order (see the module's docstring) -------------------------

POSTGRES_CREATE = (
    f"""
CREATE OR REPLACE FUNCTION pulse_cg_refresh(p_comment integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    cg double precision;
    dv double precision;
BEGIN
    -- Only the groups whose counts moved change: no other group row is locked.
    UPDATE {_GROUPS} SET approval = {_APPROVAL}
    WHERE comment_id = p_comment AND approval <> {_APPROVAL};
    SELECT {_COMMON_GROUND}, {_DIVISIVENESS} INTO cg, dv
    FROM {_GROUPS} g WHERE g.comment_id = p_comment AND {_WEIGHS_IN};
    UPDATE comments SET common_ground = cg, divisiveness = dv
    WHERE id = p_comment AND (common_ground <> cg OR divisiveness <> dv);
END
$$
""",  # nosec B608
    f"""
CREATE OR REPLACE FUNCTION pulse_cg_bump(
    p_comment integer, p_option integer, p_article integer, d_ups integer, d_downs integer,
    p_side boolean
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_side IS NULL THEN
        -- A reaction: author_side is read only for a new row, and never overwritten.
        UPDATE {_GROUPS} SET ups = ups + d_ups, downs = downs + d_downs
        WHERE comment_id = p_comment AND option_id = p_option;
        IF FOUND OR d_ups + d_downs <= 0 THEN
            RETURN;
        END IF;
        INSERT INTO {_GROUPS} AS g (comment_id, option_id, article_id, ups, downs, author_side)
        SELECT p_comment, p_option, p_article, d_ups, d_downs,
            {_author_side("p_comment", "p_option")}
        ON CONFLICT (comment_id, option_id) DO UPDATE SET
            ups = g.ups + excluded.ups, downs = g.downs + excluded.downs;
    ELSE
        -- The author's vote: always an upsert, so that it meets a reaction's new row.
        INSERT INTO {_GROUPS} AS g (comment_id, option_id, article_id, ups, downs, author_side)
        VALUES (p_comment, p_option, p_article, greatest(d_ups, 0), greatest(d_downs, 0),
            p_side)
        ON CONFLICT (comment_id, option_id) DO UPDATE SET ups = g.ups + d_ups,
            downs = g.downs + d_downs, author_side = excluded.author_side;
    END IF;
END
$$
""",  # nosec B608
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
""",  # nosec B608
    f"""
CREATE OR REPLACE FUNCTION pulse_vote_common_ground() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    o_user integer; o_poll integer; o_ans integer;
    n_user integer; n_poll integer; n_ans integer;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        o_user := OLD.user_id; o_poll := OLD.poll_id; o_ans := {_answer("OLD")};
    END IF;
    IF TG_OP <> 'DELETE' THEN
        n_user := NEW.user_id; n_poll := NEW.poll_id; n_ans := {_answer("NEW")};
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
    f"""
CREATE OR REPLACE FUNCTION pulse_poll_common_ground() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    art integer;
BEGIN
    IF TG_TABLE_NAME = 'polls' THEN
        art := OLD.article_id;
        DELETE FROM {_GROUPS} WHERE article_id = art;
    ELSE
        SELECT p.article_id INTO art FROM polls p WHERE p.id = OLD.poll_id;
        DELETE FROM {_GROUPS} WHERE option_id = OLD.id;
    END IF;
    UPDATE comments SET {_scores_set("comments.id")}
    WHERE article_id = art AND (common_ground <> 0 OR divisiveness <> 0);
    RETURN NULL;
END
$$
""",  # nosec B608
    """
CREATE OR REPLACE TRIGGER comment_reactions_common_ground
AFTER INSERT OR DELETE OR UPDATE OF value, comment_id, user_id ON comment_reactions
FOR EACH ROW EXECUTE FUNCTION pulse_reaction_common_ground()
""",
    # After votes_tallies and votes_tone_* (name order): see the module's docstring.
    # Only a signed-in vote weighs reactions: an anonymous one (the common first vote)
    # is filtered out by the WHEN, in C, before any PL/pgSQL runs (as SQLite's do).
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
    "DROP TRIGGER IF EXISTS votes_weigh_common_ground_delete ON votes",
    "DROP TRIGGER IF EXISTS votes_weigh_common_ground_insert ON votes",
    "DROP TRIGGER IF EXISTS votes_weigh_common_ground_update ON votes",
    "DROP TRIGGER IF EXISTS poll_options_common_ground ON poll_options",
    "DROP TRIGGER IF EXISTS polls_common_ground ON polls",
    "DROP FUNCTION IF EXISTS pulse_reaction_common_ground()",
    "DROP FUNCTION IF EXISTS pulse_vote_common_ground()",
    "DROP FUNCTION IF EXISTS pulse_poll_common_ground()",
    "DROP FUNCTION IF EXISTS pulse_cg_move(integer, integer, integer, integer)",
    "DROP FUNCTION IF EXISTS pulse_cg_bump(integer, integer, integer, integer, integer, boolean)",
    "DROP FUNCTION IF EXISTS pulse_cg_refresh(integer)",
)

TRIGGERS = TriggerSet(
    create={"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE},
    drop={"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP},
)
