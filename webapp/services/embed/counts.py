"""Comment counts of a site's threads for the host's article lists."""

from __future__ import annotations

from sqlalchemy import select

from webapp.errors import InvalidInput
from webapp.extensions import db
from webapp.models import Article, ArticleStatus
from webapp.models.embed import EmbedSite, EmbedThread
from webapp.services.embed.threads import thread_key

MAX_THREADS = 50


def comment_counts(site: EmbedSite, keys: list[str]) -> dict[str, int]:
    """Published comments per thread key, as the host asked for them (a key with no
    thread counts 0); one query. InvalidInput beyond MAX_THREADS keys."""
    if len(keys) > MAX_THREADS:
        raise InvalidInput(
            f"Ask for at most {MAX_THREADS} threads at once.",
            fields={"threads": f"at most {MAX_THREADS}"},
        )
    stored: dict[str, str] = {}
    for asked in keys:
        try:
            stored[asked] = thread_key(site, key=asked)
        except InvalidInput as exc:
            raise InvalidInput(
                "A thread's key is not valid.", fields={"threads": f"{asked!r}: not valid"}
            ) from exc
        except Exception:  # a URL off the site's origins counts nothing
            stored[asked] = ""
    wanted = {key for key in stored.values() if key}
    found: dict[str, int] = {}
    if wanted:
        rows = db.session.execute(
            select(EmbedThread.key, Article.comment_count)
            .join(Article, Article.id == EmbedThread.article_id)
            .where(
                EmbedThread.site_id == site.id,
                EmbedThread.key.in_(wanted),
                # A draft's thread counts nothing: its comments are no one's to count yet.
                Article.status == ArticleStatus.PUBLISHED.value,
            )
        ).tuples()
        found = dict(rows.all())
    return {asked: found.get(key, 0) for asked, key in stored.items()}
