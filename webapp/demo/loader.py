"""The demo: one article about the India-Pakistan ceasefire with its closing poll,
and accounts to try the service with. Safe to run any number of times."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Article, Role, User
from webapp.services import accounts, articles

DEMO_SLUG = "how-us-diplomacy-averted-another-india-pakistan-war"
DEMO_QUESTION = "Do you believe this fragile peace will hold?"
DEMO_OPTIONS = [
    "Yes, the ceasefire will hold",
    "It will hold for now, but not for long",
    "No, a new conflict is one spark away",
    "Too early to tell",
]


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    display_name: str
    role: Role


DEMO_ACCOUNTS = [
    DemoAccount("editor@pulse.example", "pulse-editor-demo", "Demo Editor", Role.EDITOR),
    DemoAccount(
        "moderator@pulse.example", "pulse-moderator-demo", "Demo Moderator", Role.MODERATOR
    ),
    DemoAccount("reader@pulse.example", "pulse-reader-demo", "Demo Reader", Role.READER),
]


@dataclass
class SeedReport:
    created_accounts: list[DemoAccount]
    created_article: bool
    article_slug: str


def _account(spec: DemoAccount) -> tuple[User, bool]:
    user = db.session.scalar(select(User).where(User.email == spec.email))
    if user is not None:
        return user, False
    return accounts.create_user(spec.email, spec.password, spec.role, spec.display_name), True


def load_demo() -> SeedReport:
    created = []
    editor = None
    for spec in DEMO_ACCOUNTS:
        user, was_created = _account(spec)
        if was_created:
            created.append(spec)
        if spec.role == Role.EDITOR:
            editor = user
    assert editor is not None

    exists = db.session.scalar(select(Article.id).where(Article.slug == DEMO_SLUG)) is not None
    if not exists:
        body = (Path(__file__).with_name("ceasefire.md")).read_text(encoding="utf-8")
        articles.create_article(
            editor,
            articles.ArticleChanges(
                title="How quiet U.S. diplomacy pulled India and Pakistan back from the brink",
                slug=DEMO_SLUG,
                summary=(
                    "A ceasefire announced on social media, a phone call to Pakistan's army "
                    "chief and three parallel peace tracks: how the latest India-Pakistan "
                    "crisis was contained, and why the truce still looks fragile."
                ),
                body=body,
                labels=["South Asia", "Diplomacy", "India", "Pakistan"],
                status="published",
                comments="open",
                poll=articles.PollInput(
                    question=DEMO_QUESTION,
                    options=list(DEMO_OPTIONS),
                    results_visibility="always",
                    allow_anonymous=True,
                ),
            ),
        )
    db.session.flush()
    return SeedReport(created_accounts=created, created_article=not exists, article_slug=DEMO_SLUG)
