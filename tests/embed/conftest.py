"""Fixtures for the embedding tests (issue 22): a registered site and host tokens."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from webapp.extensions import db
from webapp.services import embed

HOST = "https://news.example"


@pytest.fixture
def make_site(make_user: Callable[..., Any]) -> Callable[..., Any]:
    """A committed site (origins ``HOST`` and its www twin by default)."""
    admins: list[Any] = []

    def build(**settings: Any) -> Any:
        if not admins:
            admins.append(make_user("admin"))
        values: dict[str, Any] = {
            "name": "The News Example",
            "origins": f"{HOST}\nhttps://www.news.example",
        }
        values.update(settings)
        site = embed.create_site(embed.SiteSettings(**values), admins[0])
        db.session.commit()
        return site

    return build


def sign_as_host(
    site: Any,
    defaults: dict[str, Any],
    *,
    drop: tuple[str, ...] = (),
    secret: str | None = None,
    algorithm: str = "HS256",
    **claims: Any,
) -> str:
    """A JWT as a host's server signs it: ``defaults`` with ``claims`` over them,
    ``drop`` left out, signed with the site's secret unless ``secret`` or
    ``algorithm`` say otherwise."""
    payload = {**defaults, **claims}
    for name in drop:
        payload.pop(name, None)
    return jwt.encode(payload, secret or site.secret, algorithm=algorithm)


@pytest.fixture
def host_token() -> Callable[..., str]:
    """A token as a host's server signs it: valid for 5 minutes unless claims say else;
    ``drop`` leaves claims out, ``secret`` and ``algorithm`` sign it otherwise."""

    def build(site: Any, **options: Any) -> str:
        now = int(time.time())
        defaults = {
            "sub": "host-user-1",
            "name": "Ada Host",
            "email": "ada@news.example",
            "iat": now,
            "exp": now + 300,
        }
        return sign_as_host(site, defaults, **options)

    return build
