"""Every unsafe route refuses a request without a valid CSRF token.

Routes come from ``app.url_map``, so a new POST/PATCH/PUT/DELETE route is covered
the day it is added. Each is tried signed out and signed in (as an admin, whom
nothing else would stop) with no token, a made-up token, and a genuine token that
belongs to another session: the attacker's own. All are 403; under /api the body
is the contract's error with code ``csrf_failed``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from tests.security.routes import (
    ENDS_SESSIONS,
    UNSAFE,
    World,
    app_routes,
    request_bodies,
    route_url,
    visitor,
)


def _tokens(app: Flask) -> dict[str, str | None]:
    other_session = visitor(app, None)
    return {
        "no token": None,
        "a made-up token": "IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAi.Z0000.bad",
        "another session's token": other_session.token,
    }


#: Routes exempt on purpose. RFC 8058's one-click unsubscribe is a POST from the mail
#: client, with no session or token; the signed token in its URL is the proof, and it
#: can only turn one kind of mail off (webapp/notifications/routes.py; a forged token
#: is refused in tests/notifications/test_unsubscribe.py).
DELIBERATELY_EXEMPT = {("notifications.unsubscribe_now", "POST")}


def test_every_unsafe_route_refuses_a_missing_or_wrong_csrf_token(
    app: Flask, make_user: Callable[..., Any], world_factory: Callable[[], World]
) -> None:
    world = world_factory()
    unsafe = {
        key: args
        for key, args in app_routes(app).items()
        if key[1] in UNSAFE and key not in DELIBERATELY_EXEMPT
    }
    assert len(unsafe) > 30  # the url_map was read
    people = {"signed out": visitor(app, None), "admin": visitor(app, make_user("admin"))}
    tokens = _tokens(app)
    problems = []
    for (endpoint, method), arguments in sorted(unsafe.items()):
        with app.test_request_context():
            url = route_url(endpoint, arguments, world)
        body = request_bodies(world).get((endpoint, method))
        for who, person in people.items():
            for label, token in tokens.items():
                headers = {"X-CSRFToken": token} if token else {}
                client = person.client(app)
                if endpoint.startswith("api."):
                    response = client.open(url, method=method, json=body, headers=headers)
                else:
                    # A form post carries the token as a field, not a header.
                    data = {**(body or {}), **({"csrf_token": token} if token else {})}
                    response = client.open(url, method=method, data=data)
                where = f"{method} {url} ({endpoint}) {who} with {label}"
                if response.status_code != 403:
                    problems.append(f"{where}: {response.status_code}")
                elif url.startswith("/api/"):
                    error = (response.get_json(silent=True) or {}).get("error", {})
                    if error.get("code") != "csrf_failed":
                        problems.append(f"{where}: body {response.get_data(as_text=True)[:200]}")
                elif "Security check failed" not in response.get_data(as_text=True):
                    problems.append(f"{where}: not the CSRF error page")
    assert not problems, "\n".join(problems)


def test_the_same_requests_with_the_right_token_get_past_the_check(
    app: Flask, make_user: Callable[..., Any], world_factory: Callable[[], World]
) -> None:
    """The refusals above are about the token: with it, no route answers csrf_failed."""
    world = world_factory()
    admin = visitor(app, make_user("admin"))
    for (endpoint, method), arguments in sorted(app_routes(app).items()):
        if method not in UNSAFE or endpoint in {"api.logout", "auth.logout"}:
            continue
        with app.test_request_context():
            url = route_url(endpoint, arguments, world)
        body = request_bodies(world).get((endpoint, method))
        client = admin.client(app)
        headers = {"X-CSRFToken": admin.token}
        if endpoint.startswith("api."):
            response = client.open(url, method=method, json=body, headers=headers)
            error = (response.get_json(silent=True) or {}).get("error", {})
            assert error.get("code") != "csrf_failed", (method, url)
        else:
            data = {**(body or {}), "csrf_token": admin.token}
            response = client.open(url, method=method, data=data)
            assert "Security check failed" not in response.get_data(as_text=True), (method, url)
        if (endpoint, method) in ENDS_SESSIONS:
            admin = visitor(app, admin.user)  # its session ended: sign in again
        world = world_factory()


def test_a_json_request_reads_its_token_from_either_header_and_nowhere_else(
    app: Flask, make_article: Callable[..., Any]
) -> None:
    article = make_article(poll={"allow_anonymous": True})
    url = f"/api/v1/articles/{article.slug}/poll/votes"
    person = visitor(app, None)
    option = article.poll.options[0].id

    def vote(**kwargs: Any) -> Any:
        return person.client(app).post(url, **kwargs)

    for elsewhere in (
        {"json": {"option_id": option, "csrf_token": person.token}},
        {"json": {"option_id": option}, "query_string": {"csrf_token": person.token}},
    ):
        refused = vote(**elsewhere)
        assert refused.status_code == 403, elsewhere
        assert refused.get_json()["error"]["code"] == "csrf_failed"
    for header in ("X-CSRFToken", "X-CSRF-Token"):
        answer = vote(json={"option_id": option}, headers={header: person.token})
        assert answer.status_code in (200, 201), header
