from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm

from webapp.auth import bp
from webapp.auth_setup import sign_in_again
from webapp.errors import AlreadySignedIn, DomainError, InvalidInput
from webapp.extensions import db
from webapp.forms.auth import (
    ChangeEmailForm,
    ChangePasswordForm,
    DeleteAccountForm,
    DisplayNameForm,
    LoginForm,
    RegisterForm,
)
from webapp.models import User
from webapp.ratelimits import route_limit
from webapp.redirects import redirect_to_next, safe_redirect_target
from webapp.security import login_required, signed_in_or_none, signed_in_user
from webapp.services import account_mail, accounts
from webapp.voters import adopt_anonymous_votes


@bp.route("/login", methods=["GET", "POST"])
@route_limit("RATELIMIT_LOGIN", methods=["POST"])
def login() -> ResponseReturnValue:
    form = LoginForm(next=safe_redirect_target(request.args.get("next")) or "")
    if request.method == "GET" and signed_in_or_none() is not None:
        return redirect_to_next(form.next.data, url_for("public.home"))
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data or "", form.password.data or "")
        except DomainError as error:
            form.form_errors.append(error.message)
            status = 401
        else:
            adopt_anonymous_votes(user)
            db.session.commit()
            login_user(user, remember=form.remember.data)
            flash(f"Welcome back, {user.display_name}.", "success")
            return redirect_to_next(form.next.data, url_for("public.home"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.route("/register", methods=["GET", "POST"])
@route_limit("RATELIMIT_REGISTER", methods=["POST"])
def register() -> ResponseReturnValue:
    signed_in = signed_in_or_none()
    if signed_in is not None:
        # Never switch accounts silently: say who is signed in and offer to sign out.
        status = 409 if request.method == "POST" else 200
        return render_template(
            "auth/signed_in.html",
            user=signed_in,
            refused=AlreadySignedIn.message if status == 409 else None,
            next=request.args.get("next", ""),
        ), status
    form = RegisterForm(next=safe_redirect_target(request.args.get("next")) or "")
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.register(
                accounts.Registration(
                    form.email.data or "", form.password.data or "", form.display_name.data or ""
                )
            )
        except InvalidInput as error:
            for name, problem in (error.fields or {}).items():
                getattr(form, name).errors = [*getattr(form, name).errors, problem]
            status = 422
        except DomainError as error:
            form.email.errors = [*form.email.errors, error.message]
            status = error.status
        else:
            adopt_anonymous_votes(user)
            account_mail.send_address_check(user)
            db.session.commit()
            login_user(user)
            flash(
                "Your account is ready. Welcome to the conversation. We mailed you a link "
                "to confirm your address.",
                "success",
            )
            return redirect_to_next(form.next.data, url_for("public.home"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/register.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    # Clearing the cookie is not enough: a copy of it would still sign in. Moving the
    # user's generation on ends this session, and with it their others (see README).
    accounts.end_sessions(signed_in_user())
    db.session.commit()
    logout_user()
    flash("You are signed out.", "success")
    if request.form.get("then") == "register":
        # "Sign out and create a new account"; register checks its own ``next``.
        return redirect(url_for("auth.register", next=request.form.get("next") or None))
    return redirect(url_for("public.home"))


@bp.route("/account", methods=["GET", "POST"])
@route_limit("RATELIMIT_LOGIN", methods=["POST"])
@login_required
def account() -> ResponseReturnValue:
    user = signed_in_user()
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.change_password(
                user, form.current_password.data or "", form.new_password.data or ""
            )
        except InvalidInput as error:
            for name, problem in (error.fields or {}).items():
                getattr(form, name).errors = [*getattr(form, name).errors, problem]
            status = 422
        except DomainError as error:
            form.current_password.errors = [*form.current_password.errors, error.message]
            status = error.status
        else:
            db.session.commit()
            sign_in_again(user)
            flash("Your password is changed. You are signed out everywhere else.", "success")
            return redirect(url_for("auth.account"))
    elif request.method == "POST":
        status = 422
    return account_page(user, status, form=form)


def account_page(user: User, status: int = 200, **forms: FlaskForm) -> ResponseReturnValue:
    """The account page with each of its forms: the one that was sent (with its
    errors) from ``forms``, the others empty."""
    page_forms: dict[str, FlaskForm] = {
        "form": ChangePasswordForm(formdata=None),
        "name_form": DisplayNameForm(
            formdata=None, prefix="name", data={"display_name": user.display_name}
        ),
        "email_form": ChangeEmailForm(formdata=None, prefix="email"),
        "delete_form": DeleteAccountForm(formdata=None, prefix="delete"),
    }
    page_forms.update(forms)
    return render_template("auth/account.html", user=user, **page_forms), status


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> ResponseReturnValue:
    accounts.end_sessions(signed_in_user())
    db.session.commit()
    logout_user()
    flash("You are signed out on every device, this one included.", "success")
    return redirect(url_for("public.home"))
