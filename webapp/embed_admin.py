"""The admins' embedding sites (/admin/embed, issue 22): register a site that shows
Pulse's poll and thread in its pages, change its settings, rotate its signing secret,
and name an existing article as the thread of one of its pages.

Admins only: a site's secret signs its readers into Pulse accounts.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from webapp.errors import InvalidInput, NotFound
from webapp.extensions import db
from webapp.models import Article, CommentMode, ResultsVisibility, Role
from webapp.models.embed import EmbedSite, EmbedThread
from webapp.security import role_required, signed_in_user
from webapp.services import embed

bp = Blueprint("embed_admin", __name__, url_prefix="/admin/embed")
admin_only = role_required(Role.ADMIN)


def _typed_settings() -> embed.SiteSettings:
    form = request.form
    return embed.SiteSettings(
        name=form.get("name", ""),
        origins=form.get("origins", ""),
        create_on_first_view=form.get("create_on_first_view") == "y",
        comment_mode=form.get("comment_mode", CommentMode.OPEN.value),
        poll_allow_anonymous=form.get("poll_allow_anonymous") == "y",
        poll_results_visibility=form.get("poll_results_visibility", ResultsVisibility.ALWAYS.value),
    )


def _settings_of(site: EmbedSite) -> embed.SiteSettings:
    return embed.SiteSettings(
        name=site.name,
        origins="\n".join(site.origins),
        create_on_first_view=site.create_on_first_view,
        comment_mode=site.comment_mode,
        poll_allow_anonymous=site.poll_allow_anonymous,
        poll_results_visibility=site.poll_results_visibility,
    )


def _form_page(
    site: EmbedSite | None,
    settings: embed.SiteSettings,
    errors: dict[str, str] | None = None,
    status: int = 200,
    **extra: Any,
) -> ResponseReturnValue:
    threads = embed.threads_of(site) if site is not None else []
    return (
        render_template(
            "admin/embed_site.html",
            site=site,
            settings=settings,
            errors=errors or {},
            threads=threads,
            comment_modes=[mode.value for mode in CommentMode],
            visibilities=[v.value for v in ResultsVisibility],
            attach=extra.get("attach", {}),
            attach_errors=extra.get("attach_errors", {}),
        ),
        status,
    )


@bp.route("", methods=["GET"])
@admin_only
def sites() -> ResponseReturnValue:
    return render_template("admin/embed_sites.html", sites=embed.all_sites())


@bp.route("/new", methods=["GET", "POST"])
@admin_only
def new_site() -> ResponseReturnValue:
    if request.method == "GET":
        return _form_page(None, embed.SiteSettings(name="", origins=""))
    settings = _typed_settings()
    try:
        site = embed.create_site(settings, signed_in_user())
    except InvalidInput as exc:
        # The page again with everything as typed, each wrong field marked.
        return _form_page(None, settings, exc.fields or {}, 422)
    db.session.commit()
    flash(f"Site “{site.name}” registered. Give its secret to the site's developers.", "success")
    return redirect(url_for("embed_admin.edit_site", site_id=site.id))


@bp.route("/<int:site_id>", methods=["GET", "POST"])
@admin_only
def edit_site(site_id: int) -> ResponseReturnValue:
    site = embed.get_site(site_id)
    if request.method == "GET":
        return _form_page(site, _settings_of(site))
    settings = _typed_settings()
    try:
        embed.update_site(site, settings)
    except InvalidInput as exc:
        db.session.rollback()
        return _form_page(embed.get_site(site_id), settings, exc.fields or {}, 422)
    db.session.commit()
    flash("Site settings saved.", "success")
    return redirect(url_for("embed_admin.edit_site", site_id=site.id))


@bp.route("/<int:site_id>/secret", methods=["POST"])
@admin_only
def rotate_secret(site_id: int) -> ResponseReturnValue:
    site = embed.get_site(site_id)
    embed.rotate_secret(site)
    db.session.commit()
    flash("A new secret is in place: tokens signed with the old one are refused.", "success")
    return redirect(url_for("embed_admin.edit_site", site_id=site.id))


@bp.route("/<int:site_id>/threads", methods=["POST"])
@admin_only
def attach_thread(site_id: int) -> ResponseReturnValue:
    """Name an existing article as the thread of one of the site's pages (by its id or
    its URL): how a site that does not create threads on first view embeds one."""
    site = embed.get_site(site_id)
    typed = {
        "article": request.form.get("article", "").strip(),
        "key": request.form.get("key", ""),
    }
    article = (
        db.session.scalar(select(Article).where(Article.slug == typed["article"]))
        if typed["article"]
        else None
    )
    if article is None:
        return _form_page(
            site,
            _settings_of(site),
            attach=typed,
            attach_errors={"article": "no article has this slug"},
            status=422,
        )
    try:
        embed.attach_article(site, article, key=typed["key"])
    except (InvalidInput, embed.PageNotOnSite, embed.ThreadTaken) as exc:
        db.session.rollback()
        site = embed.get_site(site_id)
        # Whatever names the page ("key" or "url") is the one field typed for it.
        problems = {"key": "; ".join((exc.fields or {}).values()) or exc.message}
        return _form_page(
            site, _settings_of(site), attach=typed, attach_errors=problems, status=exc.status
        )
    db.session.commit()
    flash(f"“{article.title}” is now this page's thread.", "success")
    return redirect(url_for("embed_admin.edit_site", site_id=site.id))


@bp.route("/<int:site_id>/threads/<int:thread_id>/detach", methods=["POST"])
@admin_only
def detach_thread(site_id: int, thread_id: int) -> ResponseReturnValue:
    thread = db.session.get(EmbedThread, thread_id)
    if thread is None or thread.site_id != site_id:
        raise NotFound("This site has no such thread.")
    embed.detach(thread)
    db.session.commit()
    flash("The page no longer has this thread (the article and its comments stay).", "success")
    return redirect(url_for("embed_admin.edit_site", site_id=site_id))
