"""What the frame's responses carry: which origins may frame them, the pop-up's
opener kept, and which requests are the frame's (their session cookie is partitioned).

Views call these; they read no request themselves (the caller passes the path)."""

from __future__ import annotations

from werkzeug.wrappers import Response

from webapp.hardening import CONTENT_SECURITY_POLICY
from webapp.models.embed import EmbedSite

#: The URL prefix of every page and action that runs inside a host's frame.
FRAME_PREFIX = "/embed/"


#: Pages under the prefix that are Pulse's own, top-level, never in a frame: the sign-in
#: pop-up, the script and the no-script link. A session they wrote must stay the
#: first-party one (a partitioned twin under Pulse's own site would be a second cookie).
FIRST_PARTY_PATHS = ("/embed/v1/popup", "/embed/v1/embed.js", "/embed/v1/link")


def is_frame_path(path: str) -> bool:
    """Whether a request for ``path`` comes from (or makes) the embedded frame: its
    session cookie is then SameSite=None, Secure and Partitioned (CHIPS)."""
    return path.startswith(FRAME_PREFIX) and not path.startswith(FIRST_PARTY_PATHS)


def frame_policy(site: EmbedSite) -> str:
    """Pulse's Content-Security-Policy with ``frame-ancestors`` naming the site's
    origins instead of 'none' (an empty list still frames nowhere)."""
    ancestors = " ".join(site.origins) or "'none'"
    return CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")


def frame_headers(response: Response, site: EmbedSite) -> Response:
    """Let ``site``'s pages frame this response, and no one else: CSP frame-ancestors
    with its origins, and no X-Frame-Options (webapp.hardening then adds none: DENY
    would overrule the list in browsers that read both)."""
    response.headers["Content-Security-Policy"] = frame_policy(site)
    response.headers.pop("X-Frame-Options", None)
    response.vary.add("Origin")
    return response


def popup_headers(response: Response) -> Response:
    """Keep the pop-up's opener (the frame): ``Cross-Origin-Opener-Policy: unsafe-none``
    instead of same-origin, so it can postMessage the sign-in code back. Every page
    the pop-up shows needs it: one same-origin page on the way severs the opener for
    good. It still cannot be framed (hardening's DENY stays)."""
    response.headers["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response
