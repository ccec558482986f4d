"""Extensions are created unbound here and bound in ``create_app``."""

from __future__ import annotations

from flask import current_app, request
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import csrf as flask_wtf_csrf

from webapp.models.base import Base


def client_address() -> str:
    """The client's address as seen after ProxyFix (set up in the factory)."""
    return request.remote_addr or "unknown"


class CSRFProtect(flask_wtf_csrf.CSRFProtect):
    """Flask-WTF's CSRF protection; a JSON request's token is read from its header
    without first asking Werkzeug for form fields.

    A JSON body has no form fields, but looking for the token in them (Flask-WTF's
    first place) sets up form parsing for the request: a cost on every API write,
    the busiest being an anonymous reader's vote. Forms still go through Flask-WTF
    unchanged, and every token is still checked by Flask-WTF (``validate_csrf``).
    """

    def _get_csrf_token(self) -> str | None:
        if not request.is_json:
            return super()._get_csrf_token()
        for header_name in current_app.config["WTF_CSRF_HEADERS"]:
            token = request.headers.get(header_name)
            if token:
                return token
        return None


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=client_address)
