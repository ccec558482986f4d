"""/articles/{slug}/poll/integrity: a poll's integrity report, and editors' decisions on
its groups of votes (issue 16).

Editors, admins and moderators read the report; editors and admins decide. The
report comes from the options' tallies and the groups table (``integrity_report``), so
it costs the same for ten votes or a million. A decision is one transaction: the
group's status, its votes' ``set_aside_at``, the tallies the triggers keep, the audit
entry; the cached results are dropped after the commit so no answer shows a vote that
was just set aside.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from webapp.api import bp
from webapp.api.common import json_object, viewer
from webapp.api.serializers import iso, results_json
from webapp.errors import NotFound
from webapp.extensions import db
from webapp.models import Article, IntegrityGroup, Poll, Role, User
from webapp.security import role_required, signed_in_user
from webapp.services import integrity
from webapp.services import polls as poll_rules
from webapp.services.accounts import ensure_can_write
from webapp.services.articles import can_see_drafts

readers_of_integrity = role_required(Role.EDITOR, Role.MODERATOR)
deciders = role_required(Role.EDITOR)


def article_poll(slug: str, who: User | None) -> tuple[Article, Poll]:
    """The article at ``slug`` and its poll: 404 as for the article itself (unknown, or
    a draft this viewer may not see), and 404 when it has no poll."""
    article = db.session.scalar(select(Article).where(Article.slug == slug))
    if article is None or (not article.is_published and not can_see_drafts(who)):
        raise NotFound("No published article has this address.")
    if article.poll is None:
        raise NotFound("This article has no poll.")
    return article, article.poll


def group_json(group: IntegrityGroup) -> dict[str, Any]:
    """A group as the contract writes it, plus what an editor checks it by: its kind,
    the test's z, whether the pass set it aside by itself, and the last decision."""
    return {
        "id": str(group.id),
        "status": group.status,
        "reason": group.reason,
        "signals": list(group.signals or []),
        "votes": group.votes,
        "by_option": {str(key): value for key, value in (group.by_option or {}).items()},
        "first_at": iso(group.first_at),
        "last_at": iso(group.last_at),
        "kind": group.kind,
        "z_score": group.z_score,
        "automatic": group.automatic,
        "decided_at": iso(group.decided_at),
        "decision_reason": group.decision_reason,
    }


def report_json(report: integrity.IntegrityReport) -> dict[str, Any]:
    return {
        "total": report.total,
        "counted": report.counted,
        "set_aside": report.set_aside,
        "groups": [group_json(group) for group in report.groups],
        "clean": results_json(report.clean),
        "raw": results_json(report.raw),
        "scanned_at": iso(report.scanned_at),
        "under_attack_since": iso(report.under_attack_since),
    }


@bp.get("/articles/<slug>/poll/integrity")
@readers_of_integrity
def get_integrity(slug: str) -> ResponseReturnValue:
    _, poll = article_poll(slug, viewer())
    return jsonify(report_json(integrity.integrity_report(poll)))


@bp.post("/articles/<slug>/poll/integrity/groups/<int:group_id>")
@deciders
def decide_integrity_group(slug: str, group_id: int) -> ResponseReturnValue:
    editor = signed_in_user()
    ensure_can_write(editor)
    payload = json_object()
    _, poll = article_poll(slug, editor)
    group = integrity.decide(group_id, poll.id, payload["action"], editor, payload.get("reason"))
    db.session.commit()
    poll_rules.forget_cached(slug)
    return jsonify(group_json(group))
