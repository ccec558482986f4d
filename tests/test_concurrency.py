"""Exactness under concurrent load, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.conftest import Api
from webapp.models import Vote
from webapp.services import poll_cache, polls

# Off, every vote reads the poll in its own transaction; on (and warmed), a first vote
# starts from the cached poll and its INSERT checks it (polls.vote).
RESULTS_CACHE = pytest.mark.parametrize(
    "results_cache", [0, 30], ids=["read", "cached"], indirect=True
)


@pytest.fixture
def results_cache(request, app):
    poll_cache.clear()
    app.config["RESULTS_CACHE_SECONDS"] = request.param
    yield request.param
    poll_cache.clear()


def _warm(client, article, results_cache):
    if results_cache:
        url = f"/api/v1/articles/{article.slug}/poll/results"
        assert client.get(url).status_code == 200


def _run_together(count, work):
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []
    results: list = [None] * count

    def runner(index):
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:  # reported below, in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


@RESULTS_CACHE
def test_forty_voters_at_once_give_exactly_forty_votes(app, db, make_article, results_cache):
    article = make_article(poll={"allow_anonymous": True})
    option_ids = [o.id for o in article.poll.options]
    url = f"/api/v1/articles/{article.slug}/poll/votes"
    clients = [Api(app.test_client()) for _ in range(40)]
    for client in clients:
        assert client.token  # fetch CSRF tokens before the burst
    _warm(clients[0], article, results_cache)
    db.session.rollback()

    def vote(i):
        return clients[i].post(url, {"option_id": option_ids[i % 3]}).status_code

    statuses = _run_together(40, vote)
    assert statuses == [201] * 40
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 40
    assert polls.results(article.poll).total == 40
    assert [o.votes for o in polls.results(article.poll).options] == [14, 13, 13]
    assert polls.recount() == []


@RESULTS_CACHE
def test_one_voter_sending_twenty_votes_at_once_leaves_one_vote(
    app, db, make_article, make_user, results_cache
):
    article = make_article(poll=True)
    option_ids = [o.id for o in article.poll.options]
    url = f"/api/v1/articles/{article.slug}/poll/votes"
    user = make_user()
    api = Api(app.test_client())
    api.login(user)
    _warm(api.client, article, results_cache)
    db.session.rollback()

    # Every request carries the same signed-in session, as twenty tabs would.
    cookie = api.client.get_cookie("session").value
    token = api.token
    clients = []
    for _ in range(20):
        client = app.test_client()
        client.set_cookie("session", cookie)
        clients.append(client)

    def vote(i):
        return (
            clients[i]
            .post(url, json={"option_id": option_ids[i % 3]}, headers={"X-CSRFToken": token})
            .status_code
        )

    statuses = _run_together(20, vote)
    assert sorted(set(statuses)) <= [200, 201]
    assert statuses.count(201) == 1
    db.session.expire_all()
    votes = db.session.scalars(select(Vote)).all()
    assert len(votes) == 1
    assert polls.results(article.poll).total == 1
    assert polls.recount() == []


def test_concurrent_moves_and_withdrawals_keep_tallies_equal_to_a_recount(app, db, make_article):
    article = make_article(poll=True)
    poll_id = article.poll.id
    option_ids = [o.id for o in article.poll.options]
    db.session.rollback()

    def churn(i):
        from webapp.extensions import db as database
        from webapp.models import Poll

        with app.app_context():
            poll = database.session.get(Poll, poll_id)
            key = f"a:churn{i % 8}"
            for step in range(6):
                if step == 4 and i % 2:
                    polls.withdraw_vote(poll, key)
                else:
                    polls.cast_vote(poll, polls.Voter(key, None), option_ids[(i + step) % 3])
                database.session.commit()

    _run_together(16, churn)
    db.session.expire_all()
    assert polls.recount() == []
    assert db.session.scalar(select(func.count()).select_from(Vote)) <= 8
