from flask import Blueprint

bp = Blueprint("public", __name__)

from webapp.public import comments, news, routes  # noqa: E402,F401
