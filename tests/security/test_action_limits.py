"""One limit per action (webapp.ratelimits.limit_action): the API route and the HTML
form for the same action count in one bucket, so offering both does not double the
limit; a refusal is 429 with Retry-After and, on a page, keeps what the reader typed."""

from __future__ import annotations

import pytest

from tests.conftest import Api


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def limited(app, make_app):
    """An app with rate limits on, its context pushed for the rest of the test (after
    the default app's, as this fixture asks for ``app``, so it is popped first)."""
    contexts = []

    def build(**limits):
        app = make_app(RATELIMIT_ENABLED=True, **limits)
        contexts.append(app.app_context())
        contexts[-1].push()
        return app

    yield build
    for context in reversed(contexts):
        context.pop()


def _signed_in(app, make_user) -> Api:
    client = Api(app.test_client())
    client.login(make_user())
    return client


def _comment(make_article, make_user):
    from webapp.extensions import db
    from webapp.services import comments

    article = make_article()
    comment = comments.submit(article, make_user(), "Something to react to.")
    db.session.commit()
    return article, comment


#: A page form sent by pulse.js: refused in place with the refusal's status (without
#: script the page redirects back to the form instead, tests/web/test_comments_in_place.py).
IN_PLACE = {"X-Pulse-Fragment": "comments"}


def assert_refused(response, words: str) -> None:
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_json() if response.is_json else None
    if body is not None:
        assert body["error"]["code"] == "rate_limited"
        assert words in body["error"]["message"]
    else:
        assert words in text(response)


def test_reactions_through_the_api_and_the_page_share_one_limit(limited, make_article, make_user):
    app = limited(RATELIMIT_REACT="3 per minute")
    article, comment = _comment(make_article, make_user)
    fan = _signed_in(app, make_user)
    for value in (1, 0, 1):
        assert fan.post(f"/api/v1/comments/{comment.id}/votes", {"value": value}).status_code == 200
    refused = fan.form(f"/comments/{comment.id}/react", {"value": "-1"}, headers=IN_PLACE)
    assert_refused(refused, "You are voting on comments too fast")
    # Without script: back to the comment on the article page, with the reason on it.
    plain = fan.form(f"/comments/{comment.id}/react", {"value": "-1"})
    assert plain.headers["Location"].endswith(f"#comment-{comment.id}")
    back = text(fan.get(plain.headers["Location"]))
    assert article.title in back and "You are voting on comments too fast" in back
    assert fan.post(f"/api/v1/comments/{comment.id}/votes", {"value": 0}).status_code == 429
    # The limit is the account's: another reader reacts as usual.
    other = _signed_in(app, make_user)
    assert other.form(f"/comments/{comment.id}/react", {"value": "1"}).status_code == 302


def test_reports_are_limited_per_account_across_api_and_page(limited, make_article, make_user):
    app = limited(RATELIMIT_REPORT="2 per minute")
    article = make_article()
    from webapp.extensions import db
    from webapp.models import CommentFlag
    from webapp.services import comments

    author = make_user()
    targets = [comments.submit(article, author, f"Comment {n}") for n in range(4)]
    db.session.commit()
    reporter = _signed_in(app, make_user)
    for target in targets[:2]:
        answer = reporter.post(f"/api/v1/comments/{target.id}/flags", {"reason": "spam"})
        assert answer.status_code == 201
    refused = reporter.post(f"/api/v1/comments/{targets[2].id}/flags", {"reason": "spam"})
    assert_refused(refused, "You are reporting comments too fast")
    # The page's report form counts in the same bucket, and keeps the note typed.
    page = reporter.form(
        f"/comments/{targets[3].id}/report",
        {"reason": "abuse", "note": "Same insult on every article"},
        headers=IN_PLACE,
    )
    assert_refused(page, "You are reporting comments too fast")
    body = text(page)
    assert 'value="Same insult on every article"' in body
    assert 'value="abuse" required checked' in body
    assert db.session.scalar(db.select(db.func.count()).select_from(CommentFlag)) == 2
    # Another account reports as usual.
    other = _signed_in(app, make_user)
    assert (
        other.post(f"/api/v1/comments/{targets[2].id}/flags", {"reason": "spam"}).status_code == 201
    )


def test_votes_through_the_api_and_the_form_share_one_limit(limited, make_article):
    app = limited(RATELIMIT_VOTE="3 per minute")
    article = make_article(poll={"allow_anonymous": True})
    options = [option.id for option in article.poll.options]
    voter = Api(app.test_client())
    api_url = f"/api/v1/articles/{article.slug}/poll/votes"
    assert voter.post(api_url, {"option_id": options[0]}).status_code == 201
    assert voter.post(api_url, {"option_id": options[1]}).status_code == 200
    assert (
        voter.form(f"/articles/{article.slug}/poll", {"option_id": options[2]}).status_code == 302
    )
    refused = voter.form(f"/articles/{article.slug}/poll", {"option_id": options[0]})
    assert_refused(refused, "You are voting too fast")
    assert_refused(voter.post(api_url, {"option_id": options[0]}), "You are voting too fast")


def test_withdrawing_counts_as_voting_on_both_doors(limited, make_article):
    app = limited(RATELIMIT_VOTE="3 per minute")
    article = make_article(poll={"allow_anonymous": True})
    option = article.poll.options[0].id
    voter = Api(app.test_client())
    api_url = f"/api/v1/articles/{article.slug}/poll/votes"
    assert voter.post(api_url, {"option_id": option}).status_code == 201
    assert voter.delete(f"{api_url}/mine").status_code == 204
    assert voter.post(api_url, {"option_id": option}).status_code == 201
    refused = voter.form(f"/articles/{article.slug}/poll/withdraw", {})
    assert_refused(refused, "You are voting too fast")
    assert_refused(voter.delete(f"{api_url}/mine"), "You are voting too fast")
    # Refused means not done: the vote is still there.
    from webapp.extensions import db
    from webapp.models import Vote

    assert db.session.scalar(db.select(db.func.count()).select_from(Vote)) == 1


def test_comments_through_the_api_and_the_page_share_one_limit(limited, make_article, make_user):
    app = limited(RATELIMIT_COMMENT="2 per minute")
    article = make_article()
    writer = _signed_in(app, make_user)
    url = f"/api/v1/articles/{article.slug}/comments"
    assert writer.post(url, {"body": "first"}).status_code == 201
    assert writer.post(url, {"body": "second"}).status_code == 201
    refused = writer.form(
        f"/articles/{article.slug}/comments", {"body": "third, kept"}, headers=IN_PLACE
    )
    assert_refused(refused, "You are posting too fast")
    assert "third, kept" in text(refused)


def test_with_limits_off_no_action_is_counted(make_app, make_article, make_user):
    app = make_app(RATELIMIT_ENABLED=False, RATELIMIT_REACT="1 per minute")
    with app.app_context():
        _, comment = _comment(make_article, make_user)
        fan = _signed_in(app, make_user)
        for value in (1, 0, 1):
            assert (
                fan.post(f"/api/v1/comments/{comment.id}/votes", {"value": value}).status_code
                == 200
            )
        assert fan.form(f"/comments/{comment.id}/react", {"value": "0"}).status_code == 302
