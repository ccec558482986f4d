"""Lead images: an upload with its required alt text, resized to a few widths with
Pillow, stored under the instance folder (or an S3-compatible store), and shown with
srcset and in link previews."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.conftest import days_ago


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def picture(width: int = 2000, height: int = 1000, fmt: str = "PNG", mode: str = "RGB") -> bytes:
    image = Image.new(mode, (width, height), "#336699" if mode == "RGB" else None)
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def test_renditions_are_made_at_each_width_no_wider_than_the_original():
    from webapp.services.media import WIDTHS, renditions

    name, made = renditions(picture(2000, 1000))
    assert [r.width for r in made] == list(WIDTHS)
    assert [r.height for r in made] == [240, 480, 800]
    for rendition in made:
        with Image.open(io.BytesIO(rendition.data)) as image:
            assert image.format == "JPEG" and image.size == (rendition.width, rendition.height)
    _, small = renditions(picture(600, 300))
    assert [r.width for r in small] == [480, 600]
    # Named after the content: the same upload, the same name.
    assert renditions(picture(2000, 1000))[0] == name


def test_transparent_images_get_a_white_background():
    from webapp.services.media import renditions

    _, made = renditions(picture(100, 100, "PNG", "RGBA"))
    with Image.open(io.BytesIO(made[0].data)) as image:
        assert image.getpixel((5, 5)) == (255, 255, 255)


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"not an image at all", "must be a JPEG, PNG, WebP or GIF image"),
        (picture(20, 20, "BMP"), "must be a JPEG, PNG, WebP or GIF image"),
        (picture(400, 400)[:200], "could not be read"),
    ],
)
def test_what_is_no_usable_image_is_refused_with_a_reason(data, reason):
    from webapp.services.media import ImageRefused, renditions

    with pytest.raises(ImageRefused, match=reason):
        renditions(data)


def test_a_huge_canvas_is_refused_before_it_is_decoded():
    from webapp.services.media import ImageRefused, renditions

    # A small file claiming 10,000 × 10,000 pixels.
    with pytest.raises(ImageRefused, match="too large"):
        renditions(picture(10_000, 10_000, "PNG", "1"))


@pytest.fixture
def editor(make_app, make_user, tmp_path):  # type: ignore[no-untyped-def]
    from tests.conftest import Api

    app = make_app(MEDIA_DIR=str(tmp_path / "media"), PUBLIC_URL="https://news.example")
    with app.app_context():
        client = Api(app.test_client())
        client.login(make_user(role="editor"))
        client.app = app
        yield client


def _form(**extra):  # type: ignore[no-untyped-def]
    return {
        "title": "Floods in the valley",
        "body": "The river rose overnight.",
        "comments": "open",
        "poll_results_visibility": "always",
        "action": "publish",
        **extra,
    }


def test_an_upload_without_alt_text_is_refused_next_to_its_field(editor):
    response = editor.form(
        "/editor/articles/new",
        _form(lead_image=(io.BytesIO(picture()), "flood.png")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = text(response)
    assert re.search(r'id="lead_image_alt-error">required: describe the image', page)
    assert 'value="Floods in the valley"' in page  # what was typed stays


def test_a_file_that_is_no_image_is_refused_next_to_its_field(editor):
    response = editor.form(
        "/editor/articles/new",
        _form(lead_image=(io.BytesIO(b"%PDF-1.4"), "x.pdf"), lead_image_alt="A flooded road"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert 'id="lead_image-error">must be a JPEG, PNG, WebP or GIF image' in text(response)


def test_the_lead_image_is_stored_and_shown_with_srcset_and_in_previews(editor, tmp_path):
    from webapp.extensions import db
    from webapp.models import Article

    response = editor.form(
        "/editor/articles/new",
        _form(lead_image=(io.BytesIO(picture()), "flood.png"), lead_image_alt="A flooded road"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    article = db.session.query(Article).filter_by(title="Floods in the valley").one()
    prefix = article.lead_image_key
    stored = sorted(p.name for p in (tmp_path / "media" / prefix).iterdir())
    assert stored == ["1600.jpg", "480.jpg", "960.jpg"]

    reader = editor.app.test_client()
    page = text(reader.get(f"/articles/{article.slug}"))
    srcset = ", ".join(f"/media/{prefix}/{w}.jpg {w}w" for w in (480, 960, 1600))
    assert f'srcset="{srcset}"' in page
    assert 'width="1600" height="800" alt="A flooded road"' in page
    assert (
        f'<meta property="og:image" content="https://news.example/media/{prefix}/1600.jpg">' in page
    )
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    home = text(reader.get("/"))
    assert re.search(rf'<img class="card-image" src="/media/{prefix}/480.jpg"[^>]* alt=""', home)
    image = reader.get(f"/media/{prefix}/960.jpg")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert "immutable" in image.headers["Cache-Control"]
    assert reader.get("/media/../secret_key").status_code == 404
    assert reader.get(f"/media/{prefix}/nothing.jpg").status_code == 404

    # The alt text alone can change; the image can be removed.
    edit = f"/editor/articles/{article.id}/edit"
    editor.form(edit, _form(lead_image_alt="A road under water"))
    assert 'alt="A road under water"' in text(reader.get(f"/articles/{article.slug}"))
    editor.form(edit, _form(lead_image_alt="", remove_lead_image="y"))
    page = text(reader.get(f"/articles/{article.slug}"))
    assert "srcset" not in page and '<meta name="twitter:card" content="summary">' in page


def test_an_s3_store_gets_every_rendition_with_its_type(app, make_article):
    from webapp.extensions import db
    from webapp.services import media
    from webapp.services.media.storage import S3Store

    class FakeS3:
        def __init__(self) -> None:
            self.objects: dict[str, dict] = {}

        def put_object(self, **kwargs):  # type: ignore[no-untyped-def]
            self.objects[kwargs["Key"]] = kwargs

    fake = FakeS3()
    app.config.update(
        MEDIA_S3_ENDPOINT_URL="https://s3.example",
        MEDIA_S3_BUCKET="pulse-media",
        MEDIA_S3_ACCESS_KEY_ID="id",
        MEDIA_S3_SECRET_ACCESS_KEY="secret",
    )
    app.extensions["pulse_media_s3"] = S3Store(fake, "pulse-media", "https://cdn.example/")
    article = make_article("With a picture", published_at=days_ago(1))
    media.set_lead_image(article, picture(1000, 500), "Hills at dawn")
    db.session.commit()
    prefix = article.lead_image_key
    assert set(fake.objects) == {f"{prefix}/{width}.jpg" for width in (480, 960, 1000)}
    put = fake.objects[f"{prefix}/480.jpg"]
    assert put["Bucket"] == "pulse-media" and put["ContentType"] == "image/jpeg"
    assert "immutable" in put["CacheControl"]
    lead = media.lead_image(article)
    assert lead is not None
    assert lead.srcset == ", ".join(
        f"https://cdn.example/{prefix}/{width}.jpg {width}w" for width in (480, 960, 1000)
    )
