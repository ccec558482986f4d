"""Comment tone kept as counters, so sentiment results never group the comment rows.

- ``article_tone_counts``: per article and per poll answer, the counted comments
  (published and not deleted, as ``insights.PUBLIC_COMMENTS``) by label, how many
  have a score, the sum of their scores and the sum of their squares (for the
  interval around a mean, issue 17). A comment belongs to the answer its
  author holds in the article's poll (an account has at most one vote per poll;
  anonymous votes belong to nobody), or to ``option_id`` 0 (``NO_VOTE``): no vote,
  or no poll at all. The groups of an article add up to its whole tone.
- ``article_comment_days``: per article and UTC day (of ``created_at``), the
  counted comments, how many have a score and the sum of their scores.

Database triggers move them inside the statement that wrote the rows: every
insert and delete of a comment, every change of its status, deletion time, score,
label, article, author or creation time; every insert, delete and change of an
account's vote (which moves the author's counted comments on the poll's article
from one group to another), its being set aside by the integrity checks or restored
(an author whose vote is set aside counts as "no vote", issue 16); and the deletion
of a poll (its groups fold into ``NO_VOTE``). So they stay right for writes made
outside the app too (a console, a script, ``sentiment rescore``), and ``flask --app
wsgi sentiment recount`` is the check (``webapp.services.insights.counters``).

Sums of scores are whole numbers of trillionths (``TOTAL_SCALE``), not floats: an
integer sum is exact and does not depend on the order of the additions, so the
counters never drift from a recount by rounding however many times a comment is
added, moved and taken away, and the recount compares them exactly. A score is
rounded once, by at most 5e-13, so a mean differs from the float mean of the rows
by less than 1e-12; 2^63 trillionths leave room for nine million comments a group.

On PostgreSQL, a comment's group depends on a vote written by another transaction,
and a vote's move on comments written by others: under READ COMMITTED a comment
could be added to the group of a vote being moved, after the move read the author's
comments. So both triggers first lock the author's row in ``users`` (``FOR NO KEY
UPDATE``: a row lock, kept in the row, however many a bulk write takes; it does not
conflict with the foreign key checks' ``KEY SHARE``) and only then read the vote or
the comments (each statement of a trigger's function sees what committed before it
started): a reader's vote and their comments are written one transaction at a time.
Every trigger then touches its rows in one order (the author, the groups' rows, then
the days'; within a table ascending (article, option) and (article, day); a vote
that changes hands goes through ``NO_VOTE``, the article's lowest group, first), so
concurrent single-row writes cannot deadlock, as the tally triggers do. ``sentiment
rescore`` writes a batch of rows in one transaction, so it takes the batch's locks in
that order before writing (``insights.sentiment``).

The statements are attached to the metadata so ``create_all`` installs them; the
Alembic revisions e8f2b4d6a0c1, (for the set-aside votes) f1c3e5a7b9d0, (for the
authors' row locks) b4d6f8a0c2e4 and (for the sums of squares) c3d5e7f9a1b3 carry their
own frozen copies, and tests/test_migrations.py checks the two agree.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base
from webapp.models.comments import Comment
from webapp.models.triggers import TriggerSet

#: The group of comments whose authors hold no vote in the article's poll (or of an
#: article without a poll): no option has id 0.
NO_VOTE = 0
#: Score sums are kept in trillionths (see the module's docstring).
TOTAL_SCALE = 1_000_000_000_000


class ArticleToneCount(Base):
    """One article's counted comments whose authors answered ``option_id`` (or none)."""

    __tablename__ = "article_tone_counts"

    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    # A poll option's id, or NO_VOTE; no foreign key, since 0 is no option.
    option_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    comments: Mapped[int] = mapped_column(default=0, server_default="0")
    positive: Mapped[int] = mapped_column(default=0, server_default="0")
    neutral: Mapped[int] = mapped_column(default=0, server_default="0")
    negative: Mapped[int] = mapped_column(default=0, server_default="0")
    scored: Mapped[int] = mapped_column(default=0, server_default="0")
    # The sum of the scores, in trillionths (TOTAL_SCALE).
    total: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    # The sum of the squared scores, in trillionths too (each square rounded once):
    # with ``total`` and ``scored``, the spread behind a mean's 95 % interval (issue 17).
    total_sq: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")


class ArticleCommentDay(Base):
    """One article's counted comments written on one UTC day."""

    __tablename__ = "article_comment_days"

    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    comments: Mapped[int] = mapped_column(default=0, server_default="0")
    scored: Mapped[int] = mapped_column(default=0, server_default="0")
    total: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")


# An author's counted comments on one article, with what their tone is made of: what a
# vote's trigger sums to move them between groups, from the index alone. Its condition
# is written into the triggers as it stands here (SQLite uses a partial index only then).
_COUNTED = "status = 'published' AND deleted_at IS NULL"
sa.Index(
    "ix_comments_author_tone",
    Comment.author_id,
    Comment.article_id,
    Comment.sentiment,
    Comment.sentiment_label,
    postgresql_where=sa.text(_COUNTED),
    sqlite_where=sa.text(_COUNTED),
)


# --- the SQL, built once from a few pieces ---------------------------------------------------


def _counted(row: str) -> str:
    return f"({row}.status = 'published' AND {row}.deleted_at IS NULL)"


def _label(row: str, label: str) -> str:
    return f"CASE WHEN {row}.sentiment_label = '{label}' THEN 1 ELSE 0 END"


def _scored(row: str) -> str:
    return f"CASE WHEN {row}.sentiment IS NULL THEN 0 ELSE 1 END"


def _units(row: str, integer: str) -> str:
    return f"coalesce(CAST(round({row}.sentiment * {TOTAL_SCALE}) AS {integer}), 0)"


def _squares(row: str, integer: str) -> str:
    """A score's square in trillionths (at most TOTAL_SCALE: scores are in [-1, 1])."""
    square = f"{row}.sentiment * {row}.sentiment * {TOTAL_SCALE}"
    return f"coalesce(CAST(round({square}) AS {integer}), 0)"


def _option_of(article: str, author: str) -> str:
    """The option the author holds in the article's poll, or NO_VOTE (also when their
    vote is set aside by the integrity checks): one lookup in the poll's accounts'
    votes (ix_votes_poll_id_user_id)."""
    return (
        f"coalesce((SELECT v.option_id FROM polls p JOIN votes v ON v.poll_id = p.id "
        f"WHERE p.article_id = {article} AND v.user_id = {author} "
        f"AND v.user_id IS NOT NULL AND v.set_aside_at IS NULL), {NO_VOTE})"  # nosec B608
    )


def _answer(row: str) -> str:
    """The group a vote row puts its author's comments in: its option, or NO_VOTE when
    it is set aside (the author counts as not having voted)."""
    return f"CASE WHEN {row}.set_aside_at IS NULL THEN {row}.option_id ELSE {NO_VOTE} END"


_TONE_COLUMNS = "comments, positive, neutral, negative, scored, total, total_sq"
_TONE_ADD = (
    "comments = comments + excluded.comments, positive = positive + excluded.positive, "
    "neutral = neutral + excluded.neutral, negative = negative + excluded.negative, "
    "scored = scored + excluded.scored, total = total + excluded.total, "
    "total_sq = total_sq + excluded.total_sq"
)
_DAY_ADD = (
    "comments = comments + excluded.comments, scored = scored + excluded.scored, "
    "total = total + excluded.total"
)


def _sqlite_tone_values(row: str, sign: str = "") -> str:
    return ", ".join(
        f"{sign}({part})"
        for part in (
            "1",
            _label(row, "positive"),
            _label(row, "neutral"),
            _label(row, "negative"),
            _scored(row),
            _units(row, "INTEGER"),
            _squares(row, "INTEGER"),
        )
    )


def _sqlite_tone_add(row: str, where: str) -> str:
    return f"""
    INSERT INTO article_tone_counts (article_id, option_id, {_TONE_COLUMNS})
    SELECT {row}.article_id, {_option_of(f"{row}.article_id", f"{row}.author_id")},
        {_sqlite_tone_values(row)}
    WHERE {where}
    ON CONFLICT (article_id, option_id) DO UPDATE SET {_TONE_ADD};"""  # nosec B608


def _sqlite_tone_take(row: str, where: str) -> str:
    return f"""
    UPDATE article_tone_counts SET comments = comments - 1,
        positive = positive - ({_label(row, "positive")}),
        neutral = neutral - ({_label(row, "neutral")}),
        negative = negative - ({_label(row, "negative")}),
        scored = scored - ({_scored(row)}), total = total - ({_units(row, "INTEGER")}),
        total_sq = total_sq - ({_squares(row, "INTEGER")})
    WHERE {where} AND article_id = {row}.article_id
        AND option_id = {_option_of(f"{row}.article_id", f"{row}.author_id")};"""  # nosec B608


def _sqlite_day_add(row: str, where: str) -> str:
    return f"""
    INSERT INTO article_comment_days (article_id, day, comments, scored, total)
    SELECT {row}.article_id, date({row}.created_at), 1, {_scored(row)}, {_units(row, "INTEGER")}
    WHERE {where}
    ON CONFLICT (article_id, day) DO UPDATE SET {_DAY_ADD};"""  # nosec B608


def _sqlite_day_take(row: str, where: str) -> str:
    return f"""
    UPDATE article_comment_days SET comments = comments - 1,
        scored = scored - ({_scored(row)}), total = total - ({_units(row, "INTEGER")})
    WHERE {where} AND article_id = {row}.article_id AND day = date({row}.created_at);"""  # nosec B608


def _sqlite_move(poll: str, user: str, from_option: str, to_option: str) -> str:
    """An account's counted comments on the poll's article moved between two groups:
    taken from one, added to the other (two grouped reads of ix_comments_author_tone;
    nothing is written when the account has no such comment)."""
    statements = []
    for option, sign in ((from_option, "-"), (to_option, "")):
        statements.append(f"""
    INSERT INTO article_tone_counts (article_id, option_id, {_TONE_COLUMNS})
    SELECT p.article_id, {option}, {sign}count(*), {sign}sum({_label("c", "positive")}),
        {sign}sum({_label("c", "neutral")}), {sign}sum({_label("c", "negative")}),
        {sign}count(c.sentiment), {sign}sum({_units("c", "INTEGER")}),
        {sign}sum({_squares("c", "INTEGER")})
    FROM polls p JOIN comments c ON c.article_id = p.article_id
    WHERE p.id = {poll} AND c.author_id = {user}
        AND c.status = 'published' AND c.deleted_at IS NULL
    GROUP BY p.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET {_TONE_ADD};""")  # nosec B608
    return "".join(statements)


_SAME_PLACE = (
    "OLD.article_id = NEW.article_id AND OLD.author_id = NEW.author_id "
    "AND date(OLD.created_at) = date(NEW.created_at)"
)
_TONE_CHANGED = (
    "(OLD.sentiment IS NOT NEW.sentiment OR OLD.sentiment_label IS NOT NEW.sentiment_label)"
)

SQLITE_CREATE = (
    f"""
CREATE TRIGGER IF NOT EXISTS comments_tone_insert AFTER INSERT ON comments
WHEN {_counted("NEW")}
BEGIN{_sqlite_tone_add("NEW", "1")}{_sqlite_day_add("NEW", "1")}
END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS comments_tone_delete AFTER DELETE ON comments
WHEN {_counted("OLD")}
BEGIN{_sqlite_tone_take("OLD", "1")}{_sqlite_day_take("OLD", "1")}
END
""",
    # A new score or label of a comment that stays where it is (what a rescore does):
    # one row of each table changes by the difference.
    f"""
CREATE TRIGGER IF NOT EXISTS comments_tone_rescore
AFTER UPDATE OF sentiment, sentiment_label ON comments
WHEN {_counted("OLD")} AND {_counted("NEW")} AND {_SAME_PLACE} AND {_TONE_CHANGED}
BEGIN
    UPDATE article_tone_counts SET
        positive = positive + ({_label("NEW", "positive")}) - ({_label("OLD", "positive")}),
        neutral = neutral + ({_label("NEW", "neutral")}) - ({_label("OLD", "neutral")}),
        negative = negative + ({_label("NEW", "negative")}) - ({_label("OLD", "negative")}),
        scored = scored + ({_scored("NEW")}) - ({_scored("OLD")}),
        total = total + ({_units("NEW", "INTEGER")}) - ({_units("OLD", "INTEGER")}),
        total_sq = total_sq + ({_squares("NEW", "INTEGER")}) - ({_squares("OLD", "INTEGER")})
    WHERE article_id = NEW.article_id
        AND option_id = {_option_of("NEW.article_id", "NEW.author_id")};
    UPDATE article_comment_days SET
        scored = scored + ({_scored("NEW")}) - ({_scored("OLD")}),
        total = total + ({_units("NEW", "INTEGER")}) - ({_units("OLD", "INTEGER")})
    WHERE article_id = NEW.article_id AND day = date(NEW.created_at);
END
""",  # nosec B608
    # Anything else: the comment leaves its old place (if it counted) and joins its new
    # one (if it counts).
    f"""
CREATE TRIGGER IF NOT EXISTS comments_tone_update
AFTER UPDATE OF status, deleted_at, sentiment, sentiment_label, article_id, author_id,
    created_at ON comments
WHEN ({_counted("OLD")} OR {_counted("NEW")})
    AND NOT ({_counted("OLD")} AND {_counted("NEW")} AND {_SAME_PLACE})
BEGIN{_sqlite_tone_take("OLD", _counted("OLD"))}{_sqlite_tone_add("NEW", _counted("NEW"))}\
{_sqlite_day_take("OLD", _counted("OLD"))}{_sqlite_day_add("NEW", _counted("NEW"))}
END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS votes_tone_insert AFTER INSERT ON votes
WHEN NEW.user_id IS NOT NULL AND NEW.set_aside_at IS NULL
BEGIN{_sqlite_move("NEW.poll_id", "NEW.user_id", str(NO_VOTE), "NEW.option_id")}
END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS votes_tone_delete AFTER DELETE ON votes
WHEN OLD.user_id IS NOT NULL AND OLD.set_aside_at IS NULL
BEGIN{_sqlite_move("OLD.poll_id", "OLD.user_id", "OLD.option_id", str(NO_VOTE))}
END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS votes_tone_update
AFTER UPDATE OF option_id, user_id, poll_id, set_aside_at ON votes
WHEN OLD.user_id IS NOT NEW.user_id OR OLD.poll_id <> NEW.poll_id
    OR ({_answer("OLD")}) <> ({_answer("NEW")})
BEGIN{_sqlite_move("OLD.poll_id", "OLD.user_id", _answer("OLD"), str(NO_VOTE))}\
{_sqlite_move("NEW.poll_id", "NEW.user_id", str(NO_VOTE), _answer("NEW"))}
END
""",
    # A poll deleted without its article: every answer's comments now have no vote.
    f"""
CREATE TRIGGER IF NOT EXISTS polls_tone_delete AFTER DELETE ON polls
BEGIN
    INSERT INTO article_tone_counts (article_id, option_id, {_TONE_COLUMNS})
    SELECT t.article_id, {NO_VOTE}, sum(t.comments), sum(t.positive), sum(t.neutral),
        sum(t.negative), sum(t.scored), sum(t.total), sum(t.total_sq)
    FROM article_tone_counts t
    WHERE t.article_id = OLD.article_id AND t.option_id <> {NO_VOTE}
        AND EXISTS (SELECT 1 FROM articles a WHERE a.id = OLD.article_id)
    GROUP BY t.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET {_TONE_ADD};
    DELETE FROM article_tone_counts
    WHERE article_id = OLD.article_id AND option_id <> {NO_VOTE};
END
""",  # nosec B608
)

SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS comments_tone_insert",
    "DROP TRIGGER IF EXISTS comments_tone_delete",
    "DROP TRIGGER IF EXISTS comments_tone_rescore",
    "DROP TRIGGER IF EXISTS comments_tone_update",
    "DROP TRIGGER IF EXISTS votes_tone_insert",
    "DROP TRIGGER IF EXISTS votes_tone_delete",
    "DROP TRIGGER IF EXISTS votes_tone_update",
    "DROP TRIGGER IF EXISTS polls_tone_delete",
)


def _pg_parts(row: str, prefix: str) -> str:
    """PL/pgSQL assignments of a comment's parts to ``<prefix>_pos`` ... ``_day``."""
    return f"""
        {prefix}_opt := {_option_of(f"{row}.article_id", f"{row}.author_id")};
        {prefix}_pos := {_label(row, "positive")};
        {prefix}_neu := {_label(row, "neutral")};
        {prefix}_neg := {_label(row, "negative")};
        {prefix}_sc := {_scored(row)};
        {prefix}_tot := {_units(row, "bigint")};
        {prefix}_sq := {_squares(row, "bigint")};
        {prefix}_day := CAST(({row}.created_at AT TIME ZONE 'UTC') AS date);"""


POSTGRES_CREATE = (
    f"""
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
        INSERT INTO article_tone_counts AS t (article_id, option_id, {_TONE_COLUMNS})
        VALUES (p_article, p_option, d_comments, d_pos, d_neu, d_neg, d_scored, d_total, d_sq)
        ON CONFLICT (article_id, option_id) DO UPDATE SET
            comments = t.comments + excluded.comments, positive = t.positive + excluded.positive,
            neutral = t.neutral + excluded.neutral, negative = t.negative + excluded.negative,
            scored = t.scored + excluded.scored, total = t.total + excluded.total,
            total_sq = t.total_sq + excluded.total_sq;
    END IF;
END
$$
""",  # nosec B608
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
    f"""
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
        was_in := {_counted("OLD")};
    END IF;
    IF TG_OP <> 'DELETE' THEN
        is_in := {_counted("NEW")};
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
    IF was_in THEN{_pg_parts("OLD", "o")}
    END IF;
    IF is_in THEN{_pg_parts("NEW", "n")}
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
    f"""
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
    SELECT count(*), coalesce(sum({_label("c", "positive")}), 0),
        coalesce(sum({_label("c", "neutral")}), 0), coalesce(sum({_label("c", "negative")}), 0),
        count(c.sentiment), coalesce(sum({_units("c", "bigint")}), 0),
        coalesce(sum({_squares("c", "bigint")}), 0)
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
""",  # nosec B608
    f"""
CREATE OR REPLACE FUNCTION pulse_vote_tone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pulse_tone_move(NEW.poll_id, NEW.user_id, {NO_VOTE}, {_answer("NEW")});
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pulse_tone_move(OLD.poll_id, OLD.user_id, {_answer("OLD")}, {NO_VOTE});
    ELSIF OLD.user_id IS NOT DISTINCT FROM NEW.user_id AND OLD.poll_id = NEW.poll_id THEN
        IF NEW.user_id IS NOT NULL THEN
            PERFORM pulse_tone_move(NEW.poll_id, NEW.user_id, {_answer("OLD")},
                {_answer("NEW")});
        END IF;
    ELSE
        IF OLD.user_id IS NOT NULL THEN
            PERFORM pulse_tone_move(OLD.poll_id, OLD.user_id, {_answer("OLD")}, {NO_VOTE});
        END IF;
        IF NEW.user_id IS NOT NULL THEN
            PERFORM pulse_tone_move(NEW.poll_id, NEW.user_id, {NO_VOTE}, {_answer("NEW")});
        END IF;
    END IF;
    RETURN NULL;
END
$$
""",
    f"""
CREATE OR REPLACE FUNCTION pulse_poll_tone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO article_tone_counts AS t (article_id, option_id, {_TONE_COLUMNS})
    SELECT s.article_id, {NO_VOTE}, sum(s.comments), sum(s.positive), sum(s.neutral),
        sum(s.negative), sum(s.scored), sum(s.total), sum(s.total_sq)
    FROM article_tone_counts s
    WHERE s.article_id = OLD.article_id AND s.option_id <> {NO_VOTE}
        AND EXISTS (SELECT 1 FROM articles a WHERE a.id = OLD.article_id)
    GROUP BY s.article_id
    ON CONFLICT (article_id, option_id) DO UPDATE SET
        comments = t.comments + excluded.comments, positive = t.positive + excluded.positive,
        neutral = t.neutral + excluded.neutral, negative = t.negative + excluded.negative,
        scored = t.scored + excluded.scored, total = t.total + excluded.total,
        total_sq = t.total_sq + excluded.total_sq;
    DELETE FROM article_tone_counts
    WHERE article_id = OLD.article_id AND option_id <> {NO_VOTE};
    RETURN NULL;
END
$$
""",  # nosec B608
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
    "DROP TRIGGER IF EXISTS comments_tone ON comments",
    "DROP TRIGGER IF EXISTS votes_tone_insert ON votes",
    "DROP TRIGGER IF EXISTS votes_tone_delete ON votes",
    "DROP TRIGGER IF EXISTS votes_tone_update ON votes",
    "DROP TRIGGER IF EXISTS polls_tone ON polls",
    "DROP FUNCTION IF EXISTS pulse_comment_tone()",
    "DROP FUNCTION IF EXISTS pulse_vote_tone()",
    "DROP FUNCTION IF EXISTS pulse_poll_tone()",
    "DROP FUNCTION IF EXISTS pulse_tone_move(integer, integer, integer, integer)",
    "DROP FUNCTION IF EXISTS "
    "pulse_tone_bump(integer, integer, integer, integer, integer, integer, integer, bigint, "
    "bigint)",
    "DROP FUNCTION IF EXISTS pulse_day_bump(integer, date, integer, integer, bigint)",
)

TRIGGERS = TriggerSet(
    create={"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE},
    drop={"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP},
)
TRIGGERS.attach(Base.metadata)
