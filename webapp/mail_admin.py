"""The admins' mail page (/admin/mail): failed and waiting messages, with a retry.

Admins only: an address and a subject say who is getting which mail (a password
reset, say), which moderators and editors have no need to see.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from webapp.extensions import db
from webapp.models import Role
from webapp.models.mail import MailStatus
from webapp.security import role_required
from webapp.services.mail import manage

bp = Blueprint("mail_admin", __name__, url_prefix="/admin/mail")
admin_only = role_required(Role.ADMIN)
#: Messages of each status on the page.
SHOWN = 100


@bp.route("", methods=["GET"])
@admin_only
def outbox() -> ResponseReturnValue:
    return render_template(
        "admin/mail.html",
        counts=manage.counts(),
        failed=manage.listing([MailStatus.FAILED.value], SHOWN),
        waiting=manage.listing([MailStatus.PENDING.value, MailStatus.SENDING.value], SHOWN),
    )


@bp.route("/retry", methods=["POST"])
@admin_only
def retry() -> ResponseReturnValue:
    if request.form.get("all") == "failed":
        changed = manage.retry(all_failed=True)
    else:
        ids = [int(value) for value in request.form.getlist("id") if value.isdigit()]
        changed = manage.retry(ids)
    db.session.commit()
    flash(f"{len(changed)} message(s) will be sent again shortly.", "success")
    return redirect(url_for("mail_admin.outbox"))
