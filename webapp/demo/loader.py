"""The demo: one article about the India-Pakistan ceasefire with its closing poll,
and accounts to try the service with. Safe to run any number of times."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from webapp.demo import conversation
from webapp.extensions import db
from webapp.models import Article, Role, User, utcnow
from webapp.services import accounts, articles, names

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
    # What the demo's conversation holds, when this run loaded it.
    conversation: conversation.ConversationReport | None = None


def _in_step(user: User) -> User:
    """A demo account seeded before names had skeletons gets its own now (new ones get
    it from registration), so the look-alike check also protects the demo's names."""
    if user.name_skeleton is None:
        user.name_skeleton = names.skeleton(user.display_name)
    return user


def _account(spec: DemoAccount) -> tuple[User, bool]:
    user = db.session.scalar(select(User).where(User.email == spec.email))
    if user is not None:
        return _in_step(user), False
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
    loaded = None
    if not exists:
        body = (Path(__file__).with_name("ceasefire.md")).read_text(encoding="utf-8")
        article = articles.create_article(
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
        loaded = _load_conversation(article)
    db.session.flush()
    return SeedReport(
        created_accounts=created,
        created_article=not exists,
        article_slug=DEMO_SLUG,
        conversation=loaded,
    )


def _load_conversation(article: Article) -> conversation.ConversationReport:
    """The article came out some days ago and its readers have been talking since
    (webapp/demo/conversation.py): its times go back to then, before the votes and
    comments, which the poll and the posting check against them."""
    now = utcnow()
    published = now - conversation.AGE
    article.published_at = article.created_at = article.updated_at = published
    assert article.poll is not None
    article.poll.created_at = published
    db.session.flush()
    return conversation.load_conversation(article, now)
