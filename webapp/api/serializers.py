"""Turning models into the contract's JSON shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from webapp.models import (
    Article,
    Comment,
    ModerationAction,
    ModerationTerm,
    Poll,
    User,
    utcnow,
)
from webapp.services import insights
from webapp.services import polls as poll_rules
from webapp.services.articles import ArticleLink, Neighbours
from webapp.services.articles.list_page import ListedPoll, ListedRow
from webapp.services.comments import AuthorView, CommentNode, CommentView
from webapp.services.moderation import QueueItem


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
    }


def comment_author_json(author: User | AuthorView, deleted: bool) -> dict[str, Any]:
    """A comment's author (a User or a thread's AuthorView). ``role`` lets a client mark
    staff as the page does, from the account's role rather than its name; a deleted
    comment names nobody."""
    if deleted:
        return {"id": None, "display_name": "[deleted]", "role": None}
    return {"id": author.id, "display_name": author.display_name, "role": author.role}


def comment_json(comment: Comment | CommentView, author: User | AuthorView) -> dict[str, Any]:
    """A comment as lists show it (a stored Comment, or a thread's CommentView), with
    its ``author`` as read by the caller: nothing here loads a relationship."""
    deleted = comment.deleted_at is not None
    return {
        "id": comment.id,
        "parent_id": comment.in_reply_to_id or comment.parent_id,
        "thread_parent_id": comment.parent_id,
        "author": comment_author_json(author, deleted),
        "html": comment.html,
        "created_at": iso(comment.created_at),
        "edited_at": iso(comment.edited_at),
        "featured": comment.featured_at is not None,
        "score": comment.score,
        "status": comment.status,
        "deleted": deleted,
        "in_reply_to": None,
    }


def node_json(node: CommentNode) -> dict[str, Any]:
    """A comment of a thread with its replies, and what this reader may do with it."""
    data = comment_json(node.comment, node.comment.author)
    data.update(
        author_vote=node.author_vote,
        my_reaction=node.my_reaction,
        can_edit=node.can_edit_until is not None,
        # In [0, 1]: above 0 when readers of two or more poll answers approve (issue 20).
        common_ground=node.comment.common_ground,
        replies=[node_json(reply) for reply in node.replies],
    )
    if node.in_reply_to is not None:
        data["parent_id"] = node.in_reply_to[0]
        data["in_reply_to"] = {"id": node.in_reply_to[0], "display_name": node.in_reply_to[1]}
    return data


def poll_json(poll: poll_rules.AnyPoll | ListedPoll, my_vote: int | None) -> dict[str, Any]:
    """A poll as read (a PollState, a Poll with its options loaded, or a list's
    ListedPoll) and the reader's vote in it; ``closed`` is the poll's own dates against
    the clock (``polls.is_closed``), no query."""
    return {
        "id": poll.id,
        "question": poll.question,
        "options": [{"id": option.id, "label": option.label} for option in poll.options],
        "closes_at": iso(poll.closes_at),
        "closed": poll.is_closed_at(utcnow()),
        "results_visibility": poll.results_visibility,
        "allow_anonymous": poll.allow_anonymous,
        "my_vote": my_vote,
    }


def results_json(results: poll_rules.PollResults) -> dict[str, Any]:
    """The contract's results: counted votes only (``total`` too), with how many were
    set aside by the integrity checks and the methodology a reader is told. The
    shares are there whatever ``shares_shown`` says; a page leaves them out below the
    minimum of counted votes."""
    methodology = results.methodology
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
        "set_aside": results.set_aside,
        "methodology": {
            "counted": methodology.counted,
            "signed_in_share": methodology.signed_in_share,
            "margin_of_error": methodology.margin_of_error,
            "shares_shown": methodology.shares_shown,
        },
    }


def tone_json(tone: insights.Tone, suppressed: bool | None = None) -> dict[str, Any]:
    """The contract's fields, plus ``interval`` (the mean's 95 % interval, null below
    two scored comments) and, for a poll answer's group, ``suppressed``: too few
    comments for the pages to show its tone (``SENTIMENT_MIN_GROUP_COMMENTS``)."""
    body: dict[str, Any] = {
        "count": tone.count,
        "mean": tone.mean,
        "positive": tone.positive,
        "neutral": tone.neutral,
        "negative": tone.negative,
        "interval": list(tone.interval) if tone.interval is not None else None,
    }
    if suppressed is not None:
        body["suppressed"] = suppressed
    return body


def sentiment_json(found: insights.ArticleInsights) -> dict[str, Any]:
    """The contract's fields, plus ``no_vote``: the tone of comments whose authors did
    not vote in the poll (null when the article has no poll to vote in)."""
    has_poll = found.results is not None
    return {
        "poll": results_json(found.results) if found.results is not None else None,
        "comments": tone_json(found.comments),
        "by_vote": {
            str(option_id): tone_json(tone, found.suppressed(tone))
            for option_id, tone in found.by_vote.options.items()
        },
        "no_vote": (
            tone_json(found.by_vote.no_vote, found.suppressed(found.by_vote.no_vote))
            if has_poll
            else None
        ),
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


def article_json(
    article: Article, neighbours: Neighbours, poll: Poll | None, my_vote: int | None
) -> dict[str, Any]:
    """An article with its body, its neighbours' links and its poll. Built from what
    was read before, never querying: ``article`` with its author, labels and poll's
    options loaded (``articles.get_article``/``list_published`` load them), its
    ``neighbours`` (``articles.neighbours``), and the reader's vote in the poll."""
    previous, following = neighbours
    return {
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
        "body": article.body,
        "html": article.html,
        "previous": _link(previous),
        "next": _link(following),
        "poll": poll_json(poll, my_vote) if poll else None,
    }


def listed_article_json(row: ListedRow) -> dict[str, Any]:
    """An article of the API's list, read as a row (``list_page.published_page``): the
    same object ``article_json`` makes of the article on its own."""
    previous, following = row.neighbours
    return {
        "id": row.id,
        "slug": row.slug,
        "title": row.title,
        "summary": row.summary,
        "labels": row.labels,
        "status": row.status,
        "comments": row.comment_mode,
        "published_at": iso(row.published_at),
        "updated_at": iso(row.updated_at),
        "author": {"id": row.author_id, "display_name": row.author_name},
        "comment_count": row.comment_count,
        "url": f"/articles/{row.slug}",
        "body": row.body,
        "html": row.html,
        "previous": _link(previous),
        "next": _link(following),
        "poll": poll_json(row.poll, row.my_vote) if row.poll else None,
    }


# --- moderation ---------------------------------------------------------------------


def queue_item_json(item: QueueItem) -> dict[str, Any]:
    """A comment in a moderation queue with what the moderator decides on, from the
    item ``moderation.queue``/``queue_items`` loaded (nothing here reads the database)."""
    comment = item.comment
    data = comment_json(comment, comment.author)
    data.update(
        body=comment.body,
        article={"slug": item.article.slug, "title": item.article.title},
        flags=[{"reason": reason, "count": count} for reason, count in item.flags],
        flag_count=comment.flag_count,
        open_reports=item.open_reports,
        report_notes=[{"reason": reason, "note": note} for reason, note in item.notes],
        reasons_held=list(comment.reasons_held or []),
        toxicity=comment.toxicity,
        sentiment=comment.sentiment,
        sentiment_label=comment.sentiment_label,
        rejection_reason=comment.rejection_reason,
        reported_at=iso(comment.reported_at),
        moderated_at=iso(comment.moderated_at),
        parent=None
        if item.parent is None
        else {
            "id": item.parent.id,
            "author": item.parent.author.display_name,
            "html": item.parent.html,
        },
        author_history={
            "comments": item.author.comments,
            "published": item.author.published,
            "rejected": item.author.rejected,
            "flags_received": item.author.flags_received,
            "joined_at": iso(item.author.joined_at),
            "account_age_days": item.author.account_age_days(),
            "banned": item.author.banned,
        },
    )
    return data


def action_json(entry: ModerationAction) -> dict[str, Any]:
    """A moderation log entry; its actor and target user loaded (``moderation.audit_log``)."""
    return {
        "id": entry.id,
        "action": entry.action,
        "moderator": {"id": entry.actor.id, "display_name": entry.actor.display_name},
        "comment_id": entry.comment_id,
        "user": None
        if entry.target_user is None
        else {"id": entry.target_user.id, "display_name": entry.target_user.display_name},
        "reason": entry.reason,
        "details": entry.details,
        "created_at": iso(entry.created_at),
    }


def banned_user_json(user: User) -> dict[str, Any]:
    return {
        **user_json(user),
        "banned": user.banned_at is not None,
        "banned_at": iso(user.banned_at),
        "banned_until": iso(user.banned_until),
        "ban_reason": user.ban_reason,
    }


def term_json(term: ModerationTerm) -> dict[str, Any]:
    return {"id": term.id, "term": term.term, "kind": term.kind}
