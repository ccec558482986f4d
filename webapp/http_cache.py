"""What a shared HTTP cache (Varnish, a CDN) may keep, and for how long (issue 18).

A request that carries none of Pulse's cookies is *anonymous*: the page it gets is the
one every signed-out reader gets, so it is sent ``Cache-Control: public`` with a short
``s-maxage`` (HTTP_CACHE_SECONDS: new comments and results show within it) and a
``stale-while-revalidate`` (HTTP_CACHE_STALE_SECONDS), a strong ``ETag`` (a hash of the
body, so a revalidation costs the cache a 304, not the page), and surrogate keys
(``Surrogate-Key`` and ``xkey``) naming what it shows, by which the app purges it when a
moderator removes something (``webapp.services.cache_purge``). Everything else (a
session, a remember-me or voter cookie, an unsafe method, a status other than 200, a
response that sets a cookie, a view that called :func:`mark_private`) is
``private, no-store``: never kept by a shared cache, nor by the browser.

Views name what they show with :func:`add_surrogate_keys`; every public response also
carries :data:`SITE_KEY`, so one purge empties the cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, g, request, session
from flask.wrappers import Response
from flask_login.config import COOKIE_NAME as REMEMBER_COOKIE_DEFAULT

from webapp.voters import COOKIE_NAME as VOTER_COOKIE

#: Pulse's cookies under their default names: the session (Flask's), the remember-me
#: cookie (Flask-Login's) and the anonymous voter's (webapp.voters). A request with any
#: of them may get a page made for it; other cookies (a host's analytics) change
#: nothing Pulse shows. The deployed cache (deploy/varnish/pulse.vcl) keeps the same list.
PULSE_COOKIES: tuple[str, ...] = ("session", REMEMBER_COOKIE_DEFAULT, VOTER_COOKIE)

#: Every public response: purging it empties the cache.
SITE_KEY = "site"
#: Every list of articles (home, label pages, the feed, the API's list) and every page
#: that links its neighbours: purged when an article's place in the lists changes.
ARTICLES_KEY = "articles"

SAFE_CACHEABLE_METHODS = frozenset({"GET", "HEAD"})
PRIVATE = "private, no-store"


def article_key(article_id: int) -> str:
    """The key of everything that shows article ``article_id``: its page and comments
    pages, and its API article, comments, poll and results."""
    return f"article-{article_id}"


def _session_cookie_names(config: Mapping[str, Any]) -> tuple[str, str]:
    return (
        config.get("SESSION_COOKIE_NAME") or "session",
        config.get("REMEMBER_COOKIE_NAME") or REMEMBER_COOKIE_DEFAULT,
    )


def _carries_session_in(cookies: Mapping[str, str], config: Mapping[str, Any]) -> bool:
    return any(name in cookies for name in _session_cookie_names(config))


def carries_session() -> bool:
    """Whether the request carries a session or remember-me cookie: someone who may be
    signed in, whose forms carry today's CSRF token (webapp.extensions.CSRFProtect)."""
    return _carries_session_in(request.cookies, current_app.config)


def is_anonymous_request_in(cookies: Mapping[str, str], config: Mapping[str, Any]) -> bool:
    """Whether ``cookies`` hold none of Pulse's (under the names ``config`` gives)."""
    return VOTER_COOKIE not in cookies and not _carries_session_in(cookies, config)


def is_anonymous_request() -> bool:
    """Whether the request carries none of Pulse's cookies (under their configured
    names): what it gets is what every signed-out reader gets."""
    return is_anonymous_request_in(request.cookies, current_app.config)


def add_surrogate_keys(*keys: str) -> None:
    """Name what this response shows, for purges (collected for the request)."""
    collected: list[str] | None = g.get("surrogate_keys")
    if collected is None:
        collected = g.surrogate_keys = []
    collected.extend(key for key in keys if key not in collected)


def add_article_key_for_slug(slug: str) -> None:
    """Name the article at ``slug`` (``article_key``) for a view that did not read its
    id (the API's poll and results come from the poll's cached state, without it). The
    id is looked up only if the response turns out public: a cached answer pays it once
    per ``s-maxage``, and a private one never."""
    g.surrogate_slug = slug


def _article_id_for(slug: str) -> int | None:
    """The id of the article at ``slug``; None when there is none, or when the database
    cannot say (the view answered from a cache): then the response stays private."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from webapp.extensions import db
    from webapp.models import Article

    try:
        found: int | None = db.session.scalar(select(Article.id).where(Article.slug == slug))
    except SQLAlchemyError:
        db.session.rollback()
        return None
    return found


def mark_private() -> None:
    """This response is made for whoever asked, even with no cookie: never public."""
    g.http_cache_private = True


def _cacheable(response: Response) -> bool:
    return (
        request.method in SAFE_CACHEABLE_METHODS
        and response.status_code == 200
        and not response.is_streamed
        and not g.get("http_cache_private")
        # A session written in this request is saved after this hook runs (Flask's
        # process_response), so its Set-Cookie is not in the headers yet.
        and not session.modified
        and "Set-Cookie" not in response.headers
        and is_anonymous_request()
    )


#: The request headers that make an answer conditional (RFC 9110, 13.1): only then is
#: Werkzeug's make_conditional (which parses them, and may answer 304) worth its time.
CONDITIONAL_REQUEST_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")


def apply_policy(response: Response) -> Response:
    """The response policy above, for every response but static files (webapp.hardening
    serves those with their own long lifetimes) and a view's own Cache-Control (the
    API's OpenAPI document).

    Every response pays for this hook, so it appends the headers it knows are absent
    (``Headers.add``) instead of setting them (``Headers.set`` searches the list for
    each name first)."""
    headers = response.headers
    if request.endpoint == "static" or "Cache-Control" in headers:
        return response
    # Vary: Cookie on every response, public ones too. The shipped VCL strips other
    # cookies and never caches a request with Pulse's, so there is one variant to
    # keep; a cache that does not (a CDN, a browser) still must not hand a signed-out
    # copy to a signed-in reader or the reverse, and Vary says so.
    if "Vary" in headers:
        response.vary.add("Cookie")
    else:
        headers.add("Vary", "Cookie")
    if request.blueprint == "health" or not _cacheable(response):
        headers.add("Cache-Control", PRIVATE)
        return response
    slug = g.get("surrogate_slug")
    if slug is not None:
        article_id = _article_id_for(slug)
        if article_id is None:
            headers.add("Cache-Control", PRIVATE)
            return response
        add_surrogate_keys(article_key(article_id))
    config = current_app.config
    keys = " ".join([*g.get("surrogate_keys", ()), SITE_KEY])
    headers.extend(
        [
            (
                "Cache-Control",
                f"public, max-age=0, s-maxage={config['HTTP_CACHE_SECONDS']},"
                f" stale-while-revalidate={config['HTTP_CACHE_STALE_SECONDS']}",
            ),
            ("Surrogate-Key", keys),
            ("xkey", keys),
        ]
    )
    if "ETag" not in headers:
        # Strong: the same bytes, so a byte range or a 304 from it is exact.
        response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    environ = request.environ
    if any(name in environ for name in CONDITIONAL_REQUEST_HEADERS):
        # 304 (without the body) when If-None-Match names this ETag; in place.
        response.make_conditional(request)
    return response


def init_app(app: Flask) -> None:
    app.after_request(apply_policy)
