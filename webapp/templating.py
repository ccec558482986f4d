"""Template filters and globals shared by every page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, g, request, url_for
from flask_login import current_user
from markupsafe import Markup

from webapp.models import Role
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
        return value.isoformat() if value else ""

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

    @app.context_processor
    def navigation() -> dict[str, object]:
        """What the navigation shows besides its links: queue counts for moderators (one
        statement, kept a moment by each worker: ``moderation.navigation_counts``). A
        page rendered without the database (the 500 and 503 pages, ``webapp.errors``)
        asks it nothing: no counts, and ``without_database`` tells the navigation to
        leave out the account links, as it cannot know who is signed in."""
        if g.get("without_database"):
            return {"queue_counts": None, "without_database": True}
        if current_user.is_authenticated and current_user.has_role(Role.MODERATOR):
            return {"queue_counts": navigation_counts(), "without_database": False}
        return {"queue_counts": None, "without_database": False}

    app.jinja_env.globals["site_name"] = app.config["SITE_NAME"]
