"""The readers' pages: the home page, labels, an article with its poll and comments,
the feed, and the poll's vote and withdraw forms (the comment forms are in
``comments``).

The poll section shows what the polls service decided for this reader
(``poll_rules.view_for``); the vote form goes through the same ``poll_rules.vote``
as the API, with the same rule of who may vote, and only turns its refusals into
pages.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from flask import (
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from werkzeug.wrappers import Response

from webapp import caching, shared_pages
from webapp.api.comments import thread_cursor, thread_key
from webapp.errors import DomainError, NotFound
from webapp.extensions import client_address, db
from webapp.forms.comments import COMMENT_FORMS
from webapp.http_cache import (
    ARTICLES_KEY,
    add_surrogate_keys,
    article_key,
    is_anonymous_request,
)
from webapp.models import Article, Comment, Poll, User, utcnow
from webapp.public import bp
from webapp.ratelimits import RateLimited, limit_action, limit_anonymous_poll_votes
from webapp.security import signed_in_or_none
from webapp.services import articles
from webapp.services import comments as comment_rules
from webapp.services import polls as poll_rules
from webapp.services.integrity.signals import page_token
from webapp.site_address import absolute_url
from webapp.text import xml_safe
from webapp.voters import anonymous_id, current_voter_key, set_cookie_if_minted, visitor


def _viewer() -> User | None:
    return signed_in_or_none()


def _page_number() -> int:
    try:
        page = int(request.args.get("page", "1"))
    except ValueError as exc:
        raise NotFound("No such page.") from exc
    if page < 1:
        raise NotFound("No such page.")
    return page


def poll_context(found: Article, who: User | None) -> poll_rules.PollView | None:
    """What the poll section shows, as the polls service decided it for this reader:
    the poll, their choice, whether it is closed, whether they may vote (and why
    not), and the results if they may see them."""
    if found.poll is None:
        return None
    return poll_rules.view_for(found.poll, who, current_voter_key(who))


@bp.app_template_global()
def poll_page_token(poll_id: int) -> str:
    """The page token the article page's vote form carries (integrity.signals)."""
    return page_token(poll_id)


@bp.get("/")
def home() -> ResponseReturnValue:
    page = _page_number()
    rows, pages = articles.page_of_published(page, current_app.config["ARTICLES_PER_PAGE"])
    if page > pages:
        raise NotFound("No such page.")
    add_surrogate_keys(ARTICLES_KEY)
    return render_template("public/home.html", articles=rows, page=page, pages=pages)


@bp.get("/labels/<slug>")
def label(slug: str) -> ResponseReturnValue:
    found = articles.label_by_slug(slug)
    page = _page_number()
    rows, pages = articles.page_of_published(page, current_app.config["ARTICLES_PER_PAGE"], slug)
    if page > pages:
        raise NotFound("No such page.")
    add_surrogate_keys(ARTICLES_KEY)
    return render_template("public/label.html", label=found, articles=rows, page=page, pages=pages)


COMMENTS_PER_PAGE = 30


def comments_context(
    found: Article,
    who: User | None,
    form: dict[str, Any] | None = None,
    answers_visible: bool | None = None,
    *,
    after: str | None = None,
    notice: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the comments section needs: one page of the thread, sorted as asked, with
    commenters' poll answers when the results are visible to this reader (when not
    given, comment_rules.thread decides). ``after``: the page holding a comment just
    acted on (else the request's); ``notice``: what the last action did, shown by the
    form, with the comment to focus."""
    source = request.form if request.method == "POST" else request.args
    sort = source.get("sort", "oldest")
    if sort not in comment_rules.SORTS:
        sort = "oldest"
    featured = request.args.get("featured") == "1" and after is None
    if after is None and request.method == "GET":
        after = request.args.get("after")
    page = comment_rules.thread(
        found,
        who,
        sort=sort,
        limit=COMMENTS_PER_PAGE,
        featured_only=featured,
        answers_visible=answers_visible,
        after=thread_key(after, sort),
    )
    return {
        "nodes": page.items,
        "sort": sort,
        "featured": featured,
        "open": page.comments_open,
        "after": after,
        "next_cursor": thread_cursor(page.next_cursor),
        "form": form,
        "forms": COMMENT_FORMS,
        "notice": notice,
        "ban": ban_notice(who),
        "undo_seconds": comment_rules.undo_seconds(),
        # The comment this reader may still bring back (just deleted, without script).
        "undo_id": (notice or {}).get("undo_id") or (undo_offered() if who is not None else None),
        # A new key per form shown: the same form sent twice stores one comment.
        "post_key": secrets.token_urlsafe(18) if who is not None else None,
    }


#: The comment a reader just deleted without script, and until when Undo is offered.
UNDO_OFFER = "comment_undo"


def undo_offered() -> int | None:
    """The comment whose deletion this reader may still undo (from their session)."""
    offer: Any = session.get(UNDO_OFFER)
    try:
        comment_id, until = int(offer[0]), float(offer[1])
    except (TypeError, ValueError, IndexError):
        return None
    return comment_id if utcnow().timestamp() < until else None


def ban_notice(who: User | None) -> dict[str, Any] | None:
    """What a banned reader is told instead of a comment form: until when and why."""
    if who is None or not who.is_banned_at(utcnow()):
        return None
    return {"until": who.banned_until, "reason": who.ban_reason}


def comments_page_of(found: Article, who: User | None, comment: Comment, sort: str) -> str | None:
    """The ``after`` of the thread page showing ``comment`` to ``who``."""
    key = comment_rules.page_holding(found, who, comment, sort, COMMENTS_PER_PAGE)
    return thread_cursor(key)


def anonymous_comments_section(found: Article, answers_visible: bool) -> Markup:
    """The comments section of the page as signed-out readers get it, rendered once
    and kept a moment per worker (webapp.caching.THREADS): one copy with the
    commenters' poll answers, for readers who may see the results (after voting,
    say), and one without."""

    def render() -> Markup:
        comments = comments_context(found, None, answers_visible=answers_visible)
        # Safe: rendered by the autoescaping template.
        return Markup(  # nosec B704
            render_template("public/_comments.html", article=found, comments=comments)
        )

    key = (
        "page",
        found.id,
        found.comment_count,
        found.comment_mode,
        request.path,
        COMMENTS_PER_PAGE,
        request.args.get("sort", "oldest"),
        request.args.get("featured") == "1",
        request.args.get("after"),
        answers_visible,
    )
    return caching.THREADS.get_or_build(key, render)


def render_article_page(
    found: Article, who: User | None, form: dict[str, Any] | None = None, status: int = 200
) -> tuple[str, int]:
    previous, following = articles.neighbours(found)
    poll = poll_context(found, who)
    # Commenters' answers show exactly where the poll's results do.
    answers = poll is not None and poll.results is not None
    section: dict[str, Any]
    if who is None and form is None and request.method == "GET":
        section = {"comments_html": anonymous_comments_section(found, answers)}
    else:
        section = {"comments": comments_context(found, who, form, answers)}
    return render_template(
        "public/article.html",
        article=found,
        previous=previous,
        next=following,
        poll=poll,
        **section,
    ), status


def refuse_on_page(
    found: Article, who: User | None, error: DomainError, form: dict[str, Any] | None = None
) -> Response:
    """The article page again, saying why an action was refused, with the error's status
    and headers (a rate limit's Retry-After). What the reader typed comes back in
    ``form``, which then carries the message; without one it is flashed."""
    if form is None:
        flash(error.message, "error")
    body, status = render_article_page(found, who, form, error.status)
    response = make_response(body, status)
    response.headers.update(error.headers)
    return response


def shared_article_page(slug: str) -> Response | None:
    """The article page as every signed-out reader without Pulse's cookies gets it,
    rendered once and kept a moment per worker (caching.THREADS, which already keeps
    each of its parts as long); None when this request must be rendered for itself.

    The key holds the article's state (``shared_pages.shared_page_key``: one narrow
    SELECT on every request, read already when webapp.shared_pages looked for the page
    before Flask), so an edit, a comment published or removed, or a change of comment
    mode shows at once, and an unpublished article is never served from here; results,
    neighbours and the thread's order are as fresh as the caches they come from. A page
    whose rendering made it private (a session written, a view marking it private) is
    not kept. Once kept and sent, webapp.shared_pages answers it before Flask."""
    variant = shared_pages.shared_page_variant(request.args)
    if variant is None or not is_anonymous_request():
        return None
    key = request.environ.get(shared_pages.KEY_ENVIRON)
    if key is None:
        key = shared_pages.shared_page_key(slug, request.host, request.path, variant)
    if not isinstance(key, shared_pages.SharedPageKey):
        return None  # readers do not see it (NO_PAGE): the full path says 404

    def render() -> shared_pages.SharedPage | None:
        body, _ = render_article_page(articles.get_article(slug, None), None)
        if session.modified or g.get("http_cache_private"):
            return None
        # Kept encoded, with its ETag: each request hands on the same bytes.
        encoded = body.encode()
        return shared_pages.SharedPage(encoded, hashlib.sha256(encoded).hexdigest()[:32])

    kept = caching.THREADS.get_or_build(key, render)
    if kept is None:
        return None
    add_surrogate_keys(article_key(key.state.article_id), ARTICLES_KEY)
    request.environ[shared_pages.PAGE_ENVIRON] = kept
    response = make_response(kept.body)
    response.set_etag(kept.etag)  # as http_cache would, without hashing the page again
    return response


@bp.get("/articles/<slug>")
def article(slug: str) -> ResponseReturnValue:
    who = _viewer()
    if who is None:
        shared = shared_article_page(slug)
        if shared is not None:
            return shared
    found = articles.get_article(slug, who)
    # Its comments pages too (?after=); ARTICLES_KEY: it links its neighbours.
    add_surrogate_keys(article_key(found.id), ARTICLES_KEY)
    # A refused comment form comes back (post/redirect/get) with what was typed; only a
    # signed-in reader posts, so only their session holds one.
    form = session.pop(REFUSED_COMMENT_FORM, None) if who is not None else None
    return render_article_page(found, who, form if isinstance(form, dict) else None)


#: Where a refused comment form waits for the page it redirects to.
REFUSED_COMMENT_FORM = "refused_comment_form"


@bp.get("/comments/<int:comment_id>")
def comment_permalink(comment_id: int) -> ResponseReturnValue:
    """A link to one comment: the article page holding it, at its anchor."""
    who = _viewer()
    comment = comment_rules.get_comment(comment_id, who)
    found = db.session.get(Article, comment.article_id)
    assert found is not None
    add_surrogate_keys(article_key(found.id))
    sort = request.args.get("sort", "oldest")
    sort = sort if sort in comment_rules.SORTS else "oldest"
    after = comments_page_of(found, who, comment, sort)
    return redirect(
        url_for(
            "public.article",
            slug=found.slug,
            sort=sort if sort != "oldest" else None,
            after=after,
            _anchor=f"comment-{comment_id}",
        )
    )


@bp.get("/feed.atom")
def feed() -> ResponseReturnValue:
    rows, _ = articles.list_published(20)
    add_surrogate_keys(ARTICLES_KEY)
    body = render_template(
        "public/feed.xml",
        articles=rows,
        updated=max((a.updated_at for a in rows), default=None),
        absolute_url=absolute_url,
    )
    # The services no longer store characters XML forbids, but one row written before
    # that (or straight to the database) must not make the feed unreadable for everyone.
    return current_app.response_class(xml_safe(body), mimetype="application/atom+xml")


def _poll_of(found: Article) -> Poll:
    if found.poll is None:
        raise NotFound("This article has no poll.")
    return found.poll


def _wants_fragment() -> bool:
    return request.headers.get("X-Pulse-Fragment") == "poll"


def _back_to_poll(slug: str) -> ResponseReturnValue:
    """Without script: back to the article. With script: the re-rendered poll section."""
    if _wants_fragment():
        who = _viewer()
        found = articles.get_article(slug, who)
        return render_template("public/_poll.html", article=found, poll=poll_context(found, who))
    return redirect(url_for("public.article", slug=slug, _anchor="poll"))


@bp.post("/articles/<slug>/poll")
def vote(slug: str) -> ResponseReturnValue:
    who = _viewer()
    found = articles.get_article(slug, who)
    try:
        limit_action("vote", client=client_address())  # one bucket with the API's votes
    except RateLimited as error:
        return refuse_on_page(found, who, error)
    poll = _poll_of(found)  # 404 first for an article without a poll, as ever
    if who is None:
        try:
            limit_anonymous_poll_votes(poll.id, client_address())  # both doors, per poll
        except RateLimited as error:
            return refuse_on_page(found, who, error)
    try:
        option_id = int(request.form.get("option_id", ""))
    except ValueError:
        flash("Please choose an option before voting.", "error")
        return redirect(url_for("public.article", slug=slug, _anchor="poll"))
    # The API's way (poll_rules.vote), with its rule of who may vote: the vote shows in
    # the cached results at once, which never go below what anyone was shown.
    state = poll_rules.cached_poll_for_article(slug, who)
    try:
        state, outcome = poll_rules.vote(slug, state, visitor(who, state.id), option_id)
    except poll_rules.AnonymousVotingNotAllowed as refused:
        # A page can do better than the API's 401: send the reader to sign in.
        flash(refused.message, "error")
        return redirect(url_for("auth.login", next=url_for("public.article", slug=slug)))
    if outcome.changed and who is not None:
        # An account's vote moves its reactions' common ground (and the answer shown
        # beside its comments): the cached threads go, as after a reaction.
        caching.THREADS.changed()
    db.session.commit()
    poll_rules.vote_committed(slug, state, outcome)
    if outcome.changed and not _wants_fragment():
        flash("Your vote is counted." if outcome.created else "Your vote is changed.", "success")
    return set_cookie_if_minted(make_response(_back_to_poll(slug)))


@bp.post("/articles/<slug>/poll/withdraw")
def withdraw_vote(slug: str) -> ResponseReturnValue:
    who = _viewer()
    found = articles.get_article(slug, who)
    try:
        limit_action("vote", client=client_address())  # withdrawing is voting (ACTIONS)
    except RateLimited as error:
        return refuse_on_page(found, who, error)
    if poll_rules.withdraw(_poll_of(found), who, anonymous_id()):
        if who is not None:
            caching.THREADS.changed()  # as after a vote
        db.session.commit()
        poll_rules.forget_cached(slug)
        if not _wants_fragment():
            flash("Your vote is withdrawn.", "success")
    return _back_to_poll(slug)
