"""The integrity signals kept with each vote, none of them personal data.

- the client address, and its network (/24 for IPv4, /48 for IPv6; an IPv4-mapped
  IPv6 address counts as the IPv4 one), only as keyed hashes: HMAC-SHA256 with a key
  derived from SECRET_KEY, so the same address gives the same hash on this site and
  no one without the key can test a guess (there are only 2^32 IPv4 addresses);
- the user agent's family (browser or tool and its major version, by ua-parser),
  hashed short: "Chrome 120" is not personal, but the raw string never is stored;
- the account's and the voter cookie's ages at the vote, and whether the voter
  loaded the article's page (a signed, time-stamped page token) before voting.

Everything here is cheap enough for the vote path: the HMAC is keyed once per secret
key and copied per use, an address's two hashes and a user agent's family are
remembered (a brigade repeats them; an honest crowd's few hundred user agents fit).
The client address is the one the rate limits use: ``request.remote_addr`` after
ProxyFix trusted TRUSTED_PROXY_COUNT proxies (webapp/__init__.py); the web layer
(webapp/voters.py) reads the request and passes plain values here.

Retention (``retention.drop_expired_signals``) drops the three hashes of a poll's
votes INTEGRITY_SIGNAL_RETENTION_DAYS after it closes.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app

#: Hex characters kept of each hash (the columns: client 64, network 32, agent 16).
ADDRESS_HASH_LENGTH = 32
NETWORK_HASH_LENGTH = 32
AGENT_HASH_LENGTH = 16

#: A page token is the same for every visitor of an article within this window (so a
#: cached page can carry it) ...
PAGE_TOKEN_WINDOW_SECONDS = 60 * 60
#: ... and proves a page load for this long after its window began, plus the window.
PAGE_TOKEN_VALID_SECONDS = 24 * 60 * 60
#: A token from a little in the future (a worker's clock ahead) still counts.
_CLOCK_SKEW_SECONDS = 300


@dataclass(frozen=True)
class VoteSignals:
    """The signal columns of one vote beside ``client_hash`` (which ``Voter`` carries
    as it always has): each None when unknown."""

    network_hash: str | None = None
    agent_hash: str | None = None
    #: The account's age at the vote (signed in only).
    account_age_seconds: int | None = None
    #: The voter cookie's age at the vote: 0 when this vote mints it; None for a
    #: signed-in voter or a cookie minted before cookies carried their mint time.
    cookie_age_seconds: int | None = None
    #: Whether the vote came with a valid page token (the article was loaded).
    saw_article: bool | None = None


NO_SIGNALS = VoteSignals()


# --- keys ----------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _keyed(secret_key: str, purpose: bytes) -> hmac.HMAC:
    """An HMAC keyed with a key derived from the site's secret for one purpose; copied
    per use rather than keyed again."""
    derived = hmac.new(secret_key.encode(), purpose, hashlib.sha256).digest()
    return hmac.new(derived, digestmod=hashlib.sha256)


# --- the address and its network -----------------------------------------------------


def _canonical(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


@lru_cache(maxsize=8192)
def _address_hashes(secret_key: str, address: str) -> tuple[str, str | None]:
    parsed = _canonical(address)
    key = _keyed(secret_key, b"pulse-integrity-v1")
    hasher = key.copy()
    hasher.update(f"address:{parsed if parsed is not None else address}".encode())
    client = hasher.hexdigest()[:ADDRESS_HASH_LENGTH]
    if parsed is None:
        return client, None
    prefix = 24 if parsed.version == 4 else 48
    network = ipaddress.ip_network(f"{parsed}/{prefix}", strict=False)
    hasher = key.copy()
    hasher.update(f"network:{network}".encode())
    return client, hasher.hexdigest()[:NETWORK_HASH_LENGTH]


def address_hash(address: str | None) -> str | None:
    """The keyed hash of the client ``address`` (None when there is none). An
    IPv4-mapped IPv6 address hashes as its IPv4 address; a value that is no address
    at all is hashed as it is."""
    if not address:
        return None
    return _address_hashes(current_app.config["SECRET_KEY"], address)[0]


def network_hash(address: str | None) -> str | None:
    """The keyed hash of the network of ``address``: its /24 (IPv4) or /48 (IPv6).
    None when there is no address or it is not one."""
    if not address:
        return None
    return _address_hashes(current_app.config["SECRET_KEY"], address)[1]


# --- the user agent ------------------------------------------------------------------


@lru_cache(maxsize=4096)
def agent_family(user_agent: str | None) -> str:
    """The user agent's family and major version ("Chrome 120", "curl 8", "Python
    Requests 2"); "none" without a user agent, "Other" when ua-parser knows it not.

    Parsed once per distinct string (the first parse in a process also compiles
    ua-parser's rules)."""
    if not user_agent or not user_agent.strip():
        return "none"
    import ua_parser  # imported on first use: its rules load with it

    parsed = ua_parser.parse_user_agent(user_agent)
    if parsed is None:
        return "Other"
    return f"{parsed.family} {parsed.major}" if parsed.major else parsed.family


@lru_cache(maxsize=1024)
def _family_hash(secret_key: str, family: str) -> str:
    hasher = _keyed(secret_key, b"pulse-integrity-agent-v1").copy()
    hasher.update(family.encode())
    return hasher.hexdigest()[:AGENT_HASH_LENGTH]


def agent_hash(user_agent: str | None) -> str:
    """A short keyed hash of the user agent's family (never of the string itself)."""
    return _family_hash(current_app.config["SECRET_KEY"], agent_family(user_agent))


# --- the page token ------------------------------------------------------------------


def _page_mac(poll_id: int, window: int) -> str:
    return _window_mac(current_app.config["SECRET_KEY"], poll_id, window)


@lru_cache(maxsize=4096)
def _window_mac(secret_key: str, poll_id: int, window: int) -> str:
    # One per poll and window: the article pages and the votes of an hour share it.
    hasher = _keyed(secret_key, b"pulse-integrity-page-v1").copy()
    hasher.update(f"{poll_id}:{window}".encode())
    return hasher.hexdigest()[:32]


def page_token(poll_id: int, now: float | None = None) -> str:
    """The token the article page of the poll ``poll_id`` carries (the vote form's
    hidden field, and the ``X-Pulse-Page`` header the page's script sends): signed,
    time-stamped, and the same for every visitor within PAGE_TOKEN_WINDOW_SECONDS, so
    a cached copy of the page carries a good one."""
    moment = time.time() if now is None else now
    window = int(moment) // PAGE_TOKEN_WINDOW_SECONDS * PAGE_TOKEN_WINDOW_SECONDS
    return f"{window}.{_page_mac(poll_id, window)}"


def saw_article(token: str | None, poll_id: int, now: float | None = None) -> bool:
    """Whether ``token`` is a genuine page token of this poll's article issued within
    the last day (PAGE_TOKEN_VALID_SECONDS after its window). Anything else, forged,
    expired, another article's or missing, is False: never an error."""
    if not token or len(token) > 64 or not token.isascii():
        return False
    stamp, _, mac = token.partition(".")
    if not stamp.isdigit():
        return False
    window = int(stamp)
    moment = time.time() if now is None else now
    if window > moment + _CLOCK_SKEW_SECONDS:
        return False
    if moment - window > PAGE_TOKEN_VALID_SECONDS + PAGE_TOKEN_WINDOW_SECONDS:
        return False
    return hmac.compare_digest(mac, _page_mac(poll_id, window))
