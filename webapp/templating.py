"""Template filters and globals shared by every page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import flask_login.utils
from flask import Flask, g, request, url_for
from flask_login import current_user
from markupsafe import Markup

from webapp.extensions import login_manager
from webapp.models import Role
from webapp.security import signed_in_or_none
from webapp.services.moderation import navigation_counts


def init_app(app: Flask) -> None:
    @app.template_filter("date")
    def format_date(value: datetime | None, fmt: str = "%d %B %Y") -> str:
        if value is None:
            return ""
        return value.strftime(fmt).lstrip("0")

    @app.template_filter("datetime")
    def format_datetime(value: datetime | None) -> str:
        if value is None:
            return ""
        return value.strftime("%d %B %Y, %H:%M UTC").lstrip("0")

    @app.template_filter("isotime")
    def iso_time(value: datetime | None) -> str:
        # At most milliseconds: HTML's valid date strings allow three fraction digits.
        return value.isoformat(timespec="milliseconds") if value else ""

    @app.template_filter("percent")
    def percent(value: float, digits: int = 0) -> str:
        return f"{value * 100:.{digits}f}%"

    @app.template_global()
    def page_url(page: int) -> str:
        # The query string, then the route's own arguments (a query parameter that
        # shares a path argument's name does not replace it), then the page.
        values: dict[str, Any] = request.args.to_dict()
        values.update(request.view_args or {})
        values["page"] = str(page)
        assert request.endpoint is not None
        return url_for(request.endpoint, **values)

    @app.template_global()
    def safe_html(html: str) -> Markup:
        """HTML that was sanitised when it was written (articles, comments)."""
        # Sanitised by nh3 when it was stored; raw input never reaches this.
        return Markup(html)  # nosec B704

    # Flask-Login's own context processor loads the user for every page, running its
    # session protection even for a reader with no session at all (an identifier
    # hashed from their address and browser). ``navigation`` gives templates
    # ``current_user`` instead, asking Flask-Login only when the request could be
    # signed in (``security.signed_in_or_none``).
    processors = app.template_context_processors[None]
    flask_login_processor = getattr(flask_login.utils, "_user_context_processor", None)
    if flask_login_processor in processors:
        processors.remove(flask_login_processor)

    @app.context_processor
    def navigation() -> dict[str, object]:
        """Who is signed in (``current_user``) and what the navigation shows besides its
        links: queue counts for moderators (one statement, kept a moment by each
        worker: ``moderation.navigation_counts``). A page rendered without the
        database (the 500 and 503 pages, ``webapp.errors``) asks it nothing: no counts,
        and ``without_database`` tells the navigation to leave out the account links,
        as it cannot know who is signed in."""
        if g.get("without_database"):
            user = current_user._get_current_object()
            return {"current_user": user, "queue_counts": None, "without_database": True}
        signed_in = signed_in_or_none()
        if signed_in is None:
            anonymous = login_manager.anonymous_user()
            return {"current_user": anonymous, "queue_counts": None, "without_database": False}
        counts = navigation_counts() if signed_in.has_role(Role.MODERATOR) else None
        return {"current_user": signed_in, "queue_counts": counts, "without_database": False}

    app.jinja_env.globals["site_name"] = app.config["SITE_NAME"]
