"""Flask-Login wiring: loading the user, and what signed-out requests get."""

from __future__ import annotations

from flask import Flask, render_template, request, url_for

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
