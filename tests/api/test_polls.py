from __future__ import annotations

import time
from datetime import timedelta

import pytest

from webapp.models import utcnow
from webapp.voters import COOKIE_NAME


def _url(article, tail=""):
    return f"/api/v1/articles/{article.slug}/poll{tail}"


def test_get_poll_has_the_contract_fields(api, make_article):
    article = make_article(poll={"allow_anonymous": True})
    body = api.get(_url(article)).get_json()
    assert set(body) >= {
        "id",
        "question",
        "options",
        "closes_at",
        "closed",
        "results_visibility",
        "allow_anonymous",
        "my_vote",
    }
    assert [o["label"] for o in body["options"]] == ["Yes", "No", "Too early to tell"]
    assert body["my_vote"] is None and body["closed"] is False


def test_article_without_poll_or_unpublished_is_404(api, make_article):
    assert api.get(_url(make_article())).status_code == 404
    assert api.get(_url(make_article(status="draft", poll=True))).status_code == 404


def test_signed_in_reader_votes_201_then_changes_200(api, make_article, make_user):
    article = make_article(poll=True)
    api.login(make_user())
    yes, no = (o["id"] for o in api.get(_url(article)).get_json()["options"][:2])
    first = api.post(_url(article, "/votes"), {"option_id": yes})
    assert first.status_code == 201
    body = first.get_json()
    assert body["total"] == 1
    assert [o["votes"] for o in body["options"]] == [1, 0, 0]
    assert set(body["options"][0]) == {"id", "label", "votes", "share", "ci_low", "ci_high"}
    changed = api.post(_url(article, "/votes"), {"option_id": no})
    assert changed.status_code == 200
    assert [o["votes"] for o in changed.get_json()["options"]] == [0, 1, 0]
    assert api.get(_url(article)).get_json()["my_vote"] == no


def test_anonymous_vote_needs_the_poll_to_allow_it(api, make_article):
    closed_to_anonymous = make_article(poll=True)
    option = api.get(_url(closed_to_anonymous)).get_json()["options"][0]["id"]
    response = api.post(_url(closed_to_anonymous, "/votes"), {"option_id": option})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_anonymous_voter_is_kept_in_a_signed_cookie(api, make_api, make_article):
    article = make_article(poll={"allow_anonymous": True})
    option = api.get(_url(article)).get_json()["options"][1]["id"]
    response = api.post(_url(article, "/votes"), {"option_id": option})
    assert response.status_code == 201
    cookie = response.headers["Set-Cookie"]
    assert COOKIE_NAME in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert api.get(_url(article)).get_json()["my_vote"] == option
    again = api.post(_url(article, "/votes"), {"option_id": option})
    assert again.status_code == 200  # same voter, not a second vote
    stranger = make_api()
    assert stranger.get(_url(article)).get_json()["my_vote"] is None
    stranger.client.set_cookie(COOKIE_NAME, "forged-value")
    assert stranger.get(_url(article)).get_json()["my_vote"] is None


def test_an_anonymous_vote_leaves_the_session_cookie_alone(app, api, make_article):
    # The session (holding the CSRF token) was set when the token was handed out; a
    # vote adds the voter cookie and nothing else: no re-signed session on the way back.
    article = make_article(poll={"allow_anonymous": True})
    option = api.get(_url(article)).get_json()["options"][0]["id"]
    assert api.token  # the session cookie, with the CSRF token, is set here
    response = api.post(_url(article, "/votes"), {"option_id": option})
    assert response.status_code == 201
    set_cookies = response.headers.getlist("Set-Cookie")
    assert [cookie.split("=", 1)[0] for cookie in set_cookies] == [COOKIE_NAME]
    assert app.config["SESSION_COOKIE_NAME"] not in " ".join(set_cookies)


def _vote_as(api, article, voter_cookie):
    """Vote with ``voter_cookie`` as the voter cookie; (status, voter cookie sent back)."""
    api.client.set_cookie(COOKIE_NAME, voter_cookie)
    option = api.get(_url(article)).get_json()["options"][0]["id"]
    response = api.post(_url(article, "/votes"), {"option_id": option})
    sent = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{COOKIE_NAME}=")]
    return response.status_code, sent


def test_a_voter_cookie_minted_before_still_names_its_voter(app, make_api, make_article, db):
    # Cookies minted before were compressed by itsdangerous; new ones are not. Both
    # are the same signed format, and the old ones must keep naming their voter.
    from itsdangerous import URLSafeSerializer

    from webapp.models import Vote

    article = make_article(poll={"allow_anonymous": True})
    voter_id = "0123456789abcdef0123456789abcdef"
    old = URLSafeSerializer(app.config["SECRET_KEY"], salt="pulse-anonymous-voter").dumps(voter_id)
    assert old.startswith(".")  # itsdangerous' mark of a compressed payload
    api = make_api()
    assert _vote_as(api, article, old) == (201, [])  # known voter: no new cookie
    assert db.session.scalars(db.select(Vote.voter_key)).all() == [f"a:{voter_id}"]
    assert api.get(_url(article)).get_json()["my_vote"] is not None


def test_a_voter_cookie_signed_with_another_key_is_not_believed(app, make_api, make_article, db):
    from itsdangerous import URLSafeSerializer

    from webapp.models import Vote

    article = make_article(poll={"allow_anonymous": True})
    forged_id = "f" * 32
    forged = URLSafeSerializer("not-the-secret", salt="pulse-anonymous-voter").dumps(forged_id)
    status, sent = _vote_as(make_api(), article, forged)
    assert status == 201 and len(sent) == 1  # a new voter, with a cookie of its own
    [key] = db.session.scalars(db.select(Vote.voter_key)).all()
    assert key.startswith("a:") and key != f"a:{forged_id}"


def test_a_new_voter_cookie_reads_back_as_the_same_voter(app, make_api, make_article):
    from itsdangerous import URLSafeSerializer

    article = make_article(poll={"allow_anonymous": True})
    status, [sent] = _vote_as(make_api(), article, "")
    value = sent.split(";", 1)[0].split("=", 1)[1]
    plain = URLSafeSerializer(app.config["SECRET_KEY"], salt="pulse-anonymous-voter")
    # itsdangerous itself reads it: the same signed format, now the id and its mint
    # time (Unix seconds), so a vote can tell a cookie minted seconds before it
    voter_id, minted_at = plain.loads(value)
    assert status == 201 and len(voter_id) == 32
    assert abs(minted_at - time.time()) < 60
    again = make_api()
    assert _vote_as(again, article, value) == (200, [])  # the same voter, voting again


def test_anonymous_vote_becomes_the_accounts_on_sign_in(api, make_article, make_user):
    article = make_article(poll={"allow_anonymous": True})
    option = api.get(_url(article)).get_json()["options"][2]["id"]
    api.post(_url(article, "/votes"), {"option_id": option})
    api.login(make_user())
    assert api.get(_url(article)).get_json()["my_vote"] == option
    results = api.get(_url(article, "/results")).get_json()
    assert results["total"] == 1


@pytest.mark.parametrize(
    "payload, status",
    [
        ({"option_id": "1"}, 400),
        ({"option_id": True}, 400),
        ({"option_id": 1.0}, 400),
        ({}, 422),  # option_id is required: a value missing, not one of the wrong type
        ({"option_id": 999999}, 422),
    ],
)
def test_bad_votes_are_refused(api, make_article, make_user, payload, status):
    article = make_article(poll=True)
    api.login(make_user())
    response = api.post(_url(article, "/votes"), payload)
    assert response.status_code == status
    assert "error" in response.get_json()


def test_vote_for_an_option_of_another_poll_is_422(api, make_article, make_user):
    article, other = make_article(poll=True), make_article(poll=True)
    api.login(make_user())
    foreign = api.get(_url(other)).get_json()["options"][0]["id"]
    response = api.post(_url(article, "/votes"), {"option_id": foreign})
    assert response.status_code == 422
    assert api.get(_url(article, "/results")).get_json()["total"] == 0


def test_closed_poll_refuses_votes_with_409_and_shows_final_results(api, make_article, make_user):
    article = make_article(
        poll={"closes_at": utcnow() - timedelta(minutes=1), "results_visibility": "after_close"}
    )
    api.login(make_user())
    option = api.get(_url(article)).get_json()["options"][0]["id"]
    response = api.post(_url(article, "/votes"), {"option_id": option})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "poll_closed"
    results = api.get(_url(article, "/results"))
    assert results.status_code == 200 and results.get_json()["closed"] is True


def test_withdrawing_my_vote(api, make_article, make_user):
    article = make_article(poll=True)
    api.login(make_user())
    option = api.get(_url(article)).get_json()["options"][0]["id"]
    api.post(_url(article, "/votes"), {"option_id": option})
    assert api.delete(_url(article, "/votes/mine")).status_code == 204
    assert api.get(_url(article)).get_json()["my_vote"] is None
    assert api.get(_url(article, "/results")).get_json()["total"] == 0
    assert api.delete(_url(article, "/votes/mine")).status_code == 404


def test_results_hidden_until_vote_when_poll_says_so(api, make_article, make_user, make_api):
    article = make_article(poll={"results_visibility": "after_vote"})
    api.login(make_user())
    hidden = api.get(_url(article, "/results"))
    assert hidden.status_code == 403
    assert hidden.get_json()["error"]["code"] == "results_hidden"
    option = api.get(_url(article)).get_json()["options"][0]["id"]
    vote = api.post(_url(article, "/votes"), {"option_id": option})
    assert vote.get_json()["total"] == 1
    assert api.get(_url(article, "/results")).status_code == 200
    editor = make_api()
    editor.login(make_user(role="editor"))
    assert editor.get(_url(article, "/results")).status_code == 200


def test_vote_answer_is_only_my_vote_when_results_wait_for_the_close(api, make_article, make_user):
    article = make_article(poll={"results_visibility": "after_close"})
    api.login(make_user())
    option = api.get(_url(article)).get_json()["options"][0]["id"]
    response = api.post(_url(article, "/votes"), {"option_id": option})
    assert response.status_code == 201
    assert response.get_json() == {"my_vote": option}
    assert api.get(_url(article, "/results")).status_code == 403


def test_banned_readers_cannot_vote(api, make_article, make_user, db):
    article = make_article(poll=True)
    user = make_user()
    user.banned_at = utcnow()
    db.session.commit()
    api.login(user)
    option = api.get(_url(article)).get_json()["options"][0]["id"]
    response = api.post(_url(article, "/votes"), {"option_id": option})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "banned"


def test_voting_is_rate_limited_per_client(make_app, make_article):
    from tests.conftest import Api

    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_VOTE="3 per minute")
    with app.app_context():
        article = make_article(poll={"allow_anonymous": True})
        api = Api(app.test_client())
        option = api.get(_url(article)).get_json()["options"][0]["id"]
        codes = [
            api.post(_url(article, "/votes"), {"option_id": option}).status_code for _ in range(4)
        ]
        assert codes == [201, 200, 200, 429]


def test_only_a_hash_of_the_client_address_is_stored(api, make_article, make_user, db):
    from webapp.models import Vote

    article = make_article(poll=True)
    api.login(make_user())
    option = api.get(_url(article)).get_json()["options"][0]["id"]
    api.post(
        _url(article, "/votes"), {"option_id": option}, environ_base={"REMOTE_ADDR": "203.0.113.7"}
    )
    vote = db.session.scalar(db.select(Vote))
    assert vote.client_hash and "203.0.113.7" not in vote.client_hash
    assert len(vote.client_hash) == 32
