"""The frame host pages embed (issue 22): the poll and the conversation of one thread in
an iframe, the script that makes that iframe (``/embed/v1/embed.js``), and the frame's
own doors for its forms and its sign-in (pop-up code or the host's token).

Every frame page answers only for a registered site and one of its origins; the rules
(sites, threads, tokens, codes) are ``webapp.services.embed``'s.
"""

from flask import Blueprint

bp = Blueprint("embed", __name__, url_prefix="/embed")

from webapp.embed import routes  # noqa: E402,F401
