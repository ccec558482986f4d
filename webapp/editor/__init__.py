from flask import Blueprint

bp = Blueprint("editor", __name__, url_prefix="/editor")

from webapp.editor import routes  # noqa: E402,F401
