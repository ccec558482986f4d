from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from webapp.services.articles import (
    MAX_OPTIONS,
    MAX_QUESTION,
    MAX_SLUG,
    MAX_SUMMARY,
    MAX_TITLE,
)

#: The option boxes a new poll starts with.
FIRST_OPTION_BOXES = 3

COMMENT_MODES = [
    SelectChoice("open", "Open: comments appear at once unless a check holds them"),
    SelectChoice("premoderated", "Premoderated: every comment waits for a moderator"),
    SelectChoice("closed", "Closed: no new comments"),
]
VISIBILITY = [
    SelectChoice("always", "Always"),
    SelectChoice("after_vote", "After the reader has voted"),
    SelectChoice("after_close", "Only after the poll closes"),
]


class ArticleForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=MAX_TITLE)])
    slug = StringField(
        "Slug",
        validators=[Optional(), Length(max=MAX_SLUG)],
        description="The article's address. Left empty, it is made from the title.",
    )
    summary = TextAreaField(
        "Summary",
        validators=[Optional(), Length(max=MAX_SUMMARY)],
        description="One or two sentences for the home page and the feed.",
    )
    body = TextAreaField("Body (Markdown)", validators=[DataRequired()])
    labels = StringField("Labels", description="Separated by commas, e.g. South Asia, Diplomacy")
    comments = RadioField("Comments", choices=COMMENT_MODES, default="open")
    lead_image = FileField(
        "Lead image",
        description="JPEG, PNG, WebP or GIF. Shown above the article and in link previews.",
        render_kw={"accept": "image/jpeg,image/png,image/webp,image/gif"},
    )
    lead_image_alt = StringField(
        "Image description (alt text)",
        validators=[Length(max=300)],
        description="Required with an image: what it shows, for readers who cannot see it.",
    )
    remove_lead_image = BooleanField("Remove the lead image")
    publish_at = DateTimeLocalField(
        "Publish at (UTC)",
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        description="Leave empty to publish at once. A time ahead schedules the article: "
        "readers see it from then on.",
    )

    poll_question = StringField(
        "Question",
        validators=[Optional(), Length(max=MAX_QUESTION)],
        description="Leave empty for an article without a poll.",
    )
    # Three boxes to start with; "Add another option" adds one (up to MAX_OPTIONS).
    poll_options = FieldList(
        StringField("Option"), min_entries=FIRST_OPTION_BOXES, max_entries=MAX_OPTIONS
    )
    poll_closes_at = DateTimeLocalField(
        "Closes at (UTC)",
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        description="Leave empty to keep the poll open.",
    )
    poll_results_visibility = RadioField("Show results", choices=VISIBILITY, default="always")
    poll_allow_anonymous = BooleanField("Allow visitors who are not signed in to vote")
    poll_signed_in_only_under_attack = BooleanField(
        "Take votes from signed-in readers only once the poll is under attack",
        description="When the integrity check sets aside a group of votes, from then on "
        "only signed-in readers can vote (anonymous votes are refused).",
    )
    poll_closed = BooleanField("Poll closed (no more votes)")
