"""The demo: one article about the India-Pakistan ceasefire with its closing poll,
and accounts to try the service with. Safe to run any number of times."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Article, Comment, Role, User
from webapp.services import accounts, articles, comments, names, polls

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

# A few voices so the demo thread, the poll and the sentiment page are not empty.
# (display name, poll option index, comment, index of the comment it replies to)
DEMO_CONVERSATION = [
    (
        "Amina K.",
        1,
        "The truce stopped the shelling, and that matters. But nothing was "
        "settled about Kashmir itself, so I expect the calm to be short.",
        None,
    ),
    (
        "Rahul S.",
        0,
        "I am hopeful. Having the security advisers talk to each other "
        "directly is a real improvement on relying on outside capitals.",
        None,
    ),
    (
        "Farhan Q.",
        3,
        "Good point, although those channels have been opened and closed "
        "before. Let's see if they are still talking a month from now.",
        1,
    ),
    (
        "Leena M.",
        2,
        "Every crisis ends with a ceasefire and starts again a few years "
        "later. Without a political process this is just a pause.",
        None,
    ),
]
# A published demo password, like the ones above.
DEMO_READER_PASSWORD = "pulse-voice-demo"  # nosec B105


@dataclass
class SeedReport:
    created_accounts: list[DemoAccount]
    created_article: bool
    article_slug: str


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


def _load_conversation() -> None:
    article = db.session.scalar(select(Article).where(Article.slug == DEMO_SLUG))
    assert article is not None and article.poll is not None
    posted: list[Comment] = []
    for number, (name, option, body, reply_to) in enumerate(DEMO_CONVERSATION, start=1):
        email = f"voice{number}@pulse.example"
        voice = db.session.scalar(select(User).where(User.email == email))
        if voice is None:
            voice = accounts.create_user(email, DEMO_READER_PASSWORD, Role.READER, name)
        _in_step(voice)
        polls.cast_vote(
            article.poll,
            polls.Voter(polls.user_voter_key(voice), voice.id),
            article.poll.options[option].id,
        )
        parent = posted[reply_to].id if reply_to is not None else None
        posted.append(comments.submit(article, voice, body, parent))


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
        _load_conversation()
    db.session.flush()
    return SeedReport(created_accounts=created, created_article=not exists, article_slug=DEMO_SLUG)
