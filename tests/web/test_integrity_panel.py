"""The integrity panel (issue 16): on the editor's results page with a form per group,
read-only for moderators on its own page, the decisions' round trip without script,
the audit log naming them, and the article form's "signed-in readers only" option."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integrity_groups import Brigaded, brigaded_poll
from webapp.extensions import db
from webapp.models import Poll


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def section(page: str) -> str:
    return page.split('<section aria-labelledby="integrity-title"')[1].split("</section>")[0]


@pytest.fixture
def brigaded(make_article: Any, db: Any) -> Brigaded:
    return brigaded_poll(make_article)


@pytest.fixture
def signed_in(make_api: Any, make_user: Any) -> Any:
    def build(role: str) -> Any:
        client = make_api()
        client.user = make_user(role=role)
        client.login(client.user)
        return client

    return build


def _results(brigaded: Brigaded) -> str:
    return f"/editor/articles/{brigaded.article.id}/results"


def _decide(brigaded: Brigaded, group: Any) -> str:
    return f"/editor/articles/{brigaded.article.id}/integrity/groups/{group.id}"


def test_the_results_page_shows_the_counts_the_groups_and_both_results(brigaded, signed_in):
    page = text(signed_in("editor").get(_results(brigaded)))
    assert '<a href="#integrity-title">Poll integrity</a>' in page
    panel = section(page)
    figures = re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", panel)
    assert figures == [("Stored votes", "170"), ("Counted votes", "170"), ("Set aside", "0")]
    assert "60 votes from one address in 9 minutes, 100 % &#39;No&#39;" in panel
    assert f'id="group-{brigaded.group.id}"' in panel and f'id="group-{brigaded.other.id}"' in panel
    assert panel.index(f"group-{brigaded.group.id}") < panel.index(f"group-{brigaded.other.id}")
    assert "No: 60 (100%)" in panel
    # Results side by side: the counted votes and all stored votes, per answer.
    assert re.search(r"<th scope=\"row\">No</th><td class=\"numeric\">93</td>", panel)
    assert "<caption>Each answer among the counted votes" in panel
    # One form per group, with its labelled reason and CSRF token.
    forms = re.findall(r'<form method="post" action="([^"]+)"', panel)
    assert forms == [_decide(brigaded, brigaded.group), _decide(brigaded, brigaded.other)]
    assert f'<label for="reason-{brigaded.group.id}">' in panel
    assert panel.count('name="csrf_token"') == 2
    assert 'value="set_aside"' in panel and 'value="clear"' in panel


def test_setting_a_group_aside_from_the_form_comes_back_to_the_panel_with_a_message(
    brigaded, signed_in, api
):
    editor = signed_in("editor")
    answer = editor.form(
        _decide(brigaded, brigaded.group), {"action": "set_aside", "reason": "One script."}
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"{_results(brigaded)}#integrity-title")
    page = text(editor.get(_results(brigaded)))
    assert f"Group {brigaded.group.id} (60 votes) set aside" in page
    panel = section(page)
    figures = re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", panel)
    assert figures == [("Stored votes", "170"), ("Counted votes", "110"), ("Set aside", "60")]
    assert "badge-set-aside" in panel and "One script." in panel
    assert 'value="restore"' in panel
    public = api.get(f"/api/v1/articles/{brigaded.article.slug}/poll/results").get_json()
    assert public["total"] == 110

    back = editor.form(
        _decide(brigaded, brigaded.group), {"action": "restore", "back": "integrity"}
    )
    assert back.headers["Location"].endswith(
        f"/editor/articles/{brigaded.article.id}/integrity#integrity-title"
    )
    assert (
        api.get(f"/api/v1/articles/{brigaded.article.slug}/poll/results").get_json()["total"] == 170
    )


def test_a_form_without_the_csrf_token_or_with_a_bad_action_changes_nothing(brigaded, signed_in):
    editor = signed_in("editor")
    no_token = editor.client.post(_decide(brigaded, brigaded.group), data={"action": "set_aside"})
    assert no_token.status_code in (400, 403)
    bad = editor.form(_decide(brigaded, brigaded.group), {"action": "delete"})
    assert bad.status_code == 302
    page = text(editor.get(_results(brigaded)))
    assert "The action must be" in page
    assert re.findall(r"<dt>Set aside</dt><dd>([^<]+)</dd>", section(page)) == ["0"]
    missing = editor.form(
        f"/editor/articles/{brigaded.article.id}/integrity/groups/999999", {"action": "clear"}
    )
    assert missing.status_code == 404


def test_moderators_read_the_panel_without_forms_and_cannot_decide(brigaded, signed_in):
    moderator = signed_in("moderator")
    assert moderator.get(_results(brigaded)).status_code == 403
    page = moderator.get(f"/editor/articles/{brigaded.article.id}/integrity")
    assert page.status_code == 200
    panel = section(text(page))
    assert "60 votes from one address" in panel
    assert "<form" not in panel and "Read only" in panel
    refused = moderator.form(_decide(brigaded, brigaded.group), {"action": "set_aside"})
    assert refused.status_code == 403
    assert (
        signed_in("reader").get(f"/editor/articles/{brigaded.article.id}/integrity").status_code
        == 403
    )


def test_the_audit_log_names_the_decisions_and_links_to_the_panel(brigaded, signed_in):
    editor = signed_in("editor")
    editor.form(_decide(brigaded, brigaded.group), {"action": "set_aside", "reason": "Script."})
    editor.form(_decide(brigaded, brigaded.other), {"action": "clear"})
    page = text(signed_in("moderator").get("/moderation/log"))
    panel_link = (
        f'href="/editor/articles/{brigaded.article.id}/integrity#group-{brigaded.group.id}"'
    )
    assert "Set aside a group of poll votes (60 votes)" in page
    assert "Cleared a group of poll votes as honest (10 votes)" in page
    assert panel_link in page
    assert brigaded.article.slug in page
    assert '<option value="set_aside_votes" >set aside poll votes</option>' in page


def test_the_article_form_keeps_the_signed_in_only_under_attack_option(brigaded, signed_in):
    editor = signed_in("editor")
    url = f"/editor/articles/{brigaded.article.id}/edit"
    form = text(editor.get(url))
    label = "Take votes from signed-in readers only once the poll is under attack"
    assert label in form
    assert re.search(r'<input[^>]*name="poll_signed_in_only_under_attack"', form)
    article = brigaded.article
    data = {
        "action": "save",
        "title": article.title,
        "body": article.body,
        "comments": "open",
        "poll_question": article.poll.question,
        "poll_results_visibility": "always",
        "poll_signed_in_only_under_attack": "y",
        **{f"poll_options-{i}": o.label for i, o in enumerate(article.poll.options)},
    }
    assert editor.form(url, data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Poll, article.poll.id).signed_in_only_under_attack is True
    assert re.search(
        r'<input[^>]*checked[^>]*name="poll_signed_in_only_under_attack"|'
        r'<input[^>]*name="poll_signed_in_only_under_attack"[^>]*checked',
        text(editor.get(url)),
    )
