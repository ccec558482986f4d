from __future__ import annotations

import pytest

from tests.xss import PAYLOADS, script_risks
from webapp.services.markup import plain_text, render_article, render_comment


@pytest.mark.parametrize("payload", PAYLOADS)
def test_article_markdown_never_renders_runnable_html(payload):
    html = render_article(f"Intro paragraph.\n\n{payload}\n\nOutro.")
    assert script_risks(html) == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_comment_markdown_never_renders_runnable_html(payload):
    assert script_risks(render_comment(payload)) == []


def test_the_checker_itself_spots_runnable_html():
    assert script_risks('<img src=x onerror="alert(1)">') != []
    assert script_risks('<a href="javascript:alert(1)">x</a>') != []
    assert script_risks("<p>fine</p>") == []


def test_article_markdown_keeps_the_formatting_editors_use():
    html = render_article(
        "## Heading\n\n**bold** and *italic*\n\n> quoted\n\n"
        "- one\n- two\n\n[link](https://example.org)\n\n"
        "![map](https://example.org/map.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    for fragment in (
        "<h2>Heading</h2>",
        "<strong>bold</strong>",
        "<em>italic</em>",
        "<blockquote>",
        "<li>one</li>",
        '<a href="https://example.org"',
        '<img src="https://example.org/map.png" alt="map">',
        "<table>",
    ):
        assert fragment in html


def test_comment_links_are_marked_nofollow_ugc_and_images_are_not_rendered():
    html = render_comment("see [this](https://example.org) ![x](https://example.org/x.png)")
    assert 'rel="nofollow ugc noopener"' in html
    assert "<img" not in html


def test_comment_markdown_subset_has_no_headings():
    assert "<h1>" not in render_comment("# shouting")


def test_plain_text_strips_tags():
    assert plain_text("<p>Hello <strong>there</strong></p>") == "Hello there"
