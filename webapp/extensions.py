"""Extensions are created unbound here and bound in ``create_app``."""

from __future__ import annotations

import functools
import hmac
import logging
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request, session
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import csrf as flask_wtf_csrf
from flask_wtf.csrf import generate_csrf, same_origin
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from markupsafe import Markup
from wtforms import ValidationError

from webapp.connections import RoutingSession
from webapp.models.base import Base
from webapp.models.search_index import include_name as search_index_include_name
from webapp.signing import KeyOnceTimestampSigner, SignerPerSalt

#: Flask-WTF's logger: a refused token is logged where it always was.
logger = logging.getLogger("flask_wtf.csrf")


def client_address() -> str:
    """The client's address as seen after ProxyFix (set up in the factory)."""
    return request.remote_addr or "unknown"


class CSRFProtect(flask_wtf_csrf.CSRFProtect):
    """Flask-WTF's CSRF protection; a JSON request's token is read from its header
    without first asking Werkzeug for form fields.

    A JSON body has no form fields, but looking for the token in them (Flask-WTF's
    first place) sets up form parsing for the request: a cost on every API write,
    the busiest being an anonymous reader's vote. Forms still go through Flask-WTF
    unchanged, and every token is still checked by Flask-WTF (``validate_csrf``).
    """

    def _get_csrf_token(self) -> str | None:
        if not request.is_json:
            return super()._get_csrf_token()
        for header_name in current_app.config["WTF_CSRF_HEADERS"]:
            token = request.headers.get(header_name)
            if token:
                return token
        return None

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        app.jinja_env.globals["csrf_field"] = csrf_field

    def protect(self, apply_exemptions: bool = False) -> None:
        """Flask-WTF's token check, except for a page's form posted without a session.

        Cached pages carry no per-visitor secret (webapp.http_cache), so a signed-out
        reader's vote, sign-in or registration form comes without a token. Such a
        request has no session or remember-me cookie, so no signed-in authority a
        forged request could borrow; what is left to stop is another site making the
        browser post (a vote in the reader's name, signing them in to the attacker's
        account), which the browser's own headers tell: OWASP's "Verifying Origin
        With Standard Headers" and Fetch Metadata (``cross_site_refusal``). A request
        with a session, and every JSON API request, keeps the token check: the
        contract's ``X-CSRFToken``, from ``GET /api/v1/csrf``.
        """
        from webapp.http_cache import carries_session

        if (
            request.method not in current_app.config["WTF_CSRF_METHODS"]
            or request.blueprint == "api"
            or carries_session()
        ):
            self._check_token(apply_exemptions)
            return
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return
        refusal = cross_site_refusal()
        if refusal is not None:
            self._error_response(refusal)
        # Flask-WTF's forms skip their own token check on a request marked valid.
        g.csrf_valid = True

    def _check_token(self, apply_exemptions: bool) -> None:
        """Flask-WTF's ``protect``, step for step, with its token check made by
        :func:`validate_csrf_token`."""
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return
        try:
            validate_csrf_token(self._get_csrf_token())
        except ValidationError as error:
            logger.info(error.args[0])
            self._error_response(error.args[0])
        if request.is_secure and current_app.config["WTF_CSRF_SSL_STRICT"]:
            if not request.referrer:
                self._error_response("The referrer header is missing.")
            if not same_origin(request.referrer, f"https://{request.host}/"):
                self._error_response("The referrer does not match the host.")
        g.csrf_valid = True  # mark this request as CSRF valid


class _CsrfTokens(SignerPerSalt, URLSafeTimedSerializer):
    """The serializer Flask-WTF makes for every token check, made once per secret key
    and keeping its signer (webapp.signing): every API write checks a token."""

    signer = KeyOnceTimestampSigner


@functools.lru_cache(maxsize=4)
def _csrf_tokens(secret_key: str | bytes) -> _CsrfTokens:
    return _CsrfTokens(secret_key, salt="wtf-csrf-token")


def validate_csrf_token(data: str | None) -> None:
    """``flask_wtf.csrf.validate_csrf``: the same settings, checks, order and messages,
    with the token's serializer kept (``_csrf_tokens``) instead of made per call. The
    tokens are Flask-WTF's own (``generate_csrf`` makes them)."""
    config = current_app.config
    secret_key = config.get("WTF_CSRF_SECRET_KEY", current_app.secret_key)
    if secret_key is None:
        raise RuntimeError("A secret key is required to use CSRF.")
    field_name = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field_name is None:
        raise RuntimeError("A field name is required to use CSRF.")
    time_limit = config.get("WTF_CSRF_TIME_LIMIT", 3600)
    if not data:
        raise ValidationError("The CSRF token is missing.")
    if field_name not in session:
        raise ValidationError("The CSRF session token is missing.")
    try:
        token = _csrf_tokens(secret_key).loads(data, max_age=time_limit)
    except SignatureExpired as error:
        raise ValidationError("The CSRF token has expired.") from error
    except BadData as error:
        raise ValidationError("The CSRF token is invalid.") from error
    if not hmac.compare_digest(session[field_name], token):
        raise ValidationError("The CSRF tokens do not match.")


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) address, or None for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def site_origin() -> tuple[str, str, int] | None:
    """The site's own origin: ``PUBLIC_URL``'s when set (a proxy may hand the app
    another Host than the browser used), else the request's."""
    public_url = current_app.config.get("PUBLIC_URL")
    return _origin(public_url or f"{request.scheme}://{request.host}")


def cross_site_refusal() -> str | None:
    """Why a form post without a session may not be trusted to come from this site's
    own pages, or None when it may.

    ``Sec-Fetch-Site``, which browsers send on every request and pages cannot set,
    decides when it is there: ``same-origin``, or ``none`` (the reader's own doing,
    such as a bookmark). Without it (an older browser), ``Origin``, which browsers
    send on every POST, must be the site's own. A request with neither is refused:
    it did not come from a browser we can check, and the pages' forms always send them.
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        if fetch_site in ("same-origin", "none"):
            return None
        return "The form was posted from another site."
    origin = request.headers.get("Origin")
    if origin is None:
        return "The request does not say which site it came from."
    found = _origin(origin)
    if found is None or found != site_origin():
        return "The form was posted from another site."
    return None


def csrf_field() -> Markup:
    """The CSRF token's hidden field for a page's form when the request carries a
    session (the token is kept in it), and nothing otherwise: a signed-out page stays
    the same for everyone and sets no cookie (its posts are checked by origin,
    ``CSRFProtect.protect``)."""
    from webapp.http_cache import carries_session

    if not carries_session():
        return Markup("")
    # Safe: the token is URL-safe base64 and dots, escaped anyway.
    return Markup('<input type="hidden" name="csrf_token" value="%s">') % generate_csrf()


# RoutingSession: a request's reads before its writes, and a write that is all it
# writes, run each statement on its own (webapp.connections, webapp.transactions).
db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
# SQLite's search index (an FTS5 table and its shadow tables) is no model's table.
migrate = Migrate(compare_type=True, render_as_batch=True, include_name=search_index_include_name)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=client_address)
