"""Names cannot impersonate staff: registration through the API and the page, the
staff badge in a thread, the API author's role, and ``users reskeleton``."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from tests.conftest import PASSWORD

REGISTER = "/api/v1/auth/register"
CYRILLIC_A = "\u0410"  # А
CYRILLIC_SMALL_A = "\u0430"  # а

IMPERSONATIONS = [
    f"{CYRILLIC_A}dmin",  # Cyrillic capital A
    "ad\u200cmin",  # zero-width non-joiner inside
    "Moderator Team",
    "ＰＵＬＳＥ",  # full-width
    "Mod\u200bera\u2066tor",  # a zero-width space and a bidi isolate inside
]
INVISIBLE_OR_SYMBOLS = ["\u200b\u200b", " \u200d ", "***", "-- !! --", "\u2066\u2069"]


def _register(api, name: str, email: str = "new@example.org"):  # type: ignore[no-untyped-def]
    return api.post(REGISTER, {"email": email, "password": PASSWORD, "display_name": name})


@pytest.mark.parametrize("name", IMPERSONATIONS)
def test_api_refuses_names_that_impersonate_staff(api, name):
    response = _register(api, name)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "staff" in error["fields"]["display_name"]
    assert api.get("/api/v1/auth/me").status_code == 401


@pytest.mark.parametrize("name", INVISIBLE_OR_SYMBOLS)
def test_api_refuses_names_without_a_visible_letter(api, name):
    response = _register(api, name)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["display_name"] in {
        "required",
        "must contain at least one letter",
    }


def test_api_stores_the_cleaned_name_and_its_skeleton(api, db):
    from webapp.models import User
    from webapp.services.names import skeleton

    response = _register(api, " ｆｕｌｌｗｉｄｔｈ\u200b  Reader\u202c ")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["display_name"] == "fullwidth Reader"
    user = db.session.scalar(select(User).where(User.email == "new@example.org"))
    assert user.display_name == "fullwidth Reader"
    assert user.name_skeleton == skeleton("fullwidth Reader")


def test_api_refuses_a_look_alike_of_an_existing_name(api, make_user):
    make_user(name="Jane Doe")
    response = _register(api, f"J{CYRILLIC_SMALL_A}ne Doe")
    assert response.status_code == 422
    assert "another member" in response.get_json()["error"]["fields"]["display_name"]
    assert _register(api, "Jane Dunn").status_code == 201


@pytest.mark.parametrize("name", ["Ada Lovelace", "Zoë", "Иван Петров", "Νίκος", "李小龍"])
def test_api_accepts_unrelated_names_in_any_script(make_api, name):
    response = _register(make_api(), name, email="someone@example.org")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["display_name"] == name


@pytest.mark.parametrize("name", [*IMPERSONATIONS, "***"])
def test_registration_page_refuses_and_keeps_what_was_typed(api, name):
    response = api.form(
        "/register", {"display_name": name, "email": "page@example.org", "password": PASSWORD}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="page@example.org"' in page
    assert f'value="{name}"' in page
    assert "staff" in page or "at least one letter" in page
    assert "Sign in" in page and "Signed in as" not in page


def test_registration_page_refuses_a_look_alike(api, make_user):
    make_user(name="Jane Doe")
    response = api.form(
        "/register",
        {
            "display_name": f"J{CYRILLIC_SMALL_A}ne Doe",
            "email": "page@example.org",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 422
    assert "looks too much like another member" in response.get_data(as_text=True)


# --- the staff badge --------------------------------------------------------------------


def _reader_named_moderator(db):  # type: ignore[no-untyped-def]
    """A reader called "Moderator", which registration refuses: written straight into
    the database to show the badge does not come from the name."""
    from webapp.models import User
    from webapp.services.accounts import hash_password

    user = User(
        email="impostor@example.org",
        display_name="Moderator",
        password_hash=hash_password(PASSWORD),
        role="reader",
    )
    db.session.add(user)
    db.session.commit()
    return user


def _thread(db, make_article, make_user):  # type: ignore[no-untyped-def]
    from webapp.services import comments

    article = make_article()
    staff = make_user(role="moderator", name="Sam Keeper")
    impostor = _reader_named_moderator(db)
    comments.submit(article, staff, "Please keep it civil.", None)
    comments.submit(article, impostor, "I am in charge here.", None)
    db.session.commit()
    return article, staff, impostor


def _author_headers(page: str) -> dict[str, str]:
    """Each comment's header, keyed by the text of its author element."""
    heads = re.findall(r'<header class="comment-head">(.*?)</header>', page, re.S)
    found = {}
    for head in heads:
        author = re.search(r'class="comment-author">([^<]*)<', head)
        assert author is not None
        found[author.group(1)] = head
    return found


def test_staff_comments_carry_a_badge_from_the_role_not_the_name(
    db, client, make_article, make_user
):
    article, _staff, _impostor = _thread(db, make_article, make_user)
    page = client.get(f"/articles/{article.slug}").get_data(as_text=True)
    heads = _author_headers(page)
    assert 'class="badge badge-staff"' in heads["Sam Keeper"]
    assert "Pulse staff: </span>Moderator</span>" in heads["Sam Keeper"]
    assert "badge-staff" not in heads["Moderator"]
    assert page.count("badge-staff") == 1


def test_api_comment_authors_carry_their_role(db, api, make_article, make_user):
    article, staff, impostor = _thread(db, make_article, make_user)
    items = api.get(f"/api/v1/articles/{article.slug}/comments").get_json()["items"]
    authors = {item["author"]["id"]: item["author"] for item in items}
    assert authors[staff.id] == {"id": staff.id, "display_name": "Sam Keeper", "role": "moderator"}
    assert authors[impostor.id] == {
        "id": impostor.id,
        "display_name": "Moderator",
        "role": "reader",
    }


def test_a_deleted_comment_names_no_author_and_no_role(db, make_api, make_article, make_user):
    from webapp.services import comments

    article = make_article()
    staff = make_user(role="editor")
    comment = comments.submit(article, staff, "Soon gone.", None)
    comments.submit(article, make_user(), "A reply keeps it in the thread.", comment.id)
    db.session.commit()
    client = make_api()
    client.login(staff)
    assert client.delete(f"/api/v1/comments/{comment.id}").status_code == 204
    items = make_api().get(f"/api/v1/articles/{article.slug}/comments").get_json()["items"]
    assert items[0]["deleted"] and items[0]["author"] == {
        "id": None,
        "display_name": "[deleted]",
        "role": None,
    }
    assert items[0]["replies"][0]["author"]["role"] == "reader"


# --- operators ----------------------------------------------------------------------------


def test_operators_may_give_staff_a_title(runner, db):
    from webapp.models import User

    result = runner.invoke(
        args=["users", "create", "desk@example.org", "--role", "editor"]
        + ["--password", PASSWORD, "--name", "Editor Desk"]
    )
    assert result.exit_code == 0, result.output
    reader = runner.invoke(
        args=["users", "create", "r@example.org", "--password", PASSWORD, "--name", "Editor"]
    )
    assert reader.exit_code != 0 and "staff" in reader.output
    desk = db.session.scalar(select(User).where(User.email == "desk@example.org"))
    assert desk.display_name == "Editor Desk" and desk.name_skeleton


def test_reskeleton_cli_fills_the_column_for_existing_accounts(runner, db, make_user):
    from webapp.models import User
    from webapp.services.names import skeleton

    for name in ("Ada", "Bob", "Cy"):
        make_user(name=name)
    db.session.execute(update(User).values(name_skeleton=None))
    db.session.commit()
    result = runner.invoke(args=["users", "reskeleton", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "Updated 3 name skeletons of 3 accounts." in result.output
    db.session.expire_all()
    rows = db.session.execute(select(User.display_name, User.name_skeleton)).tuples().all()
    assert sorted(rows) == [
        ("Ada", skeleton("Ada")),
        ("Bob", skeleton("Bob")),
        ("Cy", skeleton("Cy")),
    ]
    again = runner.invoke(args=["users", "reskeleton"])
    assert "Updated 0 name skeletons" in again.output


def test_a_look_alike_of_a_name_filled_by_reskeleton_is_refused(runner, db, make_api, make_user):
    from webapp.models import User

    make_user(name="Jane Doe")
    db.session.execute(update(User).values(name_skeleton=None))
    db.session.commit()
    # Not known before the command: an account made before the column has no skeleton.
    assert _register(make_api(), f"J{CYRILLIC_SMALL_A}ne Doe").status_code == 201
    runner.invoke(args=["users", "reskeleton"])
    response = _register(make_api(), "JANE DOE", email="third@example.org")
    assert response.status_code == 422
