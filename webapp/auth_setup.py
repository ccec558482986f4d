"""Flask-Login wiring: loading the user, and what signed-out requests get."""

from __future__ import annotations

from flask import Flask, current_app, g, render_template, request, session, url_for
from flask_login import current_user
from flask_login.config import COOKIE_NAME

from webapp.errors import json_error, wants_json
from webapp.extensions import db, login_manager
from webapp.models import User


def init_app(app: Flask) -> None:
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        try:
            return db.session.get(User, int(user_id))
        except ValueError:
            return None

    @login_manager.unauthorized_handler
    def unauthorized():  # type: ignore[no-untyped-def]
        if wants_json():
            return json_error(401, "unauthorized", "Please sign in first.")
        login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
        return render_template(
            "errors/error.html",
            status=401,
            title="Please sign in",
            message="You need to sign in to see this page.",
            login_url=login_url,
        ), 401


def signed_in_user() -> User | None:
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
