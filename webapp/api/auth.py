from __future__ import annotations

from flask import jsonify
from flask_login import login_user, logout_user
from flask_wtf.csrf import generate_csrf

from webapp.api import bp
from webapp.api.common import json_object
from webapp.api.serializers import user_json
from webapp.auth_setup import sign_in_again
from webapp.errors import AlreadySignedIn, MalformedRequest
from webapp.extensions import db
from webapp.ratelimits import route_limit
from webapp.security import login_required, signed_in_or_none, signed_in_user
from webapp.services import accounts
from webapp.voters import adopt_anonymous_votes


def _strings(payload: dict, *keys: str) -> list[str]:
    values = []
    for key in keys:
        value = payload.get(key, "")
        if not isinstance(value, str):
            raise MalformedRequest(f"{key} must be a string.", fields={key: "must be a string"})
        values.append(value)
    return values


@bp.get("/csrf")
def csrf_token():  # type: ignore[no-untyped-def]
    return jsonify(csrf_token=generate_csrf())


@bp.post("/auth/register")
@route_limit("RATELIMIT_REGISTER")
def register():  # type: ignore[no-untyped-def]
    # Never switch accounts silently: whoever is signed in signs out first.
    if signed_in_or_none() is not None:
        raise AlreadySignedIn()
    email, password, display_name = _strings(json_object(), "email", "password", "display_name")
    user = accounts.register(accounts.Registration(email, password, display_name))
    adopt_anonymous_votes(user)
    db.session.commit()
    login_user(user)
    return jsonify(user_json(user)), 201


@bp.post("/auth/login")
@route_limit("RATELIMIT_LOGIN")
def login():  # type: ignore[no-untyped-def]
    email, password = _strings(json_object(), "email", "password")
    user = accounts.authenticate(email, password)
    adopt_anonymous_votes(user)
    db.session.commit()  # also saves a rehashed password
    login_user(user)
    return jsonify(user_json(user))


@bp.post("/auth/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    # Clearing the cookie is not enough: a copy of it would still sign in. Moving the
    # user's generation on ends this session, and with it their others (see README).
    accounts.end_sessions(signed_in_user())
    db.session.commit()
    logout_user()
    return "", 204


@bp.post("/auth/sessions/revoke")
@login_required
def revoke_sessions():  # type: ignore[no-untyped-def]
    """Sign out everywhere, this session included."""
    accounts.end_sessions(signed_in_user())
    db.session.commit()
    logout_user()
    return "", 204


@bp.post("/auth/password")
@route_limit("RATELIMIT_LOGIN")
@login_required
def change_password():  # type: ignore[no-untyped-def]
    current_password, new_password = _strings(json_object(), "current_password", "new_password")
    user = signed_in_user()
    accounts.change_password(user, current_password, new_password)
    db.session.commit()
    sign_in_again(user)
    return "", 204


@bp.get("/auth/me")
def me():  # type: ignore[no-untyped-def]
    return jsonify(user_json(signed_in_user()))
