"""Turning models into the contract's JSON shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from webapp.models import Article, Poll, User
from webapp.services import insights
from webapp.services import polls as poll_rules
from webapp.services.articles import ArticleLink, neighbours


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
    }


def comment_author_json(author: Any, deleted: bool) -> dict[str, Any]:
    """A comment's author (a User or a thread's AuthorView). ``role`` lets a client mark
    staff as the page does, from the account's role rather than its name; a deleted
    comment names nobody."""
    if deleted:
        return {"id": None, "display_name": "[deleted]", "role": None}
    return {"id": author.id, "display_name": author.display_name, "role": author.role}


def poll_json(poll: Poll, my_vote: int | None) -> dict[str, Any]:
    return {
        "id": poll.id,
        "question": poll.question,
        "options": [{"id": option.id, "label": option.label} for option in poll.options],
        "closes_at": iso(poll.closes_at),
        "closed": poll_rules.is_closed(poll),
        "results_visibility": poll.results_visibility,
        "allow_anonymous": poll.allow_anonymous,
        "my_vote": my_vote,
    }


def results_json(results: poll_rules.PollResults) -> dict[str, Any]:
    return {
        "total": results.total,
        "options": [
            {
                "id": o.id,
                "label": o.label,
                "votes": o.votes,
                "share": o.share,
                "ci_low": o.ci_low,
                "ci_high": o.ci_high,
            }
            for o in results.options
        ],
        "closed": results.closed,
    }


def tone_json(tone: insights.Tone) -> dict[str, Any]:
    return {
        "count": tone.count,
        "mean": tone.mean,
        "positive": tone.positive,
        "neutral": tone.neutral,
        "negative": tone.negative,
    }


def sentiment_json(found: insights.ArticleInsights) -> dict[str, Any]:
    """The contract's fields, plus ``no_vote``: the tone of comments whose authors did
    not vote in the poll (null when the article has no poll to vote in)."""
    has_poll = found.results is not None
    return {
        "poll": results_json(found.results) if found.results is not None else None,
        "comments": tone_json(found.comments),
        "by_vote": {
            str(option_id): tone_json(tone) for option_id, tone in found.by_vote.options.items()
        },
        "no_vote": tone_json(found.by_vote.no_vote) if has_poll else None,
        "timeline": [
            {
                "date": day.date,
                "votes": {str(option_id): n for option_id, n in day.votes.items()},
                "comments": day.comments,
                "mean": day.mean,
            }
            for day in found.timeline
        ],
    }


def _link(article: ArticleLink | None) -> dict[str, str] | None:
    return {"slug": article.slug, "title": article.title} if article else None


def article_json(article: Article, voter_key: str | None, *, full: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": article.id,
        "slug": article.slug,
        "title": article.title,
        "summary": article.summary,
        "labels": [label.name for label in article.labels],
        "status": article.status,
        "comments": article.comment_mode,
        "published_at": iso(article.published_at),
        "updated_at": iso(article.updated_at),
        "author": {"id": article.author.id, "display_name": article.author.display_name},
        "comment_count": article.comment_count,
        "url": f"/articles/{article.slug}",
    }
    if full:
        previous, following = neighbours(article)
        data.update(
            body=article.body, html=article.html, previous=_link(previous), next=_link(following)
        )
    poll = article.poll
    data["poll"] = poll_json(poll, poll_rules.my_vote(poll, voter_key)) if poll else None
    return data
