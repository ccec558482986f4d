"""Where the app may send a browser back to: only paths on this site.

Every redirect to a ``?next=`` value or to the ``Referer`` goes through here, so the
site never forwards a reader to another host (an open redirect lends our address to
phishing links) and never puts a control character into a ``Location`` header.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

from flask import current_app, redirect, request
from werkzeug.wrappers import Response

#: How many rounds of percent-decoding a target must survive: enough for anything a
#: proxy or a careless re-encoding could unwrap, and a bound on the work.
_DECODING_ROUNDS = 4


def _unsafe_character(char: str) -> bool:
    """Characters a browser drops or rewrites while parsing a URL, and ones no
    legitimate path of ours holds: C0/C1 controls (tab, CR and LF included; browsers
    strip tab and newlines, so ``/\\t/evil`` becomes ``//evil``), the backslash (read
    as ``/``), invisible format characters and line separators."""
    return char == "\\" or unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"}


def _same_site_path(value: str) -> bool:
    if not value.startswith("/") or value.startswith("//"):
        return False
    if any(_unsafe_character(char) for char in value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def safe_redirect_target(raw: str | None) -> str | None:
    """``raw`` when it is a path on this site (``/articles/x?page=2#poll``), else None.

    Refused: anything with a scheme or a host (``https://evil.example``,
    ``//evil.example``, ``javascript:...``), anything a browser would turn into one
    (``/\\evil.example``, ``/<tab>/evil.example``), control characters (a CR or LF
    would otherwise reach the ``Location`` header), and any of these hidden behind
    percent-encoding (``/%2F%2Fevil.example``, ``/%09/evil.example``), in case some
    proxy or later step decodes the path again.
    """
    if not raw:
        return None
    value = raw
    for _ in range(_DECODING_ROUNDS):
        if not _same_site_path(value):
            return None
        decoded = unquote(value)
        if decoded == value:
            return raw
        value = decoded
    return None  # still decoding after every round: not a path anyone typed


def redirect_to_next(raw: str | None, fallback: str) -> Response:
    """To ``raw`` (a ``?next=`` value) when it is a path on this site, else to ``fallback``."""
    return redirect(safe_redirect_target(raw) or fallback)


def same_site_referrer() -> str | None:
    """The path of the page the request came from, when that page is on this site.

    The site is the request's own origin or, when set, ``PUBLIC_URL``'s (a proxy in
    front may hand the app another Host than the one the browser used).
    """
    referrer = request.referrer
    if not referrer:
        return None
    try:
        parts = urlsplit(referrer)
    except ValueError:
        return None
    origin = (parts.scheme.lower(), parts.netloc.lower())
    if origin not in _site_origins():
        return None
    path = parts.path or "/"
    target = f"{path}?{parts.query}" if parts.query else path
    return safe_redirect_target(target)


def redirect_back(fallback: str) -> Response:
    """Back to the page the request came from when it is on this site, else to ``fallback``.

    A GET whose own page is the referrer goes to ``fallback``, so a page that fails on
    load does not redirect to itself forever.
    """
    target = same_site_referrer()
    if target is not None and request.method == "GET":
        here = request.full_path.rstrip("?")
        if target == here:
            target = None
    return redirect(target or fallback)


def _site_origins() -> set[tuple[str, str]]:
    origins = {(request.scheme.lower(), request.host.lower())}
    public_url = current_app.config.get("PUBLIC_URL")
    if public_url:
        parts = urlsplit(public_url)
        origins.add((parts.scheme.lower(), parts.netloc.lower()))
    return origins
