"""Flask-Login wiring: loading the user, and what signed-out requests get."""

from __future__ import annotations

from flask import Flask, render_template, request, url_for
from sqlalchemy import bindparam, select

from webapp.errors import json_error, wants_json
from webapp.extensions import db, login_manager
from webapp.ids import is_id
from webapp.models import User

# Built once: every signed-in request loads its user, and building the query that
# ``session.get`` builds each time cost more than the round trip to run it.
_USER_BY_ID = select(User).where(User.id == bindparam("user_id"))


def init_app(app: Flask) -> None:
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        try:
            number = int(user_id)
        except ValueError:
            return None
        if not is_id(number):
            return None
        return db.session.execute(_USER_BY_ID, {"user_id": number}).scalar_one_or_none()

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
