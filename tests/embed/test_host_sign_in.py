"""Host sign-in (issue 22): a site's token, HS256 with its secret, checked with PyJWT;
expired, forged, unsigned, incomplete, too long-lived, reused or older than the
reader's sign-out: refused. Never an existing account by its e-mail address. On SQLite
and PostgreSQL."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import User
from webapp.models.embed import ExternalIdentity
from webapp.services import embed


def test_a_good_token_makes_an_account_once_and_signs_it_in_again(
    make_site: Callable[..., Any], host_token: Callable[..., str]
) -> None:
    site = make_site()
    identity = embed.verify_host_token(site, host_token(site, jti="a"))
    assert (identity.subject, identity.name, identity.email) == (
        "host-user-1",
        "Ada Host",
        "ada@news.example",
    )
    user = embed.sign_in_host_reader(site, identity)
    db.session.commit()
    assert user.display_name == "Ada Host" and user.email == "ada@news.example"
    assert user.role == "reader"
    # The site vouches for the address (its accounts verified it): confirmed on Pulse.
    assert user.email_verified_at is not None
    again = embed.sign_in_host_reader(
        site, embed.verify_host_token(site, host_token(site, jti="b"))
    )
    assert again.id == user.id
    assert db.session.query(ExternalIdentity).count() == 1


def test_an_expired_token_is_refused_as_expired(
    make_site: Callable[..., Any], host_token: Callable[..., str]
) -> None:
    site = make_site()
    now = int(time.time())
    with pytest.raises(embed.HostTokenExpired) as refused:
        embed.verify_host_token(site, host_token(site, iat=now - 400, exp=now - 100))
    assert refused.value.code == "token_expired" and refused.value.status == 401


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda site, make: make(site, secret="not-the-site-secret-" * 2), id="secret"),
        pytest.param(lambda site, make: make(site, algorithm="HS512"), id="hs512"),
        pytest.param(lambda site, make: make(site, drop=("email",)), id="no-email"),
        pytest.param(lambda site, make: make(site, drop=("sub",)), id="no-sub"),
        pytest.param(lambda site, make: make(site, drop=("name",)), id="no-name"),
        pytest.param(lambda site, make: make(site, drop=("iat",)), id="no-iat"),
        pytest.param(lambda site, make: make(site, drop=("exp",)), id="no-exp"),
        pytest.param(lambda site, make: make(site, sub=""), id="empty-sub"),
        pytest.param(lambda site, make: make(site, sub=42), id="number-sub"),
        pytest.param(
            lambda site, make: make(site, exp=int(time.time()) + 3600), id="lives-an-hour"
        ),
        pytest.param(
            lambda site, make: make(site, iat=int(time.time()) + 600, exp=int(time.time()) + 700),
            id="issued-in-the-future",
        ),
        pytest.param(lambda site, make: "not.a.token", id="garbage"),
        pytest.param(lambda site, make: "", id="empty"),
    ],
)
def test_a_forged_or_malformed_token_is_refused_as_invalid(
    make_site: Callable[..., Any], host_token: Callable[..., str], forge: Any
) -> None:
    site = make_site()
    with pytest.raises(embed.HostTokenInvalid) as refused:
        embed.verify_host_token(site, forge(site, host_token))
    assert refused.value.code == "token_invalid" and refused.value.status == 401


def _unsigned(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_alg_none_is_refused(make_site: Callable[..., Any]) -> None:
    site = make_site()
    now = int(time.time())
    token = _unsigned(
        {"sub": "x", "name": "X", "email": "x@news.example", "iat": now, "exp": now + 60}
    )
    with pytest.raises(embed.HostTokenInvalid):
        embed.verify_host_token(site, token)


def test_a_rotated_secret_refuses_tokens_signed_with_the_old_one(
    make_site: Callable[..., Any], host_token: Callable[..., str]
) -> None:
    site = make_site()
    token = host_token(site)
    embed.rotate_secret(site)
    with pytest.raises(embed.HostTokenInvalid):
        embed.verify_host_token(site, token)


def test_another_site_s_token_is_refused(
    make_site: Callable[..., Any], host_token: Callable[..., str]
) -> None:
    ours, theirs = make_site(), make_site(name="Other", origins="https://other.example")
    with pytest.raises(embed.HostTokenInvalid):
        embed.verify_host_token(ours, host_token(theirs))


def test_the_lifetime_limit_is_a_setting(
    make_site: Callable[..., Any], host_token: Callable[..., str]
) -> None:
    site = make_site()
    now = int(time.time())
    token = host_token(site, iat=now, exp=now + 120)
    with pytest.raises(embed.HostTokenInvalid):
        embed.verify_host_token(site, token, max_minutes=1)
    assert embed.verify_host_token(site, token, max_minutes=2).subject == "host-user-1"


def test_a_token_signs_in_once(
    make_site: Callable[..., Any], host_token: Callable[..., str]
) -> None:
    site = make_site()
    token = host_token(site, jti="only-once")
    embed.sign_in_host_reader(site, embed.verify_host_token(site, token))
    db.session.commit()
    with pytest.raises(embed.HostTokenInvalid):
        embed.sign_in_host_reader(site, embed.verify_host_token(site, token))
    # Without a jti, the same (sub, iat) is the same token.
    plain = host_token(site, sub="host-user-2")
    embed.sign_in_host_reader(site, embed.verify_host_token(site, plain))
    db.session.commit()
    with pytest.raises(embed.HostTokenInvalid):
        embed.sign_in_host_reader(site, embed.verify_host_token(site, plain))


def test_no_token_issued_before_sign_out_signs_in_again(
    make_site: Callable[..., Any], host_token: Callable[..., str]
) -> None:
    site = make_site()
    now = int(time.time())
    early = host_token(site, jti="early", iat=now - 5, exp=now + 200)
    user = embed.sign_in_host_reader(site, embed.verify_host_token(site, host_token(site)))
    db.session.commit()
    embed.sign_out_host_reader(user)
    db.session.commit()
    with pytest.raises(embed.HostTokenInvalid):
        embed.sign_in_host_reader(site, embed.verify_host_token(site, early))
    db.session.rollback()
    later = host_token(site, jti="later", iat=now + 2, exp=now + 200)
    assert embed.sign_in_host_reader(site, embed.verify_host_token(site, later)).id == user.id


def test_a_host_claiming_an_existing_address_gets_no_one_s_account(
    make_site: Callable[..., Any], make_user: Callable[..., Any], host_token: Callable[..., str]
) -> None:
    editor = make_user("editor", email="boss@news.example", name="The Boss")
    site = make_site()
    token = host_token(site, sub="attacker", email="BOSS@news.example", name="The Boss")
    user = embed.sign_in_host_reader(site, embed.verify_host_token(site, token))
    db.session.commit()
    assert user.id != editor.id and user.role == "reader"
    assert user.email != "boss@news.example" and user.email.endswith("@embed.invalid")
    assert user.email_verified_at is None  # a placeholder is no one's confirmed address
    # The look-alike name is refused too: a number tells them apart.
    assert user.display_name != "The Boss" and user.display_name.startswith("The Boss")
    assert db.session.get(User, editor.id).email == "boss@news.example"


def test_a_name_pulse_refuses_falls_back(
    make_site: Callable[..., Any], host_token: Callable[..., str]
) -> None:
    site = make_site()
    for subject, name in (("s1", "Moderator"), ("s2", "\u202e\u200b"), ("s3", "12345")):
        token = host_token(site, sub=subject, name=name, email=f"{subject}@news.example")
        user = embed.sign_in_host_reader(site, embed.verify_host_token(site, token))
        assert "moderator" not in user.display_name.lower()
        assert any(char.isalpha() for char in user.display_name)
    db.session.commit()


def test_the_same_subject_on_two_sites_is_two_readers(
    make_site: Callable[..., Any], host_token: Callable[..., str]
) -> None:
    one, two = make_site(), make_site(name="Two", origins="https://two.example")
    first = embed.sign_in_host_reader(one, embed.verify_host_token(one, host_token(one)))
    second = embed.sign_in_host_reader(
        two, embed.verify_host_token(two, host_token(two, email="ada2@two.example"))
    )
    assert first.id != second.id


def test_a_frame_code_signs_in_once_and_dies_with_the_sessions(
    app: Any, make_user: Callable[..., Any]
) -> None:
    from webapp.services.accounts import end_sessions

    reader = make_user("reader")
    code = embed.issue_frame_code(reader)
    assert embed.redeem_frame_code(code).id == reader.id
    db.session.commit()
    with pytest.raises(embed.FrameCodeInvalid):
        embed.redeem_frame_code(code)
    db.session.rollback()
    revoked = embed.issue_frame_code(reader)
    end_sessions(reader)
    db.session.commit()
    with pytest.raises(embed.FrameCodeInvalid):
        embed.redeem_frame_code(revoked)
    with pytest.raises(embed.FrameCodeInvalid):
        embed.redeem_frame_code(code[:-2] + "xx")
    app.config["EMBED_FRAME_CODE_SECONDS"] = -1
    with pytest.raises(embed.FrameCodeExpired):
        embed.redeem_frame_code(embed.issue_frame_code(db.session.get(User, reader.id)))


def test_an_address_the_token_does_not_carry_is_not_confirmed(
    make_site: Callable[..., Any], host_token: Callable[..., str]
) -> None:
    site = make_site()
    # A site without its readers' e-mail sends an empty claim: a placeholder, unconfirmed.
    none = embed.sign_in_host_reader(
        site, embed.verify_host_token(site, host_token(site, sub="s1", email=""))
    )
    assert none.email.endswith("@embed.invalid") and none.email_verified_at is None
    # Posing as a placeholder address does not make one confirmed either.
    posing = embed.sign_in_host_reader(
        site,
        embed.verify_host_token(site, host_token(site, sub="s2", email="x@embed.invalid")),
    )
    assert posing.email != "x@embed.invalid" and posing.email_verified_at is None
    db.session.commit()


def test_an_unconfirmed_account_is_confirmed_when_the_site_vouches_for_its_address(
    make_site: Callable[..., Any], host_token: Callable[..., str]
) -> None:
    site = make_site()
    user = embed.sign_in_host_reader(site, embed.verify_host_token(site, host_token(site)))
    user.email_verified_at = None  # as accounts made before this rule were
    db.session.commit()
    # A token carrying another address confirms nothing the account has.
    other = host_token(site, jti="other", email="someone-else@news.example")
    assert embed.sign_in_host_reader(site, embed.verify_host_token(site, other)).id == user.id
    db.session.commit()
    assert db.session.get(User, user.id).email_verified_at is None
    same = host_token(site, jti="same", email="ADA@news.example")
    embed.sign_in_host_reader(site, embed.verify_host_token(site, same))
    db.session.commit()
    assert db.session.get(User, user.id).email_verified_at is not None


def test_the_worker_forgets_expired_tokens_and_codes_only(app: Any) -> None:
    from datetime import timedelta

    from webapp.jobs import registry
    from webapp.models import utcnow
    from webapp.models.embed import UsedEmbedToken
    from webapp.services.embed import host_sign_in

    chores = {chore.name: chore for chore in registry.periodic_chores()}
    chore = chores["embed.forget_used_tokens"]
    assert chore.function is host_sign_in.forget_used_tokens_now
    assert chore.every_seconds <= 24 * 3600
    now = utcnow()
    for key, expires in (("old", now - timedelta(minutes=1)), ("live", now + timedelta(minutes=5))):
        assert host_sign_in.use_once(key.ljust(64, "0"), expires)
    db.session.commit()
    assert chore.function() == 1
    db.session.expire_all()
    left = db.session.scalars(sa.select(UsedEmbedToken.token_key)).all()
    assert left == ["live".ljust(64, "0")]
    # What is still live stays used: the same token is refused again.
    assert not host_sign_in.use_once("live".ljust(64, "0"), now + timedelta(minutes=5))
