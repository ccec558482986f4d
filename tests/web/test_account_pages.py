"""The account page (password change, "sign out everywhere"), logging out for good, and
the register page for someone already signed in: all plain forms, no script needed."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD, Api

NEW_PASSWORD = "a brand new passphrase"
ME = "/api/v1/auth/me"


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def copy_of(api: Api, make_api) -> Api:  # type: ignore[no-untyped-def]
    """Another browser holding a saved copy of ``api``'s session cookie."""
    other = make_api()
    other.client.set_cookie("session", api.client.get_cookie("session").value)
    return other


def signed_in_as(api: Api) -> int | None:
    response = api.get(ME)
    return response.get_json()["id"] if response.status_code == 200 else None


def change_form(api: Api, current: str = PASSWORD, new: str = NEW_PASSWORD, again=None):  # type: ignore[no-untyped-def]
    return api.form(
        "/account",
        {
            "current_password": current,
            "new_password": new,
            "confirm_password": new if again is None else again,
        },
    )


# --- the account page ------------------------------------------------------------------


def test_the_account_page_needs_a_sign_in(api):
    response = api.get("/account")
    assert response.status_code == 401
    assert 'href="/login?next=/account"' in text(response)


def test_the_navigation_links_to_the_account_page_only_when_signed_in(api, make_user):
    assert 'href="/account"' not in text(api.get("/"))
    api.login(make_user())
    assert 'href="/account">Your account</a>' in text(api.get("/"))


def test_the_account_page_is_plain_forms_with_labelled_fields(api, make_user):
    user = make_user(name="Ada")
    api.login(user)
    response = api.get("/account")
    assert response.status_code == 200
    page = text(response)
    assert "Ada" in page and user.email in page
    forms = re.findall(r'<form method="post" action="([^"]+)"', page)
    assert "/account" in forms and "/account/sign-out-everywhere" in forms
    assert page.count('name="csrf_token"') >= 3  # sign-out in the nav and both forms
    for name in ("current_password", "new_password", "confirm_password"):
        assert re.search(rf'<input[^>]*name="{name}"[^>]*type="password"', page) or re.search(
            rf'<input[^>]*type="password"[^>]*name="{name}"', page
        ), name
        assert f'<label for="{name}">' in page, name
    assert "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]


def test_changing_the_password_on_the_page_keeps_this_browser_and_ends_the_others(
    api, make_api, make_user
):
    user = make_user()
    api.login(user)
    other = make_api()
    other.login(user)
    response = change_form(api)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    page = text(api.get("/account"))
    assert "Your password is changed" in page
    assert signed_in_as(api) == user.id
    assert signed_in_as(other) is None
    wrong = make_api().form("/login", {"email": user.email, "password": PASSWORD})
    assert wrong.status_code == 401
    assert (
        make_api().form("/login", {"email": user.email, "password": NEW_PASSWORD}).status_code
        == 302
    )


def test_a_wrong_current_password_is_shown_in_the_form_and_nothing_is_echoed(
    api, make_api, make_user
):
    user = make_user()
    api.login(user)
    other = make_api()
    other.login(user)
    response = change_form(api, current="not-my-password-123")
    assert response.status_code == 403
    page = text(response)
    assert "That is not your current password." in page
    assert "not-my-password-123" not in page and NEW_PASSWORD not in page
    assert signed_in_as(other) == user.id  # nothing changed
    assert make_api().form("/login", {"email": user.email, "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize(
    "new, again, message",
    [
        ("short", None, "at least 10 characters"),
        (NEW_PASSWORD, "a different passphrase", "does not match the new password"),
        ("", None, "This field is required."),
    ],
)
def test_a_bad_new_password_is_422_with_the_reason_and_nothing_is_echoed(
    api, make_api, make_user, new, again, message
):
    user = make_user()
    api.login(user)
    response = change_form(api, new=new, again=again)
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert PASSWORD not in page and (not new or new not in page)
    assert 'aria-invalid="true"' in page
    assert make_api().form("/login", {"email": user.email, "password": PASSWORD}).status_code == 302


def test_the_page_checks_its_csrf_token(api, make_user):
    api.login(make_user())
    response = api.client.post(
        "/account",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 403


def test_sign_out_everywhere_ends_every_session_from_the_page(api, make_api, make_user):
    user = make_user()
    api.login(user)
    other = make_api()
    other.login(user)
    response = api.form("/account/sign-out-everywhere", {})
    assert response.status_code == 302
    assert "signed out on every device" in text(api.get("/"))
    assert signed_in_as(api) is None
    assert signed_in_as(other) is None


# --- logging out for good ------------------------------------------------------------------


def test_the_sign_out_button_ends_a_saved_copy_of_the_session(api, make_api, make_user):
    user = make_user()
    api.form("/login", {"email": user.email, "password": PASSWORD})
    saved = copy_of(api, make_api)
    assert signed_in_as(saved) == user.id
    assert api.form("/logout", {}).status_code == 302
    assert signed_in_as(saved) is None
    assert "Signed in as" not in text(saved.get("/"))


# --- registering while signed in -------------------------------------------------------------


def test_the_register_page_says_who_is_signed_in_and_offers_to_sign_out(api, make_user):
    user = make_user(name="Ada")
    api.login(user)
    response = api.get("/register?next=/labels/world")
    assert response.status_code == 200
    page = text(response)
    assert "You are already signed in" in page
    assert "<strong>Ada</strong>" in page and user.email in page
    assert 'name="password"' not in page  # no registration form to switch accounts with
    assert '<form method="post" action="/logout">' in page
    assert 'name="then" value="register"' in page
    assert 'name="next" value="/labels/world"' in page
    assert "Sign out and create a new account" in page


def test_posting_the_register_form_while_signed_in_is_refused(api, make_api, make_user):
    user = make_user(name="Ada")
    api.login(user)
    response = api.form(
        "/register",
        {"display_name": "Bea", "email": "bea@example.org", "password": NEW_PASSWORD},
    )
    assert response.status_code == 409
    assert "Sign out first to create another account." in text(response)
    assert signed_in_as(api) == user.id
    attempt = make_api().form("/login", {"email": "bea@example.org", "password": NEW_PASSWORD})
    assert attempt.status_code == 401  # no account was made


def test_sign_out_and_create_a_new_account(api, make_api, make_user):
    user = make_user()
    api.login(user)
    saved = copy_of(api, make_api)
    response = api.form("/logout", {"then": "register", "next": "/labels/world"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/register?next=/labels/world"
    assert signed_in_as(saved) is None
    page = text(api.get(response.headers["Location"]))
    assert 'name="password"' in page and 'value="/labels/world"' in page
    created = api.form(
        "/register",
        {
            "display_name": "Bea",
            "email": "bea@example.org",
            "password": NEW_PASSWORD,
            "next": "/labels/world",
        },
    )
    assert created.status_code == 302 and created.headers["Location"] == "/labels/world"
    assert api.get(ME).get_json()["email"] == "bea@example.org"


def test_signing_out_to_register_never_leads_to_another_site(api, make_user):
    api.login(make_user())
    response = api.form("/logout", {"then": "register", "next": "//evil.example/"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/register")
    created = api.form(
        "/register",
        {
            "display_name": "Bea",
            "email": "bea@example.org",
            "password": NEW_PASSWORD,
            "next": "//evil.example/",
        },
    )
    assert created.status_code == 302 and created.headers["Location"] == "/"
