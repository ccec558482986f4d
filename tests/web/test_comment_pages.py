from __future__ import annotations

import pytest


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def reader(make_api, make_user):
    client = make_api()
    client.user = make_user(name="Page Reader")
    client.login(client.user)
    return client


def test_posting_a_comment_without_script(reader, make_article):
    article = make_article()
    response = reader.form(f"/articles/{article.slug}/comments", {"body": "Plain *form* post"})
    assert response.status_code == 302
    assert "#comment-" in response.headers["Location"]
    page = text(reader.get(f"/articles/{article.slug}"))
    assert "Your comment is posted." in page
    assert "Plain <em>form</em> post" in page
    assert "1 comment</h2>" in page


def test_a_refused_comment_keeps_what_was_typed_and_says_why(reader, make_article):
    article = make_article()
    long_text = "word " * 1001
    response = reader.form(f"/articles/{article.slug}/comments", {"body": long_text})
    # Post/redirect/get (issue 19): back to the form, which shows the text and the reason.
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#comment-form")
    page = text(reader.get(response.headers["Location"]))
    assert "at most 5,000 characters" in page
    assert long_text.strip()[:200] in page
    # Shown once: reloading the page does not bring the refusal back.
    assert "at most 5,000 characters" not in text(reader.get(f"/articles/{article.slug}"))


def test_rate_limited_comment_keeps_the_text_and_says_when(make_app, make_article, make_user):
    from tests.conftest import Api

    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_COMMENT="1 per minute")
    with app.app_context():
        article = make_article()
        client = Api(app.test_client())
        client.login(make_user())
        client.form(f"/articles/{article.slug}/comments", {"body": "first"})
        response = client.form(f"/articles/{article.slug}/comments", {"body": "second thought"})
        assert response.status_code == 302
        page = text(client.get(response.headers["Location"]))
        assert "please try again in" in page and "second thought" in page
        # In place (pulse.js), the refusal keeps its status and says when to retry.
        response = client.form(
            f"/articles/{article.slug}/comments",
            {"body": "third thought"},
            headers={"X-Pulse-Fragment": "comments"},
        )
        assert response.status_code == 429
        assert response.headers["Retry-After"]
        assert "please try again in" in text(response) and "third thought" in text(response)


def test_replies_edits_and_deletes_through_the_page(reader, make_article, make_api, make_user):
    article = make_article()
    reader.form(f"/articles/{article.slug}/comments", {"body": "Parent words"})
    page = text(reader.get(f"/articles/{article.slug}"))
    assert "<summary>Edit</summary>" in page and "<summary>Reply</summary>" in page
    from webapp.extensions import db
    from webapp.models import Comment

    parent = db.session.scalar(db.select(Comment))
    other = make_api()
    other.login(make_user(name="Replier"))
    other.form(
        f"/articles/{article.slug}/comments", {"body": "Reply words", "parent_id": str(parent.id)}
    )
    reader.form(f"/comments/{parent.id}/edit", {"body": "Parent words, edited"})
    page = text(reader.get(f"/articles/{article.slug}"))
    assert "Parent words, edited" in page and "· edited" in page
    # The reply shows nested under its parent.
    assert page.index("Parent words, edited") < page.index("Reply words")
    assert 'class="comment-list replies"' in page
    reader.form(f"/comments/{parent.id}/delete", {})
    page = text(reader.get(f"/articles/{article.slug}"))
    assert "Comment deleted." in page and "Reply words" in page


def test_others_get_no_edit_button_and_cannot_edit(reader, make_article, make_api, make_user):
    article = make_article()
    reader.form(f"/articles/{article.slug}/comments", {"body": "Mine"})
    from webapp.extensions import db
    from webapp.models import Comment

    comment = db.session.scalar(db.select(Comment))
    other = make_api()
    other.login(make_user())
    assert "<summary>Edit</summary>" not in text(other.get(f"/articles/{article.slug}"))
    # Refused, back on the page with the reason (post/redirect/get), nothing changed.
    refused = other.form(f"/comments/{comment.id}/edit", {"body": "Hijack"})
    assert refused.status_code == 302
    assert "Only its author can edit a comment." in text(other.get(refused.headers["Location"]))
    refused = other.form(f"/comments/{comment.id}/delete", {})
    assert refused.status_code == 302
    assert "You can only delete your own comments." in text(other.get(refused.headers["Location"]))
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).body == "Mine"


def test_reacting_and_reporting_through_the_page(reader, make_article, make_api, make_user):
    article = make_article()
    reader.form(f"/articles/{article.slug}/comments", {"body": "React to me"})
    from webapp.extensions import db
    from webapp.models import Comment

    comment = db.session.scalar(db.select(Comment))
    fan = make_api()
    fan.login(make_user())
    fan.form(f"/comments/{comment.id}/react", {"value": "1"})
    page = text(fan.get(f"/articles/{article.slug}"))
    assert '<span class="score-label">Score</span> +1' in page
    assert 'aria-pressed="true" aria-label="Up-vote this comment"' in page
    response = fan.form(f"/comments/{comment.id}/report", {"reason": "spam", "note": "ad"})
    assert response.status_code == 302
    assert "a moderator will look" in text(fan.get(f"/articles/{article.slug}"))
    fan.form(f"/comments/{comment.id}/report", {"reason": "spam"})
    assert "already reported" in text(fan.get(f"/articles/{article.slug}"))


def test_pending_comment_is_marked_for_its_author_only(reader, make_article, make_api):
    article = make_article(comments="premoderated")
    reader.form(f"/articles/{article.slug}/comments", {"body": "Waiting words"})
    page = text(reader.get(f"/articles/{article.slug}"))
    assert "awaiting moderation" in page and "Waiting words" in page
    assert "Awaiting moderation</span>" in page
    stranger = text(make_api().get(f"/articles/{article.slug}"))
    assert "Waiting words" not in stranger


def test_closed_articles_show_a_notice_instead_of_the_form(client, make_article):
    article = make_article(comments="closed")
    page = text(client.get(f"/articles/{article.slug}"))
    assert "Comments are closed on this article." in page
    assert 'id="comment-form"' not in page


def test_signed_out_readers_are_invited_to_sign_in(client, make_article):
    article = make_article()
    page = text(client.get(f"/articles/{article.slug}"))
    assert "to join the conversation" in page


def test_the_poll_answer_is_shown_next_to_the_comment(reader, make_article):
    article = make_article(poll=True)
    reader.form(f"/articles/{article.slug}/poll", {"option_id": str(article.poll.options[1].id)})
    reader.form(f"/articles/{article.slug}/comments", {"body": "Here is why"})
    assert "voted: No</span>" in text(reader.get(f"/articles/{article.slug}"))


def test_script_gets_the_comments_section_back(reader, make_article):
    article = make_article()
    response = reader.form(
        f"/articles/{article.slug}/comments",
        {"body": "In place"},
        headers={"X-Pulse-Fragment": "comments"},
    )
    assert response.status_code == 200
    assert text(response).lstrip().startswith('<section class="comments" id="comments"')
    assert "In place" in text(response)


def test_comment_counts_show_on_the_home_page(reader, make_article):
    article = make_article("Counted")
    for i in range(2):
        reader.form(f"/articles/{article.slug}/comments", {"body": f"c{i}"})
    assert "2 comments</a>" in text(reader.get("/"))


def test_sort_tabs_and_more_link(make_app, make_article, make_user):
    from tests.conftest import Api
    from webapp.public import routes

    app = make_app()
    with app.app_context():
        article = make_article()
        client = Api(app.test_client())
        client.login(make_user())
        for i in range(3):
            client.form(f"/articles/{article.slug}/comments", {"body": f"remark {'ABC'[i]}"})
        original = routes.COMMENTS_PER_PAGE
        routes.COMMENTS_PER_PAGE = 2
        try:
            page = text(client.get(f"/articles/{article.slug}?sort=newest"))
            assert page.index("remark C") < page.index("remark B")
            assert "remark A" not in page
            assert "More comments" in page
        finally:
            routes.COMMENTS_PER_PAGE = original


def test_the_forms_take_their_limits_and_reasons_from_the_service(
    reader, make_article, make_api, make_user
):
    from webapp.services import comments

    article = make_article()
    reader.form(f"/articles/{article.slug}/comments", {"body": "Limits"})
    page = text(reader.get(f"/articles/{article.slug}"))
    assert page.count(f'maxlength="{comments.MAX_BODY}"') == 3  # new, reply, edit
    assert f"2 to {comments.MAX_BODY:,} characters." in page
    assert 'minlength="2"' in page
    assert f"possible for {comments.EDIT_MINUTES} minutes after posting" in page
    # The report form is on others' comments only (issue 19).
    assert "<summary>Report</summary>" not in page
    other = make_api()
    other.login(make_user())
    page = text(other.get(f"/articles/{article.slug}"))
    assert f'maxlength="{comments.MAX_NOTE}"' in page
    for value, label in comments.FLAG_REASONS.items():
        assert f'name="reason" value="{value}"' in page and f"> {label}</label>" in page
    for sort in comments.SORTS:
        assert f"sort={sort}#comments" in page


def test_moderators_get_the_delete_button_on_others_comments(
    reader, make_article, make_api, make_user
):
    article = make_article()
    reader.form(f"/articles/{article.slug}/comments", {"body": "Anyone may read me"})
    moderator = make_api()
    moderator.login(make_user(role="moderator"))
    other = make_api()
    other.login(make_user())
    assert "<summary>Delete</summary>" in text(moderator.get(f"/articles/{article.slug}"))
    assert "<summary>Delete</summary>" not in text(other.get(f"/articles/{article.slug}"))
    assert "<summary>Edit</summary>" not in text(moderator.get(f"/articles/{article.slug}"))
