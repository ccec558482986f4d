"""Flask-Login wiring: loading the user, and what signed-out requests get."""

from __future__ import annotations

from flask import (
    Flask,
    Request,
    current_app,
    has_request_context,
    render_template,
    request,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_login import login_user
from flask_login.config import COOKIE_NAME
from sqlalchemy import bindparam, select

from webapp.errors import json_error, wants_json
from webapp.extensions import db, login_manager
from webapp.ids import MAX_ID, is_id
from webapp.models import User

# Built once: every signed-in request loads its user, and building the query that
# ``session.get`` builds each time cost more than the round trip to run it. It asks
# for the generation too, so a revoked session costs no second query to refuse.
_USER_BY_ID = select(User).where(
    User.id == bindparam("user_id"), User.session_generation == bindparam("generation")
)


def parse_session_id(value: object) -> tuple[int, int] | None:
    """The (user id, session generation) a session or remember-me cookie names
    (``User.get_id``), or None for anything else, such as the old bare "<id>" form."""
    if not isinstance(value, str):
        return None
    user_part, colon, generation_part = value.partition(":")
    if not (colon and user_part.isascii() and generation_part.isascii()):
        return None
    if not (user_part.isdecimal() and generation_part.isdecimal()):
        return None
    user_id, generation = int(user_part), int(generation_part)
    if not is_id(user_id) or generation > MAX_ID:
        return None
    return user_id, generation


def sign_in_again(user: User) -> None:
    """Sign this browser in again after ``user``'s session generation moved on (a
    password change), so the session that asked keeps working while every other one
    ends. Its remember-me cookie, if it has one, is issued again too: the old one
    names the old generation."""
    remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
    login_user(user, remember=remember_cookie in request.cookies)


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus their work for a reader who has none.

    Flask builds its signing serializer on every request, cookie or not, and works out
    every cookie setting before it finds an empty session has nothing to save. Most
    requests of a signed-out reader carry no session and make none: here they open an
    empty one and save nothing (``Vary: Cookie`` still added when the session was
    looked at), exactly what Flask ends up doing, without the rest.
    """

    # Inside a host site's frame (issue 22) the session cookie is a third party's:
    # browsers send it there only when SameSite=None and Secure, and keep it only
    # when Partitioned (CHIPS: one jar per top-level site, so no tracking across
    # sites). Pulse's own pages keep the first-party cookie as configured.
    def _in_frame(self) -> bool:
        # Imported here: the embed services import the models and hardening, which
        # import this module.
        from webapp.services.embed.http import is_frame_path

        return has_request_context() and is_frame_path(request.path)

    def get_cookie_samesite(self, app: Flask) -> str | None:
        return "None" if self._in_frame() else super().get_cookie_samesite(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        # Chrome takes a Secure cookie over http from localhost and 127.0.0.1 (tests).
        return True if self._in_frame() else super().get_cookie_secure(app)

    def get_cookie_partitioned(self, app: Flask) -> bool:
        return True if self._in_frame() else super().get_cookie_partitioned(app)

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = SessionCookies()
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        # A revoked session (its generation is past) or an unknown user: signed out.
        parts = parse_session_id(session_id)
        if parts is None:
            return None
        user_id, generation = parts
        return db.session.execute(
            _USER_BY_ID, {"user_id": user_id, "generation": generation}
        ).scalar_one_or_none()

    @login_manager.unauthorized_handler
    def unauthorized() -> ResponseReturnValue:
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
