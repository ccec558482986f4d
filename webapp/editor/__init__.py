"""The editors' pages: ``articles`` (the desk, writing and publishing), ``results``
(one article's figures and the overview of all) and ``exports`` (their CSV files)."""

from flask import Blueprint

bp = Blueprint("editor", __name__, url_prefix="/editor")

from webapp.editor import articles, exports, results  # noqa: E402,F401
