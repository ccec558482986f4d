"""Who may call a route: signed in, role, not banned."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, g, request, session
from flask_login import current_user
from flask_login.config import COOKIE_NAME

from webapp.errors import Forbidden, Unauthorized, wants_json
from webapp.models import User
from webapp.services.accounts import ensure_can_write

F = TypeVar("F", bound=Callable[..., Any])


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
        return current_user._get_current_object()  # type: ignore[no-any-return]
    return None


def signed_in_user() -> User:
    """The signed-in user; 401 when signed out."""
    user = signed_in_or_none()
    if user is None:
        raise Unauthorized()
    return user


def role_required(*roles: str) -> Callable[[F], F]:
    """401 when signed out, 403 without one of ``roles`` (admins pass everything)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = signed_in_user()
            if roles and not user.has_role(*roles):
                raise Forbidden()
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def login_required(view: F) -> F:
    return role_required()(view)


def writer_required(view: F) -> F:
    """Signed in and not banned: for every route that writes on a reader's behalf."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        ensure_can_write(signed_in_user())
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _has_nul(value: Any) -> bool:
    """Whether any string in a JSON-like value holds NUL (walked without recursion)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def reject_nul_characters() -> None:
    """Refuse NUL (U+0000) anywhere in the path, query, form or JSON body with a 400.

    PostgreSQL text cannot hold it, so it would otherwise fail deep inside a query
    with a 500; SQLite would store it. Runs before every view (after the CSRF check).
    """
    if _has_nul(request.path) or _has_nul(list(request.args.items(multi=True))):
        abort(400)
    if request.method in SAFE_METHODS:
        return
    if wants_json():
        try:
            # The API reads bodies with force=True; this parse is cached for the view.
            payload = request.get_json(force=True, silent=True)
        except RecursionError:
            abort(400)
        if _has_nul(payload):
            abort(400)
    elif _has_nul(list(request.form.items(multi=True))):
        abort(400)
