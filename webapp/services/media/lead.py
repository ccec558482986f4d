"""An article's lead image: set from an upload with its text alternative (required:
readers who do not see it get the alt text), removed, and read as what a page shows
(``LeadImage``: the sources for ``srcset``, the size, the alt text)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from webapp.errors import InvalidInput
from webapp.models import Article
from webapp.services.cache_purge import purge_article_after_commit
from webapp.services.media.images import ImageRefused, renditions
from webapp.services.media.storage import media_store
from webapp.text import clean_line

MAX_ALT = 300


@dataclass(frozen=True)
class LeadImage:
    #: (url, width) for each rendition, narrowest first.
    sources: list[tuple[str, int]]
    width: int
    height: int
    alt: str

    @property
    def src(self) -> str:
        """The middle width: what a browser without srcset loads."""
        return self.sources[len(self.sources) // 2][0]

    @property
    def largest(self) -> str:
        return self.sources[-1][0]

    @property
    def srcset(self) -> str:
        return ", ".join(f"{url} {width}w" for url, width in self.sources)


def _key(prefix: str, width: int) -> str:
    return f"{prefix}/{width}.jpg"


def lead_image(article: Article) -> LeadImage | None:
    if not article.lead_image_key or not article.lead_image_widths:
        return None
    store = media_store()
    widths = [int(w) for w in article.lead_image_widths.split(",") if w]
    return LeadImage(
        sources=[(store.url(_key(article.lead_image_key, w)), w) for w in widths],
        width=article.lead_image_width or widths[-1],
        height=article.lead_image_height or 0,
        alt=article.lead_image_alt or "",
    )


def clean_alt(alt: str | None) -> tuple[str, str | None]:
    text = clean_line(alt or "")
    if not text:
        return "", "required: describe the image for readers who cannot see it"
    if len(text) > MAX_ALT:
        return text, f"at most {MAX_ALT} characters"
    return text, None


def set_lead_image(article: Article, data: bytes, alt: str | None) -> None:
    """Resize and store the upload, and make it the article's lead image (the caller
    commits; the old renditions stay, as cached pages may still show them)."""
    text, problem = clean_alt(alt)
    if problem:
        raise InvalidInput("Please correct the marked fields.", fields={"lead_image_alt": problem})
    if len(data) > current_app.config["MEDIA_MAX_UPLOAD_BYTES"]:
        limit = current_app.config["MEDIA_MAX_UPLOAD_BYTES"] // (1024 * 1024)
        raise InvalidInput(
            "Please correct the marked fields.", fields={"lead_image": f"at most {limit} MB"}
        )
    try:
        name, made = renditions(data)
    except ImageRefused as refused:
        raise InvalidInput(
            "Please correct the marked fields.", fields={"lead_image": str(refused)}
        ) from refused
    prefix = f"articles/{name}"
    store = media_store()
    for rendition in made:
        store.put(_key(prefix, rendition.width), rendition.data, "image/jpeg")
    article.lead_image_key = prefix
    article.lead_image_widths = ",".join(str(r.width) for r in made)
    article.lead_image_width = made[-1].width
    article.lead_image_height = made[-1].height
    article.lead_image_alt = text
    if article.id is not None:
        purge_article_after_commit(article.id, lists=True)


def set_lead_image_alt(article: Article, alt: str | None) -> None:
    text, problem = clean_alt(alt)
    if problem:
        raise InvalidInput("Please correct the marked fields.", fields={"lead_image_alt": problem})
    if text != article.lead_image_alt:
        article.lead_image_alt = text
        purge_article_after_commit(article.id, lists=True)


def remove_lead_image(article: Article) -> None:
    article.lead_image_key = None
    article.lead_image_widths = None
    article.lead_image_width = None
    article.lead_image_height = None
    article.lead_image_alt = None
    if article.id is not None:
        purge_article_after_commit(article.id, lists=True)
