"""The results cache: served from cache between votes, which show in it at once, shared in
Redis; and votes made on a cached poll, checked again against the database."""

from __future__ import annotations

import logging
import uuid

import pytest

from tests.conftest import Api
from webapp.caching import clock as cache_clock
from webapp.caching import results as results_cache


@pytest.fixture(autouse=True)
def _fresh_local_cache(monkeypatch):
    # As in a fresh worker: nothing cached, Redis presumed reachable.
    monkeypatch.setattr(results_cache, "_redis_down_until", 0.0)
    results_cache.clear()
    yield
    results_cache.clear()


class FakeClock:
    """This worker's clock, standing in for webapp.caching.clock: it moves on a microsecond
    each time it is read, as a real one would, and ``advance`` moves it on by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1e-6
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(cache_clock, "now", fake)
    return fake


def _results(api, article):
    return api.get(f"/api/v1/articles/{article.slug}/poll/results").get_json()


def _corrupt_tally(db, article, value):
    """Change a tally behind the app's back, to see whether a read hits the database."""
    from webapp.models import PollOption

    db.session.get(PollOption, article.poll.options[0].id).vote_count = value
    db.session.commit()


def test_a_vote_shows_at_once_in_the_cached_results_without_extending_them(
    make_app, make_article, clock
):
    app = make_app(RESULTS_CACHE_SECONDS=0.5)
    with app.app_context():
        from webapp.extensions import db

        article = make_article(poll={"allow_anonymous": True}, title=f"cache {uuid.uuid4()}")
        api = Api(app.test_client())
        assert _results(api, article)["total"] == 0
        _corrupt_tally(db, article, 7)
        assert _results(api, article)["total"] == 0  # still the cached answer
        option = article.poll.options[1].id
        answer = api.post(f"/api/v1/articles/{article.slug}/poll/votes", {"option_id": option})
        assert answer.status_code == 201
        # The voter sees their vote, in the answer and in the cached results...
        assert [o["votes"] for o in answer.get_json()["options"]] == [0, 1, 0]
        assert [o["votes"] for o in _results(api, article)["options"]] == [0, 1, 0]
        # ...and the entry still expires when it would have: then the database shows,
        # 7 (by hand) + 1.
        clock.advance(0.6)
        assert _results(api, article)["total"] == 8


def test_cached_results_expire(make_app, make_article, clock):
    app = make_app(RESULTS_CACHE_SECONDS=0.2)
    with app.app_context():
        from webapp.extensions import db

        article = make_article(poll=True, title=f"expiry {uuid.uuid4()}")
        api = Api(app.test_client())
        assert _results(api, article)["total"] == 0
        _corrupt_tally(db, article, 3)
        assert _results(api, article)["total"] == 0  # still the cached answer
        clock.advance(0.3)
        assert _results(api, article)["total"] == 3


def test_closing_a_poll_clears_its_cached_results(make_app, make_article, make_user):
    app = make_app(RESULTS_CACHE_SECONDS=30)
    with app.app_context():
        article = make_article(poll=True, title=f"close {uuid.uuid4()}")
        api = Api(app.test_client())
        assert _results(api, article)["closed"] is False
        editor = Api(app.test_client())
        editor.login(make_user(role="editor"))
        form = {
            "title": article.title,
            "slug": article.slug,
            "body": article.body,
            "comments": "open",
            "poll_question": "Will the peace hold?",
            "poll_options-0": "Yes",
            "poll_options-1": "No",
            "poll_options-2": "Too early to tell",
            "poll_results_visibility": "always",
            "poll_closed": "y",
            "action": "save",
        }
        assert editor.form(f"/editor/articles/{article.id}/edit", form).status_code == 302
        assert _results(api, article)["closed"] is True


def test_hidden_results_stay_hidden_when_cached(make_app, make_article):
    app = make_app(RESULTS_CACHE_SECONDS=30)
    with app.app_context():
        article = make_article(
            poll={"results_visibility": "after_vote"}, title=f"hidden {uuid.uuid4()}"
        )
        first, second = Api(app.test_client()), Api(app.test_client())
        url = f"/api/v1/articles/{article.slug}/poll/results"
        assert first.get(url).status_code == 403
        assert second.get(url).status_code == 403


def _redis_or_skip(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {url} ({exc})")


def test_with_redis_the_cache_is_shared_and_a_vote_shows_in_it_everywhere(make_app, make_article):
    url = "redis://127.0.0.1:6379/15"
    _redis_or_skip(url)
    app = make_app(RESULTS_CACHE_SECONDS=30, REDIS_URL=url)
    with app.app_context():
        from webapp.extensions import db

        article = make_article(poll={"allow_anonymous": True}, title=f"redis {uuid.uuid4()}")
        try:
            api = Api(app.test_client())
            assert _results(api, article)["total"] == 0
            results_cache.clear()  # another worker: nothing cached in this process
            _corrupt_tally(db, article, 5)
            assert _results(api, article)["total"] == 0  # served from Redis
            api.post(
                f"/api/v1/articles/{article.slug}/poll/votes",
                {"option_id": article.poll.options[0].id},
            )
            results_cache.clear()  # and another worker again
            # The voted option as the database counts it with the vote (5 by hand + 1).
            assert [o["votes"] for o in _results(api, article)["options"]] == [6, 0, 0]
            _, client, _ = results_cache._redis()
            key = results_cache._key(article.slug)
            fresh_until = int(client.hget(key, "fresh"))
            seconds, micros = client.time()
            now_ms = seconds * 1000 + micros // 1000
            assert fresh_until <= now_ms + 30_000  # the vote kept the entry's expiry
            _corrupt_tally(db, article, 2)  # lower, behind the cache's back
            results_cache.forget(article.slug)
            assert _results(api, article)["total"] == 2  # after a forget, the database
        finally:
            results_cache.forget(article.slug)


def test_redis_down_falls_back_to_the_worker_cache(make_app, make_article, caplog):
    app = make_app(RESULTS_CACHE_SECONDS=30, REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        article = make_article(poll=True, title=f"down {uuid.uuid4()}")
        api = Api(app.test_client())
        with caplog.at_level(logging.WARNING, logger="webapp.caching.results"):
            assert _results(api, article)["total"] == 0
        assert any("Redis unavailable" in r.getMessage() for r in caplog.records)


# --- a vote made on the cached poll is checked against the database -----------------------


def _vote_on_stale_cache(make_app, make_article, change_behind_the_cache, **poll):
    """Cache the poll's results, change the database behind the cache's back, vote.
    Returns (the answer, votes stored for the article's poll)."""
    from sqlalchemy import func, select

    app = make_app(RESULTS_CACHE_SECONDS=30)
    with app.app_context():
        from webapp.extensions import db
        from webapp.models import Vote

        article = make_article(poll={"allow_anonymous": True, **poll}, title=f"s {uuid.uuid4()}")
        api = Api(app.test_client())
        assert _results(api, article)["closed"] is False  # cached: open, published
        option = article.poll.options[0].id
        change_behind_the_cache(db, article)
        db.session.commit()
        answer = api.post(f"/api/v1/articles/{article.slug}/poll/votes", {"option_id": option})
        stored = db.session.scalar(
            select(func.count()).select_from(Vote).where(Vote.poll_id == article.poll.id)
        )
        return answer, stored


def test_a_poll_closed_behind_the_cache_refuses_the_vote(make_app, make_article):
    from webapp.models import utcnow

    def close(db, article):
        article.poll.closed_at = utcnow()

    answer, stored = _vote_on_stale_cache(make_app, make_article, close)
    assert answer.status_code == 409
    assert answer.get_json()["error"]["code"] == "poll_closed"
    assert stored == 0


def test_an_article_unpublished_behind_the_cache_takes_no_vote(make_app, make_article):
    def unpublish(db, article):
        article.status = "draft"

    answer, stored = _vote_on_stale_cache(make_app, make_article, unpublish)
    assert answer.status_code == 404
    assert stored == 0


def test_anonymous_voting_turned_off_behind_the_cache_asks_to_sign_in(make_app, make_article):
    def accounts_only(db, article):
        article.poll.allow_anonymous = False

    answer, stored = _vote_on_stale_cache(make_app, make_article, accounts_only)
    assert answer.status_code == 401
    assert stored == 0


def test_an_option_moved_to_another_poll_behind_the_cache_is_422(make_app, make_article):
    def move_option(db, article):
        other = make_article(poll=True, title=f"other {uuid.uuid4()}")
        moved = article.poll.options[0]
        moved.poll_id, moved.position = other.poll.id, 99

    answer, stored = _vote_on_stale_cache(make_app, make_article, move_option)
    assert answer.status_code == 422
    assert stored == 0


def test_votes_on_the_cached_poll_keep_the_tallies_equal_to_a_recount(make_app, make_article):
    app = make_app(RESULTS_CACHE_SECONDS=30)
    with app.app_context():
        from webapp.services import polls as poll_rules

        article = make_article(poll={"allow_anonymous": True}, title=f"t {uuid.uuid4()}")
        yes, no, later = (option.id for option in article.poll.options)
        voters = [Api(app.test_client()) for _ in range(6)]
        url = f"/api/v1/articles/{article.slug}/poll/votes"
        assert _results(voters[0], article)["total"] == 0
        for number, voter in enumerate(voters):
            assert voter.post(url, {"option_id": (yes, no, later)[number % 3]}).status_code == 201
        assert voters[0].post(url, {"option_id": later}).status_code == 200  # a move
        assert voters[1].delete(f"{url}/mine").status_code == 204  # a withdrawal
        assert poll_rules.recount(article.poll.id) == []
        results_cache.clear()
        assert [o["votes"] for o in _results(voters[0], article)["options"]] == [1, 1, 3]
