"""For the security tests: every route of the app, real objects to aim it at, valid
request bodies, and each role's session, replayed on new clients."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from flask import Flask, url_for
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, Api
from webapp.models import Article, Comment, IntegrityGroup, ModerationTerm, User
from webapp.services.notifications.tokens import unsubscribe_token

ROLES = ("anonymous", "reader", "moderator", "editor", "admin")

IGNORED_METHODS = {"HEAD", "OPTIONS"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: Routes after which the caller's session is over (their user's generation moved on),
#: so a replayed session cookie signs in no more: the visitor signs in again.
ENDS_SESSIONS = {
    ("api.logout", "POST"),
    ("api.revoke_sessions", "POST"),
    ("api.change_password", "POST"),
    ("auth.logout", "POST"),
    ("auth.account", "POST"),
    ("auth.sign_out_everywhere", "POST"),
    ("embed.sign_out", "POST"),  # the frame's sign-out ends the account's sessions too
}
_numbers = itertools.count(1)


def next_number() -> int:
    """Unique within the test run: for titles, emails, words."""
    return next(_numbers)


def unlikely_word(number: int) -> str:
    """A moderation term unique to ``number`` that no test text contains. Letters only:
    the word filter reads digits as letters ("word5" is "words"), so a numbered term
    would hold comments that merely say "words"."""
    letters = "".join("qxzjvkwbfh"[int(digit)] for digit in str(number))
    return f"zzq{letters}"


@dataclass
class World:
    """The objects one request acts on."""

    story: Article  # published, labelled "World", poll with results after voting
    draft: Article
    comment: Comment  # by ``author``, on ``story``
    author: User
    target: User  # a banned reader
    term: ModerationTerm
    group: IntegrityGroup  # a suspect group of votes in ``story``'s poll


def request_bodies(world: World) -> dict[tuple[str, str], dict[str, Any]]:
    """What each write sends: valid, so the only reason to refuse is who is asking."""
    n = next_number()
    option = world.story.poll.options[0].id  # type: ignore[union-attr]
    settings = {
        "toxicity_threshold": "0.8",
        "max_links": "2",
        "new_author_hold_count": "0",
        "recent_rejections_limit": "3",
        "rejection_window_days": "30",
        "report_threshold": "3",
    }
    return {
        ("api.register", "POST"): {
            "email": f"new{n}@example.org",
            "password": PASSWORD,
            "display_name": f"New {n}",
        },
        ("api.login", "POST"): {"email": world.author.email, "password": PASSWORD},
        ("api.create_article", "POST"): {"title": f"Fresh article {n}", "body": "Text."},
        ("api.update_article", "PATCH"): {"title": "A better title"},
        ("api.cast_vote", "POST"): {"option_id": option},
        ("api.post_comment", "POST"): {"body": "Well argued."},
        ("api.edit_comment", "PATCH"): {"body": "Changed words."},
        ("api.flag_comment", "POST"): {"reason": "spam"},
        ("api.react_to_comment", "POST"): {"value": 1},
        ("api.moderate_comment", "POST"): {"action": "approve"},
        ("api.moderate_comments", "POST"): {"ids": [world.comment.id], "action": "approve"},
        ("api.ban_user", "POST"): {"reason": "Spamming."},
        ("api.unban_user", "POST"): {"reason": "Served the time."},
        ("api.patch_settings", "PATCH"): {"max_links": 3},
        ("api.add_term", "POST"): {"term": unlikely_word(n), "kind": "suspect"},
        ("api.decide_integrity_group", "POST"): {"action": "clear"},
        ("editor.decide_group", "POST"): {"action": "clear"},
        ("editor.topic_words", "POST"): {"word": unlikely_word(n)},
        ("editor.remove_topic_word", "POST"): {"word": unlikely_word(n)},
        ("public.vote", "POST"): {"option_id": str(option)},
        ("public.post_comment", "POST"): {"body": "Well argued."},
        ("public.edit_comment", "POST"): {"body": "Changed words."},
        ("public.react", "POST"): {"value": "1"},
        ("public.report", "POST"): {"reason": "spam"},
        ("auth.login", "POST"): {"email": world.author.email, "password": PASSWORD},
        # Issue 21: mail about one's account (nothing here ends a session: the deletion
        # sends a wrong password, the links' tokens are not theirs).
        ("auth.forgot_password", "POST"): {"email": world.author.email},
        ("auth.reset_password", "POST"): {
            "new_password": PASSWORD,
            "confirm_password": PASSWORD,
        },
        ("auth.change_name", "POST"): {"name-display_name": f"Renamed {n}"},
        ("auth.change_email", "POST"): {
            "email-email": f"moved{n}@example.org",
            "email-password": PASSWORD,
        },
        ("auth.delete_account", "POST"): {
            "delete-comments": "keep",
            "delete-password": "not the password",
        },
        ("api.request_password_reset", "POST"): {"email": world.author.email},
        ("api.confirm_password_reset", "POST"): {"token": "x.y.z", "new_password": PASSWORD},
        ("api.confirm_verification", "POST"): {"token": "x.y.z"},
        ("api.update_me", "PATCH"): {"display_name": f"Renamed {n}"},
        ("api.change_email", "POST"): {"email": f"moved{n}@example.org", "password": PASSWORD},
        ("api.confirm_email_change", "POST"): {"token": "x.y.z"},
        ("api.delete_me", "DELETE"): {"password": "not the password", "keep_comments": True},
        # The password stays the same, so each role's visitor can sign in again.
        ("api.change_password", "POST"): {"current_password": PASSWORD, "new_password": PASSWORD},
        ("auth.account", "POST"): {
            "current_password": PASSWORD,
            "new_password": PASSWORD,
            "confirm_password": PASSWORD,
        },
        ("auth.register", "POST"): {
            "display_name": f"New {n}",
            "email": f"page{n}@example.org",
            "password": PASSWORD,
        },
        ("editor.new_article", "POST"): {"action": "preview", "title": "T", "body": "B"},
        ("editor.edit_article", "POST"): {"action": "preview", "title": "T", "body": "B"},
        ("moderation.decide", "POST"): {"action": "approve"},
        ("moderation.bulk", "POST"): {"ids": str(world.comment.id), "action": "approve"},
        ("moderation.correct_tone", "POST"): {"label": "neutral"},
        ("moderation.ban", "POST"): {"reason": "Spamming."},
        ("moderation.unban", "POST"): {"reason": "Served the time."},
        ("moderation.settings", "POST"): settings,
        ("moderation.add_term", "POST"): {"term": unlikely_word(n), "kind": "suspect"},
        # Issue 22: the admins' embedding sites.
        ("embed_admin.new_site", "POST"): {"name": f"Site {n}", "origins": "https://a.example"},
        ("embed_admin.edit_site", "POST"): {"name": f"Site {n}", "origins": "https://b.example"},
        ("embed_admin.attach_thread", "POST"): {"article": world.story.slug, "key": f"page-{n}"},
    }


def embed_ids(world: World) -> dict[str, int]:
    """An embedding site with one thread (the world's story), made once per world and
    committed (the request reads it in a session of its own)."""
    from webapp.extensions import db
    from webapp.models.embed import EmbedSite, EmbedThread

    # Per database too: the SQLite and PostgreSQL runs number their stories alike.
    key = (str(db.engine.url), world.story.id)
    found = _EMBEDS.get(key)
    if found is None:
        site = EmbedSite(
            name=f"Host {next_number()}",
            origins=["https://host.example"],
            secret="matrix-secret",
            created_by_id=world.story.author_id,
        )
        thread = EmbedThread(site=site, key="matrix-page", article_id=world.story.id)
        db.session.add(thread)
        db.session.commit()
        found = _EMBEDS[key] = {"site_id": site.id, "thread_id": thread.id}
    return found


_EMBEDS: dict[tuple[str, int], dict[str, int]] = {}


def route_url(endpoint: str, arguments: set[str], world: World) -> str:
    """The route's URL, aimed at the world's objects (needs a request context)."""
    values: dict[str, Any] = {
        "comment_id": world.comment.id,
        "user_id": world.target.id,
        "term_id": world.term.id,
        "group_id": world.group.id,
        "article_id": world.story.id,
        "status": "pending",
        "key": "articles/none/480.jpg",
        # A genuine unsubscribe token (the world's author, reply mail).
        "token": unsubscribe_token(world.author.id, "reply"),
    }
    if {"site_id", "thread_id"} & arguments or endpoint == "api.embed_counts":
        values.update(embed_ids(world))
    if endpoint == "api.embed_counts":
        return url_for(endpoint, site=values["site_id"], threads="matrix-page")
    if endpoint.startswith("embed.") and endpoint not in {"embed.script", "embed.popup"}:
        # The frame's address: the site, its thread (the world's story) and the host
        # page's origin, as embed.js writes it.
        site_id = embed_ids(world)["site_id"]
        frame: dict[str, Any] = {
            "site": site_id,
            "thread": "matrix-page",
            "origin": "https://host.example",
        }
        return url_for(endpoint, **frame, **{name: values[name] for name in arguments})
    if "slug" in arguments:
        if endpoint in {"public.label", "public.topic_feed"}:
            values["slug"] = "world"
        elif endpoint in {"api.get_article", "public.article"}:
            values["slug"] = world.draft.slug
        else:
            values["slug"] = world.story.slug
    return url_for(endpoint, **{name: values[name] for name in arguments})


def app_routes(app: Flask) -> dict[tuple[str, str], set[str]]:
    """(endpoint, method) -> the rule's URL arguments, for every route but static files."""
    return {
        (rule.endpoint, method): set(rule.arguments)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in (rule.methods or set()) - IGNORED_METHODS
    }


@dataclass
class Visitor:
    """A role's signed-in session (or an anonymous one), replayed on fresh clients."""

    cookie: str
    token: str
    user: User | None

    def client(self, app: Flask) -> FlaskClient:
        client = app.test_client()
        client.set_cookie("session", self.cookie)
        return client


def visitor(app: Flask, user: User | None) -> Visitor:
    api = Api(app.test_client())
    if user is not None:
        api.login(user)
    token = api.token
    cookie = api.client.get_cookie("session")
    assert cookie is not None
    return Visitor(cookie.value, token, user)
