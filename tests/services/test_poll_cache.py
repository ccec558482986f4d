"""The results cache: served from cache between votes, cleared by a vote, shared in Redis."""

from __future__ import annotations

import logging
import time
import uuid

import pytest

from tests.conftest import Api
from webapp.services import poll_cache


@pytest.fixture(autouse=True)
def _fresh_local_cache(monkeypatch):
    # As in a fresh worker: nothing cached, Redis presumed reachable.
    monkeypatch.setattr(poll_cache, "_redis_down_until", 0.0)
    poll_cache.clear()
    yield
    poll_cache.clear()


def _results(api, article):
    return api.get(f"/api/v1/articles/{article.slug}/poll/results").get_json()


def _corrupt_tally(db, article, value):
    """Change a tally behind the app's back, to see whether a read hits the database."""
    from webapp.models import PollOption

    db.session.get(PollOption, article.poll.options[0].id).vote_count = value
    db.session.commit()


def test_results_are_served_from_cache_until_a_vote_clears_it(make_app, make_article):
    app = make_app(RESULTS_CACHE_SECONDS=30)
    with app.app_context():
        from webapp.extensions import db

        article = make_article(poll={"allow_anonymous": True}, title=f"cache {uuid.uuid4()}")
        api = Api(app.test_client())
        assert _results(api, article)["total"] == 0
        _corrupt_tally(db, article, 7)
        assert _results(api, article)["total"] == 0  # still the cached answer
        option = article.poll.options[1].id
        api.post(f"/api/v1/articles/{article.slug}/poll/votes", {"option_id": option})
        fresh = _results(api, article)
        assert fresh["total"] == 8  # the vote cleared the cache: 7 (by hand) + 1


def test_cached_results_expire(make_app, make_article):
    app = make_app(RESULTS_CACHE_SECONDS=0.2)
    with app.app_context():
        from webapp.extensions import db

        article = make_article(poll=True, title=f"expiry {uuid.uuid4()}")
        api = Api(app.test_client())
        assert _results(api, article)["total"] == 0
        _corrupt_tally(db, article, 3)
        time.sleep(0.3)
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


def test_with_redis_the_cache_is_shared_and_a_vote_clears_it_everywhere(make_app, make_article):
    url = "redis://127.0.0.1:6379/15"
    _redis_or_skip(url)
    app = make_app(RESULTS_CACHE_SECONDS=30, REDIS_URL=url)
    with app.app_context():
        from webapp.extensions import db

        article = make_article(poll={"allow_anonymous": True}, title=f"redis {uuid.uuid4()}")
        try:
            api = Api(app.test_client())
            assert _results(api, article)["total"] == 0
            poll_cache.clear()  # another worker: nothing cached in this process
            _corrupt_tally(db, article, 5)
            assert _results(api, article)["total"] == 0  # served from Redis
            api.post(
                f"/api/v1/articles/{article.slug}/poll/votes",
                {"option_id": article.poll.options[0].id},
            )
            assert _results(api, article)["total"] == 6
        finally:
            poll_cache.forget(article.slug)


def test_redis_down_falls_back_to_the_worker_cache(make_app, make_article, caplog):
    app = make_app(RESULTS_CACHE_SECONDS=30, REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        article = make_article(poll=True, title=f"down {uuid.uuid4()}")
        api = Api(app.test_client())
        with caplog.at_level(logging.WARNING, logger="webapp.services.poll_cache"):
            assert _results(api, article)["total"] == 0
        assert any("Redis unavailable" in r.getMessage() for r in caplog.records)
