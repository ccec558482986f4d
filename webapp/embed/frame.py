"""What a frame is showing (the site, the thread, the host page's origin and scheme) and
how the article page's partials are rendered inside it.

A frame's address carries everything it needs again after each form
(``/embed/v1/thread?site=..&thread=..&origin=..``): every form in the frame posts to a
frame door with the same query, and comes back to the frame with it
(post/redirect/get), never to Pulse's own article page, which refuses to be framed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request, url_for

from webapp.services.embed import normalise_origin

#: The query parameters a frame's address carries, in the order its URLs are built.
FRAME_PARAMETERS = ("site", "thread", "url", "title", "origin", "scheme")
SCHEMES = ("light", "dark")
#: Longer values are not a host page's: refused before any look-up.
MAX_PARAMETER = 2000


@dataclass(frozen=True)
class FrameAddress:
    """The frame's query, as the host page's script wrote it (checked by ``open_frame``)."""

    site: str
    thread: str | None
    url: str | None
    title: str | None
    origin: str
    scheme: str

    def query(self) -> dict[str, Any]:
        """The frame's query again, for a URL that comes back to the same frame."""
        values = {
            "site": self.site,
            "thread": self.thread,
            "url": self.url,
            "title": self.title,
            "origin": self.origin,
            "scheme": self.scheme if self.scheme != "light" else None,
        }
        return {name: value for name, value in values.items() if value}


def read_frame_address() -> FrameAddress:
    """The frame's address from this request's query (a form's action keeps it)."""
    args = request.args

    def value(name: str) -> str | None:
        raw = (args.get(name) or "").strip()
        return raw[:MAX_PARAMETER] or None

    scheme = value("scheme") or "light"
    return FrameAddress(
        site=value("site") or "",
        thread=value("thread"),
        url=value("url"),
        title=value("title"),
        origin=_origin_or_empty(value("origin") or ""),
        scheme=scheme if scheme in SCHEMES else "light",
    )


def _origin_or_empty(raw: str) -> str:
    """The host page's origin, normalised as the sites' are (so the two compare), or
    "" for anything that is not an origin."""
    try:
        return normalise_origin(raw)
    except ValueError:
        return ""


#: The article page's doors, and the frame's door doing the same thing.
_FRAME_DOORS = {
    "public.vote": "embed.vote",
    "public.withdraw_vote": "embed.withdraw_vote",
    "public.post_comment": "embed.post_comment",
    "public.edit_comment": "embed.edit_comment",
    "public.delete_comment": "embed.delete_comment",
    "public.undo_delete": "embed.undo_delete",
    "public.react": "embed.react",
    "public.report": "embed.report",
}
#: Links to Pulse's sign-in pages: inside the frame they open the pop-up instead.
_SIGN_IN = ("auth.login", "auth.register")


def frame_url_for(address: FrameAddress) -> Callable[..., str]:
    """``url_for`` for the article page's partials rendered in the frame
    (templates/public/_poll.html, _comments.html): their forms post to the frame's
    doors, their sort and paging links stay in the frame, a comment's link points at it
    in the frame, and their sign-in links go to the frame's sign-in page (the pop-up).
    Every other endpoint is Flask's own ``url_for``. Passed to those templates as
    ``url_for``, so they need no change and Pulse's own pages stay as they are."""
    query = address.query()

    def build(endpoint: str, **values: Any) -> str:
        anchor = values.pop("_anchor", None)
        if endpoint in _FRAME_DOORS:
            values.pop("slug", None)  # the frame's query names the thread
            return url_for(_FRAME_DOORS[endpoint], **values, **query, _anchor=anchor)
        if endpoint == "public.article":
            values.pop("slug", None)
            return url_for("embed.thread", **values, **query, _anchor=anchor)
        if endpoint == "public.comment_permalink":
            comment_id = values.pop("comment_id")
            return url_for("embed.thread", **query, _anchor=f"comment-{comment_id}")
        if endpoint in _SIGN_IN:
            return url_for("embed.sign_in", **query)
        return url_for(endpoint, **values, _anchor=anchor)

    return build
