"""GET /embed/counts: comment counts of an embedding site's threads, for the comment
count widget in the host's article lists (issue 22).

Read by the host page's script from another origin, so the answer says who may read it:
``Access-Control-Allow-Origin`` names the asking origin only when it is one of the
site's, and ``Vary: Origin`` keeps caches from handing one origin's answer to another.
No credentials: counts are the same for everyone.
"""

from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from webapp.api import bp
from webapp.errors import InvalidInput
from webapp.services import embed

#: Counts move with every comment; a host's list may show them half a minute late.
COUNTS_MAX_AGE = 30


@bp.get("/embed/counts")
def embed_counts() -> ResponseReturnValue:
    site = embed.get_site(request.args.get("site", ""))
    raw = request.args.get("threads", "")
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if not keys:
        raise InvalidInput("Name the threads to count.", fields={"threads": "required"})
    response = jsonify({"counts": embed.comment_counts(site, keys)})
    origin = request.headers.get("Origin")
    if embed.allows_origin(site, origin):
        response.headers["Access-Control-Allow-Origin"] = str(origin)
    response.vary.add("Origin")
    response.headers["Cache-Control"] = f"public, max-age={COUNTS_MAX_AGE}"
    return response
