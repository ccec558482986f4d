"""Commenters' poll answers are a piece of the results: shown beside a comment only to
readers who may see the results (API ``author_vote``, and "voted: …" on the page),
signed-out readers' cached thread included. And a draft's poll takes no votes."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp import caching
from webapp.models import PollDailyTally, Vote, utcnow
from webapp.services import polls


def _comments(api, article):
    items = api.get(f"/api/v1/articles/{article.slug}/comments").get_json()["items"]
    return {item["html"].strip(): item["author_vote"] for item in items}


def _page(api, article) -> str:
    response = api.get(f"/articles/{article.slug}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def discussed(make_api, make_user, make_article):
    """An article whose poll a commenter answered "No" before commenting."""

    def build(visibility: str, **poll):
        article = make_article(
            poll={"results_visibility": visibility, "allow_anonymous": True, **poll},
            title=f"answers {uuid.uuid4()}",
        )
        commenter = make_api()
        commenter.login(make_user(name="Opinionated Reader"))
        no = article.poll.options[1].id
        url = f"/api/v1/articles/{article.slug}/poll/votes"
        assert commenter.post(url, {"option_id": no}).status_code == 201
        posted = commenter.post(f"/api/v1/articles/{article.slug}/comments", {"body": "Mine"})
        assert posted.status_code == 201
        return article

    return build


def _signed_in(make_api, make_user, role="reader"):
    api = make_api()
    api.login(make_user(role=role))
    return api


def test_after_close_answers_are_hidden_from_readers_until_it_closes(
    discussed, make_api, make_user, db
):
    article = discussed("after_close")
    reader = _signed_in(make_api, make_user)
    signed_out = make_api()
    for api in (reader, signed_out):
        assert _comments(api, article) == {"<p>Mine</p>": None}
        page = _page(api, article)
        assert "Mine" in page and "voted:" not in page
    # Voting does not show the results of an after_close poll, nor the answers.
    url = f"/api/v1/articles/{article.slug}/poll/votes"
    assert reader.post(url, {"option_id": article.poll.options[0].id}).status_code == 201
    assert _comments(reader, article) == {"<p>Mine</p>": None}

    article.poll.closed_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    for api in (reader, signed_out):
        assert _comments(api, article) == {"<p>Mine</p>": "No"}
        assert "voted: No" in _page(api, article)


@pytest.mark.parametrize("role", ["editor", "moderator"])
def test_editors_and_moderators_always_see_the_answers(discussed, make_api, make_user, role):
    article = discussed("after_close")
    staff = _signed_in(make_api, make_user, role)
    assert _comments(staff, article) == {"<p>Mine</p>": "No"}
    assert "voted: No" in _page(staff, article)


def test_after_vote_answers_show_to_voters_only(discussed, make_api, make_user):
    article = discussed("after_vote")
    url = f"/api/v1/articles/{article.slug}/poll/votes"
    voter, non_voter = _signed_in(make_api, make_user), _signed_in(make_api, make_user)
    assert voter.post(url, {"option_id": article.poll.options[0].id}).status_code == 201
    assert _comments(voter, article) == {"<p>Mine</p>": "No"}
    assert "voted: No" in _page(voter, article)
    assert _comments(non_voter, article) == {"<p>Mine</p>": None}
    assert "voted:" not in _page(non_voter, article)


def test_the_cached_signed_out_thread_does_not_leak_answers(discussed, make_api):
    # The signed-out thread is kept a moment per worker: a signed-out voter's copy
    # (with answers) must never be served to a signed-out reader who did not vote.
    from flask import current_app

    current_app.config.update(THREAD_CACHE_SECONDS=30, RESULTS_CACHE_SECONDS=30)
    caching.clear_all()
    try:
        article = discussed("after_vote")
        url = f"/api/v1/articles/{article.slug}/poll/votes"
        anonymous_voter, passer_by = make_api(), make_api()
        answer = anonymous_voter.post(url, {"option_id": article.poll.options[2].id})
        assert answer.status_code == 201
        for _ in range(2):  # the second answer of each comes from the cache
            assert _comments(anonymous_voter, article) == {"<p>Mine</p>": "No"}
            assert "voted: No" in _page(anonymous_voter, article)
            assert _comments(passer_by, article) == {"<p>Mine</p>": None}
            assert "voted:" not in _page(passer_by, article)
    finally:
        caching.clear_all()


def test_always_visible_results_show_answers_to_everyone(discussed, make_api):
    article = discussed("always")
    assert _comments(make_api(), article) == {"<p>Mine</p>": "No"}
    assert "voted: No" in _page(make_api(), article)


# --- a draft's poll takes no votes --------------------------------------------------------


def _count_votes(db, article) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(Vote).where(Vote.poll_id == article.poll.id)
    )


def test_a_draft_poll_refuses_votes_404_to_readers_409_to_editors(
    make_article, make_api, make_user, db
):
    article = make_article(status="draft", poll={"allow_anonymous": True})
    option = article.poll.options[0].id
    url = f"/api/v1/articles/{article.slug}/poll/votes"
    assert _signed_in(make_api, make_user).post(url, {"option_id": option}).status_code == 404
    assert make_api().post(url, {"option_id": option}).status_code == 404
    editor = _signed_in(make_api, make_user, "editor")
    answer = editor.post(url, {"option_id": option})
    assert answer.status_code == 409
    assert answer.get_json()["error"]["code"] == "poll_not_published"
    # The page's form too: the editor is told, and nothing is stored.
    form = editor.form(f"/articles/{article.slug}/poll", {"option_id": option})
    assert form.status_code == 302
    assert "takes votes once its article is published" in editor.get(
        f"/articles/{article.slug}"
    ).get_data(as_text=True)
    assert _count_votes(db, article) == 0


def test_publishing_drops_votes_cast_on_the_draft(make_article, make_api, make_user, db):
    # A draft poll holding an editor's trial vote (stored before drafts refused votes).
    article = make_article(status="draft", poll=True)
    editor = make_user(role="editor")
    db.session.add(
        Vote(
            poll_id=article.poll.id,
            option_id=article.poll.options[0].id,
            voter_key=polls.user_voter_key(editor),
            user_id=editor.id,
        )
    )
    db.session.commit()
    assert _count_votes(db, article) == 1

    api = make_api()
    api.login(editor)
    answer = api.patch(f"/api/v1/articles/{article.slug}", {"status": "published"})
    assert answer.status_code == 200, answer.get_json()
    assert _count_votes(db, article) == 0
    results = api.get(f"/api/v1/articles/{article.slug}/poll/results").get_json()
    assert results["total"] == 0
    assert polls.recount(article.poll.id) == []
    rollup = select(func.count()).select_from(PollDailyTally)
    assert db.session.scalar(rollup.where(PollDailyTally.poll_id == article.poll.id)) == 0

    # Published, it takes votes; unpublishing and publishing again keeps them.
    url = f"/api/v1/articles/{article.slug}/poll/votes"
    assert api.post(url, {"option_id": article.poll.options[1].id}).status_code == 201
    assert api.patch(f"/api/v1/articles/{article.slug}", {"status": "draft"}).status_code == 200
    assert api.patch(f"/api/v1/articles/{article.slug}", {"status": "published"}).status_code == 200
    assert _count_votes(db, article) == 1


def test_an_accounts_changed_answer_shows_at_once_through_the_cached_thread(
    discussed, make_api, make_user
):
    # The answer beside a comment (and where its author's reactions count for common
    # ground) follows the author's vote through either door, the API's included, even
    # while the signed-out thread is cached.
    from flask import current_app

    current_app.config.update(THREAD_CACHE_SECONDS=30, RESULTS_CACHE_SECONDS=30)
    caching.clear_all()
    try:
        article = discussed("always")
        author = make_api()
        author.login(make_user(name="Second Thoughts"))
        votes = f"/api/v1/articles/{article.slug}/poll/votes"
        no, yes = article.poll.options[1].id, article.poll.options[0].id
        assert author.post(votes, {"option_id": no}).status_code == 201
        comments = f"/api/v1/articles/{article.slug}/comments"
        assert author.post(comments, {"body": "Yours"}).status_code == 201
        passer_by = make_api()
        assert _comments(passer_by, article)["<p>Yours</p>"] == "No"  # now cached
        assert author.post(votes, {"option_id": yes}).status_code == 200
        assert _comments(passer_by, article)["<p>Yours</p>"] == "Yes"
        assert author.delete(f"{votes}/mine").status_code == 204
        assert _comments(passer_by, article)["<p>Yours</p>"] is None
    finally:
        caching.clear_all()
