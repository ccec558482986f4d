"""Pulse behind the real Varnish, with the repository's VCL (deploy/varnish/pulse.vcl):
gunicorn serves the app on a SQLite file, varnishd sits in front, and these tests talk
to Varnish as readers, a signed-in reader and a moderator would.

The five promises of issue 18: the second signed-out view is a hit; a signed-in reader
never gets a cached page; an anonymous vote works through the cache; a new comment
shows within the cache's lifetime (HTTP_CACHE_SECONDS, 2 s here); a moderator's
rejection is gone from the cache at once (the app purges it by surrogate key).

Skipped, saying why, where varnishd or its xkey vmod is not installed (Debian:
apt-get install varnish varnish-modules); with PULSE_REQUIRE_VARNISH=1 (.ci/run) that
is a failure instead.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import PASSWORD, TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]
VCL = ROOT / "deploy" / "varnish" / "pulse.vcl"
GUNICORN = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
VADER = "webapp.services.insights.sentiment:VaderAnalyser"
#: s-maxage of the app's public pages here; the stale-while-revalidate stays long, so a
#: page removed by expiry alone would still be served (stale) right after a rejection.
CACHE_SECONDS = 2
STALE_SECONDS = 30
#: How long a test waits for something that should take CACHE_SECONDS: generous, it
#: bounds the wait on a loaded machine and is never the assertion.
PATIENCE = 40.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _varnishd() -> str | None:
    found = shutil.which("varnishd")
    if found is None and Path("/usr/sbin/varnishd").exists():
        found = "/usr/sbin/varnishd"
    return found


def _unavailable(varnishd: str | None, folder: Path) -> str | None:
    """Why the real cache cannot run here (None when it can). A VCL that fails to
    compile for any other reason than a missing vmod is an error, not a skip."""
    if varnishd is None:
        return "varnishd is not installed (Debian: apt-get install varnish varnish-modules)"
    if GUNICORN is None:
        return "gunicorn is not installed (pip install -e '.[dev]')"
    compiled = subprocess.run(
        [varnishd, "-C", "-j", "none", "-n", str(folder / "compile"), "-f", str(VCL)],
        capture_output=True,
        text=True,
        check=False,
    )
    if compiled.returncode == 0:
        return None
    if re.search(r"vmod.*xkey|xkey.*(not found|could not|cannot)", compiled.stderr, re.I):
        return "the xkey vmod is not installed (Debian: apt-get install varnish-modules)"
    pytest.fail(f"{VCL} does not compile:\n{compiled.stderr[-2000:]}")


def _pointed_at(vcl: str, port: int) -> str:
    """The VCL with its default backend at 127.0.0.1:``port``."""
    vcl = re.sub(r'(\.host\s*=\s*)"[^"]*"', r'\1"127.0.0.1"', vcl, count=1)
    return re.sub(r'(\.port\s*=\s*)"[^"]*"', rf'\1"{port}"', vcl, count=1)


# --- a visitor's HTTP ----------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    text: str

    @property
    def hit(self) -> bool:
        # X-Varnish holds two ids (this request's and the cached object's) on a hit.
        return len(self.headers.get("X-Varnish", "").split()) == 2


class Visitor:
    """One browser: its own cookies, talking to Varnish."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return Reply(response.status, response.headers, text)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("GET", path, headers=headers)

    def csrf_token(self) -> str:
        import json

        return str(json.loads(self.get("/api/v1/csrf").text)["csrf_token"])

    def api(self, method: str, path: str, payload: dict[str, Any]) -> Reply:
        import json

        return self.request(
            method,
            path,
            body=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": self.csrf_token()},
        )

    def form(
        self, path: str, fields: dict[str, str], headers: dict[str, str] | None = None
    ) -> Reply:
        return self.request(
            "POST",
            path,
            body=urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        )

    def sign_in(self, email: str) -> None:
        reply = self.api("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})
        assert reply.status == 200, reply.text


# --- the site: gunicorn and varnishd -------------------------------------------------


@dataclass
class Site:
    port: int
    slug: str
    reader_email: str
    reader_name: str
    moderator_email: str

    def visitor(self) -> Visitor:
        return Visitor(self.port)

    @property
    def article_path(self) -> str:
        return f"/articles/{self.slug}"


def _seed(database_url: str) -> dict[str, str]:
    """The accounts and the article, written through the app's services."""
    from tests.conftest import _create_schema
    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import Role
    from webapp.services import accounts, articles

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": TEST_SECRET,
            "ARGON2_PROFILE": "CHEAPEST",
            "SENTIMENT_ANALYSER": VADER,
            "INTEGRITY_RUNNER": False,
        }
    )
    with app.app_context():
        _create_schema(db.engine)
        editor = accounts.create_user("editor@example.org", PASSWORD, Role.EDITOR, "Desk Editor")
        accounts.create_user("reader@example.org", PASSWORD, Role.READER, "Rosalind Reader")
        accounts.create_user("mod@example.org", PASSWORD, Role.MODERATOR, "Careful Moderator")
        article = articles.create_article(
            editor,
            articles.ArticleChanges(
                title="Ceasefire announced at dawn",
                body="Both sides agreed to **stop firing** at six.",
                labels=[],
                status="published",
                comments="open",
                poll=articles.PollInput(
                    question="Will the ceasefire hold?",
                    options=["Yes", "No"],
                    allow_anonymous=True,
                ),
            ),
        )
        db.session.commit()
        slug = article.slug
        db.session.remove()
        db.engine.dispose()
    return {"slug": slug}


def _wait_for(process: subprocess.Popen[bytes], port: int, log: Path, name: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{name} exited:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"{name} did not answer:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("varnish")
    varnishd = _varnishd()
    missing = _unavailable(varnishd, folder)
    if missing is not None:
        if os.environ.get("PULSE_REQUIRE_VARNISH") == "1":
            pytest.fail(f"PULSE_REQUIRE_VARNISH=1 but {missing}")
        pytest.skip(missing)
    assert varnishd is not None and GUNICORN is not None

    database_url = f"sqlite:///{folder / 'pulse.db'}"
    seeded = _seed(database_url)
    app_port, cache_port = _free_port(), _free_port()
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HOST": "127.0.0.1",
        "PORT": str(app_port),
        "WEB_CONCURRENCY": "2",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET,
        "TRUSTED_PROXY_COUNT": "1",
        "HTTP_CACHE_PURGE_URLS": f"http://127.0.0.1:{cache_port}",
        "HTTP_CACHE_SECONDS": str(CACHE_SECONDS),
        "HTTP_CACHE_STALE_SECONDS": str(STALE_SECONDS),
        "RATELIMIT_ENABLED": "0",
        "SENTIMENT_ANALYSER": VADER,
        "SENTIMENT_FAST_ANALYSER": VADER,
        "INTEGRITY_RUNNER": "0",
        "LOG_LEVEL": "warning",
    }
    for name in ("PUBLIC_URL", "REDIS_URL", "WEBAPP_ENV"):
        environment.pop(name, None)
    app_log = folder / "gunicorn.log"
    with app_log.open("wb") as log:
        app = subprocess.Popen(
            [GUNICORN, "-c", str(ROOT / "scripts" / "gunicorn.conf.py"), "wsgi:app"],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    cache: subprocess.Popen[bytes] | None = None
    try:
        _wait_for(app, app_port, app_log, "gunicorn")
        vcl = folder / "pulse.vcl"
        vcl.write_text(_pointed_at(VCL.read_text(), app_port))
        cache_log = folder / "varnishd.log"
        with cache_log.open("wb") as log:
            cache = subprocess.Popen(
                [
                    varnishd,
                    "-F",
                    "-j",
                    "none",
                    "-n",
                    str(folder / "instance"),
                    "-a",
                    f"127.0.0.1:{cache_port}",
                    "-f",
                    str(vcl),
                    "-s",
                    "malloc,64m",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_for(cache, cache_port, cache_log, "varnishd")
        yield Site(
            port=cache_port,
            slug=seeded["slug"],
            reader_email="reader@example.org",
            reader_name="Rosalind Reader",
            moderator_email="mod@example.org",
        )
    finally:
        if cache is not None:
            _stop(cache)
        _stop(app)


def _until(check: Any, what: str) -> Reply:
    """Ask again until ``check()`` returns a reply (not None), for at most PATIENCE
    seconds: a bound on a slow machine, never a measure of speed."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        reply = check()
        if reply is not None:
            return reply
        time.sleep(0.2)
    raise AssertionError(f"not within {PATIENCE:.0f} s: {what}")


def _cached_copy(site: Site, must_contain: str | None = None) -> Reply:
    """A signed-out view of the article served from the cache (and holding
    ``must_contain``, when given)."""

    def check() -> Reply | None:
        reply = site.visitor().get(site.article_path)
        assert reply.status == 200
        if reply.hit and (must_contain is None or must_contain in reply.text):
            return reply
        return None

    return _until(check, f"a cached copy of {site.article_path} with {must_contain!r}")


def _post_comment(site: Site, words: str) -> int:
    import json

    author = site.visitor()
    author.sign_in(site.reader_email)
    reply = author.api("POST", f"/api/v1/articles/{site.slug}/comments", {"body": words})
    assert reply.status == 201, reply.text
    posted = json.loads(reply.text)
    assert posted["status"] == "published"
    return int(posted["id"])


# --- the five promises ---------------------------------------------------------------


def test_the_second_signed_out_view_is_a_hit(site: Site) -> None:
    first = site.visitor().get(site.article_path)
    second = site.visitor().get(site.article_path)

    assert first.status == second.status == 200
    assert "Ceasefire announced at dawn" in second.text
    assert second.hit and second.headers["X-Cache"] == "HIT"
    assert int(second.headers["Age"]) >= 0
    assert "public" in second.headers["Cache-Control"]
    assert second.headers.get("Set-Cookie") is None
    # A host site's own cookie (analytics) changes nothing: still the cached page.
    tracked = site.visitor()
    tracked.cookies["_ga"] = "GA1.2.3"
    assert tracked.get(site.article_path).hit


def test_a_signed_in_reader_never_gets_a_cached_page(site: Site) -> None:
    _cached_copy(site)  # a public copy is there to be (wrongly) handed out
    reader = site.visitor()
    reader.sign_in(site.reader_email)

    for _ in range(2):
        page = reader.get(site.article_path)
        assert page.status == 200
        assert not page.hit and page.headers["X-Cache"] == "MISS"
        assert f"Signed in as <strong>{site.reader_name}</strong>" in page.text
        assert "private" in page.headers["Cache-Control"]
    # Nor was their page kept for anyone else.
    assert site.reader_name not in site.visitor().get(site.article_path).text


def test_an_anonymous_vote_works_through_the_cache(site: Site) -> None:
    import json

    page = _cached_copy(site)
    form = re.search(r'<form method="post" action="([^"]+)" class="poll-form"', page.text)
    page_token = re.search(r'name="page_token" value="([^"]*)"', page.text)
    options = re.findall(r'name="option_id" value="(\d+)"', page.text)
    assert form and page_token and options, "the cached page has the vote form"
    assert 'name="csrf_token"' not in page.text  # a cached page carries no secret

    voter = site.visitor()
    reply = voter.form(
        form.group(1),
        {"page_token": page_token.group(1), "option_id": options[-1]},
        headers={"Sec-Fetch-Site": "same-origin"},
    )

    assert reply.status in (302, 303), reply.text[:500]
    assert "pulse_voter" in voter.cookies
    mine = json.loads(voter.get(f"/api/v1/articles/{site.slug}/poll").text)
    assert mine["my_vote"] == int(options[-1])
    # The voter's cookie passes the cache: the results they get count their vote (the
    # only vote cast on this site).
    results = json.loads(voter.get(f"/api/v1/articles/{site.slug}/poll/results").text)
    assert results["total"] == 1


def test_a_new_comment_shows_within_the_cache_lifetime(site: Site) -> None:
    _cached_copy(site)  # the page is in the cache from before the comment
    words = f"Word from the border {uuid.uuid4().hex[:8]}"

    _post_comment(site, words)

    shown = _cached_copy(site, must_contain=words)
    assert "public" in shown.headers["Cache-Control"]


def test_a_moderators_rejection_is_gone_from_the_cache_at_once(site: Site) -> None:
    words = f"Words to be rejected {uuid.uuid4().hex[:8]}"
    comment_id = _post_comment(site, words)
    _cached_copy(site, must_contain=words)  # signed-out readers are served it from cache
    moderator = site.visitor()
    moderator.sign_in(site.moderator_email)

    rejected = moderator.form(
        f"/moderation/comments/{comment_id}",
        {"csrf_token": moderator.csrf_token(), "action": "reject", "reason": "Off topic"},
    )

    assert rejected.status == 302, rejected.text[:500]
    # At once: the very next signed-out view, with no waiting. (Without the purge the
    # cache would keep serving its copy, fresh then stale, for up to
    # CACHE_SECONDS + STALE_SECONDS.)
    after = site.visitor().get(site.article_path)
    assert after.status == 200
    assert words not in after.text
    assert words not in site.visitor().get(f"/api/v1/articles/{site.slug}/comments").text
