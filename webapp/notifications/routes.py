"""The notification settings form, and the unsubscribe link every notification carries.

The settings partial (templates/auth/_notification_settings.html) is shown on the
account page and on its own page here; it posts here.

``/unsubscribe/<token>``: a GET shows what the link turns off and a button; only the
POST turns it off, so a link scanner or a mail client fetching the link to show a
preview unsubscribes nobody. The POST is what a mail client sends for RFC 8058's
one-click unsubscribe (``List-Unsubscribe-Post: List-Unsubscribe=One-Click``):
without a session, a CSRF token or an Origin header, from the mail client itself. So it
is exempt from the CSRF check, deliberately: the signed token in the address is the
proof that the mail's reader sent it, and the one thing it can do is turn that kind of
mail off for that account, which no forged request could want (a page that made a
browser post it would have to know the token, i.e. have the mail).
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from webapp.errors import InvalidInput
from webapp.extensions import csrf, db
from webapp.http_cache import mark_private
from webapp.models import User
from webapp.notifications import bp
from webapp.security import login_required, signed_in_user
from webapp.services.notifications import settings
from webapp.services.notifications.tokens import read_token


@bp.app_context_processor
def notification_settings_view() -> dict[str, Any]:
    """For the settings partial wherever it is included: the viewer's settings, and
    which staff parts their role shows."""

    def view(user: User) -> dict[str, Any]:
        return {
            "row": settings.settings_for(user.id),
            "moderator": settings.is_moderator(user),
            "editor": settings.is_editor(user),
            "mailable": settings.can_be_mailed(user),
            "waits_for_confirmation": settings.mail_waits_for_confirmation(user),
        }

    def reply_mail_default() -> bool:
        """Whether the comment forms' "Mail me when someone replies" starts ticked for
        the signed-in reader (read once per page, however many reply forms it has)."""
        if "reply_mail_default" not in g:
            user = current_user
            g.reply_mail_default = bool(
                user.is_authenticated and settings.wants_replies_by_default(user)
            )
        return bool(g.reply_mail_default)

    def reply_mail_hint() -> str | None:
        """Why the comment forms' reply box would bring the signed-in reader no mail
        yet: "unconfirmed" (mail goes to confirmed addresses only), "unmailable" (a
        host site's reader without a usable address), or None."""
        user = current_user
        if not user.is_authenticated:
            return None
        if not settings.can_be_mailed(user):
            return "unmailable"
        return "unconfirmed" if user.email_verified_at is None else None

    return {
        "notification_settings_view": view,
        "reply_mail_default": reply_mail_default,
        "reply_mail_hint": reply_mail_hint,
    }


def _checked(name: str) -> bool:
    return request.form.get(name) in ("on", "y", "1", "true", "yes")


@bp.get("/account/notifications")
@login_required
def settings_page() -> ResponseReturnValue:
    return render_template("notifications/settings.html", user=signed_in_user(), errors={})


@bp.post("/account/notifications")
@login_required
def save_settings() -> ResponseReturnValue:
    user = signed_in_user()
    try:
        change = settings.SettingsChange(
            reply_default=_checked("reply_default"),
            replies_enabled=_checked("replies_enabled"),
            pending_threshold=settings.parse_threshold(
                request.form.get("pending_threshold"), "pending_threshold"
            ),
            reported_threshold=settings.parse_threshold(
                request.form.get("reported_threshold"), "reported_threshold"
            ),
            daily_digest=_checked("daily_digest"),
            poll_shift_alerts=_checked("poll_shift_alerts"),
            set_aside_alerts=_checked("set_aside_alerts"),
        )
    except InvalidInput as error:
        return (
            render_template(
                "notifications/settings.html", user=user, errors=error.fields or {}, error=error
            ),
            422,
        )
    settings.update(user, change)
    db.session.commit()
    flash("Your mail settings are saved.", "success")
    if settings.mail_waits_for_confirmation(user) and settings.can_be_mailed(user):
        flash(
            "No mail goes out until you confirm your address: follow the link we mailed you.",
            "info",
        )
    return redirect(url_for("notifications.settings_page"))


def _unsubscribe_page(token: str, done: bool, status: int = 200) -> ResponseReturnValue:
    mark_private()
    found = read_token(token)
    if found is None or found[1] not in settings.KINDS:
        return render_template("notifications/unsubscribe.html", valid=False), 404
    user_id, kind = found
    if db.session.get(User, user_id) is None:
        return render_template("notifications/unsubscribe.html", valid=False), 404
    return (
        render_template(
            "notifications/unsubscribe.html",
            valid=True,
            done=done,
            token=token,
            what=settings.KINDS[kind],
        ),
        status,
    )


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> ResponseReturnValue:
    """What the link turns off, and the button that does it (a GET changes nothing)."""
    return _unsubscribe_page(token, done=False)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # RFC 8058 one-click: the signed token is the proof (see the module's doc)
def unsubscribe_now(token: str) -> ResponseReturnValue:
    found = read_token(token)
    if found is not None and found[1] in settings.KINDS and db.session.get(User, found[0]):
        settings.turn_off(*found)
        db.session.commit()
    return _unsubscribe_page(token, done=True)
