"""The site's own address: absolute links, and the Host header a request may carry.

Absolute links (the Atom feed, later mail) come from ``PUBLIC_URL``, never from the
request's ``Host`` header: the client picks that header, and a link built from it
would send readers wherever the client named. Only in development, without
``PUBLIC_URL``, do they fall back to the request's host (production refuses to start
without it, see ``webapp.config``).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from flask import current_app, has_request_context, url_for
from werkzeug.sansio.utils import host_is_trusted

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


def absolute_url(endpoint: str, **values: Any) -> str:
    """The full address of ``endpoint`` on this site, as readers reach it."""
    public_url = current_app.config.get("PUBLIC_URL")
    if not public_url:
        if not has_request_context():
            raise RuntimeError("Set PUBLIC_URL to build links to the site outside a request.")
        return url_for(endpoint, _external=True, **values)
    anchor = values.pop("_anchor", None)
    parts = urlsplit(public_url)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
    )
    current_app.inject_url_defaults(endpoint, values)
    link = adapter.build(endpoint, values, force_external=True)
    if anchor is not None:
        link += "#" + quote(str(anchor), safe="%!#$&'()*+,/:;=?@")
    return link


def host_header_is_valid(host: str | None) -> bool:
    """Whether a ``Host`` header value can name this site.

    Missing (HTTP/1.0) is fine: the server's own name is used. Otherwise the value must
    be ``name[:port]`` in the characters a host may hold, and the name must survive IDNA
    encoding; Werkzeug fails on it before any view runs (``a..b``: an empty label), and
    so would every URL the error page tries to build.
    """
    if host is None:
        return True
    if not host_is_trusted(host):
        return False
    name = host.lower().partition(":")[0]
    try:
        name.encode("idna")
    except UnicodeError:
        return False
    return True


class RejectInvalidHost:
    """WSGI middleware: a request whose Host cannot be a host name gets a plain 400.

    Answered here, before Flask builds its request context, because with such a host
    it cannot build URLs at all, so its error pages could not render either. Wraps
    the app inside ProxyFix, so it checks the host the app will actually use.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if host_header_is_valid(environ.get("HTTP_HOST")):
            return self.app(environ, start_response)
        message = "The request's Host header is not a valid host name."
        if environ.get("PATH_INFO", "").startswith("/api/"):
            error = {"code": "malformed_request", "message": message}
            body = json.dumps({"error": error}).encode()
            content_type = "application/json"
        else:
            body = (
                "<!doctype html><html lang=en><meta charset=utf-8><title>Bad request</title>"
                f"<h1>Bad request</h1><p>{html.escape(message)}</p></html>"
            ).encode()
            content_type = "text/html; charset=utf-8"
        start_response(
            "400 Bad Request",
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
                ("Content-Security-Policy", "default-src 'none'"),
            ],
        )
        return [body]
