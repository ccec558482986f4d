"""A news site's basics for readers (issue 19): topics (labels) with a page and a feed
each, site search, the web manifest, and the links a page gives to itself and for
sharing (canonical address, Open Graph and Twitter cards, share links).

Every absolute link comes from ``PUBLIC_URL`` (``site_address.absolute_url``), never
from the request's Host header. Share links are plain addresses of the networks'
share pages and a ``mailto:``: no third-party script, nothing loaded before a reader
clicks.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from flask import abort, current_app, render_template, request, send_from_directory, url_for
from flask.typing import ResponseReturnValue

from webapp.http_cache import ARTICLES_KEY, add_surrogate_keys
from webapp.models import Article
from webapp.public import bp
from webapp.services import articles, media
from webapp.services import search as site_search
from webapp.services.media.storage import IMMUTABLE, LocalStore
from webapp.site_address import absolute_url
from webapp.text import xml_safe

#: The theme colour of the manifest and the browser's bar: the masthead's accent.
THEME_COLOUR = "#9b1c1c"
PAPER_COLOUR = "#fffdf9"


@bp.app_template_global()
def canonical_url(endpoint: str, **values: Any) -> str:
    """The one address of a page, from PUBLIC_URL (a first page without ``?page=1``)."""
    if values.get("page") == 1:
        values.pop("page")
    return absolute_url(endpoint, **{k: v for k, v in values.items() if v is not None})


@bp.app_template_global()
def share_links(article: Article) -> list[tuple[str, str]]:
    """(network, address) for sharing ``article``: each network's own share page, which
    the reader's browser opens only when they click, and an e-mail."""
    address = absolute_url("public.article", slug=article.slug)
    title = article.title
    post = urlencode({"text": f"{title} {address}"})
    return [
        ("Bluesky", "https://bsky.app/intent/compose?" + post),
        (
            "Mastodon",
            "https://share.joinmastodon.org/?" + post,
        ),
        ("X", "https://x.com/intent/post?" + urlencode({"url": address, "text": title})),
        ("Facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": address})),
        (
            "LinkedIn",
            "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": address}),
        ),
        (
            "E-mail",
            f"mailto:?subject={quote(title, safe='')}&body={quote(address, safe='')}",
        ),
    ]


@bp.app_template_global()
def lead_image_of(article: Article) -> media.LeadImage | None:
    """The article's lead image as its pages show it (srcset, size, alt), or None."""
    return media.lead_image(article)


@bp.app_template_global()
def lead_image_meta(article: Article) -> dict[str, Any] | None:
    """The lead image for link previews (Open Graph, Twitter): its largest rendition's
    absolute address and size."""
    lead = media.lead_image(article)
    if lead is None:
        return None
    return {
        "url": absolute_media_url(lead.largest),
        "width": lead.width,
        "height": lead.height,
        "alt": lead.alt,
    }


@bp.app_template_global()
def absolute_media_url(address: str) -> str:
    """An image's address for other sites (Open Graph): a path on this site gets the
    site's address from PUBLIC_URL; a store's address is absolute already."""
    if address.startswith("/"):
        return absolute_url("public.home").rstrip("/") + address
    return address


@bp.get("/media/<path:key>")
def media_file(key: str) -> ResponseReturnValue:
    """A lead image's rendition from the local store (named after its content, so it
    never changes: cached for a year). With S3, readers load them from the store."""
    store = media.media_store()
    if not isinstance(store, LocalStore) or not key.endswith(".jpg"):
        abort(404)
    response = send_from_directory(store.root, key, mimetype="image/jpeg")
    response.headers["Cache-Control"] = IMMUTABLE
    return response


@bp.get("/manifest.webmanifest")
def web_manifest() -> ResponseReturnValue:
    """The web app manifest: the site's name, colours and icons for a home screen."""
    name = current_app.config["SITE_NAME"]

    def icon(filename: str, size: int, purpose: str = "any") -> dict[str, str]:
        return {
            "src": url_for("static", filename=filename),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": purpose,
        }

    manifest = {
        "name": name,
        "short_name": name[:12],
        "start_url": url_for("public.home"),
        "scope": url_for("public.home"),
        "display": "browser",
        "background_color": PAPER_COLOUR,
        "theme_color": THEME_COLOUR,
        "icons": [
            {
                "src": url_for("static", filename="favicon.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
            },
            icon("icon-192.png", 192),
            icon("icon-512.png", 512),
            icon("icon-maskable-512.png", 512, "maskable"),
        ],
    }
    return current_app.response_class(
        json.dumps(manifest, indent=1), mimetype="application/manifest+json"
    )


@bp.get("/topics")
def topics() -> ResponseReturnValue:
    add_surrogate_keys(ARTICLES_KEY)
    return render_template("public/topics.html", topics=articles.topics())


@bp.get("/labels/<slug>/feed.atom")
def topic_feed(slug: str) -> ResponseReturnValue:
    """A topic's Atom feed: its 20 newest articles."""
    found = articles.label_by_slug(slug)
    rows, _ = articles.list_published(20, None, slug)
    add_surrogate_keys(ARTICLES_KEY)
    site = current_app.config["SITE_NAME"]
    body = render_template(
        "public/feed.xml",
        articles=rows,
        updated=max((a.updated_at for a in rows), default=None),
        absolute_url=absolute_url,
        feed_title=f"{found.name} · {site}",
        alternate_url=absolute_url("public.label", slug=slug),
        self_url=absolute_url("public.topic_feed", slug=slug),
    )
    return current_app.response_class(xml_safe(body), mimetype="application/atom+xml")


@bp.get("/search")
def search() -> ResponseReturnValue:
    """Search results for ``q``: a GET form, so it works without script and its
    results have an address to share; the same for every reader, so cacheable."""
    query = request.args.get("q", "")[: site_search.MAX_QUERY_LENGTH]
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 1
    results = site_search.search(query, page) if query.strip() else None
    add_surrogate_keys(ARTICLES_KEY)
    return render_template("public/search.html", query=query, results=results, page=page)
