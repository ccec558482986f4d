"""Mail bodies from templates/mail/: rendered with the app's Jinja environment but
without a request's context processors (the worker has no request; every link a mail
holds is passed in, absolute). ``.html`` templates are autoescaped, ``.txt`` ones not."""

from __future__ import annotations

from typing import Any

from flask import current_app


def render_mail(template: str, **context: Any) -> str:
    return current_app.jinja_env.get_template(template).render(**context)
