"""Mail notification pages (issue 21): the settings form and the unsubscribe link."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)

from webapp.notifications import routes  # noqa: E402,F401
