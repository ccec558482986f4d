"""The app as gunicorn serves it, plus the benchmark's own reference endpoints.

``gunicorn bench.bench_app:app`` serves exactly what ``wsgi:app`` serves, with a few
more endpoints that only the benchmark uses. They are never part of the real app:
only this module registers them, and only ``bench/polls.py`` starts it.

- POST /bench/minimal-vote stores one vote row for a fresh voter with one INSERT
  and commits: the least any durable vote costs through this stack (gunicorn,
  Flask, the session cookie, SQLAlchemy, the database's commit). The contract's
  vote endpoint is measured against it.
- POST /bench/tally-vote does the same and also moves the two stored tallies
  every counted vote moves (the option's tally and its day's rollup), committed
  together: the floor of a vote with tallies kept in the same transaction.
- GET /bench/minimal-read reads one poll's stored tallies with one SELECT: the
  floor of any answer that reads the database.

The last two are reference points that explain the figures; no target is set
against them. All are CSRF-exempt and take what they need in the request.
"""

from __future__ import annotations

import secrets

from flask import jsonify, request
from sqlalchemy import bindparam, text

from webapp import create_app
from webapp.extensions import csrf, db
from webapp.models import PollDailyTally, Vote, utcnow

app = create_app()

_INSERT_VOTE = Vote.__table__.insert()
_BUMP_TALLY = text("UPDATE poll_options SET vote_count = vote_count + 1 WHERE id = :option")
_BUMP_DAY = text(
    "INSERT INTO poll_daily_tallies (option_id, day, poll_id, votes_cast, votes_withdrawn) "
    "VALUES (:option, :day, :poll, 1, 0) ON CONFLICT (option_id, day) "
    "DO UPDATE SET votes_cast = poll_daily_tallies.votes_cast + 1"
).bindparams(bindparam("day", type_=PollDailyTally.__table__.c.day.type))
_TALLIES = text("SELECT id, vote_count FROM poll_options WHERE poll_id = :poll ORDER BY id")


def _store_vote() -> tuple[int, int]:
    payload = request.get_json(force=True, silent=True) or {}
    poll_id, option_id = int(payload["poll_id"]), int(payload["option_id"])
    now = utcnow()
    db.session.execute(
        _INSERT_VOTE,
        {
            "poll_id": poll_id,
            "option_id": option_id,
            "voter_key": f"m:{secrets.token_hex(16)}",
            "user_id": None,
            "client_hash": None,
            "created_at": now,
            "updated_at": now,
        },
    )
    return poll_id, option_id


@csrf.exempt
def minimal_vote():  # type: ignore[no-untyped-def]
    """One vote row for a fresh voter, in one statement, committed."""
    _store_vote()
    db.session.commit()
    return jsonify(stored=True), 201


@csrf.exempt
def tally_vote():  # type: ignore[no-untyped-def]
    """One vote row and the two tallies it moves, committed together."""
    poll_id, option_id = _store_vote()
    db.session.execute(_BUMP_TALLY, {"option": option_id})
    db.session.execute(_BUMP_DAY, {"option": option_id, "day": utcnow().date(), "poll": poll_id})
    db.session.commit()
    return jsonify(stored=True), 201


def minimal_read():  # type: ignore[no-untyped-def]
    """One poll's stored tallies, one SELECT."""
    rows = db.session.execute(_TALLIES, {"poll": int(request.args["poll"])}).all()
    return jsonify(tallies=[{"id": row.id, "votes": row.vote_count} for row in rows])


app.add_url_rule("/bench/minimal-vote", view_func=minimal_vote, methods=["POST"])
app.add_url_rule("/bench/tally-vote", view_func=tally_vote, methods=["POST"])
app.add_url_rule("/bench/minimal-read", view_func=minimal_read, methods=["GET"])
