"""Who may call a route (signed in, role, not banned), and what text a request may carry."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property, wraps
from io import BytesIO
from typing import IO, Any, ParamSpec, TypeVar
from urllib.parse import unquote_to_bytes

from flask import Request, abort, current_app, g, request, session
from flask_login import current_user
from flask_login.config import COOKIE_NAME
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser

from webapp.errors import Forbidden, MalformedRequest, Unauthorized, wants_json
from webapp.models import User
from webapp.services.accounts import ensure_can_write
from webapp.text import has_unstorable

P = ParamSpec("P")
R = TypeVar("R")


def signed_in_or_none() -> User | None:
    """The signed-in user, or None.

    A request that carries neither Flask-Login's session key nor its remember cookie
    is anonymous without asking Flask-Login. Asking would also run its session
    protection, which marks an anonymous reader's session "not fresh" on their first
    POST and so re-signs and re-sends their session cookie: work for nothing, on the
    busiest anonymous paths (a first vote).
    """
    if (
        "_login_user" not in g
        and "_user_id" not in session
        and current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) not in request.cookies
    ):
        return None
    if current_user.is_authenticated:
        # Flask-Login is untyped (its proxy is Any); its user loader returns a User.
        user: User = current_user._get_current_object()
        return user
    return None


def signed_in_user() -> User:
    """The signed-in user; 401 when signed out."""
    user = signed_in_or_none()
    if user is None:
        raise Unauthorized()
    return user


def role_required(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """401 when signed out, 403 without one of ``roles`` (admins pass everything)."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            user = signed_in_user()
            if roles and not user.has_role(*roles):
                raise Forbidden()
            return view(*args, **kwargs)

        return wrapped

    return decorator


def login_required(view: Callable[P, R]) -> Callable[P, R]:
    return role_required()(view)


def writer_required(view: Callable[P, R]) -> Callable[P, R]:
    """Signed in and not banned: for every route that writes on a reader's behalf."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        ensure_can_write(signed_in_user())
        return view(*args, **kwargs)

    return wrapped


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _first_unstorable(value: Any, where: str) -> str | None:
    """The dotted name (``poll.options.1``) of the first string in a JSON-like value
    that cannot be stored, keys included; None when every string can. Walked without
    recursion, so any depth the parser accepted is fine here."""
    pending: list[tuple[str, Any]] = [(where, value)]
    while pending:
        name, item = pending.pop()
        if isinstance(item, str):
            if has_unstorable(item):
                return name
        elif isinstance(item, dict):
            for key, inner in item.items():
                if isinstance(key, str) and has_unstorable(key):
                    return name  # the key itself is unstorable: name what holds it
                pending.append((f"{name}.{key}" if name else str(key), inner))
        elif isinstance(item, list | tuple):
            pending.extend(
                (f"{name}.{index}" if name else str(index), inner)
                for index, inner in enumerate(item)
            )
    return None


def _first_unstorable_parameter(parameters: MultiDict[str, str], where: str) -> str | None:
    """The name of the first query or form parameter whose value cannot be stored
    (``where`` when a name itself cannot), or None."""
    for key, value in parameters.items(multi=True):
        if has_unstorable(key):
            return where
        if has_unstorable(value):
            return key
    return None


class UnstorableText(BadRequest):
    """Text that is not UTF-8, or that no column can store (NUL, a lone surrogate)."""

    description = "The request holds text that is not valid UTF-8 or cannot be stored."


def _strict_utf8(raw: bytes, what: str) -> None:
    """400 unless ``raw`` and its percent-decoded form are valid UTF-8.

    Werkzeug would re-quote an invalid ``%ED%A0%80`` as literal text ("%ED%A0%80"
    would become someone's display name) and fail with a 500 on raw bytes; refusing
    here says what went wrong instead. Python's decoder also refuses encoded
    surrogates (CESU-8), which no database column could store.
    """
    try:
        raw.decode()
        unquote_to_bytes(raw.replace(b"+", b" ")).decode()
    except UnicodeDecodeError as exc:
        raise UnstorableText(f"The {what} is not valid UTF-8.") from exc


class _StrictFormDataParser(FormDataParser):
    def _parse_urlencoded(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> tuple[IO[bytes], MultiDict[str, str], MultiDict[str, FileStorage]]:
        raw = stream.read()
        # Raised outside the parser's "ValueError means an empty form" net, so the
        # first reader of request.form (the CSRF check, the view) gets the 400.
        _strict_utf8(raw, "form body")
        return super()._parse_urlencoded(BytesIO(raw), mimetype, content_length, options)


class StrictTextRequest(Request):
    """The app's request: the query string and url-encoded forms must be UTF-8.

    (Multipart field values are decoded by Werkzeug with invalid bytes replaced by
    U+FFFD, which can be stored; no form of ours sends multipart.)
    """

    form_data_parser_class = _StrictFormDataParser

    @cached_property
    def args(self) -> MultiDict[str, str]:
        try:
            _strict_utf8(self.query_string, "query string")
        except UnstorableText:
            # The error page may read request.args again: it gets nothing, not a 500.
            self.__dict__["args"] = self.parameter_storage_class()
            raise
        return super().args

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except UnstorableText:
            empty = self.parameter_storage_class()
            self.__dict__.update(form=empty, files=empty)
            raise


def refuse_unstorable_text() -> None:
    """Refuse text no column can store, anywhere in the request, with one 400.

    NUL (PostgreSQL text cannot hold it) and unpaired surrogates (a JSON ``"\\ud800"``
    escape; UTF-8 cannot encode them) would otherwise fail deep inside a query, a
    password hash or a log line with a 500, on whichever route first meets them.
    Checked here, before every view (after the CSRF check), for the path, the query
    string, the form and the JSON body, keys and values: under /api the contract's
    ``malformed_request`` body naming the field, elsewhere a 400 page. Control
    characters are a different matter (they can be stored): the services strip them
    through ``webapp.text``.
    """
    where = _first_unstorable(request.path, "path") or _first_unstorable_parameter(
        request.args, "query"
    )
    if where is None and request.method not in SAFE_METHODS:
        if wants_json():
            try:
                # The API reads bodies with force=True; this parse is cached for the view.
                payload = request.get_json(force=True, silent=True)
            except RecursionError:
                abort(400)
            where = _first_unstorable(payload, "")
        else:
            where = _first_unstorable_parameter(request.form, "form")
    if where is None:
        return
    if wants_json():
        raise MalformedRequest(
            "The request holds text that cannot be stored (a NUL character or an"
            " unpaired surrogate).",
            fields={where or "body": "holds a NUL character or an unpaired surrogate"},
        )
    abort(400)
