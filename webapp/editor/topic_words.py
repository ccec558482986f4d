"""The site-wide topic words: words that name a subject wherever they appear, which a
comment's tone counts as no opinion (issue 17; webapp/services/insights/topics.py).

Editors and admins keep the list. The forms are plain HTML posts with the CSRF token:
they work without JavaScript; a refused word comes back in the field with the reason
(422), an accepted change redirects to the list (post/redirect/get).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from webapp.editor import bp
from webapp.errors import InvalidInput
from webapp.extensions import db
from webapp.models import Role
from webapp.security import role_required, signed_in_user
from webapp.services.insights import topics


@bp.route("/topic-words", methods=["GET", "POST"])
@role_required(Role.EDITOR)
def topic_words() -> ResponseReturnValue:
    typed = ""
    error: str | None = None
    status = 200
    if request.method == "POST":
        typed = request.form.get("word", "")
        try:
            entry = topics.add_site_topic_word(signed_in_user(), typed)
        except InvalidInput as refused:
            db.session.rollback()
            error = (refused.fields or {}).get("word", refused.message)
            status = 422
        else:
            db.session.commit()
            flash(f"“{entry.word}” is now a topic word.", "success")
            return redirect(url_for("editor.topic_words"))
    return render_template(
        "editor/topic_words.html",
        words=topics.site_topic_words(),
        typed=typed,
        error=error,
        max_word=topics.MAX_WORD,
    ), status


@bp.post("/topic-words/remove")
@role_required(Role.EDITOR)
def remove_topic_word() -> ResponseReturnValue:
    word = topics.remove_site_topic_word(signed_in_user(), request.form.get("word", ""))
    db.session.commit()
    if word is None:
        flash("That word was not on the list.", "info")
    else:
        flash(f"“{word}” is no longer a topic word.", "success")
    return redirect(url_for("editor.topic_words"))
