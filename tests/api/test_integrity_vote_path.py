"""What a vote keeps of where it came from (issue 16), through the API and the page's
form: the signals in the vote's own single statement, nothing personal among them;
anonymous votes refused while a poll is under attack; the shared vote budget and
the hourly cap on one address's anonymous votes in one poll."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeSerializer

from tests.conftest import Api, every_statement
from webapp.models import Vote, utcnow
from webapp.services.integrity.signals import (
    address_hash,
    agent_hash,
    network_hash,
    page_token,
)
from webapp.voters import COOKIE_NAME

FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0"


def _url(article, tail=""):
    return f"/api/v1/articles/{article.slug}/poll{tail}"


def _option(article, index=0):
    return article.poll.options[index].id


def _only_vote(db):
    db.session.rollback()
    [vote] = db.session.scalars(sa.select(Vote)).all()
    return vote


def _cookie(app, value):
    return URLSafeSerializer(app.config["SECRET_KEY"], salt="pulse-anonymous-voter").dumps(value)


# --- the address, as the rate limits see it ----------------------------------------------


def test_the_address_and_its_network_are_kept_as_keyed_hashes(api, make_article, db):
    article = make_article(poll={"allow_anonymous": True})
    response = api.post(
        _url(article, "/votes"),
        {"option_id": _option(article)},
        environ_base={"REMOTE_ADDR": "198.51.100.23"},
        headers={"User-Agent": FIREFOX},
    )
    assert response.status_code == 201
    vote = _only_vote(db)
    assert vote.client_hash == address_hash("198.51.100.23")
    assert vote.network_hash == network_hash("198.51.100.1")
    assert vote.agent_hash == agent_hash(FIREFOX)


def test_an_ipv6_voter_network_is_its_slash_48(make_api, make_article, db):
    article = make_article(poll={"allow_anonymous": True})
    for n, address in enumerate(["2001:db8:5::1", "2001:db8:5:ff::2", "2001:db8:6::1"]):
        make_api().post(
            _url(article, "/votes"),
            {"option_id": _option(article, n % 3)},
            environ_base={"REMOTE_ADDR": address},
        )
    db.session.rollback()
    votes = db.session.scalars(sa.select(Vote).order_by(Vote.id)).all()
    assert len({v.client_hash for v in votes}) == 3
    assert votes[0].network_hash == votes[1].network_hash != votes[2].network_hash


def test_behind_one_trusted_proxy_the_address_is_the_one_the_proxy_saw(make_app, make_article):
    app = make_app(TRUSTED_PROXY_COUNT=1)
    with app.app_context():
        from webapp.extensions import db

        article = make_article(poll={"allow_anonymous": True})
        forged = "192.0.2.66, 203.0.113.5"  # the client wrote the first entry itself
        for n in range(2):
            response = Api(app.test_client()).post(
                _url(article, "/votes"),
                {"option_id": _option(article, n)},
                environ_base={"REMOTE_ADDR": "10.0.0.2"},  # the proxy
                headers={"X-Forwarded-For": forged if n == 0 else "203.0.113.5"},
            )
            assert response.status_code == 201
        db.session.rollback()
        hashes = db.session.scalars(sa.select(Vote.client_hash)).all()
        assert hashes == [address_hash("203.0.113.5")] * 2
        assert address_hash("192.0.2.66") not in hashes and address_hash("10.0.0.2") not in hashes


def test_nothing_personal_is_stored_with_a_vote(api, make_article, make_user, db):
    article = make_article(poll={"allow_anonymous": True})
    reader = make_user()
    api.login(reader)
    api.post(
        _url(article, "/votes"),
        {"option_id": _option(article)},
        environ_base={"REMOTE_ADDR": "203.0.113.77"},
        headers={"User-Agent": FIREFOX},
    )
    row = db.session.execute(sa.select(Vote.__table__)).mappings().one()
    flat = " ".join(str(value) for value in row.values()).lower()
    for personal in ("203.0.113", "firefox", "macintosh", "mozilla", reader.email.lower()):
        assert personal not in flat
    assert row["client_hash"] and row["network_hash"] and row["agent_hash"]


# --- one statement ------------------------------------------------------------------------


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_first_vote_with_all_its_signals_is_one_statement(
    make_app, make_article, make_user, signed_in
):
    app = make_app(RESULTS_CACHE_SECONDS=30)
    with app.app_context():
        from webapp.extensions import db

        article = make_article(poll={"allow_anonymous": True})
        api = Api(app.test_client())
        if signed_in:
            api.login(make_user())
        api.get(_url(article, "/results"))  # the poll is in the results cache
        token = api.token
        url, option = _url(article, "/votes"), _option(article)
        page = page_token(article.poll.id)
        found: list[str] = []
        # Every engine: a first vote runs on the autocommit one (transactions.lone_write).
        with every_statement(lambda conn, statement: found.append(" ".join(statement.split()))):
            response = api.post(
                url, {"option_id": option}, headers={"X-Pulse-Page": page, "X-CSRFToken": token}
            )
        assert response.status_code == 201
        # The vote's own statements: not the signed-in reader's load, nor BEGIN/COMMIT.
        statements = [
            s
            for s in found
            if not s.upper().startswith(("BEGIN", "COMMIT")) and " FROM users " not in s
        ]
        if db.engine.dialect.name == "postgresql":
            # The INSERT and the tally's read, in one round trip (models/first_vote.py).
            [call] = statements
            assert call.startswith("SELECT pulse_checked_first_vote(")
        else:
            writes = [s for s in statements if not s.upper().startswith("SELECT")]
            assert len(writes) == 1, found
            [insert] = writes
            assert insert.startswith("INSERT INTO votes")
            for column in (
                "network_hash",
                "agent_hash",
                "account_age_seconds",
                "cookie_age_seconds",
            ):
                assert column in insert
        vote = _only_vote(db)
        assert vote.saw_article is True
        assert vote.network_hash and vote.agent_hash and vote.client_hash
        assert vote.cookie_age_seconds == (None if signed_in else 0)
        assert (vote.account_age_seconds is not None) == signed_in
        # The voter is shown the tally as stored with their vote in it.
        answer = response.get_json()
        assert answer["my_vote"] == option
        shown = {each["id"]: each["votes"] for each in answer["options"]}
        assert shown[option] == 1 and answer["total"] == 1


def test_a_moved_vote_updates_its_signals_in_its_one_update(api, make_article, db, make_api):
    article = make_article(poll={"allow_anonymous": True})
    api.post(_url(article, "/votes"), {"option_id": _option(article)})
    first = _only_vote(db)
    assert first.saw_article is False
    moved = api.post(
        _url(article, "/votes"),
        {"option_id": _option(article, 1)},
        environ_base={"REMOTE_ADDR": "198.51.100.99"},
        headers={"X-Pulse-Page": page_token(article.poll.id), "User-Agent": FIREFOX},
    )
    assert moved.status_code == 200
    vote = _only_vote(db)
    assert vote.option_id == _option(article, 1)
    assert vote.client_hash == address_hash("198.51.100.99")
    assert vote.network_hash == network_hash("198.51.100.99")
    assert vote.agent_hash == agent_hash(FIREFOX)
    assert vote.saw_article is True


# --- ages -----------------------------------------------------------------------------------


def test_a_vote_that_mints_the_cookie_has_a_cookie_of_age_zero(api, make_article, db):
    article = make_article(poll={"allow_anonymous": True})
    assert api.post(_url(article, "/votes"), {"option_id": _option(article)}).status_code == 201
    vote = _only_vote(db)
    assert vote.cookie_age_seconds == 0 and vote.account_age_seconds is None


def test_an_aged_cookie_is_known_by_its_mint_time(app, make_api, make_article, db):
    article = make_article(poll={"allow_anonymous": True})
    api = make_api()
    api.client.set_cookie(COOKIE_NAME, _cookie(app, ["a" * 32, int(time.time()) - 3600]))
    assert api.post(_url(article, "/votes"), {"option_id": _option(article)}).status_code == 201
    vote = _only_vote(db)
    assert vote.voter_key == f"a:{'a' * 32}"
    assert 3600 <= vote.cookie_age_seconds < 3660


def test_a_cookie_minted_before_it_carried_its_time_is_of_unknown_age(
    app, make_api, make_article, db
):
    article = make_article(poll={"allow_anonymous": True})
    api = make_api()
    api.client.set_cookie(COOKIE_NAME, _cookie(app, "b" * 32))
    assert api.post(_url(article, "/votes"), {"option_id": _option(article)}).status_code == 201
    vote = _only_vote(db)
    assert vote.voter_key == f"a:{'b' * 32}" and vote.cookie_age_seconds is None


def test_a_new_cookie_is_of_a_few_seconds_on_the_next_poll(api, make_article, db):
    first, second = (
        make_article(poll={"allow_anonymous": True}),
        make_article(poll={"allow_anonymous": True}),
    )
    api.post(_url(first, "/votes"), {"option_id": _option(first)})
    api.post(_url(second, "/votes"), {"option_id": _option(second)})
    db.session.rollback()
    ages = db.session.scalars(sa.select(Vote.cookie_age_seconds).order_by(Vote.id)).all()
    assert ages[0] == 0 and ages[1] is not None and 0 <= ages[1] < 60
    keys = db.session.scalars(sa.select(Vote.voter_key)).all()
    assert len(set(keys)) == 1  # the same visitor, not a new one


def test_a_signed_in_vote_keeps_the_accounts_age(api, make_article, make_user, db):
    article = make_article(poll=True)
    reader = make_user()
    reader.created_at = utcnow() - timedelta(days=2)
    db.session.commit()
    api.login(reader)
    assert api.post(_url(article, "/votes"), {"option_id": _option(article)}).status_code == 201
    vote = _only_vote(db)
    assert 2 * 86400 <= vote.account_age_seconds < 2 * 86400 + 60
    assert vote.cookie_age_seconds is None


def test_a_fresh_account_is_seconds_old(api, make_article, make_user, db):
    article = make_article(poll=True)
    api.login(make_user())
    api.post(_url(article, "/votes"), {"option_id": _option(article)})
    assert 0 <= _only_vote(db).account_age_seconds < 60


# --- the page token -------------------------------------------------------------------------


def _page_token_of(page: str) -> str:
    match = re.search(r'name="page_token" value="([^"]+)"', page)
    assert match, "the vote form carries a page token"
    return match.group(1)


def test_a_vote_from_the_article_page_saw_the_article(api, make_article, make_api, db):
    article = make_article(poll={"allow_anonymous": True})
    page = api.get(f"/articles/{article.slug}").get_data(as_text=True)
    token = _page_token_of(page)
    assert f'data-page-token="{token}"' in page
    # every reader of the article gets the same token (a cached page carries it)
    assert (
        _page_token_of(make_api().get(f"/articles/{article.slug}").get_data(as_text=True)) == token
    )
    response = api.form(
        f"/articles/{article.slug}/poll", {"option_id": _option(article), "page_token": token}
    )
    assert response.status_code == 302
    assert _only_vote(db).saw_article is True


def test_an_empty_page_header_leaves_the_forms_token_to_count(api, make_article, db):
    # pulse.js sends the header empty from a form without a token of its own
    article = make_article(poll={"allow_anonymous": True})
    token = _page_token_of(api.get(f"/articles/{article.slug}").get_data(as_text=True))
    response = api.form(
        f"/articles/{article.slug}/poll",
        {"option_id": _option(article), "page_token": token},
        headers={"X-Pulse-Page": "", "X-Pulse-Fragment": "poll"},
    )
    assert response.status_code == 200
    assert _only_vote(db).saw_article is True


def test_a_form_vote_without_the_page_did_not_see_it(api, make_article, db):
    article = make_article(poll={"allow_anonymous": True})
    assert (
        api.form(f"/articles/{article.slug}/poll", {"option_id": _option(article)}).status_code
        == 302
    )
    assert _only_vote(db).saw_article is False


@pytest.mark.parametrize("which", ["none", "expired", "other_article", "forged", "garbled"])
def test_an_api_vote_without_a_good_page_token_is_taken_and_did_not_see_the_article(
    make_api, make_article, db, which
):
    article, other = make_article(poll={"allow_anonymous": True}), make_article(poll=True)
    now = time.time()
    token = {
        "none": None,
        "expired": page_token(article.poll.id, now - 2 * 86400),
        "other_article": page_token(other.poll.id, now),
        "forged": page_token(article.poll.id, now).split(".")[0] + ".0123456789abcdef",
        "garbled": "1234.ééé",
    }[which]
    headers = {"X-Pulse-Page": token} if token else {}
    response = make_api().post(
        _url(article, "/votes"), {"option_id": _option(article)}, headers=headers
    )
    assert response.status_code == 201
    assert _only_vote(db).saw_article is False


def test_an_api_vote_with_the_page_token_saw_the_article(make_api, make_article, db):
    article = make_article(poll={"allow_anonymous": True})
    response = make_api().post(
        _url(article, "/votes"),
        {"option_id": _option(article)},
        headers={"X-Pulse-Page": page_token(article.poll.id)},
    )
    assert response.status_code == 201
    assert _only_vote(db).saw_article is True


# --- under attack -------------------------------------------------------------------------


def _under_attack(db, article, chosen=True):
    article.poll.signed_in_only_under_attack = chosen
    article.poll.under_attack_since = utcnow()
    db.session.commit()


def test_under_attack_anonymous_votes_are_refused_and_signed_in_ones_taken(
    api, make_api, make_article, make_user, db
):
    article = make_article(poll={"allow_anonymous": True})
    _under_attack(db, article)
    refused = make_api().post(_url(article, "/votes"), {"option_id": _option(article)})
    assert refused.status_code == 401
    error = refused.get_json()["error"]
    assert error["code"] == "unauthorized" and "signed-in readers only" in error["message"]
    api.login(make_user())
    assert api.post(_url(article, "/votes"), {"option_id": _option(article)}).status_code == 201
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1


def test_under_attack_without_the_editors_choice_anonymous_votes_are_taken(
    make_api, make_article, db
):
    article = make_article(poll={"allow_anonymous": True})
    _under_attack(db, article, chosen=False)
    assert (
        make_api().post(_url(article, "/votes"), {"option_id": _option(article)}).status_code == 201
    )


def test_under_attack_behind_the_results_cache_the_vote_is_still_refused(make_app, make_article):
    app = make_app(RESULTS_CACHE_SECONDS=30)
    with app.app_context():
        from webapp.extensions import db

        article = make_article(poll={"allow_anonymous": True})
        api = Api(app.test_client())
        assert api.get(_url(article, "/results")).status_code == 200  # cached: takes anyone
        _under_attack(db, article)  # as a decision does, but leaving the cache as it was
        refused = api.post(_url(article, "/votes"), {"option_id": _option(article)})
        assert refused.status_code == 401
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0


def test_under_attack_the_page_says_so_and_still_takes_signed_in_votes(
    api, make_api, make_article, make_user, db
):
    article = make_article(poll={"allow_anonymous": True})
    _under_attack(db, article)
    visitor = make_api()
    page = visitor.get(f"/articles/{article.slug}").get_data(as_text=True)
    assert "signed-in readers only for now" in page and 'name="option_id"' not in page
    posted = visitor.form(f"/articles/{article.slug}/poll", {"option_id": _option(article)})
    assert posted.status_code == 302 and "/login" in posted.headers["Location"]
    api.login(make_user())
    page = api.get(f"/articles/{article.slug}").get_data(as_text=True)
    assert 'name="option_id"' in page and "signed-in readers only for now" not in page
    assert (
        api.form(f"/articles/{article.slug}/poll", {"option_id": _option(article)}).status_code
        == 302
    )
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1


# --- rate limits ----------------------------------------------------------------------------


def test_the_api_and_the_form_share_one_vote_budget(make_app, make_article):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_VOTE="3 per minute")
    with app.app_context():
        article = make_article(poll={"allow_anonymous": True})
        api = Api(app.test_client())
        assert api.post(_url(article, "/votes"), {"option_id": _option(article)}).status_code == 201
        form = f"/articles/{article.slug}/poll"
        assert api.form(form, {"option_id": _option(article, 1)}).status_code == 302
        assert api.post(_url(article, "/votes"), {"option_id": _option(article)}).status_code == 200
        by_form = api.form(form, {"option_id": _option(article, 1)})
        assert by_form.status_code == 429 and "too fast" in by_form.get_data(as_text=True)
        by_api = api.post(_url(article, "/votes"), {"option_id": _option(article)})
        assert by_api.status_code == 429 and by_api.get_json()["error"]["code"] == "rate_limited"


def _script_vote(app, article, door, address="203.0.113.50", option=0):
    """A script that drops its voter cookie: a new visitor every time."""
    api = Api(app.test_client())
    environ = {"REMOTE_ADDR": address}
    if door == "api":
        return api.post(
            _url(article, "/votes"), {"option_id": _option(article, option)}, environ_base=environ
        )
    return api.form(
        f"/articles/{article.slug}/poll",
        {"option_id": _option(article, option)},
        environ_base=environ,
    )


def test_anonymous_votes_in_one_poll_from_one_address_are_capped_per_hour(
    make_app, make_article, make_user
):
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_VOTE="1000 per minute",
        RATELIMIT_ANONYMOUS_POLL_VOTES="3 per hour",
    )
    with app.app_context():
        from webapp.extensions import db

        article, other = (
            make_article(poll={"allow_anonymous": True}),
            make_article(poll={"allow_anonymous": True}),
        )
        codes = [_script_vote(app, article, door).status_code for door in ("api", "form", "api")]
        assert codes == [201, 302, 201]
        capped = _script_vote(app, article, "api")
        assert capped.status_code == 429
        assert capped.get_json()["error"]["code"] == "rate_limited"
        assert int(capped.headers["Retry-After"]) > 60  # the hour's window, not a minute's
        by_form = _script_vote(app, article, "form")
        assert by_form.status_code == 429
        assert "voting in this poll too fast" in by_form.get_data(as_text=True)
        # another poll, another address, a signed-in reader: their own counts
        assert _script_vote(app, other, "api").status_code == 201
        assert _script_vote(app, article, "api", address="198.51.100.1").status_code == 201
        reader = Api(app.test_client())
        reader.login(make_user())
        signed_in = reader.post(
            _url(article, "/votes"),
            {"option_id": _option(article)},
            environ_base={"REMOTE_ADDR": "203.0.113.50"},
        )
        assert signed_in.status_code == 201
        db.session.rollback()
        stored = db.session.scalar(
            sa.select(sa.func.count()).select_from(Vote).where(Vote.poll_id == article.poll.id)
        )
        assert stored == 5


def test_changing_an_anonymous_vote_counts_toward_the_cap(make_app, make_article):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_ANONYMOUS_POLL_VOTES="2 per hour")
    with app.app_context():
        article = make_article(poll={"allow_anonymous": True})
        api = Api(app.test_client())
        codes = [
            api.post(_url(article, "/votes"), {"option_id": _option(article, n)}).status_code
            for n in range(3)
        ]
        assert codes == [201, 200, 429]


def test_the_cap_is_off_with_the_rate_limits(make_app, make_article):
    app = make_app(RATELIMIT_ENABLED=False, RATELIMIT_ANONYMOUS_POLL_VOTES="2 per hour")
    with app.app_context():
        article = make_article(poll={"allow_anonymous": True})
        assert [_script_vote(app, article, "api").status_code for _ in range(4)] == [201] * 4


def test_a_poll_loaded_before_a_vote_shows_its_new_counts_after_it(db, make_article, make_user):
    from webapp.services import polls

    poll = make_article(poll=True).poll
    reader = make_user()
    yes, no = poll.options[0], poll.options[1]
    assert (yes.vote_count, yes.signed_in_count) == (0, 0)  # loaded before the votes
    polls.cast_vote(poll, polls.Voter(polls.user_voter_key(reader), reader.id), yes.id)
    assert (yes.vote_count, yes.signed_in_count) == (1, 1)
    polls.cast_vote(poll, polls.Voter(polls.user_voter_key(reader), reader.id), no.id)
    assert (yes.vote_count, yes.signed_in_count, no.signed_in_count) == (0, 0, 1)
