"""Sessions end for good: logout, "sign out everywhere", a password change and a ban
end the sessions they should, so a saved copy of a cookie no longer signs anyone in."""

from __future__ import annotations

import logging

import pytest
from flask_login.utils import encode_cookie

from tests.conftest import PASSWORD, Api

NEW_PASSWORD = "a brand new passphrase"
ME = "/api/v1/auth/me"


def copy_of(api: Api, make_api, *names: str) -> Api:  # type: ignore[no-untyped-def]
    """Another browser holding a saved copy of ``api``'s cookies (only ``names``)."""
    other = make_api()
    for name in names:
        cookie = api.client.get_cookie(name)
        assert cookie is not None, f"no {name} cookie to copy"
        other.client.set_cookie(name, cookie.value)
    return other


def sign_in_remembered(api: Api, user) -> None:  # type: ignore[no-untyped-def]
    """Through the sign-in page with "keep me signed in" ticked."""
    response = api.form("/login", {"email": user.email, "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    assert api.client.get_cookie("remember_token") is not None


# --- logout -----------------------------------------------------------------------


def test_a_saved_session_cookie_no_longer_signs_in_after_logout(api, make_api, make_user):
    user = make_user()
    api.login(user)
    saved = copy_of(api, make_api, "session")
    assert saved.get(ME).get_json()["id"] == user.id
    assert api.post("/api/v1/auth/logout").status_code == 204
    assert saved.get(ME).status_code == 401
    assert saved.post("/api/v1/auth/logout").status_code == 401


def test_a_saved_remember_me_cookie_no_longer_signs_in_after_logout(api, make_api, make_user):
    user = make_user()
    sign_in_remembered(api, user)
    before = copy_of(api, make_api, "remember_token")
    assert before.get(ME).get_json()["id"] == user.id  # the cookie alone signs in
    assert api.post("/api/v1/auth/logout").status_code == 204
    assert before.get(ME).status_code == 401  # neither its session nor its cookie
    later = make_api()
    later.client.set_cookie("remember_token", before.client.get_cookie("remember_token").value)
    assert later.get(ME).status_code == 401
    # Signing in again works, with a new remember-me cookie.
    sign_in_remembered(api, user)
    assert copy_of(api, make_api, "remember_token").get(ME).get_json()["id"] == user.id


def test_signing_in_again_does_not_revive_a_logged_out_cookie(api, make_api, make_user):
    user = make_user()
    api.login(user)
    saved = copy_of(api, make_api, "session")
    api.post("/api/v1/auth/logout")
    api.login(user)
    assert api.get(ME).status_code == 200
    assert saved.get(ME).status_code == 401


def test_a_remember_me_cookie_from_before_sessions_could_end_signs_no_one_in(
    app, make_api, make_user
):
    """The old cookie named a bare id, and was the same on every sign-in: it is refused."""
    user = make_user()
    visitor = make_api()
    with app.test_request_context():
        visitor.client.set_cookie("remember_token", encode_cookie(str(user.id)))
    assert visitor.get(ME).status_code == 401


@pytest.mark.parametrize(
    "session_id",
    [
        "{id}",
        "{id}:1",
        "{id}:-0",
        "{id}: 0",
        "{id}:0:0",
        "{id}:",
        ":0",
        "{id}:99999999999",
        "{id}:٠",
    ],
)
def test_a_session_naming_a_wrong_or_malformed_generation_is_signed_out(api, make_user, session_id):
    user = make_user()
    with api.client.session_transaction() as session:
        session["_user_id"] = session_id.format(id=user.id)
        session["_fresh"] = True
    assert api.get(ME).status_code == 401


def test_a_session_naming_the_current_generation_is_signed_in(api, make_user):
    user = make_user()
    with api.client.session_transaction() as session:
        session["_user_id"] = f"{user.id}:0"
        session["_fresh"] = True
    assert api.get(ME).get_json()["id"] == user.id


def test_the_request_log_names_the_user_by_id(api, make_user, caplog):
    user = make_user()
    api.login(user)
    with caplog.at_level(logging.INFO, logger="webapp.requests"):
        api.get(ME)
    [record] = [r for r in caplog.records if r.name == "webapp.requests"]
    assert record.fields["user_id"] == user.id


# --- sign out everywhere -------------------------------------------------------------


def test_sign_out_everywhere_ends_every_session_this_one_included(api, make_api, make_user):
    user = make_user()
    bystander = make_user()
    api.login(user)
    laptop, phone, theirs = make_api(), make_api(), make_api()
    laptop.login(user)
    sign_in_remembered(phone, user)
    theirs.login(bystander)
    assert api.post("/api/v1/auth/sessions/revoke").status_code == 204
    assert api.get(ME).status_code == 401
    assert laptop.get(ME).status_code == 401
    assert copy_of(phone, make_api, "remember_token").get(ME).status_code == 401
    assert phone.get(ME).status_code == 401
    assert theirs.get(ME).get_json()["id"] == bystander.id  # other people are untouched
    api.login(user)  # signing in again works
    assert api.get(ME).status_code == 200


def test_sign_out_everywhere_needs_a_session(api):
    response = api.post("/api/v1/auth/sessions/revoke")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


# --- password change -----------------------------------------------------------------


def change(api: Api, current: object = PASSWORD, new: object = NEW_PASSWORD):  # type: ignore[no-untyped-def]
    return api.post("/api/v1/auth/password", {"current_password": current, "new_password": new})


def test_changing_the_password_ends_other_sessions_and_keeps_this_one(api, make_api, make_user):
    user = make_user()
    api.login(user)
    other = make_api()
    other.login(user)
    response = change(api)
    assert response.status_code == 204
    assert response.get_data() == b""
    assert other.get(ME).status_code == 401
    assert api.get(ME).get_json()["id"] == user.id
    # The session that changed it still writes (its CSRF token still holds).
    assert api.post("/api/v1/auth/logout").status_code == 204
    # The old password is refused; the new one signs in.
    old = make_api().post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD})
    assert old.status_code == 401
    assert make_api().login(user, password=NEW_PASSWORD).status_code == 200


def test_a_saved_copy_of_the_changing_session_from_before_the_change_ends(api, make_api, make_user):
    """The session that changed the password was signed in again: a copy of its old
    cookie, taken before the change, is one of the sessions that end."""
    user = make_user()
    api.login(user)
    before = copy_of(api, make_api, "session")
    assert change(api).status_code == 204
    assert before.get(ME).status_code == 401
    assert copy_of(api, make_api, "session").get(ME).get_json()["id"] == user.id


def test_a_remembered_session_gets_a_new_remember_me_cookie_on_a_password_change(
    api, make_api, make_user
):
    user = make_user()
    sign_in_remembered(api, user)
    old_remember = copy_of(api, make_api, "remember_token")
    assert change(api).status_code == 204
    assert old_remember.get(ME).status_code == 401
    assert copy_of(api, make_api, "remember_token").get(ME).get_json()["id"] == user.id


def test_a_wrong_current_password_is_403_and_changes_nothing(api, make_api, make_user):
    user = make_user()
    api.login(user)
    other = make_api()
    other.login(user)
    response = change(api, current="not my password")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "wrong_password"
    assert other.get(ME).status_code == 200
    assert make_api().login(user).status_code == 200


@pytest.mark.parametrize("new", ["short", "", "x" * 1025])
def test_a_weak_new_password_is_422_on_new_password_and_changes_nothing(
    api, make_api, make_user, new
):
    user = make_user()
    api.login(user)
    other = make_api()
    other.login(user)
    response = change(api, new=new)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"new_password"}
    assert other.get(ME).status_code == 200
    assert make_api().login(user).status_code == 200


def test_changing_the_password_signed_out_is_401(api, make_user):
    make_user()
    response = change(api)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "body", [{"current_password": 1, "new_password": NEW_PASSWORD}, [], "text", None]
)
def test_a_password_change_with_wrong_types_is_400(api, make_user, body):
    api.login(make_user())
    response = api.post("/api/v1/auth/password", body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_request"


def test_password_changes_are_rate_limited(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute")
    with app.app_context():
        user = make_user()
        api = Api(app.test_client())
        api.login(user)
        codes = [change(api, current=f"guess number {n}").status_code for n in range(3)]
        assert codes == [403, 403, 429]


# --- bans ----------------------------------------------------------------------------


def test_a_ban_ends_the_banned_readers_sessions(api, make_api, make_user, make_article):
    reader = make_user()
    moderator = make_api()
    moderator.login(make_user("moderator"))
    api.login(reader)
    remembered = make_api()
    sign_in_remembered(remembered, reader)
    article = make_article()
    banned = moderator.post(f"/api/v1/moderation/users/{reader.id}/ban", {"reason": "Trolling"})
    assert banned.status_code == 200
    assert api.get(ME).status_code == 401
    assert copy_of(remembered, make_api, "remember_token").get(ME).status_code == 401
    assert moderator.get(ME).status_code == 200  # the moderator's own session lives on
    # They may sign in again and read, but every write is refused.
    api.login(reader)
    assert api.get(ME).get_json()["id"] == reader.id
    comment = api.post(f"/api/v1/articles/{article.slug}/comments", {"body": "Let me in."})
    assert comment.status_code == 403
    assert comment.get_json()["error"]["code"] == "banned"


# --- registering while signed in ---------------------------------------------------------


def test_registering_while_signed_in_is_409_and_switches_nothing(api, make_api, make_user):
    user = make_user()
    api.login(user)
    response = api.post(
        "/api/v1/auth/register",
        {"email": "second@example.org", "password": NEW_PASSWORD, "display_name": "Second"},
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "already_signed_in"
    assert api.get(ME).get_json()["id"] == user.id
    refused = make_api().post(
        "/api/v1/auth/login", {"email": "second@example.org", "password": NEW_PASSWORD}
    )
    assert refused.status_code == 401  # no account was made
    # Signed out, the same registration works.
    assert api.post("/api/v1/auth/logout").status_code == 204
    response = api.post(
        "/api/v1/auth/register",
        {"email": "second@example.org", "password": NEW_PASSWORD, "display_name": "Second"},
    )
    assert response.status_code == 201
    assert api.get(ME).get_json()["email"] == "second@example.org"


def test_a_revoked_session_may_register_a_new_account(api, make_api, make_user):
    """A session whose user signed out elsewhere is signed out: it is not "signed in"."""
    user = make_user()
    api.login(user)
    elsewhere = copy_of(api, make_api, "session")
    elsewhere.post("/api/v1/auth/sessions/revoke")
    response = api.post(
        "/api/v1/auth/register",
        {"email": "fresh@example.org", "password": NEW_PASSWORD, "display_name": "Fresh"},
    )
    assert response.status_code == 201
