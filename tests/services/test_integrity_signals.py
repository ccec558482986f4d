"""The integrity signals, one by one: keyed hashes of the address and its network, the
user agent's family, and the page token (webapp.services.integrity.signals)."""

from __future__ import annotations

import time

import pytest

from webapp.services.integrity.signals import (
    PAGE_TOKEN_VALID_SECONDS,
    PAGE_TOKEN_WINDOW_SECONDS,
    address_hash,
    agent_family,
    agent_hash,
    network_hash,
    page_token,
    saw_article,
)

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.71 Safari/537.36"
)
FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)


def test_an_address_hash_is_keyed_short_and_the_same_for_the_same_address(app):
    first = address_hash("203.0.113.7")
    assert first is not None and len(first) == 32 and "203" not in first
    assert address_hash("203.0.113.7") == first
    assert address_hash("203.0.113.8") != first
    assert address_hash(None) is None and address_hash("") is None


def test_the_hashes_depend_on_the_secret_key(make_app):
    hashes = []
    for secret in ("one secret key for this test", "another secret key for this test"):
        with make_app(SECRET_KEY=secret).app_context():
            hashes.append((address_hash("203.0.113.7"), network_hash("203.0.113.7")))
    assert hashes[0][0] != hashes[1][0] and hashes[0][1] != hashes[1][1]


def test_an_ipv4_network_is_its_slash_24(app):
    assert network_hash("198.51.100.1") == network_hash("198.51.100.254")
    assert address_hash("198.51.100.1") != address_hash("198.51.100.254")
    assert network_hash("198.51.101.1") != network_hash("198.51.100.1")
    # the network hash is not the address hash of the network's first address
    assert network_hash("198.51.100.0") != address_hash("198.51.100.0")


def test_an_ipv6_network_is_its_slash_48(app):
    home = network_hash("2001:db8:abcd:1::1")
    assert network_hash("2001:db8:abcd:ffff:1:2:3:4") == home
    assert network_hash("2001:db8:abce::1") != home
    assert address_hash("2001:db8:abcd:1::1") != address_hash("2001:db8:abcd:1::2")
    # the same address written two ways is one address
    assert address_hash("2001:DB8:ABCD:1:0:0:0:1") == address_hash("2001:db8:abcd:1::1")


def test_an_ipv4_mapped_ipv6_address_is_its_ipv4_address(app):
    assert address_hash("::ffff:198.51.100.7") == address_hash("198.51.100.7")
    assert network_hash("::ffff:198.51.100.7") == network_hash("198.51.100.200")


def test_something_that_is_no_address_has_an_address_hash_but_no_network(app):
    assert address_hash("unknown") is not None
    assert network_hash("unknown") is None


@pytest.mark.parametrize(
    "user_agent, family",
    [
        (CHROME_WINDOWS, "Chrome 120"),
        (FIREFOX_MAC, "Firefox 121"),
        (SAFARI_IPHONE, "Mobile Safari 17"),
        ("curl/8.4.0", "curl 8"),
        ("python-requests/2.31.0", "Python Requests 2"),
        ("", "none"),
        (None, "none"),
        ("a script of my own", "Other"),
    ],
)
def test_the_user_agent_family_is_the_browser_or_tool_and_major_version(user_agent, family):
    assert agent_family(user_agent) == family


def test_the_agent_hash_is_of_the_family_not_the_string(app):
    assert agent_hash(CHROME_WINDOWS) == agent_hash(CHROME_LINUX)
    assert agent_hash(CHROME_WINDOWS) != agent_hash(FIREFOX_MAC)
    assert len(agent_hash(CHROME_WINDOWS)) == 16
    assert "Chrome" not in agent_hash(CHROME_WINDOWS)


def test_a_page_token_is_the_same_for_everyone_within_its_window(app):
    start = 1_800_000_000 // PAGE_TOKEN_WINDOW_SECONDS * PAGE_TOKEN_WINDOW_SECONDS
    assert page_token(7, start + 1) == page_token(7, start + PAGE_TOKEN_WINDOW_SECONDS - 1)
    assert page_token(7, start + PAGE_TOKEN_WINDOW_SECONDS) != page_token(7, start)
    assert page_token(8, start) != page_token(7, start)


def test_a_page_token_proves_a_page_load_for_a_day(app):
    hour = PAGE_TOKEN_WINDOW_SECONDS
    now = 1_800_000_000 // hour * hour + hour / 2  # half past: the test is the same any time
    assert saw_article(page_token(7, now), 7, now)
    a_day_ago = now - PAGE_TOKEN_VALID_SECONDS + 60
    assert saw_article(page_token(7, a_day_ago), 7, now)
    expired = now - PAGE_TOKEN_VALID_SECONDS - PAGE_TOKEN_WINDOW_SECONDS - 1
    assert not saw_article(page_token(7, expired), 7, now)
    assert not saw_article(page_token(7, now + 2 * hour), 7, now)  # from the future
    # from a worker whose clock is a minute ahead, just past the hour: still good
    next_hour = now + hour / 2
    assert saw_article(page_token(7, next_hour), 7, next_hour - 60)


def test_a_page_token_of_another_article_forged_or_garbled_is_no_proof(app, make_app):
    now = time.time()
    assert not saw_article(page_token(8, now), 7, now)
    window, _, mac = page_token(7, now).partition(".")
    assert not saw_article(f"{window}.{'0' * len(mac)}", 7, now)
    garbled_tokens = (
        None,
        "",
        "nonsense",
        ".",
        f"{window}.",
        "x" * 500,
        f"-{window}.{mac}",
        f"{window}.{mac[:-1]}é",  # a header's value may be any Latin-1
        "١٢٣." + mac,  # digits, but not ASCII ones
    )
    for garbled in garbled_tokens:
        assert not saw_article(garbled, 7, now)
    with make_app(SECRET_KEY="another key, another site").app_context():
        other_site = page_token(7, now)
    assert not saw_article(other_site, 7, now)
