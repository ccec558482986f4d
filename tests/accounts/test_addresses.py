"""Address checks, the "only verified readers may comment" setting, and address
changes confirmed at the new address with a notice to the old one."""

from __future__ import annotations

from tests.accounts.conftest import link_path, mails
from tests.conftest import PASSWORD


def _register(api, email="new@example.org"):
    response = api.post(
        "/api/v1/auth/register",
        {"email": email, "password": PASSWORD, "display_name": "Newcomer"},
    )
    assert response.status_code == 201
    return response.get_json()


def _only_verified(make_user, api_factory, on: bool = True) -> None:
    moderator = api_factory()
    moderator.login(make_user("moderator"))
    page = moderator.get("/moderation/settings").get_data(as_text=True)
    assert 'name="verified_commenters_only"' in page
    answer = moderator.patch("/api/v1/moderation/settings", {"verified_commenters_only": on})
    assert answer.status_code == 200, answer.get_json()


def test_registering_mails_a_link_that_confirms_the_address(api, db):
    from webapp.models import User

    body = _register(api)
    [mail] = mails("verify_address")
    assert mail.to_address == "new@example.org" and mail.user_id == body["id"]
    assert db.session.get(User, body["id"]).email_verified_at is None
    path = link_path(mail.text_body)
    confirmed = api.get(path)
    assert confirmed.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, body["id"]).email_verified_at is not None
    # Following it again only says so again.
    assert api.get(path).status_code == 302
    assert api.post("/api/v1/auth/verify-email").get_json()["error"]["code"] == "already_verified"


def test_only_verified_readers_may_comment_when_the_site_says_so(
    api, make_api, make_user, make_article
):
    article = make_article()
    _register(api)
    _only_verified(make_user, make_api)
    path = f"/api/v1/articles/{article.slug}/comments"
    refused = api.post(path, {"body": "A first thought on this story."})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "email_unverified"

    # The page says why, with a button that mails the link.
    api.form(f"/articles/{article.slug}/comments", {"body": "A first thought on this story."})
    page = api.get(f"/articles/{article.slug}").get_data(as_text=True)
    # The refused form comes back with the text, and the button beside it.
    assert "A first thought on this story.</textarea>" in page
    assert 'action="/account/verify"' in page and "Send me the link" in page
    assert "Only readers who have confirmed their email address may comment" in page
    sent = api.form("/account/verify", {"next": f"/articles/{article.slug}"})
    assert sent.status_code == 302 and sent.headers["Location"].endswith(
        f"/articles/{article.slug}"
    )
    assert len(mails("verify_address")) == 2

    # Asked for by the API too; the newest link works.
    assert api.post("/api/v1/auth/verify-email").status_code == 204
    token = link_path(mails("verify_address")[-1].text_body).rsplit("/", 1)[1]
    assert api.post("/api/v1/auth/verify-email/confirm", {"token": token}).status_code == 204
    assert api.post(path, {"body": "A first thought on this story."}).status_code == 201


def test_staff_and_verified_readers_are_not_held_and_the_setting_starts_off(
    api, make_api, make_user, make_article
):
    article = make_article()
    path = f"/api/v1/articles/{article.slug}/comments"
    _register(api)
    # Off by default: an unconfirmed reader comments.
    assert api.post(path, {"body": "Posted before the setting."}).status_code == 201
    _only_verified(make_user, make_api)
    moderator = make_api()
    moderator.login(make_user("moderator"))
    assert moderator.post(path, {"body": "Staff are never held by it."}).status_code == 201


def test_changing_the_address_waits_for_the_new_address_and_tells_the_old(
    api, make_api, make_user, db
):
    from webapp.models import User

    user = make_user(email="old@example.org")
    api.login(user)
    wrong = api.post("/api/v1/auth/me/email", {"email": "new@example.org", "password": "nope"})
    assert wrong.status_code == 403 and wrong.get_json()["error"]["code"] == "wrong_password"
    taken_by = make_user(email="taken@example.org")
    taken = api.post("/api/v1/auth/me/email", {"email": taken_by.email, "password": PASSWORD})
    assert taken.status_code == 409
    assert not mails()

    asked = api.post("/api/v1/auth/me/email", {"email": "New@Example.org", "password": PASSWORD})
    assert asked.status_code == 204
    [confirm] = mails("change_address")
    [notice] = mails("address_change_notice")
    assert confirm.to_address == "new@example.org"
    assert notice.to_address == "old@example.org" and "new@example.org" in notice.text_body
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "old@example.org"  # not until confirmed

    path = link_path(confirm.text_body)
    # The link works without signing in (opened on another device).
    done = make_api().get(path)
    assert done.status_code == 302
    db.session.expire_all()
    changed = db.session.get(User, user.id)
    assert changed.email == "new@example.org" and changed.email_verified_at is not None
    last = mails("address_change_notice", to="old@example.org")
    assert len(last) == 2 and "new@example.org" in last[-1].text_body
    assert api.get("/api/v1/auth/me").get_json()["email"] == "new@example.org"

    # Used: the same link is refused, clearly.
    again = api.get(path)
    assert again.status_code == 400 and "does not work" in again.get_data(as_text=True)
    token = path.rsplit("/", 1)[1]
    reused = api.post("/api/v1/auth/me/email/confirm", {"token": token})
    assert reused.get_json()["error"]["code"] == "link_invalid"


def test_an_address_taken_meanwhile_is_not_moved_to(api, make_user, db):
    from webapp.models import User

    user = make_user(email="mover@example.org")
    api.login(user)
    api.post("/api/v1/auth/me/email", {"email": "wanted@example.org", "password": PASSWORD})
    make_user(email="wanted@example.org")
    token = link_path(mails("change_address")[0].text_body).rsplit("/", 1)[1]
    answer = api.post("/api/v1/auth/me/email/confirm", {"token": token})
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "email_taken"
    page = api.get(f"/email/{token}")
    assert page.status_code == 409 and "cannot change" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "mover@example.org"


def test_the_account_page_changes_name_and_address(api, make_user):
    user = make_user(email="pager@example.org", name="Page Reader")
    make_user(name="Someone Else")
    api.login(user)
    page = api.get("/account").get_data(as_text=True)
    for heading in ("Display name", "Email address", "Download my data", "Delete my account"):
        assert heading in page
    assert "Send me the link again" in page
    clash = api.form("/account/name", {"name-display_name": "Someone  Else"})
    assert clash.status_code == 422
    staff = api.form("/account/name", {"name-display_name": "Site Moderator"})
    assert staff.status_code == 422
    renamed = api.form("/account/name", {"name-display_name": "Paige"})
    assert renamed.status_code == 302
    assert api.get("/api/v1/auth/me").get_json()["display_name"] == "Paige"
    assert (
        api.patch("/api/v1/auth/me", {"display_name": "Paige Two"}).get_json()["display_name"]
        == "Paige Two"
    )
    moved = api.form(
        "/account/email", {"email-email": "paige@example.org", "email-password": PASSWORD}
    )
    assert moved.status_code == 302
    assert [m.to_address for m in mails("change_address")] == ["paige@example.org"]
    wrong = api.form("/account/email", {"email-email": "x@example.org", "email-password": "no"})
    assert wrong.status_code == 403 and "not your current password" in wrong.get_data(as_text=True)
