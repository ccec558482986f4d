"""The poll a host describes in signed data (issue 22): a JWT with the site's secret,
checked by the editor's poll rules, set on a thread its pages made while it has no
poll, replaced while it has no votes, never over an editor's poll; anything bad or
forged leaves the thread as it is, with a log line. The service, and the frame over
HTTP. On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient

from tests.embed.conftest import sign_as_host
from webapp.extensions import db
from webapp.models import Article
from webapp.services import articles, polls
from webapp.services import embed as embed_rules
from webapp.services.embed import host_poll

HOST = "https://news.example"


@pytest.fixture
def site(make_site: Callable[..., Any]) -> Any:
    return make_site(
        create_on_first_view=True, poll_allow_anonymous=True, poll_results_visibility="after_vote"
    )


@pytest.fixture
def poll_token() -> Callable[..., str]:
    """A poll description as a host's server signs it: for thread ``story-1``, valid for
    an hour unless claims say else; ``drop`` leaves claims out."""

    def build(site: Any, **options: Any) -> str:
        now = int(time.time())
        defaults = {
            "thread": "story-1",
            "question": "Should the ferry run at night?",
            "options": ["Yes", "No"],
            "iat": now,
            "exp": now + 3600,
        }
        return sign_as_host(site, defaults, **options)

    return build


def _first_view(site: Any, key: str = "story-1") -> Article:
    article = embed_rules.resolve_thread(site, key=key, title="Ferries at night")
    assert article is not None
    db.session.commit()
    return article


def _poll_of(article_id: int) -> Any:
    db.session.expire_all()
    return db.session.get(Article, article_id).poll


def _vote(poll: Any, option_index: int = 0) -> None:
    polls.cast_vote(poll, polls.Voter("a:visitor", None), poll.options[option_index].id)
    db.session.commit()


# --- the service ---------------------------------------------------------------------------


def test_a_first_view_thread_gets_the_poll_the_host_describes(
    site: Any, poll_token: Callable[..., str]
) -> None:
    article = _first_view(site)
    closes = int(time.time()) + 7 * 86400
    token = poll_token(
        site,
        question="  Should the ferry run at night? ",
        options=["Yes", "No", "Only at weekends"],
        closes_at=closes,
        results="always",
        anonymous=False,
    )
    assert embed_rules.poll_from_host(site, token, key="story-1") == "set"
    db.session.commit()
    poll = _poll_of(article.id)
    assert poll.question == "Should the ferry run at night?"  # cleaned as the editor's
    assert [option.label for option in poll.options] == ["Yes", "No", "Only at weekends"]
    assert int(poll.closes_at.timestamp()) == closes
    assert (poll.results_visibility, poll.allow_anonymous) == ("always", False)


def test_what_the_description_leaves_out_comes_from_the_site_s_poll_defaults(
    site: Any, poll_token: Callable[..., str]
) -> None:
    article = _first_view(site)
    assert embed_rules.poll_from_host(site, poll_token(site), key="story-1") == "set"
    db.session.commit()
    poll = _poll_of(article.id)
    assert (poll.results_visibility, poll.allow_anonymous) == ("after_vote", True)
    assert poll.closes_at is None


def test_the_same_description_again_changes_nothing(
    site: Any, poll_token: Callable[..., str]
) -> None:
    article = _first_view(site)
    token = poll_token(site)
    assert embed_rules.poll_from_host(site, token, key="story-1") == "set"
    db.session.commit()
    first = _poll_of(article.id)
    _vote(first)  # votes do not stop a description that changes nothing
    assert (
        embed_rules.poll_from_host(site, poll_token(site, iat=int(time.time()) - 5), key="story-1")
        == "unchanged"
    )
    db.session.commit()
    assert _poll_of(article.id).id == first.id


def test_the_host_replaces_its_own_poll_while_nobody_voted_and_never_after(
    site: Any, poll_token: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    article = _first_view(site)
    embed_rules.poll_from_host(site, poll_token(site), key="story-1")
    db.session.commit()
    changed = poll_token(
        site, question="Should the ferry run all night?", options=["Yes", "No", "Unsure"]
    )
    assert embed_rules.poll_from_host(site, changed, key="story-1") == "replaced"
    db.session.commit()
    poll = _poll_of(article.id)
    assert poll.question == "Should the ferry run all night?"
    assert [option.label for option in poll.options] == ["Yes", "No", "Unsure"]

    _vote(poll, 2)
    again = poll_token(site, question="A third question?", options=["A", "B"])
    with caplog.at_level(logging.WARNING, logger=host_poll.__name__):
        assert embed_rules.poll_from_host(site, again, key="story-1") is None
    db.session.commit()
    kept = _poll_of(article.id)
    assert kept.question == "Should the ferry run all night?"
    assert [option.label for option in kept.options] == ["Yes", "No", "Unsure"]
    assert "poll_not_the_hosts" in caplog.text and "has votes" in caplog.text


def test_a_withdrawn_vote_still_keeps_the_host_from_replacing_the_poll(
    site: Any, poll_token: Callable[..., str]
) -> None:
    article = _first_view(site)
    embed_rules.poll_from_host(site, poll_token(site), key="story-1")
    db.session.commit()
    poll = _poll_of(article.id)
    _vote(poll, 1)
    assert polls.withdraw_vote(poll, "a:visitor")
    db.session.commit()
    changed = poll_token(site, question="Another question?", options=["A", "B"])
    assert embed_rules.poll_from_host(site, changed, key="story-1") is None
    db.session.commit()
    assert _poll_of(article.id).question == "Should the ferry run at night?"


def test_a_poll_an_editor_set_or_changed_in_pulse_is_never_the_host_s(
    site: Any, poll_token: Callable[..., str]
) -> None:
    # The editor set the poll before the host described one.
    first = _first_view(site)
    editors = articles.PollInput(question="The editor's question?", options=["One", "Two"])
    articles.update_article(first, articles.ArticleChanges(poll=editors))
    db.session.commit()
    assert embed_rules.poll_from_host(site, poll_token(site), key="story-1") is None
    db.session.commit()
    assert _poll_of(first.id).question == "The editor's question?"

    # The host set it, then an editor changed it in Pulse: the editor's from then on,
    # even without a vote.
    second = _first_view(site, "story-2")
    assert embed_rules.poll_from_host(site, poll_token(site, thread="story-2"), key="story-2")
    db.session.commit()
    reworded = articles.PollInput(
        question="Should the ferry run at night, all year?",
        options=["Yes", "No"],
        results_visibility="after_vote",
        allow_anonymous=True,
    )
    articles.update_article(
        db.session.get(Article, second.id), articles.ArticleChanges(poll=reworded)
    )
    db.session.commit()
    replaced = poll_token(site, thread="story-2", question="Something else?")
    assert embed_rules.poll_from_host(site, replaced, key="story-2") is None
    db.session.commit()
    assert _poll_of(second.id).question == "Should the ferry run at night, all year?"

    # An editor closing it by hand makes it theirs too.
    third = _first_view(site, "story-3")
    embed_rules.poll_from_host(site, poll_token(site, thread="story-3"), key="story-3")
    db.session.commit()
    articles.close_poll(_poll_of(third.id))
    db.session.commit()
    assert (
        embed_rules.poll_from_host(
            site, poll_token(site, thread="story-3", question="New?"), key="story-3"
        )
        is None
    )


def test_an_editor_s_article_given_to_a_page_keeps_its_poll_or_none(
    site: Any, poll_token: Callable[..., str], make_article: Callable[..., Any]
) -> None:
    article = make_article("An editor's story")  # no poll
    embed_rules.attach_article(site, article, key="story-1")
    db.session.commit()
    with pytest.raises(embed_rules.PollNotTheHosts):
        embed_rules.apply_poll_description(
            embed_rules.find_thread(site, "story-1"),
            embed_rules.read_poll_description(site, poll_token(site)),
        )
    db.session.rollback()
    assert embed_rules.poll_from_host(site, poll_token(site), key="story-1") is None
    assert _poll_of(article.id) is None


def test_a_page_without_a_thread_gets_no_poll(
    make_site: Callable[..., Any], poll_token: Callable[..., str]
) -> None:
    site = make_site()  # does not create threads on first view
    assert embed_rules.poll_from_host(site, poll_token(site), key="story-1") is None
    assert embed_rules.find_thread(site, "story-1") is None


def test_the_description_names_its_thread_by_id_or_by_url(
    site: Any, poll_token: Callable[..., str]
) -> None:
    url = f"{HOST}/2026/ferries"
    article = embed_rules.resolve_thread(site, url=url, title="Ferries")
    db.session.commit()
    # Another thread's description is refused ...
    assert embed_rules.poll_from_host(site, poll_token(site, thread="story-9"), url=url) is None
    # ... its own, by the URL written otherwise, is taken.
    token = poll_token(site, thread="https://NEWS.example:443/2026/ferries#comments")
    assert embed_rules.poll_from_host(site, token, url=url) == "set"
    db.session.commit()
    assert _poll_of(article.id) is not None


def _unsigned(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _claims() -> dict[str, Any]:
    now = int(time.time())
    return {
        "thread": "story-1",
        "question": "Q?",
        "options": ["A", "B"],
        "iat": now,
        "exp": now + 60,
    }


@pytest.mark.parametrize(
    ("forge", "problem"),
    [
        pytest.param(lambda s, m: m(s, secret="not-the-site-secret-" * 3), "", id="secret"),
        pytest.param(lambda s, m: m(s, algorithm="HS512"), "", id="hs512"),
        pytest.param(lambda s, m: _unsigned(_claims()), "", id="alg-none"),
        pytest.param(lambda s, m: json.dumps(_claims()), "", id="plain-json"),
        pytest.param(lambda s, m: "x" * 7000, "", id="huge"),
        pytest.param(lambda s, m: m(s, drop=("exp",)), "", id="no-exp"),
        pytest.param(lambda s, m: m(s, drop=("thread",)), "", id="no-thread"),
        pytest.param(lambda s, m: m(s, drop=("options",)), "", id="no-options"),
        pytest.param(lambda s, m: m(s, options="Yes,No"), "", id="options-text"),
        pytest.param(lambda s, m: m(s, options=["Yes", 2]), "", id="option-number"),
        pytest.param(lambda s, m: m(s, anonymous="yes"), "", id="anonymous-text"),
        pytest.param(lambda s, m: m(s, closes_at="tomorrow"), "", id="closes-text"),
        pytest.param(lambda s, m: m(s, closes_at=True), "", id="closes-bool"),
        # The editor's own rules, as validate_poll says them:
        pytest.param(lambda s, m: m(s, options=["Only one"]), "poll.options", id="one-option"),
        pytest.param(
            lambda s, m: m(s, options=[f"Option {n}" for n in range(11)]),
            "poll.options",
            id="eleven-options",
        ),
        pytest.param(lambda s, m: m(s, options=["Yes", "yes"]), "poll.options", id="twins"),
        pytest.param(lambda s, m: m(s, options=["Yes", " "]), "poll.options", id="blank"),
        pytest.param(lambda s, m: m(s, question=""), "poll.question", id="no-question"),
        pytest.param(lambda s, m: m(s, question="Q" * 301), "poll.question", id="long-question"),
        pytest.param(
            lambda s, m: m(s, results="sometimes"), "poll.results_visibility", id="results"
        ),
    ],
)
def test_a_bad_or_forged_description_is_refused_and_changes_nothing(
    site: Any,
    poll_token: Callable[..., str],
    forge: Any,
    problem: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    article = _first_view(site)
    token = forge(site, poll_token)
    with pytest.raises(embed_rules.PollDescriptionInvalid) as refused:
        embed_rules.read_poll_description(site, token)
    if problem:
        assert problem in (refused.value.fields or {})
    with caplog.at_level(logging.WARNING, logger=host_poll.__name__):
        assert embed_rules.poll_from_host(site, token, key="story-1") is None
    assert "poll_description_invalid" in caplog.text
    assert token not in caplog.text  # the log names the refusal, not the data
    db.session.commit()
    assert _poll_of(article.id) is None


def test_an_expired_description_is_refused_as_expired(
    site: Any, poll_token: Callable[..., str]
) -> None:
    _first_view(site)
    now = int(time.time())
    token = poll_token(site, iat=now - 7200, exp=now - 3600)
    with pytest.raises(embed_rules.PollDescriptionExpired):
        embed_rules.read_poll_description(site, token)
    assert embed_rules.poll_from_host(site, token, key="story-1") is None


# --- the frame -----------------------------------------------------------------------------


def _frame(site: Any, **extra: str) -> str:
    query = {"site": str(site.id), "thread": "story-1", "origin": HOST, "title": "Ferries"}
    return "/embed/v1/thread?" + urlencode({**query, **extra})


def test_the_frame_shows_the_host_s_poll_from_its_first_view_and_takes_votes(
    client: FlaskClient, site: Any, poll_token: Callable[..., str]
) -> None:
    response = client.get(_frame(site, poll=poll_token(site)))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Should the ferry run at night?" in page
    thread = embed_rules.find_thread(site, "story-1")
    assert thread is not None and thread.article.poll is not None
    option = thread.article.poll.options[1]
    # The frame's own forms leave the description out of their addresses: done once.
    assert "poll=" not in page.split("Should the ferry run at night?", 1)[1]
    voted = client.post(
        "/embed/v1/poll?" + urlencode({"site": site.id, "thread": "story-1", "origin": HOST}),
        data={"option_id": option.id},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert voted.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(option), option.id).vote_count == 1


@pytest.mark.parametrize(
    "poll",
    ["not-a-token", "%ff%00", "a.b.c", json.dumps(_claims()), "x" * 5000],
)
def test_a_bad_description_gives_the_frame_without_a_poll(
    client: FlaskClient, site: Any, poll: str
) -> None:
    response = client.get(_frame(site, poll=poll))
    assert response.status_code == 200
    thread = embed_rules.find_thread(site, "story-1")
    assert thread is not None and thread.article.poll is None


def test_a_forged_description_in_the_frame_changes_no_poll_and_says_why_in_the_log(
    client: FlaskClient,
    site: Any,
    poll_token: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client.get(_frame(site, poll=poll_token(site)))
    forged = poll_token(site, secret="an-attacker-s-secret-" * 3, question="Forged?")
    with caplog.at_level(logging.WARNING, logger=host_poll.__name__):
        response = client.get(_frame(site, poll=forged))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Should the ferry run at night?" in page and "Forged?" not in page
    assert f"site {site.id}'s poll description for thread 'story-1' was not applied" in caplog.text


def test_the_readme_s_python_example_signs_what_pulse_takes(site: Any) -> None:
    """The host-side example in README.md's "Embed Pulse in your site", run as written
    with this site's secret: its poll description sets the poll, its token signs in."""
    from pathlib import Path
    from types import SimpleNamespace

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Embed Pulse in your site", 1)[1].split("\n## ", 1)[0]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert 'PULSE_SITE_SECRET = "…"' in example
    namespace: dict[str, Any] = {}
    exec(example.replace('"…"', repr(site.secret)), namespace)  # our own README

    article = _first_view(site)
    assert embed_rules.poll_from_host(site, namespace["pulse_poll"]("story-1"), "story-1")
    db.session.commit()
    assert _poll_of(article.id).question == "Should the ferry run at night?"
    reader = SimpleNamespace(id=7, display_name="Ada Reader", email="ada@news.example")
    identity = embed_rules.verify_host_token(site, namespace["pulse_token"](reader))
    assert embed_rules.sign_in_host_reader(site, identity).display_name == "Ada Reader"
