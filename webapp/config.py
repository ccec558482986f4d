"""Every setting and every read of the environment lives here.

Order of precedence: the defaults below, then the environment, then the
mapping handed to ``create_app`` (tests pass one).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "WEBAPP_ENV": "development",
    # A pooled connection idle longer than this is pinged before use (webapp.connections;
    # 0: at every checkout, as SQLAlchemy's pool_pre_ping).
    "DATABASE_PING_IDLE_SECONDS": 1.0,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # 1 MiB is plenty for an article; anything larger is refused with 413.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": None,
    "WTF_CSRF_HEADERS": ["X-CSRFToken", "X-CSRF-Token"],
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_HEADERS_ENABLED": True,
    # Redis going away degrades to per-process limits instead of errors.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_SWALLOW_ERRORS": True,
    "RATELIMIT_LOGIN": "10 per minute;50 per hour",
    "RATELIMIT_REGISTER": "5 per minute;30 per hour",
    # Reader actions count per action, the API and the HTML form together
    # (webapp/ratelimits.py, ACTIONS). Voting (cast, change or withdraw) per address.
    "RATELIMIT_VOTE": "30 per minute",
    # Posting, per account and per address.
    "RATELIMIT_COMMENT": "6 per minute;60 per hour",
    # Up- and down-votes on comments, per account.
    "RATELIMIT_REACT": "30 per minute;300 per hour",
    # Reports, per account: enough for a reader cleaning up a spam wave, too few for
    # one account to push a whole discussion into the Reported queue.
    "RATELIMIT_REPORT": "5 per minute;50 per day",
    # Anonymous votes in one poll from one address (first votes and changes): a
    # household or an office votes under it; a script clearing its cookie does not.
    "RATELIMIT_ANONYMOUS_POLL_VOTES": "60 per hour",
    # --- poll integrity (webapp/services/integrity/) ---
    # How often each worker's integrity pass looks for new votes, in seconds (0: only
    # `flask --app wsgi integrity scan` runs it). Suspect groups show within 2x this.
    "INTEGRITY_SCAN_SECONDS": 20.0,
    # Whether this process runs the pass in the background (None: yes, except under
    # TESTING). Set INTEGRITY_RUNNER=0 where a separate `flask integrity scan` runs it.
    "INTEGRITY_RUNNER": None,
    # A group whose answers differ from the rest of the poll's by at least this many
    # standard errors (two-proportion z) is suspect, when it is also concentrated ...
    "INTEGRITY_SUSPECT_Z": 4.0,
    # ... and set aside without waiting for an editor at or above this one.
    "INTEGRITY_AUTO_SET_ASIDE_Z": 8.0,
    # Days after a poll closes that its votes' address, network and user-agent
    # hashes are kept; then they are dropped (the counts and decisions stay).
    "INTEGRITY_SIGNAL_RETENTION_DAYS": 30,
    # Below this many counted votes the results show counts, never percentages.
    "POLL_MIN_VOTES_FOR_SHARES": 30,
    # --- comment sentiment (webapp/services/insights/) ---
    # The analyser whose scores results show ("module:Class"); one that is slow
    # (``fast = False``) scores comments in the background (the job runner), and
    # SENTIMENT_FAST_ANALYSER scores them at once meanwhile.
    "SENTIMENT_ANALYSER": None,
    "SENTIMENT_FAST_ANALYSER": None,
    # Tone by poll answer is shown only for answers with at least this many comments.
    "SENTIMENT_MIN_GROUP_COMMENTS": 10,
    # --- the job runner (flask --app wsgi worker) ---
    # How long an idle worker waits before looking for jobs again, in seconds.
    "JOBS_POLL_SECONDS": 1.0,
    # Tries before a job is marked failed; the wait before try n is
    # JOBS_BACKOFF_SECONDS * 2 ** (n - 2).
    "JOBS_MAX_ATTEMPTS": 5,
    "JOBS_BACKOFF_SECONDS": 10.0,
    # A job still running this long after it was claimed belongs to a worker that was
    # killed: it is queued again (or failed, out of tries). Longer than any job runs.
    "JOBS_STALE_SECONDS": 600.0,
    # Done jobs are deleted this long after they finished (failed ones stay for admins:
    # `flask --app wsgi worker purge --failed`); 0 keeps them.
    "JOBS_KEEP_DONE_HOURS": 24.0,
    # --- comments in place (issue 19) ---
    # The shortest comment accepted, in characters after trimming (a lone "." is noise).
    "COMMENT_MIN_LENGTH": 2,
    # Seconds a deleted comment can be brought back with "Undo" by its author.
    "COMMENT_UNDO_SECONDS": 10,
    # --- article images (issue 19: webapp/services/media) ---
    # Where uploaded images and their resized copies are kept; None: instance/media.
    "MEDIA_DIR": None,
    # An S3-compatible store instead (all of endpoint, bucket and keys set): e.g.
    # https://s3.eu-west-1.amazonaws.com or a MinIO address; MEDIA_PUBLIC_URL is the
    # address readers load the images from (a CDN or the bucket's public URL).
    "MEDIA_S3_ENDPOINT_URL": None,
    "MEDIA_S3_BUCKET": None,
    "MEDIA_S3_REGION": None,
    "MEDIA_S3_ACCESS_KEY_ID": None,
    "MEDIA_S3_SECRET_ACCESS_KEY": None,  # nosec B105 (the setting's name, no secret)
    "MEDIA_PUBLIC_URL": None,
    # The largest image upload accepted, in bytes.
    "MEDIA_MAX_UPLOAD_BYTES": 10 * 1024 * 1024,
    # --- the HTTP cache in front of Pulse (issue 18: webapp/http_cache.py) ---
    # Signed-out pages are public for this long in a shared cache (s-maxage, seconds):
    # new comments and results show within it; moderators' removals are purged at once.
    "HTTP_CACHE_SECONDS": 5,
    # ... and may be served stale this much longer while the cache fetches a fresh copy.
    "HTTP_CACHE_STALE_SECONDS": 30,
    # The caches to purge by surrogate key (Varnish with xkey), e.g.
    # "http://127.0.0.1:6081 http://10.0.0.2:6081"; empty: nothing is sent.
    "HTTP_CACHE_PURGE_URLS": "",
    # How long one purge request may take before it is given up (and logged), seconds.
    "HTTP_CACHE_PURGE_TIMEOUT": 2.0,
    # --- mail (issue 21: webapp/services/mail/) ---
    # Outgoing mail: smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465.
    # Unset: messages are written to the log and kept in the outbox (development).
    "SMTP_URL": None,
    # A PEM file of the certificates the mail server's must chain to, instead of the
    # system's trusted ones (a relay with a private CA). Unset: the system's. The name
    # in the certificate is checked either way.
    "SMTP_CA_FILE": None,
    # The From address of every message Pulse sends.
    "MAIL_FROM": "Pulse <pulse@localhost>",
    # Delivery: how many tries before a message is "failed" (admins see it), the first
    # retry's wait in seconds (doubled each time), how long a "sending" claim holds
    # before another worker takes the message over, and messages per worker pass.
    "MAIL_MAX_ATTEMPTS": 6,
    "MAIL_RETRY_SECONDS": 30.0,
    "MAIL_STALE_SECONDS": 300.0,
    "MAIL_BATCH": 50,
    # How long an SMTP conversation may stall before the attempt fails, seconds.
    "MAIL_TIMEOUT": 20.0,
    # Reply notifications: at most one mail per reader per this many minutes (batched).
    "MAIL_REPLY_BATCH_MINUTES": 15,
    # Links sent by mail: a password reset lasts this many minutes, an address check
    # (verification, address change) this many hours.
    "PASSWORD_RESET_MINUTES": 60,
    "EMAIL_CONFIRM_HOURS": 48,
    "RATELIMIT_PASSWORD_RESET": "5 per hour",
    # --- embedding (issue 22: webapp/services/embed/) ---
    # A host site's sign-in token may live at most this many minutes (exp - iat).
    "EMBED_TOKEN_MAX_MINUTES": 10,
    # The one-use code a sign-in pop-up hands to the frame lasts this many seconds.
    "EMBED_FRAME_CODE_SECONDS": 120,
    "REDIS_URL": None,
    # The site's own address (https://news.example): every absolute link (the Atom
    # feed, later mail) is built from it, never from the request's Host header.
    "PUBLIC_URL": None,
    # Number of proxies in front of the app whose X-Forwarded-For is trusted.
    "TRUSTED_PROXY_COUNT": 0,
    "ARTICLES_PER_PAGE": 10,
    "SITE_NAME": "Pulse",
    # Which of argon2-cffi's parameter profiles hashes passwords (argon2.profiles).
    "ARGON2_PROFILE": "RFC_9106_LOW_MEMORY",
    # "json" gives one structured line per log record (the default in production).
    "LOG_FORMAT": "text",
    "REQUEST_LOG": True,
    # One setting per cache, in seconds (0 turns that cache off); webapp/caching says
    # what each may serve stale and for how long.
    # Poll results (shared through Redis when REDIS_URL is set, else per worker).
    "RESULTS_CACHE_SECONDS": 1.0,
    # The moderation settings and word lists, per worker.
    "MODERATION_CACHE_SECONDS": 3.0,
    # The thread signed-out readers get (API list and page section), per worker.
    "THREAD_CACHE_SECONDS": 1.0,
    # What posting a comment reads of its article (never trusted alone), per worker.
    "POSTING_ARTICLE_CACHE_SECONDS": 1.0,
    # An article page's previous/next links, per worker.
    "NEIGHBOURS_CACHE_SECONDS": 1.0,
    # The queue counts in the moderators' navigation, per worker.
    "QUEUE_COUNTS_CACHE_SECONDS": 2.0,
    # Each article's topic words, which a comment's tone is scored without, per worker.
    "TOPIC_WORDS_CACHE_SECONDS": 5.0,
}

#: Every cache's setting (webapp/caching): each read from the environment alike.
CACHE_SETTINGS = (
    "RESULTS_CACHE_SECONDS",
    "MODERATION_CACHE_SECONDS",
    "THREAD_CACHE_SECONDS",
    "POSTING_ARTICLE_CACHE_SECONDS",
    "NEIGHBOURS_CACHE_SECONDS",
    "QUEUE_COUNTS_CACHE_SECONDS",
    "TOPIC_WORDS_CACHE_SECONDS",
)


def _cache_seconds(setting: str, raw: str) -> float:
    """A cache's lifetime from the environment, or a clear error at start."""
    return float(_number(setting, raw, float, "a number of seconds (0 turns it off)"))


def _number(
    setting: str, raw: str, kind: type[int] | type[float], what: str | None = None
) -> int | float:
    """A number of the setting's kind, 0 or more, from the environment, or a clear
    error at start saying ``what`` it must be."""
    try:
        value = kind(raw)
    except ValueError:
        value = -1
    if not 0 <= value < float("inf"):
        described = what or ("a whole number" if kind is int else "a number") + " of 0 or more"
        raise RuntimeError(f"{setting}={raw!r} must be {described}.")
    return value


def _env_bool(value: str) -> bool:
    return value.strip().lower() not in {"0", "false", "no", "off", ""}


def database_url_from(raw: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and pin the psycopg 3 driver."""
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://") :]
    return raw


def public_url_from(raw: str) -> str:
    """The site's address as every absolute link starts: scheme, host, optional port
    and path prefix, without a trailing slash. Anything else stops the start with a
    message saying what is expected, rather than printing broken links later."""
    value = raw.strip().rstrip("/")
    expected = f"PUBLIC_URL must be the site's address, like https://news.example (got {raw!r})."
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        if parts.hostname:
            parts.hostname.encode("idna")
    except (ValueError, UnicodeError) as exc:
        raise RuntimeError(expected) from exc
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username is not None
        or any(char.isspace() for char in value)
    ):
        raise RuntimeError(expected)
    return value


def _instance_secret_key(instance_path: Path) -> str:
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    log.warning(
        "SECRET_KEY is not set: generated one and kept it in %s. "
        "Set SECRET_KEY in production so every worker shares it.",
        key_file,
    )
    return key


#: One limit per reader action (and per sign-in door), each settable from the
#: environment in the `limits` notation: "10 per minute;50 per hour".
RATE_LIMIT_SETTINGS = (
    "RATELIMIT_LOGIN",
    "RATELIMIT_REGISTER",
    "RATELIMIT_VOTE",
    "RATELIMIT_COMMENT",
    "RATELIMIT_REACT",
    "RATELIMIT_REPORT",
    "RATELIMIT_ANONYMOUS_POLL_VOTES",
    "RATELIMIT_PASSWORD_RESET",
)

#: The numeric settings read from the environment: (name, type).
NUMBER_SETTINGS = (
    ("DATABASE_PING_IDLE_SECONDS", float),
    ("INTEGRITY_SCAN_SECONDS", float),
    ("INTEGRITY_SUSPECT_Z", float),
    ("INTEGRITY_AUTO_SET_ASIDE_Z", float),
    ("INTEGRITY_SIGNAL_RETENTION_DAYS", int),
    ("POLL_MIN_VOTES_FOR_SHARES", int),
    ("SENTIMENT_MIN_GROUP_COMMENTS", int),
    ("JOBS_POLL_SECONDS", float),
    ("JOBS_MAX_ATTEMPTS", int),
    ("JOBS_BACKOFF_SECONDS", float),
    ("JOBS_STALE_SECONDS", float),
    ("JOBS_KEEP_DONE_HOURS", float),
    ("HTTP_CACHE_SECONDS", int),
    ("HTTP_CACHE_STALE_SECONDS", int),
    ("HTTP_CACHE_PURGE_TIMEOUT", float),
    ("COMMENT_MIN_LENGTH", int),
    ("MAIL_MAX_ATTEMPTS", int),
    ("MAIL_RETRY_SECONDS", float),
    ("MAIL_STALE_SECONDS", float),
    ("MAIL_BATCH", int),
    ("MAIL_TIMEOUT", float),
    ("MAIL_REPLY_BATCH_MINUTES", int),
    ("PASSWORD_RESET_MINUTES", int),
    ("EMAIL_CONFIRM_HOURS", int),
    ("EMBED_TOKEN_MAX_MINUTES", int),
    ("EMBED_FRAME_CODE_SECONDS", int),
    ("COMMENT_UNDO_SECONDS", int),
    ("MEDIA_MAX_UPLOAD_BYTES", int),
)

#: Text settings read from the environment as they are (surrounding spaces trimmed).
TEXT_SETTINGS = (
    "MEDIA_DIR",
    "MEDIA_S3_ENDPOINT_URL",
    "MEDIA_S3_BUCKET",
    "MEDIA_S3_REGION",
    "MEDIA_S3_ACCESS_KEY_ID",
    "MEDIA_S3_SECRET_ACCESS_KEY",
    "MEDIA_PUBLIC_URL",
    "SMTP_URL",
    "SMTP_CA_FILE",
    "MAIL_FROM",
)


def _check_rate_limits(config: Mapping[str, Any]) -> None:
    """A limit the limiter cannot read would fail on the first request it guards;
    refuse to start instead, naming the setting."""
    from limits import parse_many

    for setting in RATE_LIMIT_SETTINGS:
        try:
            parse_many(config[setting])
        except ValueError as exc:
            raise RuntimeError(
                f"{setting}={config[setting]!r} is not a rate limit; "
                'write it like "10 per minute;50 per hour".'
            ) from exc


def _check_password_profile(profile: str) -> None:
    import argon2.profiles

    if not isinstance(getattr(argon2.profiles, str(profile), None), argon2.Parameters):
        raise RuntimeError(f"ARGON2_PROFILE={profile!r} is not a profile in argon2.profiles.")


def build_config(instance_path: Path, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    config = dict(DEFAULTS)
    env = os.environ
    overrides = dict(overrides or {})

    config["WEBAPP_ENV"] = overrides.get("WEBAPP_ENV", env.get("WEBAPP_ENV", "development"))
    production = config["WEBAPP_ENV"] == "production"

    raw_url = overrides.pop("DATABASE_URL", None) or env.get("DATABASE_URL")
    if raw_url is None:
        raw_url = f"sqlite:///{instance_path / 'pulse.db'}"
    config["SQLALCHEMY_DATABASE_URI"] = database_url_from(raw_url)

    if env.get("REDIS_URL"):
        config["REDIS_URL"] = env["REDIS_URL"]
    if "RATELIMIT_ENABLED" in env:
        config["RATELIMIT_ENABLED"] = _env_bool(env["RATELIMIT_ENABLED"])
    for setting in CACHE_SETTINGS:
        if env.get(setting):
            config[setting] = _cache_seconds(setting, env[setting])
    if env.get("LOG_FORMAT"):
        config["LOG_FORMAT"] = env["LOG_FORMAT"]
    elif production:
        config["LOG_FORMAT"] = "json"
    if env.get("TRUSTED_PROXY_COUNT"):
        config["TRUSTED_PROXY_COUNT"] = int(env["TRUSTED_PROXY_COUNT"])
    if env.get("PUBLIC_URL"):
        config["PUBLIC_URL"] = env["PUBLIC_URL"]
    if env.get("SITE_NAME"):
        config["SITE_NAME"] = " ".join(env["SITE_NAME"].split())
    for setting in RATE_LIMIT_SETTINGS:
        if env.get(setting):
            config[setting] = env[setting]
    if env.get("INTEGRITY_RUNNER"):
        config["INTEGRITY_RUNNER"] = _env_bool(env["INTEGRITY_RUNNER"])
    for setting in ("HTTP_CACHE_PURGE_URLS", *TEXT_SETTINGS):
        if env.get(setting):
            config[setting] = env[setting].strip()
    for setting in ("SENTIMENT_ANALYSER", "SENTIMENT_FAST_ANALYSER"):
        if env.get(setting):
            config[setting] = env[setting].strip()
    for setting, kind in NUMBER_SETTINGS:
        if env.get(setting):
            config[setting] = _number(setting, env[setting], kind)

    config.update(overrides)
    _check_rate_limits(config)
    _check_password_profile(config["ARGON2_PROFILE"])

    if config.get("REDIS_URL") and "RATELIMIT_STORAGE_URI" not in overrides:
        config["RATELIMIT_STORAGE_URI"] = config["REDIS_URL"]
    config.setdefault("RATELIMIT_STORAGE_URI", "memory://")

    if not config.get("SECRET_KEY"):
        if env.get("SECRET_KEY"):
            config["SECRET_KEY"] = env["SECRET_KEY"]
        elif production:
            raise RuntimeError("SECRET_KEY must be set when WEBAPP_ENV is production.")
        else:
            config["SECRET_KEY"] = _instance_secret_key(instance_path)

    if config.get("PUBLIC_URL"):
        config["PUBLIC_URL"] = public_url_from(config["PUBLIC_URL"])
    elif production:
        # Without it the only source of the site's address is the Host header, which
        # the client chooses: a feed or mail would carry links to wherever it named.
        raise RuntimeError(
            "PUBLIC_URL must be set when WEBAPP_ENV is production: absolute links "
            "(the Atom feed, mail) are built from it, never from the request's Host "
            "header. Set it to the site's address, e.g. PUBLIC_URL=https://news.example"
        )

    if production:
        config.setdefault("SESSION_COOKIE_SECURE", True)
        config.setdefault("REMEMBER_COOKIE_SECURE", True)
    return config
