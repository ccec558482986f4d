"""The rows of a scale-benchmark site, as set-based SQL (bench/scale_data.py runs them).

Every generated row is a function of its number ``n`` and of the first ids (``Ids``),
so a reply names its parent, a vote its option and a report its comment by arithmetic:

- article ``i`` (0 is the hot one, published most recently; ids grow with time, so
  its id is ``article + A - 1 - i``) has poll ``poll + i`` and options ``option + 3 i
  + k``; articles are published about every 4 hours going back a year (``published``);
- cold comments come first, the oldest article's first (``per_article`` on each):
  comment ``n`` has id ``comment + n`` and is the ``k = n % per_article``-th on its
  article; k % 4 of 2 is published, 3 a published reply to it, 0 or 1 carries the
  queues (pending, rejected, approved with a moderation time, or plain published) by
  ``n * 37 % 1000`` against thresholds worked out from the scale;
- hot comment ``n`` comes after them (id ``comment + cold + n``): n % 5 of 0 or 1 is
  a top-level comment, 2 or 3 a reply to one of the three top-level comments before
  it, 4 a reply to the reply just before it (the third shown level); so comment ids,
  like the app's, grow with posting time;
- every 50th comment is the same reader's (``Site.prolific_id``), whose page the
  moderator benchmark opens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa

from bench.scale_sql import Dialect

DAY = 86_400
HOT_AT = 365 * DAY  # seconds after Dialect.start the hot article was published
OPTIONS = ("Yes", "No", "Too early to tell")
REPORT_REASONS = ("spam", "abuse", "off_topic", "other")
AUDIT_ACTIONS = ("approve", "reject", "feature", "delete", "ban")
HELD = '["toxicity 0.91 above 0.80"]'


def article_slug(index: int) -> str:
    return "the-hot-story" if index == 0 else f"story-{index}"


@dataclass(frozen=True)
class Ids:
    user: int
    article: int
    poll: int
    option: int
    comment: int


@dataclass
class Step:
    name: str
    run: Callable[[sa.Connection, Any], None]


class Shape:
    def __init__(self, scale: Any, ids: Ids, sql: Dialect, named: dict[str, int]) -> None:
        self.s, self.ids, self.sql, self.named = scale, ids, sql, named
        self.a1 = scale.articles - 1  # the cold articles
        self.cold = scale.comments - scale.hot_comments
        self.article_step = 365 * DAY / scale.articles
        self.hot_comment_step = (3 * DAY - 3600) / max(1, scale.hot_comments)
        self.hot_vote_step = (3 * DAY - 3600) / max(1, scale.hot_votes)
        # The comments that carry the queues, and where each queue's share ends.
        # Cold comments go oldest article first, ``per_article`` each, spaced so that
        # one article's end before the next is published: ids grow with time.
        self.per_article = max(1, -(-self.cold // self.a1))
        self.cold_step = self.article_step / (self.per_article + 1)
        carriers = sum(1 for n in range(self.cold) if (n % self.per_article) % 4 < 2) or 1
        self.pending_to = round(1000 * scale.pending / carriers)
        self.rejected_to = self.pending_to + round(1000 * scale.rejected / carriers)
        self.approved_to = self.rejected_to + round(1000 * scale.approved / carriers)
        if self.approved_to > 1000:
            raise ValueError(f"{scale.name}: more queued comments than the cold threads carry")

    def steps(self) -> list[Step]:
        from bench import scale_comments as comments

        return [
            Step("readers", self.readers),
            Step("articles, polls, options, labels", self.articles),
            Step("votes (tally triggers off, tallies set from the rows)", self.votes),
            Step(
                "cold threads and the queues (comment triggers on)",
                partial(comments.cold_comments, self),
            ),
            Step("hot thread (comment triggers on)", partial(comments.hot_comments, self)),
            Step("reactions and scores", partial(comments.reactions, self)),
            Step("reports and the Reported queue", partial(comments.reports, self)),
            Step("reply counts", partial(comments.reply_counts, self)),
            Step("audit log", self.audit),
        ]

    # --- expressions ---------------------------------------------------------------------------

    def published(self, index: str) -> str:
        """Seconds after start article ``index`` (an expression) was published."""
        return f"({HOT_AT} - ({index}) * {self.article_step:.3f})"

    def article_id(self, index: str) -> str:
        """Article ``index``'s id: ids grow with publication time, so the hot one's is last."""
        return f"({self.ids.article + self.s.articles - 1} - ({index}))"

    def reader(self, number: str) -> str:
        return f"({self.ids.user} + ({number}) % {self.s.users})"

    @staticmethod
    def voter_key(signed_in: str, user: str) -> str:
        """'u:<id>' for a reader's vote (as the app keys them), else an anonymous key."""
        return f"CASE WHEN {signed_in} THEN 'u:' || ({user}) ELSE 'a:bench-' || n END"

    def _quoted(self, values: tuple[str, ...] | list[str]) -> list[str]:
        return [f"'{value}'" for value in values]

    # --- the steps ------------------------------------------------------------------------------

    def readers(self, connection: sa.Connection, _insert: Any) -> None:
        from datetime import timedelta

        from webapp.models import User
        from webapp.services.names import skeleton

        password_hash = connection.scalar(
            sa.text("SELECT password_hash FROM users WHERE id = :id"), {"id": self.named["reader"]}
        )
        step = 300 * DAY / self.s.users
        rows = [
            {
                "id": self.ids.user + u,
                "email": f"reader{u}@example.org",
                "display_name": f"Reader {u}",
                "password_hash": password_hash,
                "role": "reader",
                "created_at": self.sql.start + timedelta(seconds=u * step),
                "name_skeleton": skeleton(f"Reader {u}"),
            }
            for u in range(self.s.users)
        ]
        connection.execute(sa.insert(User.__table__), rows)

    def articles(self, connection: sa.Connection, insert: Any) -> None:
        from bench.scale_data import ARTICLE_BODY
        from webapp.services.markup import render_article

        sql, ids, count = self.sql, self.ids, self.s.articles
        when = sql.at(self.published("n"))
        insert(
            connection,
            sql,
            "articles",
            {
                "id": self.article_id("n"),
                "slug": "CASE WHEN n = 0 THEN 'the-hot-story' ELSE 'story-' || n END",
                "title": "CASE WHEN n = 0 THEN 'The hot story' ELSE 'Story number ' || n END",
                "summary": "'A story to read and discuss.'",
                "body": ":body",
                "html": ":html",
                "status": "'published'",
                "comment_mode": "'open'",
                "author_id": str(self.named["editor"]),
                "created_at": when,
                "updated_at": when,
                "published_at": when,
                "comment_count": "0",
            },
            count,
            {"body": ARTICLE_BODY, "html": render_article(ARTICLE_BODY)},
        )
        insert(
            connection,
            sql,
            "polls",
            {
                "id": f"{ids.poll} + n",
                "article_id": self.article_id("n"),
                "question": "'Will the peace hold?'",
                "results_visibility": "'always'",
                "allow_anonymous": ":yes",
                "created_at": when,
            },
            count,
            {"yes": True},
        )
        insert(
            connection,
            sql,
            "poll_options",
            {
                "id": f"{ids.option} + n",
                "poll_id": f"{ids.poll} + n / 3",
                "position": "n % 3",
                "label": sql.choose("n % 3", self._quoted(OPTIONS)),
                "vote_count": "0",
            },
            3 * count,
        )
        labels = [str(self.named[f"label{k}"]) for k in range(8)]
        insert(
            connection,
            sql,
            "article_labels",
            {
                "article_id": self.article_id("n"),
                "label_id": sql.choose("n % 8", labels),
            },
            count,
        )

    def votes(self, connection: sa.Connection, insert: Any) -> None:
        from bench.scale_data import VOTE_CHUNK
        from webapp.models import tally_triggers

        sql, ids, users = self.sql, self.ids, self.s.users
        tally_triggers.TRIGGERS.remove(connection)
        connection.commit()
        hot_option = "CASE WHEN n % 10 < 5 THEN 0 WHEN n % 10 < 8 THEN 1 ELSE 2 END"
        hot_when = sql.at(f"{HOT_AT} + (n + 1) * {self.hot_vote_step:.6f}")
        insert(
            connection,
            sql,
            "votes",
            {
                "poll_id": str(ids.poll),
                "option_id": f"{ids.option} + {hot_option}",
                "voter_key": self.voter_key(f"n < {users}", f"{ids.user} + n"),
                "user_id": f"CASE WHEN n < {users} THEN {ids.user} + n ELSE NULL END",
                "created_at": hot_when,
                "updated_at": hot_when,
            },
            self.s.hot_votes,
            chunk=VOTE_CHUNK,
        )
        a1 = self.a1
        voter = f"{ids.user} + (n / {a1} + (n % {a1}) * 37) % {users}"
        cold_when = sql.at(f"{self.published(f'1 + n % {a1}')} + (n / {a1} + 1) * 60")
        insert(
            connection,
            sql,
            "votes",
            {
                "poll_id": f"{ids.poll} + 1 + n % {a1}",
                "option_id": f"{ids.option} + 3 * (1 + n % {a1}) + (n / {a1}) % 3",
                "voter_key": self.voter_key(f"n / {a1} < {users}", voter),
                "user_id": f"CASE WHEN n / {a1} < {users} THEN {voter} ELSE NULL END",
                "created_at": cold_when,
                "updated_at": cold_when,
            },
            self.s.votes - self.s.hot_votes,
            chunk=VOTE_CHUNK,
        )
        tally_triggers.TRIGGERS.install(connection)
        connection.execute(
            sa.text(
                "UPDATE poll_options SET vote_count = "
                "(SELECT count(*) FROM votes v WHERE v.option_id = poll_options.id)"
            )
        )
        day = sql.day("created_at")
        connection.execute(sa.text("DELETE FROM poll_daily_tallies"))
        connection.execute(
            sa.text(
                "INSERT INTO poll_daily_tallies (option_id, day, poll_id, votes_cast, "
                f"votes_withdrawn) SELECT option_id, {day}, poll_id, count(*), 0 FROM votes "
                f"GROUP BY option_id, {day}, poll_id"
            )
        )

    def audit(self, connection: sa.Connection, insert: Any) -> None:
        count, sql = self.s.audit, self.sql
        moderators = [str(self.named[key]) for key in ("moderator", "moderator2", "moderator3")]
        step = (368 * DAY - 7200) / max(1, count)
        comment = f"{self.ids.comment} + (n * 17) % {self.s.comments}"
        insert(
            connection,
            sql,
            "moderation_actions",
            {
                "actor_id": sql.choose("n % 3", moderators),
                "action": sql.choose("n % 5", self._quoted(AUDIT_ACTIONS)),
                "comment_id": f"CASE WHEN n % 5 = 4 THEN NULL ELSE {comment} END",
                "target_user_id": f"CASE WHEN n % 5 = 4 THEN {self.reader('n')} ELSE NULL END",
                "reason": "CASE WHEN n % 5 = 1 THEN 'Off topic' ELSE NULL END",
                "details": sql.json("{}"),
                "created_at": sql.at(f"n * {step:.6f}"),
            },
            count,
        )
