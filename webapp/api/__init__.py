"""The JSON API under /api/v1, as fixed by the contract."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from webapp.api import (  # noqa: E402,F401
    articles,
    auth,
    comments,
    docs,
    embed_counts,
    integrity,
    moderation,
    polls,
    sentiment,
    sides,
)
