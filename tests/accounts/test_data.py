"""Download my data, and delete my account (comments removed or kept, votes kept in the
tallies without the account, recounts agreeing afterwards)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import PASSWORD

POLL = {"results_visibility": "always"}


@pytest.fixture
def scene(api, make_api, make_user, make_article):
    """A reader who commented, voted, reacted and reported; another reader who answered."""
    article = make_article(poll=POLL)
    reader = make_user(email="leaver@example.org", name="Leaver")
    other = make_user(email="stayer@example.org", name="Stayer")
    api.login(reader)
    them = make_api()
    them.login(other)
    options = api.get(f"/api/v1/articles/{article.slug}/poll").get_json()["options"]
    votes = f"/api/v1/articles/{article.slug}/poll/votes"
    assert api.post(votes, {"option_id": options[0]["id"]}).status_code == 201
    assert them.post(votes, {"option_id": options[1]["id"]}).status_code == 201
    comments = f"/api/v1/articles/{article.slug}/comments"
    answered = api.post(comments, {"body": "My first and answered comment."}).get_json()
    alone = api.post(comments, {"body": "My second comment, nobody answered."}).get_json()
    theirs = them.post(
        comments, {"body": "I answer the leaver here.", "parent_id": answered["id"]}
    ).get_json()
    assert api.post(f"/api/v1/comments/{theirs['id']}/votes", {"value": 1}).status_code == 200
    flagged = api.post(
        f"/api/v1/comments/{theirs['id']}/flags", {"reason": "other", "note": "my private note"}
    )
    assert flagged.status_code == 201
    return {
        "article": article,
        "reader": reader,
        "other": other,
        "them": them,
        "answered": answered["id"],
        "alone": alone["id"],
        "theirs": theirs["id"],
        "options": options,
    }


def test_download_my_data_holds_the_account_and_what_it_did(api, scene):
    response = api.get("/account/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "leaver@example.org"
    assert data["account"]["display_name"] == "Leaver"
    assert [c["body"] for c in data["comments"]] == [
        "My first and answered comment.",
        "My second comment, nobody answered.",
    ]
    assert data["comments"][0]["article"]["slug"] == scene["article"].slug
    assert [v["answer"] for v in data["votes"]] == [scene["options"][0]["label"]]
    assert [(r["comment_id"], r["value"]) for r in data["reactions"]] == [(scene["theirs"], 1)]
    assert [(r["comment_id"], r["reason"], r["note"]) for r in data["reports"]] == [
        (scene["theirs"], "other", "my private note")
    ]
    # Nothing of other readers beyond which comment was acted on.
    text = response.get_data(as_text=True)
    assert "stayer@example.org" not in text and "Stayer" not in text
    assert "I answer the leaver here." not in text
    # The API's copy is the same record.
    api_copy = api.get("/api/v1/auth/me/export")
    assert api_copy.headers["Content-Disposition"].startswith("attachment;")
    assert api_copy.get_json() == data


def _results(api, slug):
    body = api.get(f"/api/v1/articles/{slug}/poll/results").get_json()
    return body["total"], [(o["id"], o["votes"]) for o in body["options"]]


def _recounts_agree(runner):
    polls = runner.invoke(args=["polls", "recount"])
    assert polls.exit_code == 0 and "nothing to fix" in polls.output, polls.output
    tone = runner.invoke(args=["sentiment", "recount", "--check"])
    assert tone.exit_code == 0 and "nothing to fix" in tone.output, tone.output


@pytest.mark.parametrize("keep", [True, False])
def test_deleting_the_account(api, make_api, scene, runner, db, keep):
    from webapp.models import CommentFlag, CommentReaction, User, Vote

    slug = scene["article"].slug
    before = _results(api, slug)
    wrong = api.client.open(
        "/api/v1/auth/me",
        method="DELETE",
        json={"password": "not it", "keep_comments": keep},
        headers={"X-CSRFToken": api.token},
    )
    assert wrong.status_code == 403
    deleted = api.client.open(
        "/api/v1/auth/me",
        method="DELETE",
        json={"password": PASSWORD, "keep_comments": keep},
        headers={"X-CSRFToken": api.token},
    )
    assert deleted.status_code == 204, deleted.get_json()
    assert api.get("/api/v1/auth/me").status_code == 401
    signin = make_api().post(
        "/api/v1/auth/login", {"email": "leaver@example.org", "password": PASSWORD}
    )
    assert signin.status_code == 401

    # The tallies are as they were; recounting finds nothing to fix.
    assert _results(make_api(), slug) == before
    _recounts_agree(runner)
    db.session.expire_all()
    user = db.session.get(User, scene["reader"].id)
    assert user.deleted_at is not None and "leaver" not in user.email
    assert user.display_name == "Deleted reader"
    assert db.session.query(Vote).filter(Vote.user_id == user.id).count() == 0
    assert db.session.query(Vote).count() == 2
    # Votes on comments and reports stay (scores as they were), the note does not.
    assert db.session.get(CommentReaction, (scene["theirs"], user.id)).value == 1
    flag = db.session.query(CommentFlag).filter(CommentFlag.user_id == user.id).one()
    assert flag.note is None and flag.reason == "other"

    thread = make_api().get(f"/api/v1/articles/{slug}/comments").get_json()["items"]
    texts = json.dumps(thread)
    assert "Leaver" not in texts
    assert "I answer the leaver here." in texts  # the other reader's reply stays
    if keep:
        assert "My first and answered comment." in texts
        assert "My second comment, nobody answered." in texts
        authors = {item["author"]["display_name"] for item in thread}
        assert "Deleted reader" in authors
    else:
        assert "My first and answered comment." not in texts
        assert "My second comment, nobody answered." not in texts
        assert [item["id"] for item in thread] == [scene["answered"]]  # a "deleted" placeholder


def test_deleting_from_the_page_needs_the_password_and_signs_out(api, scene, make_api):
    page = api.get("/account").get_data(as_text=True)
    assert 'name="delete-comments"' in page and 'name="delete-password"' in page
    wrong = api.form("/account/delete", {"delete-comments": "keep", "delete-password": "nope"})
    assert wrong.status_code == 403
    assert api.get("/api/v1/auth/me").status_code == 200
    done = api.form("/account/delete", {"delete-comments": "remove", "delete-password": PASSWORD})
    assert done.status_code == 302
    assert api.get("/api/v1/auth/me").status_code == 401
    assert api.get("/account").status_code in (302, 401)


def test_a_moderators_audit_log_survives_their_deletion(api, make_api, make_user, make_article, db):
    from webapp.models import ModerationAction

    article = make_article()
    author = make_api()
    author.login(make_user())
    comment = author.post(
        f"/api/v1/articles/{article.slug}/comments", {"body": "Something to moderate."}
    ).get_json()
    moderator = make_user("moderator", name="Mia Mod")
    make_user("admin")
    api.login(moderator)
    assert (
        api.post(f"/api/v1/moderation/comments/{comment['id']}", {"action": "reject"}).status_code
        == 200
    )
    answer = api.client.open(
        "/api/v1/auth/me",
        method="DELETE",
        json={"password": PASSWORD, "keep_comments": True},
        headers={"X-CSRFToken": api.token},
    )
    assert answer.status_code == 204
    db.session.expire_all()
    [entry] = db.session.query(ModerationAction).filter_by(actor_id=moderator.id).all()
    assert entry.actor.display_name == "Former staff member"
    assert entry.actor.role == "reader"


def test_the_only_admin_cannot_delete_their_account(api, make_user):
    admin = make_user("admin")
    api.login(admin)
    answer = api.client.open(
        "/api/v1/auth/me",
        method="DELETE",
        json={"password": PASSWORD, "keep_comments": True},
        headers={"X-CSRFToken": api.token},
    )
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "last_admin"
