from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from webapp.auth import bp
from webapp.errors import DomainError, InvalidInput
from webapp.extensions import db
from webapp.forms.auth import LoginForm, RegisterForm
from webapp.ratelimits import route_limit
from webapp.redirects import redirect_to_next, safe_redirect_target
from webapp.security import login_required
from webapp.services import accounts
from webapp.voters import adopt_anonymous_votes


@bp.route("/login", methods=["GET", "POST"])
@route_limit("RATELIMIT_LOGIN", methods=["POST"])
def login():  # type: ignore[no-untyped-def]
    form = LoginForm(next=safe_redirect_target(request.args.get("next")) or "")
    if current_user.is_authenticated and request.method == "GET":
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
def register():  # type: ignore[no-untyped-def]
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
            db.session.commit()
            login_user(user)
            flash("Your account is ready. Welcome to the conversation.", "success")
            return redirect_to_next(form.next.data, url_for("public.home"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/register.html", form=form), status


@bp.post("/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    logout_user()
    flash("You are signed out.", "success")
    return redirect(url_for("public.home"))
