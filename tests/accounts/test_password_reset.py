"""Password reset by mail: the same answer for unknown addresses, a link that works
once and expires, rate limits, and one that actually arrives over SMTP."""

from __future__ import annotations

import time

from tests.accounts.conftest import link_path, mails
from tests.conftest import PASSWORD, Api
from tests.mail.server import deliver_outbox

NEW_PASSWORD = "a brand new passphrase"


def _sign_in_works(api: Api, email: str, password: str) -> bool:
    response = api.post("/api/v1/auth/login", {"email": email, "password": password})
    return response.status_code == 200


def test_the_page_answers_the_same_for_known_and_unknown_addresses(api, make_user):
    user = make_user(email="known@example.org")
    login_page = api.get("/login").get_data(as_text=True)
    assert 'href="/login/forgot"' in login_page and "Forgot your password?" in login_page
    known = api.form("/login/forgot", {"email": "Known@Example.org"})
    unknown = api.form("/login/forgot", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert "Check your mail" in known.get_data(as_text=True)
    [mail] = mails("password_reset")
    assert mail.to_address == user.email and mail.user_id == user.id
    assert not mails(to="nobody@example.org")


def test_the_api_answers_204_for_known_and_unknown_addresses(api, make_user):
    make_user(email="known@example.org")
    assert (
        api.post("/api/v1/auth/password-reset", {"email": "known@example.org"}).status_code == 204
    )
    assert (
        api.post("/api/v1/auth/password-reset", {"email": "ghost@example.org"}).status_code == 204
    )
    assert [m.to_address for m in mails("password_reset")] == ["known@example.org"]
    bad = api.post("/api/v1/auth/password-reset", {"email": "not an address"})
    assert bad.status_code == 422 and "email" in bad.get_json()["error"]["fields"]


def test_the_link_sets_a_new_password_once_and_ends_every_session(api, make_api, make_user):
    user = make_user(email="forgetful@example.org")
    elsewhere = make_api()
    elsewhere.login(user)
    api.form("/login/forgot", {"email": user.email})
    [mail] = mails("password_reset")
    path = link_path(mail.text_body)
    assert "60 minutes" in mail.text_body

    page = api.get(path)
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)
    mismatch = api.form(path, {"new_password": NEW_PASSWORD, "confirm_password": "other"})
    assert mismatch.status_code == 422
    weak = api.form(path, {"new_password": "short", "confirm_password": "short"})
    assert weak.status_code == 422 and "at least 10 characters" in weak.get_data(as_text=True)

    done = api.form(path, {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert elsewhere.get("/api/v1/auth/me").status_code == 401
    assert not _sign_in_works(make_api(), user.email, PASSWORD)
    assert _sign_in_works(make_api(), user.email, NEW_PASSWORD)

    # Used once: the page says so clearly, and the API refuses the token.
    again = api.get(path)
    assert again.status_code == 400
    assert "does not work" in again.get_data(as_text=True)
    token = path.rsplit("/", 1)[1]
    reused = api.post(
        "/api/v1/auth/password-reset/confirm", {"token": token, "new_password": "yet another one"}
    )
    assert reused.status_code == 422
    assert reused.get_json()["error"]["code"] == "link_invalid"
    assert reused.get_json()["error"]["fields"] == {"token": "not valid, or already used"}


def test_a_link_dies_when_the_password_changes_another_way(api, make_user):
    user = make_user(email="changer@example.org")
    api.post("/api/v1/auth/password-reset", {"email": user.email})
    token = link_path(mails("password_reset")[0].text_body).rsplit("/", 1)[1]
    api.login(user)
    changed = api.post(
        "/api/v1/auth/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 204
    refused = api.post(
        "/api/v1/auth/password-reset/confirm", {"token": token, "new_password": "third password!"}
    )
    assert refused.get_json()["error"]["code"] == "link_invalid"


def test_an_expired_link_gets_a_clear_page_not_a_500(api, make_user, monkeypatch):
    user = make_user(email="slow@example.org")
    real_time = time.time
    # The link was made 61 minutes ago (PASSWORD_RESET_MINUTES is 60).
    monkeypatch.setattr(time, "time", lambda: real_time() - 61 * 60)
    api.post("/api/v1/auth/password-reset", {"email": user.email})
    monkeypatch.setattr(time, "time", real_time)
    path = link_path(mails("password_reset")[0].text_body)
    page = api.get(path)
    assert page.status_code == 410
    assert "This link has expired" in page.get_data(as_text=True)
    assert 'href="/login/forgot"' in page.get_data(as_text=True)
    posted = api.form(path, {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert posted.status_code == 410
    api_answer = api.post(
        "/api/v1/auth/password-reset/confirm",
        {"token": path.rsplit("/", 1)[1], "new_password": NEW_PASSWORD},
    )
    assert api_answer.status_code == 422
    assert api_answer.get_json()["error"]["code"] == "link_expired"
    assert _sign_in_works(api, user.email, PASSWORD)


def test_a_forged_or_mangled_token_is_refused(api):
    assert api.get("/reset/not-a-token").status_code == 400
    answer = api.post(
        "/api/v1/auth/password-reset/confirm", {"token": "x.y.z", "new_password": NEW_PASSWORD}
    )
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "link_invalid"


def _client_at(app, address: str) -> Api:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Api(client)


def test_requests_are_limited_per_address(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_PASSWORD_RESET="2 per hour")
    with app.app_context():
        make_user(email="target@example.org")
        reset = "/api/v1/auth/password-reset"
        for n in range(2):
            client = _client_at(app, f"10.0.0.{n + 1}")
            assert client.post(reset, {"email": "target@example.org"}).status_code == 204
        # The same address from a third place: this address's count is spent.
        third = _client_at(app, "10.0.0.3")
        limited = third.post(reset, {"email": "TARGET@example.org"})
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
        assert limited.get_json()["error"]["code"] == "rate_limited"
        # An unknown address is limited the same way: the 429 tells nothing.
        for n in range(2):
            _client_at(app, f"10.0.1.{n + 1}").post(reset, {"email": "ghost@example.org"})
        assert third.post(reset, {"email": "ghost@example.org"}).status_code == 429
        # The page counts with the API.
        page = third.form("/login/forgot", {"email": "target@example.org"})
        assert page.status_code == 429 and "too fast" in page.get_data(as_text=True)
        assert len(mails("password_reset")) == 2
        # Another address from that place still goes.
        assert third.post(reset, {"email": "other@example.org"}).status_code == 204


def test_requests_from_one_client_are_limited_whatever_the_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_PASSWORD_RESET="3 per hour")
    with app.app_context():
        client = _client_at(app, "10.0.0.9")
        answers = [
            client.post("/api/v1/auth/password-reset", {"email": f"r{n}@example.org"}).status_code
            for n in range(4)
        ]
        assert answers == [204, 204, 204, 429]


def test_the_link_from_a_message_that_arrived_over_smtp_works(app, api, make_user, smtp_server):
    user = make_user(email="smtp-reader@example.org")
    api.form("/login/forgot", {"email": user.email})
    deliver_outbox(app)
    [message] = smtp_server.to(user.email)
    assert message["Subject"] == "Reset your password"
    [link] = smtp_server.links(message)
    path = link.split("://", 1)[1].split("/", 1)[1]
    done = api.form("/" + path, {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert done.status_code == 302
    assert _sign_in_works(api, user.email, NEW_PASSWORD)
