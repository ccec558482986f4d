from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user
from flask_wtf.csrf import generate_csrf

from webapp.api import bp
from webapp.api.common import json_object
from webapp.api.serializers import user_json
from webapp.auth.mail_limits import limit_account_mail
from webapp.auth_setup import sign_in_again
from webapp.errors import AlreadySignedIn
from webapp.extensions import db
from webapp.ratelimits import route_limit
from webapp.security import login_required, signed_in_or_none, signed_in_user
from webapp.services import account_data, account_mail, accounts
from webapp.voters import adopt_anonymous_votes


@bp.get("/csrf")
def csrf_token() -> ResponseReturnValue:
    return jsonify(csrf_token=generate_csrf())


@bp.post("/auth/register")
@route_limit("RATELIMIT_REGISTER")
def register() -> ResponseReturnValue:
    # Never switch accounts silently: whoever is signed in signs out first.
    if signed_in_or_none() is not None:
        raise AlreadySignedIn()
    # json_object checked the body against its schema: every field is there, a string.
    body = json_object()
    user = accounts.register(
        accounts.Registration(body["email"], body["password"], body["display_name"])
    )
    adopt_anonymous_votes(user)
    account_mail.send_address_check(user)  # the outbox row commits with the account
    db.session.commit()
    login_user(user)
    return jsonify(user_json(user)), 201


@bp.post("/auth/login")
@route_limit("RATELIMIT_LOGIN")
def login() -> ResponseReturnValue:
    body = json_object()  # Credentials: email and password, both strings
    user = accounts.authenticate(body["email"], body["password"])
    adopt_anonymous_votes(user)
    db.session.commit()  # also saves a rehashed password
    login_user(user)
    return jsonify(user_json(user))


@bp.post("/auth/logout")
@login_required
def logout() -> ResponseReturnValue:
    # Clearing the cookie is not enough: a copy of it would still sign in. Moving the
    # user's generation on ends this session, and with it their others (see README).
    accounts.end_sessions(signed_in_user())
    db.session.commit()
    logout_user()
    return "", 204


@bp.post("/auth/sessions/revoke")
@login_required
def revoke_sessions() -> ResponseReturnValue:
    """Sign out everywhere, this session included."""
    accounts.end_sessions(signed_in_user())
    db.session.commit()
    logout_user()
    return "", 204


@bp.post("/auth/password")
@route_limit("RATELIMIT_LOGIN")
@login_required
def change_password() -> ResponseReturnValue:
    body = json_object()  # PasswordChange: both fields there, strings
    user = signed_in_user()
    accounts.change_password(user, body["current_password"], body["new_password"])
    db.session.commit()
    sign_in_again(user)
    return "", 204


@bp.get("/auth/me")
def me() -> ResponseReturnValue:
    return jsonify(user_json(signed_in_user()))


# --- issue 21: the reader's own account by mail ------------------------------------------


@bp.post("/auth/password-reset")
def request_password_reset() -> ResponseReturnValue:
    """204 whether or not an account has the address: the answer tells nothing."""
    body = json_object()  # PasswordResetRequest: the email, a string
    limit_account_mail("password-reset", body["email"])
    accounts.request_password_reset(body["email"])
    db.session.commit()
    return "", 204


@bp.post("/auth/password-reset/confirm")
def confirm_password_reset() -> ResponseReturnValue:
    body = json_object()  # PasswordReset: token and new_password, strings
    accounts.reset_password(body["token"], body["new_password"])
    db.session.commit()
    # Every session of the account ended, this one's too if it was theirs.
    logout_user()
    return "", 204


@bp.post("/auth/verify-email")
@login_required
def send_verification() -> ResponseReturnValue:
    user = signed_in_user()
    limit_account_mail("verify-address", user.email)
    accounts.send_address_check(user)
    db.session.commit()
    return "", 204


@bp.post("/auth/verify-email/confirm")
def confirm_verification() -> ResponseReturnValue:
    body = json_object()  # LinkToken
    accounts.confirm_address(body["token"])
    db.session.commit()
    return "", 204


@bp.patch("/auth/me")
@login_required
def update_me() -> ResponseReturnValue:
    body = json_object()  # AccountChanges: display_name
    user = signed_in_user()
    accounts.rename(user, body["display_name"])
    db.session.commit()
    return jsonify(user_json(user))


@bp.post("/auth/me/email")
@login_required
def change_email() -> ResponseReturnValue:
    body = json_object()  # AddressChange: email and password
    user = signed_in_user()
    limit_account_mail("change-address", user.email)
    accounts.request_address_change(user, body["password"], body["email"])
    db.session.commit()
    return "", 204


@bp.post("/auth/me/email/confirm")
def confirm_email_change() -> ResponseReturnValue:
    body = json_object()  # LinkToken
    accounts.confirm_address_change(body["token"])
    db.session.commit()
    return "", 204


@bp.get("/auth/me/export")
@login_required
def export_me() -> ResponseReturnValue:
    response = jsonify(account_data.export(signed_in_user()))
    response.headers["Content-Disposition"] = 'attachment; filename="pulse-my-data.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.delete("/auth/me")
@login_required
def delete_me() -> ResponseReturnValue:
    body = json_object()  # AccountDeletion: password, keep_comments
    account_data.delete_account(
        signed_in_user(), body["password"], keep_comments=body["keep_comments"]
    )
    db.session.commit()
    logout_user()
    return "", 204
