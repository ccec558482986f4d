"""The article page every signed-out reader shares, answered before Flask once this
worker has sent it (issue 18: breaking-news reads without an HTTP cache in front).

``webapp.public.routes`` renders the shared page (a known sort and tab, no Pulse
cookie) once and keeps it in this worker (``caching.THREADS``) under its key: the
article's state (one narrow SELECT on every request), its neighbours, the host, path
and variant. The first time a kept page goes out through Flask, :class:`SharedArticlePages`
notes the headers every hook gave it (security headers, ``Cache-Control: public``,
surrogate keys, ``ETag``, ``Vary``). From then on, as long as the page is kept, a
request for it is answered here: the same state read decides the key, and the same
bytes go out with the same headers, a request id of its own and its line in the
request log. Nothing a signed-out reader gets differs from Flask's answer.

What still goes through Flask: any request with Pulse's cookies (someone who may be
signed in, or has voted), a conditional request (Flask answers the 304), any query
but the shared pages' own, a slug that is not one, a page not kept or kept but not
yet sent, and every request when the state cannot be read (Flask's error page says
why). Removing a comment, editing or unpublishing an article changes the state, so the
next request no longer finds the page, exactly as on Flask's path.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from webapp import caching
from webapp.hardening import log_request_line, request_id_for
from webapp.http_cache import CONDITIONAL_REQUEST_HEADERS, is_anonymous_request_in
from webapp.integrity_runner import ensure_started
from webapp.services import articles
from webapp.services import comments as comment_rules
from webapp.services.articles.rules import MAX_SLUG, SLUG_PATTERN

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from webapp.services.articles.reading import PageState

ARTICLE_PREFIX = "/articles/"

#: The query arguments a shared page may have (the thread's order and the Featured
#: tab); any other (a comments page's ``after``) is rendered for its request.
SHARED_PAGE_ARGS = frozenset({"sort", "featured"})

#: Where this middleware hands Flask's path the key it already read (or NO_PAGE), so
#: a page not kept costs one state read, not two; and where Flask's path leaves the
#: :class:`SharedPage` it sent. WSGI environ keys with a dot are the server's and the
#: middleware's (PEP 3333), never a request header's.
KEY_ENVIRON = "pulse.shared_page_key"
PAGE_ENVIRON = "pulse.shared_page"
NO_PAGE = "none"

#: Headers of the first answer that belong to that request only.
PER_REQUEST_HEADERS = frozenset({"x-request-id", "date", "set-cookie"})


@dataclass(frozen=True)
class SharedPageKey:
    """What decides a shared page: the article's state as readers see it now, its
    neighbours, and the host, path and variant (sort, Featured) asked for."""

    state: PageState
    links: Any
    host: str
    path: str
    variant: tuple[str, bool]


@dataclass
class SharedPage:
    """A kept shared page: its bytes and ETag, and once it has gone out through Flask,
    the headers it went out with (without the per-request ones)."""

    body: bytes
    etag: str
    headers: list[tuple[str, str]] | None = None


def shared_page_variant(args: Mapping[str, str]) -> tuple[str, bool] | None:
    """Which of the few shared pages of an article the query asks for (a known sort,
    Featured or not), so made-up arguments cannot fill the cache; None: not one."""
    if not SHARED_PAGE_ARGS.issuperset(args):
        return None
    sort = args.get("sort", "oldest")
    featured = args.get("featured")
    if sort not in comment_rules.SORTS or featured not in (None, "1"):
        return None
    return sort, featured == "1"


def shared_page_key(
    slug: str, host: str, path: str, variant: tuple[str, bool]
) -> SharedPageKey | None:
    """The key of the shared page of the article at ``slug``, as readers see it now:
    None when they do not (unpublished, scheduled, no such article). One SELECT of the
    article's state; its neighbours come from this worker's cache."""
    state = articles.public_page_state(slug)
    if state is None:
        return None
    # Publishing an article next to it shows at once, as on a page made for the request.
    links = articles.neighbours_at(state.article_id, state.published_at) if state.listed else None
    return SharedPageKey(state, links, host, path, variant)


def _is_public(headers: Iterable[tuple[str, str]]) -> bool:
    """Whether Flask's hooks sent the answer as a shared cache may keep it: public, and
    varying only with the cookies this middleware checks."""
    public = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == "cache-control":
            public = value.startswith("public")
        elif lowered == "set-cookie" or (lowered == "vary" and value.lower() != "cookie"):
            return False
    return public


class SharedArticlePages:
    """WSGI middleware, innermost (inside the host check and ProxyFix): kept shared
    article pages answered before Flask builds a request."""

    def __init__(self, app: WSGIApplication, flask_app: Flask) -> None:
        self.app = app
        self.flask_app = flask_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO", "")
        if (
            method not in ("GET", "HEAD")
            or not path.startswith(ARTICLE_PREFIX)
            or any(name in environ for name in CONDITIONAL_REQUEST_HEADERS)
        ):
            return self.app(environ, start_response)
        slug = path[len(ARTICLE_PREFIX) :]
        if len(slug) > MAX_SLUG or not SLUG_PATTERN.match(slug):
            return self.app(environ, start_response)
        started = time.perf_counter()
        page = self._kept_page(environ, slug, path)
        if page is None or page.headers is None:
            return self._through_flask(environ, start_response)
        return self._answer(environ, start_response, page, started)

    def _kept_page(self, environ: WSGIEnvironment, slug: str, path: str) -> SharedPage | None:
        """The kept page this request asks for, if any. Leaves the key it read for
        Flask's path (or NO_PAGE when readers do not see the article)."""
        flask_app = self.flask_app
        request = flask_app.request_class(environ)
        if (trusted_hosts := flask_app.config.get("TRUSTED_HOSTS")) is not None:
            request.trusted_hosts = trusted_hosts
        try:
            host = request.host
            variant = shared_page_variant(request.args)
            anonymous = is_anonymous_request_in(request.cookies, flask_app.config)
        except (HTTPException, ValueError):
            # An untrusted host, a query string that is not UTF-8: Flask's path
            # answers it, with its 400 page.
            return None
        if variant is None or not anonymous:
            return None
        with flask_app.app_context():
            # As Flask's before_request hook does: the integrity checks' runner is kept
            # alive by any request, and a worker may serve nothing but these pages.
            ensure_started(flask_app)
            try:
                key = shared_page_key(slug, host, path, variant)
            except SQLAlchemyError:
                return None  # Flask's path reads again, and says why it cannot
            environ[KEY_ENVIRON] = NO_PAGE if key is None else key
            if key is None:
                return None
            page: SharedPage | None = caching.THREADS.peek(key)
        return page

    def _through_flask(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Flask's answer, noting the headers of a kept page the first time it goes out."""

        def note_headers(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            page: SharedPage | None = environ.get(PAGE_ENVIRON)
            if (
                page is not None
                and page.headers is None
                and environ.get("REQUEST_METHOD") == "GET"
                and status.startswith("200 ")
                and _is_public(headers)
            ):
                page.headers = [
                    (name, value)
                    for name, value in headers
                    if name.lower() not in PER_REQUEST_HEADERS
                ]
            return start_response(status, headers, exc_info)

        return self.app(environ, note_headers)

    def _answer(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        page: SharedPage,
        started: float,
    ) -> Iterable[bytes]:
        headers = list(page.headers or ())
        logging_on = self.flask_app.config.get("REQUEST_LOG", True)
        if logging_on:
            request_id = request_id_for(environ)
            headers.append(("X-Request-ID", request_id))
        start_response("200 OK", headers)
        if logging_on:
            log_request_line(
                request_id,
                environ["REQUEST_METHOD"],
                environ["PATH_INFO"],
                200,
                started,
                None,
                environ.get("REMOTE_ADDR"),
                len(page.body),
            )
        return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [page.body]
