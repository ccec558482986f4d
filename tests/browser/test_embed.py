"""Pulse embedded in another site's page, in a real browser (issue 22).

Pulse runs on 127.0.0.1 (``live_server``); a plain host page is served from a second
loopback origin, 127.0.0.2 (a different site to the browser: its cookies there are a
third party's), with the script tag copied from Pulse. A page on 127.0.0.3, which no
site registered, shows that no frame is drawn elsewhere. Screenshots of the host pages
go to test-artifacts/screenshots/ with the other pages'.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest

from tests.browser.conftest import EDITOR, PASSWORD, SCREENSHOTS, LiveServer

pytest.importorskip("playwright")
from playwright.sync_api import Frame, Page, expect  # noqa: E402

QUESTION = "Should the ferry run all night in summer?"


@dataclass
class HostSite:
    """A static web server on one loopback address: ``pages[path] = html``."""

    address: str
    pages: dict[str, str] = field(default_factory=dict)
    port: int = 0

    @property
    def origin(self) -> str:
        return f"http://{self.address}:{self.port}"


def _serve(host: HostSite) -> Callable[[], None]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = host.pages.get(self.path.split("?")[0])
            if body is None:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host.address, 0), Handler)
    host.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()

    return stop


@pytest.fixture(scope="module")
def hosts() -> Iterator[tuple[HostSite, HostSite]]:
    """The registered host (127.0.0.2) and an unregistered one (127.0.0.3)."""
    registered, stranger = HostSite("127.0.0.2"), HostSite("127.0.0.3")
    stops = [_serve(registered), _serve(stranger)]
    yield registered, stranger
    for stop in stops:
        stop()


@dataclass
class Embedding:
    site_id: int
    secret: str
    thread: str = "ferry-2026"


@pytest.fixture(scope="module")
def embedding(live_server: LiveServer, hosts: tuple[HostSite, HostSite]) -> Embedding:
    """The host site registered for 127.0.0.2 (through the service, as the admin page
    does), and an editor's article with an anonymous poll as its page's thread."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import articles
    from webapp.services import embed as embed_rules

    registered, _stranger = hosts

    def work() -> Embedding:
        # The demo's editor registers the site too: the service records who did.
        editor = db.session.scalar(select(User).where(User.email == EDITOR[0]))
        assert editor is not None
        site = embed_rules.create_site(
            embed_rules.SiteSettings(
                name="Harbour Gazette",
                origins=registered.origin,
                create_on_first_view=True,
                poll_allow_anonymous=True,
            ),
            editor,
        )
        article = articles.create_article(
            editor,
            articles.ArticleChanges(
                title="Ferries at night",
                body="The harbour board asks readers about night ferries.",
                status="published",
                comments="open",
                poll=articles.PollInput(
                    question=QUESTION,
                    options=["Yes, every night", "Weekends only", "No"],
                    allow_anonymous=True,
                ),
            ),
        )
        embedding = Embedding(site.id, site.secret)
        embed_rules.attach_article(site, article, key=embedding.thread)
        db.session.commit()
        return embedding

    made: Embedding = live_server.run(work)
    return made


def host_page(
    pulse: str, site_id: int, thread: str, *, token: str = "", scheme: str = "", poll: str = ""
) -> str:
    """A plain article page with the snippet from the README: the script tag, the
    thread's element (a screen of text above it, so it loads as it scrolls near), the
    <noscript> link, and a count widget."""
    extra = (
        (f' data-pulse-token="{token}"' if token else "")
        + (f' data-pulse-scheme="{scheme}"' if scheme else "")
        + (f' data-pulse-poll="{poll}"' if poll else "")
    )
    filler = "".join(f"<p>Paragraph {n} of the host's own story.</p>" for n in range(120))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ferries at night · Harbour Gazette</title>
<style>body {{ font-family: sans-serif; max-width: 46rem; margin: 2rem auto; }}</style></head>
<body>
<h1>Ferries at night</h1>
<p><span data-pulse-count="{thread}" data-pulse-site="{site_id}">Comments</span></p>
{filler}
<h2>Readers' discussion</h2>
<div class="pulse-thread" data-pulse-site="{site_id}" data-pulse-thread="{thread}"
     data-pulse-title="Ferries at night"{extra}></div>
<noscript><a href="{pulse}/embed/v1/link?site={site_id}&amp;thread={thread}">
  Join the discussion</a></noscript>
<script src="{pulse}/embed/v1/embed.js" async></script>
</body></html>"""


def token_for(secret: str, subject: str, name: str, *, age: int = 0, life: int = 300) -> str:
    now = int(time.time()) - age
    claims = {
        "sub": subject,
        "name": name,
        "email": f"{subject}@gazette.example",
        "iat": now,
        "exp": now + life,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def open_frame(page: Page) -> Frame:
    """Scroll to the thread, wait for its frame and for the frame to size itself."""
    page.locator(".pulse-thread").scroll_into_view_if_needed()
    iframe = page.locator(".pulse-thread iframe")
    expect(iframe).to_have_count(1)
    handle = iframe.element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    frame.wait_for_load_state()
    return frame


def frame_is_sized(page: Page, frame: Frame) -> None:
    """The iframe's height is its content's (posted by the frame), not the script's
    placeholder: within a pixel or two of the frame's own body."""

    def heights() -> tuple[float, float]:
        outer = page.locator(".pulse-thread iframe").evaluate(
            "f => f.getBoundingClientRect().height"
        )
        inner = frame.evaluate("() => document.body.getBoundingClientRect().height")
        return outer, inner

    deadline = time.monotonic() + 5
    outer, inner = heights()
    while abs(outer - inner) > 2 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        outer, inner = heights()
    assert abs(outer - inner) <= 2, (outer, inner)
    assert outer > 360  # grew past the placeholder to hold the poll and the comments


def shoot(page: Page, name: str) -> None:
    """The host page where its thread is: the end of the host's story, then the frame."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate(
        "() => { const t = document.querySelector('.pulse-thread, iframe');"
        " if (t) window.scrollTo(0, t.getBoundingClientRect().top + window.scrollY - 160); }"
    )
    page.wait_for_timeout(200)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), animations="disabled")


def test_the_frame_loads_lazily_sizes_itself_and_an_anonymous_reader_votes(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    hosts: tuple[HostSite, HostSite],
    embedding: Embedding,
) -> None:
    registered, _ = hosts
    registered.pages["/story.html"] = host_page(
        live_server.url, embedding.site_id, embedding.thread
    )
    page = new_page()
    page.goto(f"{registered.origin}/story.html")
    # Lazy: far below the fold, no frame yet.
    expect(page.locator(".pulse-thread iframe")).to_have_count(0)
    frame = open_frame(page)
    expect(frame.get_by_role("heading", name=QUESTION)).to_be_visible()
    frame_is_sized(page, frame)
    # The count widget filled from the counts API (CORS for this origin only).
    expect(page.locator("[data-pulse-count]")).to_have_text("0 comments")

    frame.get_by_label("Weekends only").check()
    frame.get_by_role("button", name="Vote").click()
    expect(frame.locator(".flash-success")).to_have_text("Your vote is counted.")
    expect(frame.locator(".bar-mine")).to_contain_text("Weekends only")
    frame = open_frame(page)
    frame_is_sized(page, frame)  # sized again after the vote's reload
    # The vote's cookie is the frame's own (partitioned for this host site).
    cookies = page.context.cookies(live_server.url)
    voter = [c for c in cookies if c["name"] == "pulse_voter"]
    assert voter and voter[0]["sameSite"] == "None"
    shoot(page, "embed-host-anonymous-vote")


def test_a_host_signed_reader_comments_and_their_name_shows(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    hosts: tuple[HostSite, HostSite],
    embedding: Embedding,
) -> None:
    registered, _ = hosts
    token = token_for(embedding.secret, "gazette-reader-7", "Grace Gazette")
    registered.pages["/signed.html"] = host_page(
        live_server.url, embedding.site_id, embedding.thread, token=token, scheme="dark"
    )
    page = new_page()
    page.goto(f"{registered.origin}/signed.html")
    frame = open_frame(page)
    expect(frame.locator(".embed-user")).to_have_text("Grace Gazette")
    # The token left the frame's address as soon as it was used.
    assert "pulse-token" not in frame.url
    assert frame.evaluate("() => document.documentElement.dataset.scheme") == "dark"
    words = "Night ferries would help the late shift at the hospital."
    frame.get_by_label("Post a comment").fill(words)
    frame.get_by_role("button", name="Post comment").click()
    expect(frame.locator(".flash-success")).to_contain_text("Your comment is posted.")
    comment = frame.locator(".comment", has_text=words)
    expect(comment.locator(".comment-author")).to_have_text("Grace Gazette")
    frame_is_sized(page, open_frame(page))
    shoot(page, "embed-host-signed-comment")


def test_a_new_page_s_thread_starts_with_the_poll_its_host_signed(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    hosts: tuple[HostSite, HostSite],
    embedding: Embedding,
) -> None:
    registered, _ = hosts
    now = int(time.time())
    question = "Should the harbour keep its night market?"
    description = jwt.encode(
        {
            "thread": "market-2026",
            "question": question,
            "options": ["Yes", "No"],
            "anonymous": True,
            "iat": now,
            "exp": now + 3600,
        },
        embedding.secret,
        algorithm="HS256",
    )
    registered.pages["/market.html"] = host_page(
        live_server.url, embedding.site_id, "market-2026", poll=description
    )
    page = new_page()
    page.goto(f"{registered.origin}/market.html")
    frame = open_frame(page)
    # The page's first view made the thread, with the poll the host described.
    expect(frame.get_by_role("heading", name=question)).to_be_visible()
    frame.get_by_label("Yes").check()
    frame.get_by_role("button", name="Vote").click()
    expect(frame.locator(".flash-success")).to_have_text("Your vote is counted.")
    frame_is_sized(page, open_frame(page))
    shoot(page, "embed-host-described-poll")


@pytest.mark.parametrize("problem", ["forged", "expired"])
def test_a_forged_or_expired_token_is_refused_in_the_frame(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    hosts: tuple[HostSite, HostSite],
    embedding: Embedding,
    problem: str,
) -> None:
    registered, _ = hosts
    if problem == "forged":
        token = token_for("a secret the site never had, long enough", "x-1", "Forger")
    else:
        token = token_for(embedding.secret, "x-2", "Late Reader", age=900, life=300)
    registered.pages[f"/{problem}.html"] = host_page(
        live_server.url, embedding.site_id, embedding.thread, token=token
    )
    page = new_page()
    page.goto(f"{registered.origin}/{problem}.html")
    frame = open_frame(page)
    expect(frame.locator("#embed-signin-refused")).to_contain_text("could not sign you in here")
    expect(frame.locator(".flashes .flash-error")).to_contain_text(
        "expired" if problem == "expired" else "not valid"
    )
    expect(frame.locator(".embed-user")).to_have_count(0)
    expect(frame.get_by_role("link", name="Sign in").first).to_be_visible()
    shoot(page, f"embed-host-{problem}-token")


def test_a_page_on_an_unregistered_origin_gets_no_frame(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    hosts: tuple[HostSite, HostSite],
    embedding: Embedding,
) -> None:
    registered, stranger = hosts
    # The script on the stranger's page says where it is: Pulse refuses that origin.
    stranger.pages["/copy.html"] = host_page(live_server.url, embedding.site_id, embedding.thread)
    # And a page that lies, framing the address made for the registered host: the
    # browser itself refuses (frame-ancestors names the registered origin only).
    lying = (
        f"{live_server.url}/embed/v1/thread?site={embedding.site_id}"
        f"&thread={embedding.thread}&origin={registered.origin}"
    )
    stranger.pages["/lying.html"] = (
        f'<!doctype html><html><body><h1>Not the Gazette</h1><iframe src="{lying}" '
        'style="width:100%;height:400px"></iframe></body></html>'
    )
    for path in ("/copy.html", "/lying.html"):
        page = new_page()
        refused: list[str] = []
        page.on("console", lambda message, seen=refused: seen.append(message.text))
        page.goto(f"{stranger.origin}{path}")
        if path == "/copy.html":
            frame = open_frame(page)
        else:
            handle = page.locator("iframe").element_handle()
            assert handle is not None
            frame = handle.content_frame()
            assert frame is not None
            frame.wait_for_load_state()
        # Blocked by the browser: nothing of Pulse's page is drawn in it.
        page.wait_for_timeout(300)
        assert frame.locator(".poll, #comments, .embed-problem, .embed-bar").count() == 0
        assert any("frame-ancestors" in text or "X-Frame-Options" in text for text in refused), (
            refused
        )
        shoot(page, f"embed-unregistered-origin-{path.strip('/').split('.')[0]}")


def test_a_reader_signs_in_with_a_pulse_account_in_the_pop_up(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    hosts: tuple[HostSite, HostSite],
    embedding: Embedding,
) -> None:
    registered, _ = hosts
    registered.pages["/popup.html"] = host_page(
        live_server.url, embedding.site_id, embedding.thread
    )
    email = live_server.users["Plain Reader"][0]
    page = new_page()
    page.goto(f"{registered.origin}/popup.html")
    frame = open_frame(page)
    with page.expect_popup() as opened:
        frame.locator(".embed-account").get_by_role("link", name="Sign in").click()
    popup = opened.value
    popup.wait_for_load_state()
    assert popup.url.startswith(f"{live_server.url}/login")
    popup.get_by_label("Email").fill(email)
    popup.get_by_label("Password").fill(PASSWORD)
    popup.get_by_role("button", name="Sign in").click()
    # The pop-up hands its code to the frame and closes; the frame signs in.
    if not popup.is_closed():
        popup.wait_for_event("close")
    frame = open_frame(page)
    expect(frame.locator(".embed-user")).to_have_text("Plain Reader")
    shoot(page, "embed-host-popup-sign-in")
