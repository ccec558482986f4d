"""The editors' pages: ``articles`` (the desk, writing and publishing), ``results``
(one article's figures and the overview of all), ``exports`` (their CSV files) and
``topic_words`` (the site-wide words a comment's tone counts as no opinion)."""

from flask import Blueprint

bp = Blueprint("editor", __name__, url_prefix="/editor")

from webapp.editor import articles, exports, results, topic_words  # noqa: E402,F401
