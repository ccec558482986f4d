"""Results pages: one article's poll and comment tone, its integrity panel, and every
article at a glance.

"Minds changed" (issue 20): how many readers moved from each answer to each other one,
from the vote history (webapp/services/polls/minds_changed.py), as a flow chart, a
table of the same numbers, a table per day and a CSV file.

The integrity panel (issue 16) sits on the results page for editors and admins, with
a form per group of votes to set it aside, restore or clear it; moderators read the
same panel, without the forms, on its own page (linked from the audit log's entries).
The forms are plain HTML posts with the CSRF token: they work without JavaScript and
come back to the panel's anchor with a flash message (post/redirect/get).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from webapp.charts import FlowChart, flow_chart
from webapp.editor import bp, figures
from webapp.editor.common import (
    article_or_404,
    overview_after,
    overview_cursor,
    overview_order,
    poll_or_404,
    trend_before,
    trend_cursor,
    trend_query,
)
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.models import IntegrityGroup, Poll, Role
from webapp.security import role_required, signed_in_user
from webapp.services import articles, insights, integrity, polls
from webapp.services.comments import sides as side_rules
from webapp.services.insights import accuracy, corrections
from webapp.services.moderation import MAX_REASON
from webapp.services.polls.minds_changed import MindsChanged, minds_changed

#: Articles on a page of the overview.
OVERVIEW_PAGE = 50


@bp.get("/articles/<int:article_id>/results")
@role_required(Role.EDITOR)
def results(article_id: int) -> ResponseReturnValue:
    """The poll, the comments' tone and the two together; works without a poll too."""
    article = article_or_404(article_id)
    poll = article.poll
    days = polls.timeline(poll) if poll is not None else []
    found = insights.for_article(article)
    most_positive, most_negative = insights.examples(article.id)
    changed = minds_changed(poll) if poll is not None else None
    return render_template(
        "editor/results.html",
        article=article,
        poll=poll,
        results=found.results,
        days=days,
        chart=figures.vote_shares(poll, days),
        insights=found,
        tone_charts=figures.tone_charts(poll, found),
        tone_text=figures.tone_text,
        by_vote_rows=[(o.label, found.by_vote.options[o.id]) for o in poll.options]
        + [("Did not vote", found.by_vote.no_vote)]
        if poll is not None
        else [],
        trust=accuracy.for_analyser(),
        can_correct=corrections.can_correct(signed_in_user()),
        panel=integrity_panel(poll, can_decide=True) if poll is not None else None,
        changed=changed,
        sides=side_rules.for_editor(article, signed_in_user()),
        flow=flow_of(changed) if changed is not None else None,
        labels=insights.LABELS,
        mean_label=insights.label_for(found.comments.mean),
        neutral_from=figures.signed_text(insights.NEGATIVE_THRESHOLD),
        neutral_to=figures.signed_text(insights.POSITIVE_THRESHOLD),
        examples=[
            ("Most positive", most_positive, insights.POSITIVE),
            ("Most negative", most_negative, insights.NEGATIVE),
        ],
    )


@bp.get("/overview")
@role_required(Role.EDITOR)
def overview() -> ResponseReturnValue:
    """Every article at a glance, a page at a time, and one poll option followed
    across a label."""
    sort, wanted = overview_order()
    direction = insights.resolve_order(sort, wanted)
    after = overview_after(sort, direction)
    table = insights.overview(sort, direction, after, OVERVIEW_PAGE)
    labels = insights.poll_labels()
    label, option = trend_query()
    label_name = dict(labels).get(label)
    choices: list[str] = []
    trend = insights.TrendPage(points=[], earlier_key=None)
    before = trend_before(label, option)
    if label_name:
        choices = insights.option_choices(label)
        if option:
            trend = insights.recent_trend(label, option, before=before)
    return render_template(
        "editor/overview.html",
        table=table,
        mean_text=figures.mean_text,
        trust=accuracy.for_analyser(),
        next_cursor=overview_cursor(table),
        later_page=after is not None,
        labels=labels,
        label=label,
        label_name=label_name,
        option=option,
        option_max=articles.MAX_OPTION,
        choices=choices,
        trend=trend.points,
        trend_chart=figures.trend(trend.points, label_name or ""),
        trend_earlier=trend_cursor(label, option, trend),
        trend_later_page=before is not None,
        trend_points=insights.TREND_POINTS,
    )


# --- minds changed -------------------------------------------------------------------


def _moves(count: int) -> str:
    return f"{count:,} move{'' if count == 1 else 's'}"


def flow_of(changed: MindsChanged) -> FlowChart | None:
    """The moves as a flow chart, answers before on the left and after on the right;
    None when nobody moved (the page says so; withdrawals alone are in the table)."""
    if not changed.moves:
        return None
    place = {option_id: index for index, (option_id, _) in enumerate(changed.options)}
    return flow_chart(
        "Readers who changed their answer: from the answer on the left to the one on the right",
        [label for _, label in changed.options],
        [(place[source], place[target], count) for source, target, count in changed.pairs()],
        left_heading="Answered first",
        right_heading="Changed to",
        left_text=lambda count: f"{_moves(count)} away",
        right_text=lambda count: f"{_moves(count)} in",
    )


# --- the integrity panel -------------------------------------------------------------

#: What each decision's button says, and what the flash says once it is done.
DECISIONS: dict[str, tuple[str, str]] = {
    "set_aside": ("Set aside", "set aside: its votes no longer count in the public results"),
    "restore": ("Restore", "restored: its votes count again"),
    "clear": ("Clear as honest", "cleared as honest"),
}
STATUS_NAMES = {"suspect": "Suspect", "set_aside": "Set aside", "cleared": "Cleared"}
KIND_NAMES = {
    "address": "One address",
    "network": "One network",
    "fresh_cookies": "Fresh-cookie burst",
    "account_cohort": "Account cohort",
    "rate_burst": "Rate burst",
}


@dataclass(frozen=True)
class GroupAnswer:
    label: str
    votes: int
    share: float  # of the group's votes


@dataclass(frozen=True)
class GroupRow:
    group: IntegrityGroup
    kind: str
    status: str
    answers: list[GroupAnswer]
    #: The decisions this group can take now: (action, button text).
    actions: list[tuple[str, str]]


@dataclass(frozen=True)
class CompareRow:
    label: str
    counted: int
    counted_share: float
    stored: int
    stored_share: float

    @property
    def shift(self) -> float:
        """How many points the set-aside votes would move this answer, if counted."""
        return (self.stored_share - self.counted_share) * 100


@dataclass(frozen=True)
class IntegrityPanel:
    report: integrity.IntegrityReport
    groups: list[GroupRow]
    compare: list[CompareRow]
    chart: Any
    can_decide: bool
    max_reason: int


def _actions(status: str) -> list[tuple[str, str]]:
    if status == "set_aside":
        wanted = ["restore"]
    elif status == "cleared":
        wanted = ["set_aside"]
    else:
        wanted = ["set_aside", "clear"]
    return [(action, DECISIONS[action][0]) for action in wanted]


def integrity_panel(poll: Poll, *, can_decide: bool) -> IntegrityPanel:
    """The panel's figures: the report, each group's answers by label, and the results
    with and without the set-aside votes, option by option."""
    report = integrity.integrity_report(poll)
    labels = {option.id: option.label for option in poll.options}
    rows = []
    for group in report.groups:
        by_option = {int(key): value for key, value in (group.by_option or {}).items()}
        answers = [
            GroupAnswer(label, by_option[option_id], by_option[option_id] / group.votes)
            for option_id, label in labels.items()
            if group.votes and by_option.get(option_id)
        ]
        answers.sort(key=lambda answer: answer.votes, reverse=True)
        rows.append(
            GroupRow(
                group=group,
                kind=KIND_NAMES.get(group.kind, group.kind),
                status=STATUS_NAMES.get(group.status, group.status),
                answers=answers,
                actions=_actions(group.status) if can_decide else [],
            )
        )
    raw = {option.id: option for option in report.raw.options}
    compare = [
        CompareRow(
            option.label,
            option.votes,
            option.share,
            raw[option.id].votes if option.id in raw else option.votes,
            raw[option.id].share if option.id in raw else option.share,
        )
        for option in report.clean.options
    ]
    return IntegrityPanel(
        report=report,
        groups=rows,
        compare=compare,
        chart=figures.with_and_without(compare),
        can_decide=can_decide,
        max_reason=MAX_REASON,
    )


@bp.get("/articles/<int:article_id>/integrity")
@role_required(Role.EDITOR, Role.MODERATOR)
def integrity_page(article_id: int) -> ResponseReturnValue:
    """The integrity panel on its own: moderators read it (no forms); editors and
    admins can decide here too."""
    article = article_or_404(article_id)
    poll = poll_or_404(article)
    can_decide = signed_in_user().has_role(Role.EDITOR)
    return render_template(
        "editor/integrity.html",
        article=article,
        poll=poll,
        panel=integrity_panel(poll, can_decide=can_decide),
    )


def _back_to_panel(article_id: int) -> ResponseReturnValue:
    if request.form.get("back") == "integrity":
        target = url_for("editor.integrity_page", article_id=article_id, _anchor="integrity-title")
    else:
        target = url_for("editor.results", article_id=article_id, _anchor="integrity-title")
    return redirect(target)


@bp.post("/articles/<int:article_id>/integrity/groups/<int:group_id>")
@role_required(Role.EDITOR)
def decide_group(article_id: int, group_id: int) -> ResponseReturnValue:
    """Set aside, restore or clear one group of votes, then back to the panel."""
    article = article_or_404(article_id)
    poll = poll_or_404(article)
    action = request.form.get("action", "")
    reason = (request.form.get("reason") or "").strip()[:MAX_REASON] or None
    try:
        group = integrity.decide(group_id, poll.id, action, signed_in_user(), reason)
    except DomainError as error:
        db.session.rollback()
        if error.status == 404:
            raise
        flash(error.message, "error")
        return _back_to_panel(article_id)
    db.session.commit()
    polls.forget_cached(article.slug)
    flash(f"Group {group.id} ({group.votes:,} votes) {DECISIONS[action][1]}.", "success")
    return _back_to_panel(article_id)
