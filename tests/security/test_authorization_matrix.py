"""Who may call what: every route of the app, every role, the expected status.

The table below is the authorisation rule of the whole app in one place. It is
checked against ``app.url_map``: a route added without a row, or a row left after
its route is gone, fails the test, so the table stays complete.

Every request names real objects (an article, someone else's comment, a banned
reader, a word-list entry) and sends a valid CSRF token, so what is tested is
authorisation, not CSRF or a 404 for a missing object. After every write that
succeeds, the next request gets a fresh set of objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from tests.security.routes import (
    ENDS_SESSIONS,
    ROLES,
    UNSAFE,
    Visitor,
    World,
    app_routes,
    request_bodies,
    route_url,
    visitor,
)

Row = tuple[int, int, int, int, int]

# fmt: off
#: endpoint -> method -> status for (anonymous, reader, moderator, editor, admin).
#: Targets: "someone else's comment" on a published article whose poll shows results
#: after voting; a draft where the rule is about drafts; a banned reader.
EXPECTED: dict[str, dict[str, Row]] = {
    #                                      anon rdr  mod  edit admin
    # --- JSON API: auth ------------------------------------------------
    "api.openapi_document":    {"GET":    (200, 200, 200, 200, 200)},
    "api.csrf_token":          {"GET":    (200, 200, 200, 200, 200)},
    "api.register":            {"POST":   (201, 409, 409, 409, 409)},  # signed in: sign out first
    "api.login":               {"POST":   (200, 200, 200, 200, 200)},
    "api.logout":              {"POST":   (401, 204, 204, 204, 204)},
    "api.revoke_sessions":     {"POST":   (401, 204, 204, 204, 204)},
    "api.change_password":     {"POST":   (401, 204, 204, 204, 204)},
    "api.me":                  {"GET":    (401, 200, 200, 200, 200)},
    # The reader's own account by mail (issue 21). Links with a wrong token: refused
    # for everyone alike; a deletion with a wrong password: refused (403).
    "api.request_password_reset": {"POST": (204, 204, 204, 204, 204)},
    "api.confirm_password_reset": {"POST": (422, 422, 422, 422, 422)},
    "api.send_verification":   {"POST":   (401, 204, 204, 204, 204)},
    "api.confirm_verification": {"POST":  (422, 422, 422, 422, 422)},
    "api.update_me":           {"PATCH":  (401, 200, 200, 200, 200)},
    "api.change_email":        {"POST":   (401, 204, 204, 204, 204)},
    "api.confirm_email_change": {"POST":  (422, 422, 422, 422, 422)},
    "api.export_me":           {"GET":    (401, 200, 200, 200, 200)},
    "api.delete_me":           {"DELETE": (401, 403, 403, 403, 403)},
    # --- JSON API: articles (a draft: only editors see it) ----------------
    "api.list_articles":       {"GET":    (200, 200, 200, 200, 200)},
    "api.get_article":         {"GET":    (404, 404, 404, 200, 200)},
    "api.create_article":      {"POST":   (401, 403, 403, 201, 201)},
    "api.update_article":      {"PATCH":  (401, 403, 403, 200, 200)},
    # --- JSON API: poll (results after voting; no anonymous votes) --------
    "api.get_poll":            {"GET":    (200, 200, 200, 200, 200)},
    "api.cast_vote":           {"POST":   (401, 201, 201, 201, 201)},
    "api.withdraw_vote":       {"DELETE": (404, 204, 204, 204, 204)},
    "api.get_results":         {"GET":    (403, 403, 200, 200, 200)},
    "api.get_sentiment":       {"GET":    (403, 403, 200, 200, 200)},
    "api.get_sides":           {"GET":    (403, 403, 200, 200, 200)},  # as the results
    # --- JSON API: poll integrity (moderators read, editors decide) --------
    "api.get_integrity":       {"GET":    (401, 403, 200, 200, 200)},
    "api.decide_integrity_group": {"POST": (401, 403, 403, 200, 200)},
    # --- JSON API: comments (someone else's) -------------------------------
    "api.list_comments":       {"GET":    (200, 200, 200, 200, 200)},
    "api.post_comment":        {"POST":   (401, 201, 201, 201, 201)},
    "api.edit_comment":        {"PATCH":  (401, 403, 403, 403, 403)},
    "api.delete_comment":      {"DELETE": (401, 403, 204, 403, 204)},
    "api.flag_comment":        {"POST":   (401, 201, 201, 201, 201)},
    "api.react_to_comment":    {"POST":   (401, 200, 200, 200, 200)},
    # --- JSON API: moderation ---------------------------------------------
    "api.moderation_queue_list": {"GET":  (401, 403, 200, 403, 200)},
    "api.moderate_comment":    {"POST":   (401, 403, 200, 403, 200)},
    "api.moderate_comments":   {"POST":   (401, 403, 200, 403, 200)},
    "api.ban_user":            {"POST":   (401, 403, 200, 403, 200)},
    "api.unban_user":          {"POST":   (401, 403, 200, 403, 200)},
    "api.moderation_log":      {"GET":    (401, 403, 200, 403, 200)},
    "api.get_settings":        {"GET":    (401, 403, 200, 403, 200)},
    "api.patch_settings":      {"PATCH":  (401, 403, 200, 403, 200)},
    "api.list_terms":          {"GET":    (401, 403, 200, 403, 200)},
    "api.add_term":            {"POST":   (401, 403, 201, 403, 201)},
    "api.delete_term":         {"DELETE": (401, 403, 204, 403, 204)},
    # --- public pages (forms answer with a redirect back) -----------------
    "public.home":             {"GET":    (200, 200, 200, 200, 200)},
    "public.article":          {"GET":    (404, 404, 404, 200, 200)},
    "public.label":            {"GET":    (200, 200, 200, 200, 200)},
    "public.feed":             {"GET":    (200, 200, 200, 200, 200)},
    "public.search":           {"GET":    (200, 200, 200, 200, 200)},
    "public.topics":           {"GET":    (200, 200, 200, 200, 200)},
    "public.topic_feed":       {"GET":    (200, 200, 200, 200, 200)},
    "public.web_manifest":     {"GET":    (200, 200, 200, 200, 200)},
    "public.media_file":       {"GET":    (404, 404, 404, 404, 404)},
    "public.vote":             {"POST":   (302, 302, 302, 302, 302)},  # anonymous: to sign-in
    "public.withdraw_vote":    {"POST":   (302, 302, 302, 302, 302)},
    "public.post_comment":     {"POST":   (401, 302, 302, 302, 302)},
    # Comment forms answer by post/redirect/get, refusals too (issue 19): a refused
    # edit or delete of someone else's comment is a redirect with its reason, and
    # changes nothing (tests/security/test_comment_forms_of_others.py).
    "public.edit_comment":     {"POST":   (401, 302, 302, 302, 302)},
    "public.delete_comment":   {"POST":   (401, 302, 302, 302, 302)},
    "public.undo_delete":      {"POST":   (401, 302, 302, 302, 302)},
    "public.comment_permalink": {"GET":   (302, 302, 302, 302, 302)},  # to its page
    "public.react":            {"POST":   (401, 302, 302, 302, 302)},
    "public.report":           {"POST":   (401, 302, 302, 302, 302)},
    # --- accounts ----------------------------------------------------------
    "auth.login":              {"GET":    (200, 302, 302, 302, 302),  # signed in: sent on
                                "POST":   (302, 302, 302, 302, 302)},
    "auth.register":           {"GET":    (200, 200, 200, 200, 200),  # signed in: who, and sign out
                                "POST":   (302, 409, 409, 409, 409)},
    "auth.logout":             {"POST":   (401, 302, 302, 302, 302)},
    "auth.account":            {"GET":    (401, 200, 200, 200, 200),
                                "POST":   (401, 302, 302, 302, 302)},
    "auth.sign_out_everywhere": {"POST":  (401, 302, 302, 302, 302)},
    # Mail settings; the unsubscribe link needs no sign-in (its signed token is the proof).
    "notifications.settings_page": {"GET": (401, 200, 200, 200, 200)},
    "notifications.save_settings": {"POST": (401, 302, 302, 302, 302)},
    "notifications.unsubscribe": {"GET":   (200, 200, 200, 200, 200)},  # a button only
    "notifications.unsubscribe_now": {"POST": (200, 200, 200, 200, 200)},
    # Mail about one's account (issue 21); the links' pages with a wrong token: a clear 400.
    "auth.forgot_password":    {"GET":    (200, 200, 200, 200, 200),
                                "POST":   (200, 200, 200, 200, 200)},  # "check your mail"
    "auth.reset_password":     {"GET":    (400, 400, 400, 400, 400),
                                "POST":   (400, 400, 400, 400, 400)},
    "auth.verify_address":     {"GET":    (400, 400, 400, 400, 400)},
    "auth.confirm_address_change": {"GET": (400, 400, 400, 400, 400)},
    "auth.send_verification":  {"POST":   (401, 302, 302, 302, 302)},
    "auth.change_name":        {"POST":   (401, 302, 302, 302, 302)},
    "auth.change_email":       {"POST":   (401, 302, 302, 302, 302)},
    "auth.export_data":        {"GET":    (401, 200, 200, 200, 200)},
    "auth.delete_account":     {"POST":   (401, 403, 403, 403, 403)},  # wrong password
    # --- editor pages --------------------------------------------------------
    "editor.dashboard":        {"GET":    (401, 403, 403, 200, 200)},
    "editor.overview":         {"GET":    (401, 403, 403, 200, 200)},
    "editor.overview_csv":     {"GET":    (401, 403, 403, 200, 200)},
    "editor.trend_csv":        {"GET":    (401, 403, 403, 200, 200)},
    "editor.new_article":      {"GET":    (401, 403, 403, 200, 200),
                                "POST":   (401, 403, 403, 200, 200)},  # a preview
    "editor.edit_article":     {"GET":    (401, 403, 403, 200, 200),
                                "POST":   (401, 403, 403, 200, 200)},  # a preview
    "editor.publish":          {"POST":   (401, 403, 403, 302, 302)},
    "editor.autosave_new":     {"POST":   (401, 403, 403, 422, 422)},  # no fields: not valid yet
    "editor.autosave":         {"POST":   (401, 403, 403, 409, 409)},  # published: not autosaved
    "editor.unpublish":        {"POST":   (401, 403, 403, 302, 302)},
    "editor.results":          {"GET":    (401, 403, 403, 200, 200)},
    "editor.votes_csv":        {"GET":    (401, 403, 403, 200, 200)},
    "editor.sentiment_csv":    {"GET":    (401, 403, 403, 200, 200)},
    "editor.minds_changed_csv": {"GET":   (401, 403, 403, 200, 200)},
    "editor.integrity_page":   {"GET":    (401, 403, 200, 200, 200)},  # moderators: read only
    "editor.decide_group":     {"POST":   (401, 403, 403, 302, 302)},
    "editor.topic_words":      {"GET":    (401, 403, 403, 200, 200),
                                "POST":   (401, 403, 403, 302, 302)},
    "editor.remove_topic_word": {"POST":  (401, 403, 403, 302, 302)},
    # --- moderation pages -----------------------------------------------------
    "moderation.index":        {"GET":    (401, 403, 302, 403, 302)},
    "moderation.queue":        {"GET":    (401, 403, 200, 403, 200)},
    "moderation.decide":       {"POST":   (401, 403, 302, 403, 302)},
    "moderation.bulk":         {"POST":   (401, 403, 302, 403, 302)},
    "moderation.correct_tone": {"POST":   (401, 403, 302, 403, 302)},
    "moderation.user":         {"GET":    (401, 403, 200, 403, 200)},
    "moderation.ban":          {"POST":   (401, 403, 302, 403, 302)},
    "moderation.unban":        {"POST":   (401, 403, 302, 403, 302)},
    "moderation.log":          {"GET":    (401, 403, 200, 403, 200)},
    "moderation.divisive":     {"GET":    (401, 403, 200, 403, 200)},
    # Featuring a common-ground comment: moderators, and editors from their results page.
    "moderation.feature_common_ground": {"POST": (401, 403, 302, 302, 302)},
    "moderation.settings":     {"GET":    (401, 403, 200, 403, 200),
                                "POST":   (401, 403, 302, 403, 302)},
    "moderation.add_term":     {"POST":   (401, 403, 302, 403, 302)},
    "moderation.delete_term":  {"POST":   (401, 403, 302, 403, 302)},
    # The mail outbox's failed and waiting messages: admins only.
    "mail_admin.outbox":       {"GET":    (401, 403, 403, 403, 200)},
    "mail_admin.retry":        {"POST":   (401, 403, 403, 403, 302)},
    # Embedding sites (issue 22): admins only (a site's secret signs readers in).
    "embed_admin.sites":       {"GET":    (401, 403, 403, 403, 200)},
    "embed_admin.new_site":    {"GET":    (401, 403, 403, 403, 200),
                                "POST":   (401, 403, 403, 403, 302)},
    "embed_admin.edit_site":   {"GET":    (401, 403, 403, 403, 200),
                                "POST":   (401, 403, 403, 403, 302)},
    "embed_admin.rotate_secret": {"POST": (401, 403, 403, 403, 302)},
    "embed_admin.attach_thread": {"POST": (401, 403, 403, 403, 302)},
    "embed_admin.detach_thread": {"POST": (401, 403, 403, 403, 302)},
    # The frame a host page embeds (issue 22): readable by anyone the page is; its doors
    # are the article page's (the same rule of who may post), answering in the frame.
    "embed.thread":            {"GET":    (200, 200, 200, 200, 200)},
    "embed.sign_in":           {"GET":    (200, 200, 200, 200, 200)},
    "embed.link":              {"GET":    (302, 302, 302, 302, 302)},  # to the thread on Pulse
    "embed.script":            {"GET":    (302, 302, 302, 302, 302)},  # to this version
    "embed.popup":             {"GET":    (302, 200, 200, 200, 200)},  # anonymous: sign in first
    "embed.vote":              {"POST":   (302, 302, 302, 302, 302)},
    "embed.withdraw_vote":     {"POST":   (302, 302, 302, 302, 302)},
    "embed.post_comment":      {"POST":   (401, 302, 302, 302, 302)},
    "embed.edit_comment":      {"POST":   (401, 302, 302, 302, 302)},
    "embed.delete_comment":    {"POST":   (401, 302, 302, 302, 302)},
    "embed.undo_delete":       {"POST":   (401, 302, 302, 302, 302)},
    "embed.react":             {"POST":   (401, 302, 302, 302, 302)},
    "embed.report":            {"POST":   (401, 302, 302, 302, 302)},
    # No token or code sent: refused with a message in the frame, for everyone alike.
    "embed.sso":               {"POST":   (302, 302, 302, 302, 302)},
    "embed.redeem_code":       {"POST":   (302, 302, 302, 302, 302)},
    "embed.sign_out":          {"POST":   (302, 302, 302, 302, 302)},
    # A host's article list reads its counts from anywhere (CORS decides who reads).
    "api.embed_counts":        {"GET":    (200, 200, 200, 200, 200)},
    # --- operations ------------------------------------------------------------
    "health.healthz":          {"GET":    (200, 200, 200, 200, 200)},
}
# fmt: on


def test_the_matrix_names_every_route_and_only_routes_that_exist(app: Flask) -> None:
    in_app = set(app_routes(app))
    in_table = {(endpoint, method) for endpoint, row in EXPECTED.items() for method in row}
    missing = sorted(in_app - in_table)
    assert not missing, f"add these routes to EXPECTED with a status per role: {missing}"
    gone = sorted(in_table - in_app)
    assert not gone, f"EXPECTED names routes the app no longer has: {gone}"


def _call(
    app: Flask, who: Visitor, endpoint: str, method: str, arguments: set[str], world: World
) -> int:
    with app.test_request_context():
        url = route_url(endpoint, arguments, world)
    body = request_bodies(world).get((endpoint, method))
    headers = {"X-CSRFToken": who.token} if method in UNSAFE else {}
    client = who.client(app)
    if endpoint == "api.withdraw_vote" and who.user is not None:
        option = world.story.poll.options[0].id  # type: ignore[union-attr]
        vote = client.post(url.rsplit("/mine", 1)[0], json={"option_id": option}, headers=headers)
        assert vote.status_code == 201
    if endpoint.startswith("api."):
        response = client.open(url, method=method, json=body, headers=headers)
    else:
        response = client.open(url, method=method, data=body, headers=headers)
    return response.status_code


def test_every_role_gets_the_expected_status_on_every_route(
    app: Flask, make_user: Callable[..., Any], world_factory: Callable[[], World]
) -> None:
    visitors = {"anonymous": visitor(app, None)}
    for role in ROLES[1:]:
        visitors[role] = visitor(app, make_user(role))
    world = world_factory()
    mismatches = []
    for (endpoint, method), arguments in sorted(app_routes(app).items()):
        expected = EXPECTED[endpoint][method]
        for role, status in zip(ROLES, expected, strict=True):
            got = _call(app, visitors[role], endpoint, method, arguments, world)
            if got != status:
                mismatches.append(f"{method} {endpoint} as {role}: expected {status}, got {got}")
            if method in UNSAFE and got < 400:
                world = world_factory()  # that write may have changed what the next role sees
            if (endpoint, method) in ENDS_SESSIONS and got < 400:
                visitors[role] = visitor(app, visitors[role].user)  # its session ended
    assert not mismatches, "\n".join(mismatches)
