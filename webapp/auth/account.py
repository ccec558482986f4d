"""The reader's own account by mail and on the account page: forgotten passwords,
address checks and changes, the display name, "download my data" and "delete my
account". The rules are in webapp/services/accounts.py, account_mail.py and
account_data.py; these views read forms and shape pages."""

from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import logout_user

from webapp.auth import bp
from webapp.auth.mail_limits import limit_account_mail
from webapp.auth.routes import account_page
from webapp.errors import DomainError, InvalidInput, WrongPassword
from webapp.extensions import db
from webapp.forms.auth import (
    ChangeEmailForm,
    DeleteAccountForm,
    DisplayNameForm,
    ForgotPasswordForm,
    ResetPasswordForm,
)
from webapp.redirects import safe_redirect_target
from webapp.security import login_required, signed_in_user
from webapp.services import account_data, account_mail, accounts

RESET_SENT = (
    "If an account has that address, we have mailed it a link to choose a new password. "
    "The link works for {minutes} minutes. Nothing arrived? Check your spam folder, "
    "or ask again."
)


def _link_problem(error: DomainError, ask_again: str, ask_again_label: str) -> ResponseReturnValue:
    """A dead link's page: what happened and where to ask for a new one; never a 500."""
    expired = isinstance(error, account_mail.LinkExpired)
    return render_template(
        "auth/link_problem.html",
        title="This link has expired" if expired else "This link does not work",
        message=error.message,
        ask_again=ask_again,
        ask_again_label=ask_again_label,
    ), 410 if expired else 400


@bp.route("/login/forgot", methods=["GET", "POST"])
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    status = 200
    if form.validate_on_submit():
        address = form.email.data or ""
        try:
            limit_account_mail("password-reset", address)
            accounts.request_password_reset(address)
        except DomainError as error:
            db.session.rollback()
            form.email.errors = [*form.email.errors, error.message]
            status = error.status
        else:
            db.session.commit()
            # The same page whether or not an account has the address.
            return render_template(
                "auth/reset_sent.html",
                message=RESET_SENT.format(minutes=account_mail.reset_minutes()),
            )
    elif request.method == "POST":
        status = 422
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    ask_again = url_for("auth.forgot_password")
    try:
        accounts.user_for_reset(token)
    except (account_mail.LinkExpired, account_mail.LinkInvalid) as error:
        return _link_problem(error, ask_again, "Ask for a new link")
    form = ResetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.new_password.data or "")
        except InvalidInput as error:
            db.session.rollback()
            for name, problem in (error.fields or {}).items():
                getattr(form, name).errors = [*getattr(form, name).errors, problem]
            status = 422
        except (account_mail.LinkExpired, account_mail.LinkInvalid) as error:
            db.session.rollback()
            return _link_problem(error, ask_again, "Ask for a new link")
        else:
            db.session.commit()
            logout_user()  # whoever was signed in here: every session of the account ended
            flash(
                "Your password is changed and you are signed out everywhere. "
                "Sign in with your new password.",
                "success",
            )
            return redirect(url_for("auth.login"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/reset_password.html", form=form, token=token), status


@bp.get("/verify/<token>")
def verify_address(token: str) -> ResponseReturnValue:
    try:
        accounts.confirm_address(token)
    except (account_mail.LinkExpired, account_mail.LinkInvalid) as error:
        db.session.rollback()
        return _link_problem(
            error, url_for("auth.account"), "Ask for a new link on your account page"
        )
    db.session.commit()
    flash("Thank you: your email address is confirmed.", "success")
    return redirect(url_for("public.home"))


@bp.post("/account/verify")
@login_required
def send_verification() -> ResponseReturnValue:
    """ "Send me the link": from the account page, or from a refused comment."""
    user = signed_in_user()
    back = safe_redirect_target(request.form.get("next")) or url_for("auth.account")
    try:
        limit_account_mail("verify-address", user.email)
        accounts.send_address_check(user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error" if error.status != 409 else "success")
        return redirect(back)
    db.session.commit()
    flash(f"We mailed a confirmation link to {user.email}.", "success")
    return redirect(back)


@bp.post("/account/name")
@login_required
def change_name() -> ResponseReturnValue:
    user = signed_in_user()
    form = DisplayNameForm(prefix="name")
    if form.validate_on_submit():
        try:
            accounts.rename(user, form.display_name.data or "")
        except InvalidInput as error:
            db.session.rollback()
            form.display_name.errors = [
                *form.display_name.errors,
                *(error.fields or {}).values(),
            ]
        else:
            db.session.commit()
            flash("Your display name is changed.", "success")
            return redirect(url_for("auth.account"))
    return account_page(user, 422, name_form=form)


@bp.post("/account/email")
@login_required
def change_email() -> ResponseReturnValue:
    user = signed_in_user()
    form = ChangeEmailForm(prefix="email")
    status = 422
    if form.validate_on_submit():
        try:
            limit_account_mail("change-address", user.email)
            new_address = accounts.request_address_change(
                user, form.password.data or "", form.email.data or ""
            )
        except InvalidInput as error:
            db.session.rollback()
            for problem in (error.fields or {}).values():
                form.email.errors = [*form.email.errors, problem]
        except WrongPassword as error:
            db.session.rollback()
            form.password.errors = [*form.password.errors, error.message]
            status = error.status
        except DomainError as error:
            db.session.rollback()
            form.email.errors = [*form.email.errors, error.message]
            status = error.status
        else:
            db.session.commit()
            flash(
                f"We mailed a link to {new_address}. Your address changes when you follow "
                f"it; until then it stays {user.email}.",
                "success",
            )
            return redirect(url_for("auth.account"))
    return account_page(user, status, email_form=form)


@bp.get("/email/<token>")
def confirm_address_change(token: str) -> ResponseReturnValue:
    try:
        user = accounts.confirm_address_change(token)
    except DomainError as error:
        db.session.rollback()
        if isinstance(error, account_mail.LinkExpired | account_mail.LinkInvalid):
            return _link_problem(error, url_for("auth.account"), "Ask again on your account page")
        return render_template(
            "auth/link_problem.html",
            title="The address cannot change",
            message=error.message,
            ask_again=url_for("auth.account"),
            ask_again_label="Back to your account",
        ), error.status
    db.session.commit()
    flash(f"Your email address is now {user.email}.", "success")
    return redirect(url_for("public.home"))


@bp.get("/account/export")
@login_required
def export_data() -> ResponseReturnValue:
    user = signed_in_user()
    body = json.dumps(account_data.export(user), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="pulse-my-data.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/delete")
@login_required
def delete_account() -> ResponseReturnValue:
    user = signed_in_user()
    form = DeleteAccountForm(prefix="delete")
    status = 422
    if form.validate_on_submit():
        try:
            account_data.delete_account(
                user, form.password.data or "", keep_comments=form.comments.data == "keep"
            )
        except WrongPassword as error:
            db.session.rollback()
            form.password.errors = [*form.password.errors, error.message]
            status = error.status
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            status = error.status
        else:
            db.session.commit()
            logout_user()
            flash("Your account is deleted. Thank you for taking part.", "success")
            return redirect(url_for("public.home"))
    return account_page(user, status, delete_form=form)
