"""The results cache carries what the results' methodology needs (issue 16): each
option's signed-in and set-aside votes are read with its tally in the poll's one query
and kept in the cached entry, in this worker and in Redis, so a cached answer says the
same as a fresh one; setting votes aside and dropping the entry shows at once."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.api.test_poll_methodology import _add_votes
from tests.conftest import Api
from webapp.caching import results as results_cache
from webapp.models import Vote, utcnow
from webapp.services.polls import state


@pytest.fixture(autouse=True)
def _fresh_local_cache(monkeypatch):
    monkeypatch.setattr(results_cache, "_redis_down_until", 0.0)
    results_cache.clear()
    yield
    results_cache.clear()


def _results(api, article):
    return api.get(f"/api/v1/articles/{article.slug}/poll/results").get_json()


def _brigade(db, article, make_user) -> None:
    yes, no, _ = article.poll.options
    _add_votes(db, article.poll, yes, 20, users=[make_user() for _ in range(5)])
    _add_votes(db, article.poll, no, 12)
    _add_votes(db, article.poll, no, 8, set_aside=True)


def _set_aside_anonymous(db, article) -> None:
    db.session.execute(
        sa.update(Vote)
        .where(Vote.poll_id == article.poll.id, Vote.user_id.is_(None))
        .values(set_aside_at=utcnow())
    )
    db.session.commit()


def _check_cached_answers(app, db, make_article, make_user, *, shared: bool) -> None:
    article = make_article(poll={"allow_anonymous": True}, title=f"m {uuid.uuid4()}")
    try:
        _brigade(db, article, make_user)
        api = Api(app.test_client())
        fresh = _results(api, article)
        assert fresh["set_aside"] == 8
        assert fresh["methodology"]["counted"] == 32
        assert fresh["methodology"]["signed_in_share"] == 5 / 32
        if shared:
            results_cache.clear()  # another worker: only Redis holds the entry
        # Behind the cache's back: served from the cache, the same facts.
        _set_aside_anonymous(db, article)
        assert _results(api, article) == fresh
        # A decision drops the entry after its commit: the next answer is the database's.
        results_cache.forget(article.slug)
        after = _results(api, article)
        assert after["total"] == 5 and after["set_aside"] == 35
        assert after["methodology"]["signed_in_share"] == 1.0
        assert after["methodology"]["shares_shown"] is False
    finally:
        results_cache.forget(article.slug)


def test_the_worker_cache_keeps_the_methodology(make_app, make_article, make_user):
    app = make_app(RESULTS_CACHE_SECONDS=30)
    with app.app_context():
        from webapp.extensions import db

        _check_cached_answers(app, db, make_article, make_user, shared=False)


def test_redis_keeps_the_methodology(make_app, make_article, make_user):
    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {url} ({exc})")
    app = make_app(RESULTS_CACHE_SECONDS=30, REDIS_URL=url)
    with app.app_context():
        from webapp.extensions import db

        _check_cached_answers(app, db, make_article, make_user, shared=True)


def test_an_entry_cached_before_the_new_counts_still_reads():
    """A Redis entry written by a worker of the previous release has three figures an
    option; it reads as counted votes, none signed in or set aside known."""
    value = state._cache_decode(
        {
            "status": "published",
            "id": 1,
            "question": "Q?",
            "closes_at": None,
            "closed_at": None,
            "results_visibility": "always",
            "allow_anonymous": True,
            "options": [[1, "Yes", 3], [2, "No", 1]],
        }
    )
    assert [(o.vote_count, o.signed_in_count, o.set_aside_count) for o in value.options] == [
        (3, 0, 0),
        (1, 0, 0),
    ]
    again = state._cache_decode(state._cache_encode(value.with_tallies({1: 4})))
    assert [o.vote_count for o in again.options] == [4, 1]
