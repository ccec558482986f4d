from __future__ import annotations

from functools import cached_property

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from webapp.http_cache import carries_session
from webapp.services.accounts import MIN_PASSWORD_LENGTH


class SignedOutForm(FlaskForm):
    """A form signed-out readers post (sign in, register): it has a CSRF token field
    only when the request carries a session to keep the token in. Without one the page
    sets no cookie, and CSRFProtect checks the post's origin instead (webapp.extensions)."""

    class Meta(FlaskForm.Meta):
        @cached_property
        def csrf(self) -> bool:
            return bool(current_app.config.get("WTF_CSRF_ENABLED", True)) and carries_session()


class LoginForm(SignedOutForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in on this device")
    next = HiddenField()


class RegisterForm(SignedOutForm):
    display_name = StringField(
        "Display name",
        validators=[DataRequired(), Length(max=80)],
        description="Shown next to your comments.",
    )
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
    )
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    """Password fields never echo what was typed back into the page (WTForms' default).
    How strong a new password must be is the service's rule (accounts.change_password),
    so the page and the API refuse the same passwords with the same words."""

    current_password = PasswordField(
        "Current password",
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        validators=[DataRequired()],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[
            DataRequired(),
            EqualTo("new_password", message="does not match the new password"),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class ForgotPasswordForm(SignedOutForm):
    email = EmailField("Email", validators=[DataRequired()], render_kw={"autocomplete": "email"})


class ResetPasswordForm(SignedOutForm):
    """The reset link's page: the new password twice. The token is in the page's
    address, not in the form."""

    new_password = PasswordField(
        "New password",
        validators=[DataRequired()],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[
            DataRequired(),
            EqualTo("new_password", message="does not match the new password"),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class DisplayNameForm(FlaskForm):
    display_name = StringField(
        "Display name",
        validators=[DataRequired(), Length(max=80)],
        description="Shown next to your comments.",
    )


class ChangeEmailForm(FlaskForm):
    email = EmailField(
        "New email address",
        validators=[DataRequired()],
        description="We mail a link there; the address changes when you follow it.",
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        "Your password",
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )


class DeleteAccountForm(FlaskForm):
    comments = RadioField(
        "Your comments",
        choices=[
            SelectChoice("remove", "Remove my comments"),
            SelectChoice("keep", "Keep my comments, shown as by “Deleted reader”"),
        ],
        default="remove",
        validators=[DataRequired()],
    )
    password = PasswordField(
        "Your password",
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
