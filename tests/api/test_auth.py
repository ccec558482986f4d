from __future__ import annotations

import pytest

from tests.conftest import PASSWORD


def test_csrf_endpoint_returns_a_token_and_sets_the_session_cookie(api):
    response = api.get("/api/v1/csrf")
    assert response.status_code == 200
    assert len(response.get_json()["csrf_token"]) > 20
    cookie = response.headers.get("Set-Cookie", "")
    assert "session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_register_creates_a_reader_signs_them_in_and_normalises_the_email(api):
    response = api.post(
        "/api/v1/auth/register",
        {
            "email": "  Ada.Lovelace@Example.ORG ",
            "password": "analytical-engine",
            "display_name": "Ada",
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["email"] == "ada.lovelace@example.org"
    assert body["role"] == "reader"
    assert body["display_name"] == "Ada"
    assert set(body) == {"id", "email", "display_name", "role"}
    me = api.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.get_json()["id"] == body["id"]


def test_register_refuses_a_taken_email_whatever_its_case(api, make_user):
    make_user(email="taken@example.org")
    response = api.post(
        "/api/v1/auth/register",
        {"email": "TAKEN@example.org", "password": "long enough pw", "display_name": "Twin"},
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "email_taken"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"email": "a@example.org", "password": "short", "display_name": "A"}, "password"),
        ({"email": "not-an-email", "password": "long enough pw", "display_name": "A"}, "email"),
        (
            {"email": "a@example.org", "password": "long enough pw", "display_name": " "},
            "display_name",
        ),
    ],
)
def test_register_refuses_invalid_values_with_field_errors(api, payload, field):
    response = api.post("/api/v1/auth/register", payload)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert field in error["fields"]
    assert error["message"]


def test_register_with_wrong_types_or_bad_json_is_400(api):
    wrong_type = api.post(
        "/api/v1/auth/register", {"email": 5, "password": "long enough pw", "display_name": "A"}
    )
    assert wrong_type.status_code == 400
    bad_json = api.client.post(
        "/api/v1/auth/register",
        data="{not json",
        headers={"X-CSRFToken": api.token, "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 400
    assert bad_json.get_json()["error"]["code"] == "malformed_request"


def test_passwords_are_stored_hashed_with_argon2(app, make_user):
    user = make_user(password="a very secret phrase")
    assert "a very secret phrase" not in user.password_hash
    assert user.password_hash.startswith("$argon2id$")


def test_login_answers_the_same_for_unknown_email_and_wrong_password(api, make_user):
    user = make_user()
    wrong_password = api.post(
        "/api/v1/auth/login", {"email": user.email, "password": "nope nope nope"}
    )
    unknown = api.post(
        "/api/v1/auth/login", {"email": "ghost@example.org", "password": "nope nope nope"}
    )
    assert wrong_password.status_code == unknown.status_code == 401
    assert wrong_password.get_json() == unknown.get_json()


def test_login_me_and_logout(api, make_user):
    user = make_user(role="editor")
    response = api.login(user)
    assert response.get_json()["role"] == "editor"
    assert api.get("/api/v1/auth/me").get_json()["email"] == user.email
    assert api.post("/api/v1/auth/logout").status_code == 204
    me = api.get("/api/v1/auth/me")
    assert me.status_code == 401
    assert me.get_json()["error"]["code"] == "unauthorized"


def test_logout_when_signed_out_is_401(api):
    assert api.post("/api/v1/auth/logout").status_code == 401


def test_unsafe_requests_without_a_csrf_token_are_refused(api, make_user):
    user = make_user()
    response = api.post(
        "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, csrf=False
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "csrf_failed"
    forged = api.post(
        "/api/v1/auth/login",
        {"email": user.email, "password": PASSWORD},
        csrf=False,
        headers={"X-CSRFToken": "forged-token"},
    )
    assert forged.status_code == 403
    assert forged.get_json()["error"]["code"] == "csrf_failed"


def test_login_is_rate_limited_with_retry_after(make_app, make_user):
    from tests.conftest import Api

    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    with app.app_context():
        api = Api(app.test_client())
        statuses = [
            api.post(
                "/api/v1/auth/login", {"email": "x@example.org", "password": "wrong pass 1"}
            ).status_code
            for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        limited = api.post("/api/v1/auth/login", {"email": "x@example.org", "password": "pw"})
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) > 0
        assert limited.get_json()["error"]["code"] == "rate_limited"


def test_registration_is_rate_limited(make_app):
    from tests.conftest import Api

    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_REGISTER="2 per minute")
    with app.app_context():
        # A browser each (registering signs in, and a signed-in browser may not register
        # again), all from one address, which is what the limit counts.
        codes = [
            Api(app.test_client())
            .post(
                "/api/v1/auth/register",
                {
                    "email": f"r{i}@example.org",
                    "password": "long enough pw",
                    "display_name": f"R{i}",
                },
            )
            .status_code
            for i in range(3)
        ]
        assert codes == [201, 201, 429]


@pytest.mark.parametrize("user_id", ["not a number", "0", str(2**40)])
def test_a_session_naming_no_possible_user_is_signed_out(api, make_user, user_id):
    make_user()
    with api.client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
    assert api.get("/api/v1/auth/me").status_code == 401


def test_a_session_names_its_user_until_that_user_is_gone(api, make_user, db):
    user = make_user()
    api.login(user)
    assert api.get("/api/v1/auth/me").get_json()["email"] == user.email
    db.session.delete(user)
    db.session.commit()
    assert api.get("/api/v1/auth/me").status_code == 401
