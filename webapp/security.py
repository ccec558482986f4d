"""Who may call a route: signed in, role, not banned."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask_login import current_user

from webapp.errors import Forbidden, Unauthorized
from webapp.models import User
from webapp.services.accounts import ensure_can_write

F = TypeVar("F", bound=Callable[..., Any])


def signed_in_user() -> User:
    if not current_user.is_authenticated:
        raise Unauthorized()
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
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
