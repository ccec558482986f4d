"""Redirects stay on this site: ``?next=``, the Referer, and what a browser makes of them.

Every Location the app sends is checked the way a browser would read it (tabs and
newlines dropped, backslashes read as slashes, percent-encoding undone) and must
still point at this site.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from tests.conftest import PASSWORD, Api
from webapp.errors import InvalidInput
from webapp.redirects import safe_redirect_target

EVIL = "evil.example"

#: The classic open-redirect payloads (after the one decoding a query string gets).
OPEN_REDIRECT_PAYLOADS = [
    f"//{EVIL}",
    f"///{EVIL}",
    f"////{EVIL}/",
    f"/\\{EVIL}",
    f"\\\\{EVIL}",
    f"\\/{EVIL}",
    f"/\\/{EVIL}",
    f"/\t/{EVIL}",
    f"/\n/{EVIL}",
    f"/\r/{EVIL}",
    f"/\r\n/{EVIL}",
    f"\t//{EVIL}",
    f" //{EVIL}",
    f"/%09/{EVIL}",
    f"/%0a/{EVIL}",
    f"/%0d/{EVIL}",
    f"/%2F%2F{EVIL}",
    f"/%2f%2f{EVIL}",
    f"/%5C{EVIL}",
    f"/%5c%5c{EVIL}",
    f"%2F%2F{EVIL}",
    f"/%252F%252F{EVIL}",
    f"/%25252F%25252F{EVIL}",
    f"https://{EVIL}",
    f"http://{EVIL}/",
    f"HTTPS://{EVIL}",
    f"https:{EVIL}",
    f"https:/{EVIL}",
    f"https:\\\\{EVIL}",
    f"//{EVIL}@localhost",
    f"http://localhost@{EVIL}",
    f"//localhost@{EVIL}",
    f"//{EVIL}%2F..",
    f"{EVIL}",
    f"@{EVIL}",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "/javascript:alert(1)//%0a",
    "data:text/html,<script>alert(1)</script>",
    f"/\u202e//{EVIL}",
    f"/\u200b/{EVIL}",
    f"/\u2028/{EVIL}",
    f"/\x7f/{EVIL}",
    f"/%E2%80%AE//{EVIL}",
    f"／／{EVIL}",
    "/%0D%0ASet-Cookie:%20stolen=1",
    "/\r\nSet-Cookie: stolen=1",
]

#: Refused by the helper; a request carrying one is refused (400) before any view.
UNSTORABLE_PAYLOADS = [f"/\x00/{EVIL}", f"//{EVIL}\x00"]

#: Same-site paths that must keep working.
SAFE_TARGETS = [
    "/",
    "/labels/world",
    "/articles/a-story?page=2",
    "/articles/a-story#poll",
    "/search?q=peace+talks&after=abc%3D%3D",
    "/editor/overview?sort=title&dir=asc",
]


def browser_reading(location: str) -> str:
    """What a browser would go to from this Location, seen from http://localhost/login."""
    for _ in range(4):
        location = unquote(location)
    cleaned = "".join(char for char in location if char not in "\t\r\n").replace("\\", "/")
    return urljoin("http://localhost/login", cleaned.strip())


def assert_stays_on_site(response: Any) -> str:
    assert response.status_code in (301, 302, 303, 307, 308), response.status_code
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//"), location
    assert not any(char in location for char in "\\\t\r\n"), repr(location)
    assert urlsplit(browser_reading(location)).netloc == "localhost", location
    return location


def _payload_id(payload: str) -> str:
    return repr(payload)[1:-1][:40]


# --- the helper itself ------------------------------------------------------------------


@pytest.mark.parametrize("payload", OPEN_REDIRECT_PAYLOADS + UNSTORABLE_PAYLOADS, ids=_payload_id)
def test_safe_redirect_target_refuses_every_payload(payload):
    assert safe_redirect_target(payload) is None


@pytest.mark.parametrize("target", SAFE_TARGETS)
def test_safe_redirect_target_keeps_same_site_paths(target):
    assert safe_redirect_target(target) == target


@pytest.mark.parametrize("empty", [None, ""])
def test_safe_redirect_target_has_nothing_for_nothing(empty):
    assert safe_redirect_target(empty) is None


# --- ?next= on the sign-in and registration pages ------------------------------------------


@pytest.fixture
def signed_in(api, make_user):
    user = make_user()
    api.login(user)
    return api


def test_issue_example_tab_in_next_does_not_leave_the_site(signed_in):
    response = signed_in.client.get(f"/login?next=/%09/{EVIL}")
    assert assert_stays_on_site(response) == "/"


def test_open_redirect_payloads_never_leave_the_site(signed_in, make_api, make_user):
    """The whole list on every entry point."""
    user = make_user()
    visitor = make_api()
    for number, payload in enumerate(OPEN_REDIRECT_PAYLOADS):
        # Signed in, GET /login?next= forwards at once.
        response = signed_in.client.get("/login", query_string={"next": payload})
        assert assert_stays_on_site(response) == "/", payload
        # Signing in through the form.
        response = visitor.form(
            "/login", {"email": user.email, "password": PASSWORD, "next": payload}
        )
        assert assert_stays_on_site(response) == "/", payload
        visitor.form("/logout", {})
        # Creating an account through the form.
        newcomer = make_api()
        response = newcomer.form(
            "/register",
            {
                "display_name": f"Newcomer {number}",
                "email": f"newcomer{number}@example.org",
                "password": "long enough pw",
                "next": payload,
            },
        )
        assert assert_stays_on_site(response) == "/", payload


@pytest.mark.parametrize("payload", OPEN_REDIRECT_PAYLOADS[:12], ids=_payload_id)
def test_sign_in_and_register_pages_do_not_carry_an_unsafe_next(client, payload):
    """The forms never even hold a foreign target to post back."""
    for path in ("/login", "/register"):
        response = client.get(path, query_string={"next": payload})
        assert response.status_code == 200
        assert '<input id="next" name="next" type="hidden" value="">' in response.get_data(
            as_text=True
        )


@pytest.mark.parametrize("target", SAFE_TARGETS)
def test_same_site_next_is_followed(signed_in, target):
    response = signed_in.client.get("/login", query_string={"next": target})
    assert assert_stays_on_site(response) == target


def test_next_from_a_sign_in_link_survives_the_round_trip(api, make_user):
    user = make_user()
    page = api.get("/login", query_string={"next": "/labels/world?page=2"})
    assert 'value="/labels/world?page=2"' in page.get_data(as_text=True)
    response = api.form(
        "/login", {"email": user.email, "password": PASSWORD, "next": "/labels/world?page=2"}
    )
    assert assert_stays_on_site(response) == "/labels/world?page=2"


@pytest.mark.parametrize(
    "raw",
    [
        "/login?next=/%0d%0aSet-Cookie:%20stolen=1",
        "/login?next=/%0aLocation:%20https://evil.example",
        "/login?next=%0d%0a//evil.example",
        "/login?next=/a%0d%0a%0d%0a<script>alert(1)</script>",
    ],
)
def test_cr_or_lf_in_next_is_no_500_and_no_header(signed_in, make_api, raw):
    response = signed_in.client.get(raw)
    assert assert_stays_on_site(response) == "/"
    assert "stolen" not in str(response.headers)
    assert not any("stolen" in cookie for cookie in response.headers.getlist("Set-Cookie"))
    # Signed out, the page simply renders.
    assert make_api().get(raw).status_code == 200


# --- the Referer after a failed page request ----------------------------------------------


@pytest.fixture
def failing_app(make_app):
    """An app with a page that always fails a rule (as a failed form or query does)."""
    application = make_app()

    def refuse():  # type: ignore[no-untyped-def]
        raise InvalidInput("That did not work.")

    application.add_url_rule("/always-fails", "always_fails", refuse, methods=["GET", "POST"])
    return application


@pytest.mark.parametrize(
    "referrer",
    [
        f"https://{EVIL}/phish",
        f"http://{EVIL}/",
        f"//{EVIL}/",
        f"http://localhost.{EVIL}/",
        f"http://localhost@{EVIL}/",
        "https://localhost/x",  # another scheme is another origin
        f"http://localhost//{EVIL}/",
        f"http://localhost/\\{EVIL}",
        f"http://localhost/%2F%2F{EVIL}",
        f"http://localhost/%09/{EVIL}",
        "javascript:alert(1)",
        "not a url at all",
        "http://[::1",
    ],
)
def test_cross_site_referrer_never_becomes_the_location(failing_app, referrer):
    visitor = Api(failing_app.test_client())
    response = visitor.get("/always-fails", headers={"Referer": referrer})
    assert assert_stays_on_site(response) == "/", referrer
    response = visitor.form("/always-fails", {}, headers={"Referer": referrer})
    assert assert_stays_on_site(response) == "/", referrer


def test_same_site_referrer_is_followed_back(failing_app):
    visitor = Api(failing_app.test_client())
    response = visitor.form(
        "/always-fails", {}, headers={"Referer": "http://localhost/labels/world?page=2"}
    )
    assert assert_stays_on_site(response) == "/labels/world?page=2"
    # The message the rule gave is kept for the page it lands on.
    page = visitor.get("/labels/world?page=2").get_data(as_text=True)
    assert "That did not work." in page


def test_public_url_counts_as_this_site_behind_a_proxy(make_app):
    """Behind a proxy the app may see another Host than the browser used."""
    application = make_app(PUBLIC_URL="https://news.example")

    def refuse():  # type: ignore[no-untyped-def]
        raise InvalidInput("That did not work.")

    application.add_url_rule("/always-fails", "always_fails", refuse, methods=["POST"])
    visitor = Api(application.test_client())
    response = visitor.form(
        "/always-fails", {}, headers={"Referer": "https://news.example/articles/a-story"}
    )
    assert assert_stays_on_site(response) == "/articles/a-story"


def test_a_page_that_fails_on_load_does_not_redirect_to_itself(failing_app):
    client = failing_app.test_client()
    response = client.get("/always-fails", headers={"Referer": "http://localhost/always-fails"})
    assert assert_stays_on_site(response) == "/"


def test_real_page_failure_with_a_foreign_referrer_stays_on_site(client, make_article):
    """A page whose query is refused (a cursor that is not ours) used to go to the Referer."""
    article = make_article()
    response = client.get(
        f"/articles/{article.slug}?after=not-a-cursor", headers={"Referer": f"https://{EVIL}/"}
    )
    assert response.status_code < 500
    if "Location" in response.headers:  # a refused cursor redirects back with a message
        assert_stays_on_site(response)


# --- the moderation queue's own "next" ---------------------------------------------------------


def test_moderation_decision_with_a_header_injecting_next_stays_in_the_queue(
    make_api, make_user, world_factory
):
    world = world_factory()
    moderator = make_api()
    moderator.login(make_user("moderator"))
    for target in (
        "/moderation\r\nSet-Cookie: stolen=1",
        f"/moderation/../\\{EVIL}",
        f"/moderation%0d%0a//{EVIL}",
    ):
        response = moderator.form(
            f"/moderation/comments/{world.comment.id}", {"action": "approve", "next": target}
        )
        location = assert_stays_on_site(response)
        assert location.startswith("/moderation/queue/pending"), location
    response = moderator.form(
        f"/moderation/comments/{world.comment.id}",
        {"action": "approve", "next": "/moderation/queue/reported"},
    )
    assert assert_stays_on_site(response) == "/moderation/queue/reported"
