"""The frame's pages and doors.

``GET /embed/v1/thread`` is the frame: the poll and the comments of the host page's
thread, rendered by the article page's own partials (``frame.frame_url_for`` points
their forms at the doors below). Each door does what the article page's does, through
the same services (the comment doors *are* the article page's views, their answers
turned back into the frame) and redirects back to the frame (post/redirect/get).

Signing in happens in the frame's own session (a partitioned cookie, set by
``webapp.services.embed``'s cookie rules on /embed/ answers): with a one-time code from
the pop-up (``popup`` signs in on Pulse's own pages, first-party, and hands the code to
the frame by ``postMessage``), or with the host page's token (``sso``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import (
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from webapp import caching
from webapp.embed import bp
from webapp.embed.frame import FrameAddress, frame_url_for, read_frame_address
from webapp.errors import DomainError, NotFound
from webapp.extensions import client_address, db
from webapp.models import Article, Comment, User
from webapp.models.embed import EmbedSite
from webapp.public import comments as article_comments
from webapp.public.routes import REFUSED_COMMENT_FORM, comments_context, poll_context
from webapp.ratelimits import RateLimited, limit_action, limit_anonymous_poll_votes
from webapp.security import signed_in_or_none
from webapp.services import accounts
from webapp.services import embed as embed_rules
from webapp.services import polls as poll_rules
from webapp.site_address import absolute_url
from webapp.voters import anonymous_id, set_cookie_if_minted, visitor


class FrameRefused(DomainError):
    """The frame cannot be shown: no such site, an origin the site did not register,
    or a thread that does not exist and may not be made."""

    code, status, message = "embed_refused", 404, "This discussion cannot be shown here."

    def __init__(self, message: str, *, site: EmbedSite | None = None, status: int = 404) -> None:
        super().__init__(message)
        self.status = status
        # The site whose origin asked, when it is one of its own: the page saying why
        # may then show in that site's frame (every other page refuses to be framed).
        self.site = site


def _site(address: FrameAddress) -> EmbedSite:
    try:
        site = embed_rules.get_site(address.site)
    except NotFound as exc:
        raise FrameRefused("No site is registered under this id.") from exc
    if not embed_rules.allows_origin(site, address.origin):
        raise FrameRefused(
            "This site's settings on Pulse do not list the page's origin, so the "
            "discussion cannot be shown on it.",
            status=403,
        )
    return site


def open_frame(address: FrameAddress, *, create: bool) -> tuple[EmbedSite, Article]:
    """The site and the thread's article the frame shows, or FrameRefused saying why.
    ``create``: whether this request may make the thread (a first view may, when the
    site allows it; a form's door may not)."""
    site = _site(address)
    if not address.thread and not address.url:
        raise FrameRefused("The page does not name its discussion.", site=site)
    article = embed_rules.resolve_thread(
        site, key=address.thread, url=address.url, title=address.title, create=create
    )
    if article is None:
        raise FrameRefused(
            "This page has no discussion on Pulse yet, and its site does not start one "
            "on first view.",
            site=site,
        )
    if not article.is_published:
        # An editor's draft attached ahead of publication: readers see it when it is out.
        raise FrameRefused("This discussion is not open yet.", site=site)
    return site, article


def _framed(response: Response, site: EmbedSite) -> Response:
    """A page that may show inside the site's frames, and only there."""
    embed_rules.frame_headers(response, site)
    return response


def _back_to_frame(address: FrameAddress, anchor: str | None = None, **query: Any) -> Response:
    return redirect(url_for("embed.thread", **query, **address.query(), _anchor=anchor))


# --- the frame -----------------------------------------------------------------------------


@bp.get("/v1/thread")
def thread() -> ResponseReturnValue:
    address = read_frame_address()
    site, article = open_frame(address, create=True)
    # The poll the host page describes (signed with the site's secret), when the host
    # may set it; anything refused is logged and the thread shows as it is.
    embed_rules.poll_from_host(site, request.args.get("poll"), address.thread, address.url)
    # A first view may have made the thread: kept, whatever the page does next.
    db.session.commit()
    who = signed_in_or_none()
    # A refused comment form comes back with what was typed (as on the article page).
    form = session.pop(REFUSED_COMMENT_FORM, None) if who is not None else None
    poll = poll_context(article, who)
    answers = poll is not None and poll.results is not None
    comments = comments_context(article, who, form if isinstance(form, dict) else None, answers)
    body = render_template(
        "embed/thread.html",
        article=article,
        poll=poll,
        comments=comments,
        address=address,
        site=site,
        url_for=frame_url_for(address),
        pulse_article_url=absolute_url("public.article", slug=article.slug),
        token_refused=request.args.get("signin") == "refused",
    )
    return _framed(make_response(body), site)


@bp.get("/v1/sign-in")
def sign_in() -> ResponseReturnValue:
    """Where the frame's "Sign in" links go: with script they open the pop-up instead
    (frame.js); without, this page says how (Pulse's sign-in in a new tab)."""
    address = read_frame_address()
    site, article = open_frame(address, create=False)
    body = render_template("embed/sign_in.html", address=address, site=site, article=article)
    return _framed(make_response(body), site)


@bp.get("/v1/link")
def link() -> ResponseReturnValue:
    """The ``<noscript>`` link of the host's snippet: the thread on Pulse's own page,
    for a reader without script (no frame, so no origin to check: a plain link)."""
    address = read_frame_address()
    site = embed_rules.get_site(address.site)
    article = None
    if address.thread or address.url:
        article = embed_rules.resolve_thread(
            site, key=address.thread, url=address.url, title=address.title, create=False
        )
    if article is None:
        raise NotFound("This page has no discussion on Pulse yet.")
    return redirect(url_for("public.article", slug=article.slug, _anchor="comments"))


# --- the poll ------------------------------------------------------------------------------


@bp.post("/v1/poll")
def vote() -> ResponseReturnValue:
    """The article page's vote (``public.routes.vote``), back to the frame."""
    address = read_frame_address()
    _site_found, article = open_frame(address, create=False)
    who = signed_in_or_none()
    if article.poll is None:
        raise NotFound("This discussion has no poll.")
    try:
        limit_action("vote", client=client_address())
        if who is None:
            limit_anonymous_poll_votes(article.poll.id, client_address())
    except RateLimited as error:
        flash(error.message, "error")
        return _back_to_frame(address, "poll")
    try:
        option_id = int(request.form.get("option_id", ""))
    except ValueError:
        flash("Please choose an option before voting.", "error")
        return _back_to_frame(address, "poll")
    state = poll_rules.cached_poll_for_article(article.slug, who)
    try:
        state, outcome = poll_rules.vote(article.slug, state, visitor(who, state.id), option_id)
    except poll_rules.AnonymousVotingNotAllowed as refused:
        flash(refused.message, "error")
        return redirect(url_for("embed.sign_in", **address.query()))
    if outcome.changed and who is not None:
        caching.THREADS.changed()  # as on the article page: the answers beside comments
    db.session.commit()
    poll_rules.vote_committed(article.slug, state, outcome)
    if outcome.changed:
        flash("Your vote is counted." if outcome.created else "Your vote is changed.", "success")
    return set_cookie_if_minted(make_response(_back_to_frame(address, "poll")))


@bp.post("/v1/poll/withdraw")
def withdraw_vote() -> ResponseReturnValue:
    address = read_frame_address()
    _site_found, article = open_frame(address, create=False)
    who = signed_in_or_none()
    if article.poll is None:
        raise NotFound("This discussion has no poll.")
    try:
        limit_action("vote", client=client_address())
    except RateLimited as error:
        flash(error.message, "error")
        return _back_to_frame(address, "poll")
    if poll_rules.withdraw(article.poll, who, anonymous_id()):
        if who is not None:
            caching.THREADS.changed()
        db.session.commit()
        poll_rules.forget_cached(article.slug)
        flash("Your vote is withdrawn.", "success")
    return _back_to_frame(address, "poll")


# --- the comments --------------------------------------------------------------------------


def _into_frame(address: FrameAddress, article: Article, answer: ResponseReturnValue) -> Response:
    """The article page's answer to a comment form, turned back into the frame: its
    redirect to the article (with the thread page, sort and anchor of the comment acted
    on) becomes the same redirect to the frame. Its refusals wait in the session as
    they do for the article page, which the frame reads the same way."""
    response = make_response(answer)
    if response.status_code not in (301, 302, 303, 307, 308):
        return response
    target = urlsplit(response.headers.get("Location", ""))
    if target.path == url_for("public.article", slug=article.slug):
        wanted = {k: v for k, v in parse_qsl(target.query) if k in ("sort", "after", "featured")}
        return _back_to_frame(address, target.fragment or None, **wanted)
    if target.path in (url_for("auth.login"), url_for("auth.register")):
        return redirect(url_for("embed.sign_in", **address.query()))
    return _back_to_frame(address, "comments")


def _frame_comment(address: FrameAddress, comment_id: int) -> Article:
    """The frame's article, when ``comment_id`` is one of its comments (a door of one
    frame acts on that frame's thread only)."""
    _site_found, article = open_frame(address, create=False)
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.article_id != article.id:
        raise NotFound("This comment is not in this discussion.")
    return article


@bp.post("/v1/comments")
def post_comment() -> ResponseReturnValue:
    address = read_frame_address()
    _site_found, article = open_frame(address, create=False)
    return _into_frame(address, article, article_comments.post_comment(article.slug))


def _comment_action(
    comment_id: int, view: Callable[[int], ResponseReturnValue]
) -> ResponseReturnValue:
    """One of the article page's comment actions, on a comment of this frame's thread,
    answered back into the frame."""
    address = read_frame_address()
    article = _frame_comment(address, comment_id)
    return _into_frame(address, article, view(comment_id))


@bp.post("/v1/comments/<int:comment_id>/edit")
def edit_comment(comment_id: int) -> ResponseReturnValue:
    return _comment_action(comment_id, article_comments.edit_comment)


@bp.post("/v1/comments/<int:comment_id>/delete")
def delete_comment(comment_id: int) -> ResponseReturnValue:
    return _comment_action(comment_id, article_comments.delete_comment)


@bp.post("/v1/comments/<int:comment_id>/undo")
def undo_delete(comment_id: int) -> ResponseReturnValue:
    return _comment_action(comment_id, article_comments.undo_delete)


@bp.post("/v1/comments/<int:comment_id>/react")
def react(comment_id: int) -> ResponseReturnValue:
    return _comment_action(comment_id, article_comments.react)


@bp.post("/v1/comments/<int:comment_id>/report")
def report(comment_id: int) -> ResponseReturnValue:
    return _comment_action(comment_id, article_comments.report)


# --- signing in ----------------------------------------------------------------------------


def _sign_in_frame(user: User) -> None:
    """The frame's session signs in ``user`` (the frame's cookie, not Pulse's own)."""
    db.session.commit()
    login_user(user)


@bp.post("/v1/sso")
def sso() -> ResponseReturnValue:
    """The host page's token (``data-pulse-token``), posted by frame.js: the site's
    reader is signed in to the frame, with the Pulse account linked to them."""
    address = read_frame_address()
    site, _article = open_frame(address, create=False)
    token = request.form.get("token", "")
    try:
        identity = embed_rules.verify_host_token(site, token)
        user = embed_rules.sign_in_host_reader(site, identity)
    except DomainError as error:
        db.session.rollback()
        flash(f"The site's sign-in was refused: {error.message}", "error")
        return redirect(url_for("embed.thread", signin="refused", **address.query()))
    _sign_in_frame(user)
    return _back_to_frame(address, "comments")


@bp.post("/v1/code")
def redeem_code() -> ResponseReturnValue:
    """The pop-up's one-time code, posted by frame.js: the frame signs in the account
    that signed in on Pulse's own pages."""
    address = read_frame_address()
    open_frame(address, create=False)
    try:
        user = embed_rules.redeem_frame_code(request.form.get("code", ""))
    except DomainError as error:
        db.session.rollback()
        flash(f"Signing in did not work: {error.message} Please try again.", "error")
        return _back_to_frame(address, "comments")
    _sign_in_frame(user)
    flash(f"Signed in as {user.display_name}.", "success")
    return _back_to_frame(address, "comments")


@bp.post("/v1/sign-out")
def sign_out() -> ResponseReturnValue:
    """Signs the frame out (its session only: the reader's Pulse tabs stay signed in)."""
    address = read_frame_address()
    open_frame(address, create=False)
    who = signed_in_or_none()
    if who is not None:
        # As Pulse's own sign-out: every session of the account ends (a copied cookie
        # signs no one in), and the host's tokens issued until now are refused.
        accounts.end_sessions(who)
        embed_rules.sign_out_host_reader(who)
        db.session.commit()
    logout_user()
    flash("You are signed out here.", "success")
    return _back_to_frame(address, "comments")


#: What the pop-up's page says its opener is, for frame.js: the frame that opened it.
POPUP_MESSAGE = "pulse:code"


@bp.get("/v1/popup")
def popup() -> ResponseReturnValue:
    """The pop-up the frame opens (first-party: Pulse's own cookies): signs in on
    Pulse's own page if need be, then hands a one-time code to the frame that opened it
    (popup.js posts it to ``window.opener`` for Pulse's own origin only)."""
    who = signed_in_or_none()
    if who is None:
        # Every answer on the pop-up's way keeps its opener, redirects included.
        to_sign_in = redirect(url_for("auth.login", next=url_for("embed.popup")))
        return embed_rules.popup_headers(make_response(to_sign_in))
    code = embed_rules.issue_frame_code(who)
    db.session.commit()
    response = make_response(render_template("embed/popup.html", code=code, user=who))
    return embed_rules.popup_headers(response)


# --- the script ----------------------------------------------------------------------------


@bp.get("/v1/embed.js")
def script() -> ResponseReturnValue:
    """The address host pages copy, which never changes: it redirects to this version
    of embed.js (``?v=<hash>``, cached for a year). The redirect itself is kept five
    minutes, so a new version reaches host pages within that."""
    response = redirect(url_for("static", filename="embed.js"))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# --- refusals ------------------------------------------------------------------------------


def _problem(status: int, title: str, message: str, site: EmbedSite | None) -> Response:
    response = make_response(
        render_template("embed/problem.html", title=title, message=message), status
    )
    if site is not None:
        _framed(response, site)
    return response


@bp.errorhandler(DomainError)
def refused(error: DomainError) -> ResponseReturnValue:
    """A frame's refusal is a small page in the frame (when the site and origin check
    out) instead of Pulse's full error page, which would refuse to be framed."""
    db.session.rollback()
    site = error.site if isinstance(error, FrameRefused) else _site_or_none()
    title = "Not available" if error.status in (403, 404) else "That did not work"
    return _problem(error.status, title, error.message, site)


@bp.errorhandler(CSRFError)
def csrf_refused(error: CSRFError) -> ResponseReturnValue:
    message = "The form expired or its security token is missing; please reload and try again."
    return _problem(403, "Security check failed", message, _site_or_none())


def _site_or_none() -> EmbedSite | None:
    try:
        return _site(read_frame_address())
    except FrameRefused:
        return None


@bp.after_app_request
def keep_opener_while_signing_in(response: Response) -> Response:
    """Pulse's own sign-in pages, when they are the pop-up's way back to the frame
    (``next`` is the pop-up's page), keep their opener: a page sent with
    ``Cross-Origin-Opener-Policy: same-origin`` would cut the pop-up off from the frame
    that opened it (a frame in another site's page), and the code could not reach it."""
    if request.endpoint in ("auth.login", "auth.register"):
        wanted = request.args.get("next") or ""
        if not wanted and request.method == "POST" and response.status_code < 400:
            # A refused body (413, a malformed form) was answered already; reading
            # the form again here would raise from inside the answer.
            try:
                wanted = request.form.get("next") or ""
            except HTTPException:
                wanted = ""
        if urlsplit(wanted).path == url_for("embed.popup"):
            embed_rules.popup_headers(response)
    return response
