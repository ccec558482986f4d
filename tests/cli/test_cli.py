from __future__ import annotations

from sqlalchemy import func, select

from webapp.demo.loader import DEMO_QUESTION, DEMO_SLUG


def _counts(db):
    from webapp.models import Article, Label, Poll, PollOption, User

    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Article, Label, Poll, PollOption, User)
    }


def test_seed_demo_loads_the_article_poll_and_accounts(runner, db, client):
    from webapp.models import Article

    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "editor@pulse.example" in result.output
    assert "password:" in result.output
    article = db.session.scalar(select(Article).where(Article.slug == DEMO_SLUG))
    assert article.is_published
    assert article.poll.question == DEMO_QUESTION
    assert 3 <= len(article.poll.options) <= 4
    assert "Asim Munir" in article.body and "36 countries" in article.body
    # The demo's conversation (webapp/demo/conversation.py; tests/cli/test_demo_conversation.py).
    assert "comments" in result.output and "reactions" in result.output
    assert article.comment_count >= 40
    assert sum(option.vote_count for option in article.poll.options) >= 300
    page = client.get(f"/articles/{DEMO_SLUG}").get_data(as_text=True)
    assert DEMO_QUESTION in page


def test_seed_demo_twice_changes_nothing(runner, db):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    before = _counts(db)
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0
    assert "already there" in result.output
    assert _counts(db) == before


def test_seed_demo_accounts_can_sign_in(runner, api):
    from webapp.demo.loader import DEMO_ACCOUNTS

    runner.invoke(args=["seed-demo"])
    editor = next(a for a in DEMO_ACCOUNTS if a.role == "editor")
    response = api.post("/api/v1/auth/login", {"email": editor.email, "password": editor.password})
    assert response.status_code == 200
    assert response.get_json()["role"] == "editor"


def test_users_create_makes_an_account_with_the_role(runner, api):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Boss@Example.org",
            "--role",
            "admin",
            "--password",
            "a long admin password",
            "--name",
            "Boss",
        ]
    )
    assert result.exit_code == 0, result.output
    response = api.post(
        "/api/v1/auth/login", {"email": "boss@example.org", "password": "a long admin password"}
    )
    assert response.get_json() == {**response.get_json(), "role": "admin", "display_name": "Boss"}


def test_users_create_confirms_the_address_only_when_asked(runner, db):
    from webapp.models import User

    plain = runner.invoke(args=["users", "create", "a@example.org", "--password", "long enough pw"])
    sure = runner.invoke(
        args=["users", "create", "b@example.org", "--password", "long enough pw", "--confirmed"]
    )
    assert plain.exit_code == 0 and "address unconfirmed" in plain.output
    assert sure.exit_code == 0 and "address confirmed" in sure.output
    found = {u.email: u for u in db.session.scalars(select(User))}
    assert found["a@example.org"].email_verified_at is None
    assert found["b@example.org"].email_verified_at is not None


def test_users_create_refuses_weak_passwords_and_duplicates(runner):
    weak = runner.invoke(args=["users", "create", "a@example.org", "--password", "short"])
    assert weak.exit_code != 0
    assert "10 characters" in weak.output
    assert (
        runner.invoke(
            args=["users", "create", "a@example.org", "--password", "long enough pw"]
        ).exit_code
        == 0
    )
    again = runner.invoke(args=["users", "create", "a@example.org", "--password", "long enough pw"])
    assert again.exit_code != 0
    assert "already exists" in again.output


def test_polls_recount_reports_and_fixes_drift(runner, db, make_article):
    from webapp.models import PollOption
    from webapp.services import polls

    poll = make_article(poll=True).poll
    polls.cast_vote(poll, polls.Voter("a:1", None), poll.options[0].id)
    db.session.commit()
    clean = runner.invoke(args=["polls", "recount"])
    assert clean.exit_code == 0 and "nothing to fix" in clean.output
    db.session.get(PollOption, poll.options[0].id).vote_count = 5
    db.session.commit()
    result = runner.invoke(args=["polls", "recount"])
    assert result.exit_code == 0
    assert "stored 5, counted 1" in result.output
    db.session.expire_all()
    assert db.session.get(PollOption, poll.options[0].id).vote_count == 1
