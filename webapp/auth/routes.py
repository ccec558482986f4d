from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from webapp.auth import bp
from webapp.errors import DomainError, InvalidInput
from webapp.extensions import db
from webapp.forms.auth import LoginForm, RegisterForm
from webapp.ratelimits import route_limit
from webapp.security import login_required
from webapp.services import accounts
from webapp.voters import adopt_anonymous_votes


def safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a reader to another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("public.home")


@bp.route("/login", methods=["GET", "POST"])
@route_limit("RATELIMIT_LOGIN", methods=["POST"])
def login():  # type: ignore[no-untyped-def]
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data))
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
            return redirect(safe_next(form.next.data))
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.route("/register", methods=["GET", "POST"])
@route_limit("RATELIMIT_REGISTER", methods=["POST"])
def register():  # type: ignore[no-untyped-def]
    form = RegisterForm(next=request.args.get("next", ""))
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
            return redirect(safe_next(form.next.data))
    elif request.method == "POST":
        status = 422
    return render_template("auth/register.html", form=form), status


@bp.post("/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    logout_user()
    flash("You are signed out.", "success")
    return redirect(url_for("public.home"))
