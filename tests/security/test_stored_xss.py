"""Stored XSS: every known payload, through every field a user writes, shows up inert.

The payloads of ``tests/xss.py`` go into display names, article titles, summaries,
bodies, labels, poll questions and options, comments, report notes, ban reasons,
rejection reasons and word-list entries, packed several to a value so the test stays
small. Then every page that shows them is read as the people who see them:

* HTML pages must hold no markup that came from a payload: no raw payload, no
  inline event handler, no URL or style attribute carrying ``alert(``,
  ``javascript:`` or ``data:text/html``, no script or style element running
  ``alert(``. (The pages' own forms, scripts and charts carry none of those, and
  payload text escaped into a form value or a label is only text.)
* JSON answers are data (escaping is the client's job), but every ``html`` field in
  them is sanitised HTML that ``script_risks`` finds nothing to run in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import Any

from flask import Flask

from tests.conftest import PASSWORD, Api
from tests.xss import PAYLOADS, script_risks
from webapp.services.articles import slugify

EVERYTHING = "\n\n".join(PAYLOADS)
MARKERS = ("alert(", "javascript:", "vbscript:", "data:text/html")
#: Attributes whose value a browser loads or runs (besides on* handlers).
CODE_ATTRIBUTES = {
    "href",
    "src",
    "srcdoc",
    "srcset",
    "action",
    "formaction",
    "data",
    "xlink:href",
    "poster",
    "background",
    "style",
}


def pack(limit: int) -> list[str]:
    """The payloads, joined by spaces into values of at most ``limit`` characters."""
    values: list[str] = []
    current = ""
    for payload in PAYLOADS:
        payload = payload[:limit]
        if current and len(current) + 1 + len(payload) > limit:
            values.append(current)
            current = ""
        current = f"{current} {payload}" if current else payload
    values.append(current)
    return values


class _PayloadMarkup(HTMLParser):
    """Markup in a page that came from a payload rather than from the templates."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._raw_text_tag: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        refresh = tag == "meta" and any(name == "http-equiv" for name, _ in attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"inline handler {name} on <{tag}>")
            # Text in other attributes (a form's value, an aria-label) is only text.
            runs = name in CODE_ATTRIBUTES or (refresh and name == "content")
            text = "".join((value or "").lower().split())
            if runs and any(marker in text for marker in MARKERS):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag in {"script", "style"}:
            self._raw_text_tag = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._raw_text_tag:
            self._raw_text_tag = None

    def handle_data(self, data: str) -> None:
        if self._raw_text_tag and "alert(" in data:
            self.problems.append(f"<{self._raw_text_tag}> running {data.strip()[:60]!r}")


def page_problems(html: str) -> list[str]:
    parser = _PayloadMarkup()
    parser.feed(html)
    parser.close()
    lowered = html.lower()
    raw = [f"raw payload {p!r}" for p in PAYLOADS if "<" in p and p.lower() in lowered]
    return parser.problems + raw


def html_fields(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "html" and isinstance(item, str):
                yield item
            else:
                yield from html_fields(item)
    elif isinstance(value, list):
        for item in value:
            yield from html_fields(item)


class Reader:
    """Reads pages and API answers as one person, collecting whatever is not inert."""

    def __init__(self, api: Api, problems: list[str], who: str) -> None:
        self.api, self.problems, self.who = api, problems, who

    def page(self, path: str, expected: int = 200) -> str:
        response = self.api.get(path)
        assert response.status_code == expected, (self.who, path, response.status_code)
        text = response.get_data(as_text=True)
        self.problems += [f"{self.who} {path}: {p}" for p in page_problems(text)]
        return text

    def json(self, path: str) -> Any:
        response = self.api.get(path)
        assert response.status_code == 200, (self.who, path, response.status_code)
        body = response.get_json()
        for html in html_fields(body):
            self.problems += [f"{self.who} {path} html: {p}" for p in script_risks(html)]
        return body


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_json()


def test_stored_payloads_are_inert_on_every_page_and_api_answer(
    app: Flask, make_api: Callable[[], Api], make_user: Callable[..., Any]
) -> None:
    editor, moderator, reader = make_api(), make_api(), make_api()
    editor.login(make_user("editor"))
    moderator.login(make_user("moderator"))
    reader_user = make_user("reader")
    reader.login(reader_user)

    # Display names, at registration: readers whose names are payloads.
    people: list[tuple[Api, dict[str, Any]]] = []
    for n, name in enumerate(pack(80)):
        api = make_api()
        account = {"email": f"xss{n}@example.org", "password": PASSWORD, "display_name": name}
        people.append((api, _ok(api.post("/api/v1/auth/register", account), 201)))

    # Articles, as an editor: every text field, labels, the poll's question and options.
    titles, summaries, labels = pack(190), pack(500), pack(60)  # titles get " #n"
    questions, options = pack(300), pack(200)
    count = max(len(titles), len(summaries), len(questions), -(-len(labels) // 10))
    articles = []
    for n in range(count):
        poll_options = options if n == 0 else [f"Plain option {n}", f"Other option {n}"]
        body = {
            "title": titles[n % len(titles)] + f" #{n}",
            "summary": summaries[n % len(summaries)],
            "body": EVERYTHING,
            "labels": labels[n * 10 : n * 10 + 10],
            "status": "published",
            "poll": {
                "question": questions[n % len(questions)],
                "options": poll_options if len(poll_options) > 1 else [*poll_options, "Plain"],
                "results_visibility": "always",
                "allow_anonymous": True,
            },
        }
        articles.append(_ok(editor.post("/api/v1/articles", body), 201))
    first = articles[0]
    slug = first["slug"]

    # Comments: the moderator's is published at once, readers' may be held; a reply;
    # every payload-named reader votes (their answer is shown beside their comment).
    staff_comment = _ok(
        moderator.post(f"/api/v1/articles/{slug}/comments", {"body": EVERYTHING}), 201
    )
    reply = {"body": EVERYTHING, "parent_id": staff_comment["id"]}
    _ok(reader.post(f"/api/v1/articles/{slug}/comments", reply), 201)
    option_ids = [option["id"] for option in first["poll"]["options"]]
    written = []
    for n, (api, _) in enumerate(people):
        vote = {"option_id": option_ids[n % len(option_ids)]}
        assert api.post(f"/api/v1/articles/{slug}/poll/votes", vote).status_code == 201
        written.append(
            _ok(api.post(f"/api/v1/articles/{slug}/comments", {"body": EVERYTHING}), 201)
        )

    # Moderation: approve all but one, reject that one with payload reasons.
    rejected = written[0]
    for reason in pack(1000):
        decision = {"action": "reject", "reason": reason}
        _ok(moderator.post(f"/api/v1/moderation/comments/{rejected['id']}", decision))
    for comment in written[1:]:
        if comment["status"] != "published":
            _ok(
                moderator.post(
                    f"/api/v1/moderation/comments/{comment['id']}", {"action": "approve"}
                )
            )
    _ok(moderator.post(f"/api/v1/moderation/comments/{staff_comment['id']}", {"action": "feature"}))
    # Report notes (stored for moderators) and ban reasons.
    for n, note in enumerate(pack(1000)):
        flag = {"reason": "other", "note": note}
        api = people[n % len(people)][0]
        assert api.post(f"/api/v1/comments/{staff_comment['id']}/flags", flag).status_code in (
            200,
            201,
        )
    banned = people[-1][1]
    for reason in pack(1000):
        _ok(moderator.post(f"/api/v1/moderation/users/{banned['id']}/ban", {"reason": reason}))
    # Word-list entries, last, so they hold none of the comments above.
    for term in pack(100):
        _ok(moderator.post("/api/v1/moderation/terms", {"term": term, "kind": "suspect"}), 201)

    problems: list[str] = []
    anyone = Reader(make_api(), problems, "anonymous")
    author = Reader(people[0][0], problems, "rejected author")
    staff = Reader(moderator, problems, "moderator")
    desk = Reader(editor, problems, "editor")

    # Pages.
    anyone.page("/")
    anyone.page("/feed.atom")
    for article in articles:
        anyone.page(f"/articles/{article['slug']}")
        staff.page(f"/articles/{article['slug']}")
        for label in article["labels"]:
            anyone.page(f"/labels/{slugify(label)}")
        desk.page(f"/editor/articles/{article['id']}/edit")
        desk.page(f"/editor/articles/{article['id']}/results")
    page = author.page(f"/articles/{slug}")
    assert "A moderator rejected this comment" in page  # the reason is really shown
    desk.page("/editor/")
    desk.page("/editor/overview")
    for status in ("pending", "reported", "rejected", "approved"):
        staff.page(f"/moderation/queue/{status}")
    for _, person in people:
        staff.page(f"/moderation/users/{person['id']}")
    staff.page("/moderation/log")
    staff.page("/moderation/settings")

    # Names in messages and in re-shown forms.
    signing_in = make_api()
    response = signing_in.form("/login", {"email": people[1][1]["email"], "password": PASSWORD})
    assert response.status_code == 302
    Reader(signing_in, problems, "signed-in payload reader").page("/")
    form = {"display_name": pack(80)[0], "email": "not an email", "password": "short"}
    response = make_api().form("/register", form)
    assert response.status_code == 422
    problems += [f"register form: {p}" for p in page_problems(response.get_data(as_text=True))]
    preview = editor.form(
        "/editor/articles/new", {"action": "preview", "title": titles[0], "body": EVERYTHING}
    )
    assert preview.status_code == 200
    problems += [f"editor preview: {p}" for p in page_problems(preview.get_data(as_text=True))]

    # API answers: their html fields are sanitised.
    anyone.json("/api/v1/articles?limit=100")
    for article in articles:
        anyone.json(f"/api/v1/articles/{article['slug']}")
        anyone.json(f"/api/v1/articles/{article['slug']}/comments?limit=100")
    for status in ("pending", "reported", "rejected", "approved"):
        staff.json(f"/api/v1/moderation/queue?status={status}&limit=100")

    assert not problems, "\n".join(problems)
