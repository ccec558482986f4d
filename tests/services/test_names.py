"""Display names: cleaning, TR39 skeletons, reserved words and look-alikes
(webapp/services/names.py), and the banned-word filter's look-alike folding."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from webapp.errors import InvalidInput
from webapp.services import names
from webapp.services.moderation import find_terms

CYRILLIC_A = "\u0410"  # А
CYRILLIC_SMALL_A = "\u0430"  # а


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("ｆｕｌｌｗｉｄｔｈ", "fullwidth"),  # NFKC
        ("ad\u200bmin", "admin"),  # zero-width space
        ("Ja\u200cne\u200d Doe\u2060\ufeff", "Jane Doe"),  # joiners, word joiner, BOM
        ("\u202eeoD enaJ\u202c", "eoD enaJ"),  # right-to-left override and pop
        ("\u2066Jane\u2069 \u200eDoe\u200f\u061c", "Jane Doe"),  # isolates, marks
        ("Jane\u180eDoe", "JaneDoe"),  # Mongolian vowel separator
        ("  Jane \t\n  Doe  ", "Jane Doe"),  # whitespace runs, line breaks
        ("Jane\u3000Doe", "Jane Doe"),  # ideographic space
        ("Ja\x07ne\x1b", "Jane"),  # control characters
        ("ㅤJane", "Jane"),  # Hangul filler: a "letter" that prints nothing
        ("Zoë Ångström", "Zoë Ångström"),  # accents are kept
    ],
)
def test_clean_display_name_normalises_and_drops_what_prints_nothing(raw, clean):
    assert names.clean_display_name(raw) == clean


@pytest.mark.parametrize(
    "one, other",
    [
        ("Jane Doe", f"J{CYRILLIC_SMALL_A}ne Doe"),  # Cyrillic а
        ("Jane Doe", "JANE DOE"),  # case
        ("Pulse", "PuIse"),  # capital I for l
        ("admin", "ADMIN"),  # capital I is also i
        ("Kim", "Kirn"),  # rn for m
        ("Oscar", "0scar"),  # zero for O
        ("Paypal", "\u0420\u0430\u0443\u0440\u0430l"),  # all Cyrillic but the l
        ("Nina", "\u039d\u0456n\u0430"),  # Greek Nu, Cyrillic і and а
    ],
)
def test_look_alikes_share_a_skeleton(one, other):
    assert names.skeleton(one) == names.skeleton(other)


@pytest.mark.parametrize(
    "one, other", [("Jane Doe", "Jane Dow"), ("José", "Jose"), ("Ann", "Anna")]
)
def test_different_names_have_different_skeletons(one, other):
    assert names.skeleton(one) != names.skeleton(other)


def test_skeleton_follows_the_unicode_prototype_mapping():
    # Straight from Unicode's confusables.txt: Cyrillic а and Greek ο to Latin.
    assert names.tr39_skeleton(f"{CYRILLIC_SMALL_A}\u03bf") == "ao"
    assert names.tr39_skeleton("m") == "rn"
    assert len(names.prototype_map()) > 6000


@pytest.mark.parametrize(
    "name",
    [
        f"{CYRILLIC_A}dmin",
        "Admin",
        "ADMIN",
        "Moderator Team",
        "the moderator",
        "Site Administrator",
        "Editor Desk",
        "Staff",
        "Pulse",
        "PULSE",
        "A d m i n",
        "SiteAdmin",
        "TheModerator",
        "ChiefEditor",
        "PulseStaff",
        "Moderator2",
        "Admins",
        "Mod Jane",
        "M0derator",
        "Ädmin",
    ],
)
def test_reserved_words_are_seen_in_any_disguise(name):
    assert names.reserved_word_in(name, site_name="Pulse")


@pytest.mark.parametrize(
    "name",
    [
        "Jane Doe",
        "Stafford Smith",
        "Staffan",
        "Impulse",
        "Modesty Blaise",
        "Badminton Fan",
        "Amina K.",
        "Hamodi",
        "Editha",
    ],
)
def test_ordinary_names_that_contain_the_letters_are_not_reserved(name):
    assert not names.reserved_word_in(name, site_name="Pulse")


def test_the_site_name_is_reserved_however_it_is_configured():
    assert names.reserved_word_in("The Daily Herald", site_name="The Daily Herald")
    assert names.reserved_word_in("TheDailyHerald", site_name="The Daily Herald")


@pytest.mark.parametrize(
    "raw, problem",
    [
        ("\u200b\u200c \u200d", "required"),
        ("!!! ??? ...", names.NO_LETTER),
        ("12345", names.NO_LETTER),
        ("🙂🙂", names.NO_LETTER),
        ("x" * 81, names.TOO_LONG),
        ("ad\u200cmin", names.RESERVED),
    ],
)
def test_check_display_name_explains_each_refusal(app, raw, problem):
    with pytest.raises(InvalidInput) as refused:
        names.check_display_name(raw)
    assert refused.value.fields == {"display_name": problem}


def test_staff_may_carry_a_title_readers_may_not(app):
    assert names.check_display_name("Editor Desk", "editor").display_name == "Editor Desk"
    with pytest.raises(InvalidInput):
        names.check_display_name("Editor Desk", "reader")


def test_the_site_name_comes_from_the_configuration(make_app):
    app = make_app(SITE_NAME="Herald")
    with app.app_context():
        with pytest.raises(InvalidInput):
            names.check_display_name("The Herald")
        assert names.check_display_name("Pulsar").display_name == "Pulsar"


def test_a_look_alike_of_another_members_name_is_refused_for_everyone(app, make_user):
    jane = make_user(name="Jane Doe")
    assert jane.name_skeleton == names.skeleton("Jane Doe")
    for role in ("reader", "moderator"):
        with pytest.raises(InvalidInput) as refused:
            make_user(role=role, name=f"J{CYRILLIC_SMALL_A}ne Doe")
        assert refused.value.fields == {"display_name": names.TAKEN}
    assert make_user(name="Jane Dow").display_name == "Jane Dow"


def test_reskeleton_fills_and_corrects_every_account(app, db, make_user):
    from webapp.models import User

    ada, bob = make_user(name="Ada"), make_user(name="Bob")
    db.session.execute(update(User).values(name_skeleton=None))
    db.session.execute(update(User).where(User.id == bob.id).values(name_skeleton="stale"))
    db.session.commit()
    seen: list[int] = []
    assert names.reskeleton_users(batch_size=1, progress=seen.append) == 2
    assert seen == [1, 1]
    stored = dict(db.session.execute(select(User.display_name, User.name_skeleton)).tuples().all())
    assert stored == {"Ada": names.skeleton("Ada"), "Bob": names.skeleton("Bob")}
    assert names.reskeleton_users() == 0
    assert ada.id and bob.id


# --- the banned-word filter ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "you \u0455cumbag",  # Cyrillic ѕ: the example
        "\u0455\u0441umb\u0430g",  # Cyrillic ѕ, с and а
        "SCUMB\u0391G",  # Greek capital Alpha
        "scumb\u03b1g",  # Greek small alpha
        "\u0455c\u03c5mbag",  # Greek upsilon for u
        "\u0405\u0421UM\u0392\u0410G",  # capitals, Cyrillic and Greek mixed
        "\u0455.\u0441.u.m.b.\u0430.g",  # spaced out with look-alikes
        "5cumb@g",  # the old ASCII disguises still work
        "ｓｃｕｍｂａｇ",  # full-width
    ],
)
def test_the_word_filter_sees_through_cyrillic_and_greek_look_alikes(text):
    assert find_terms(text, ["scumbag"]) == ["scumbag"]


def test_the_word_filter_reads_greek_letters_through_their_capitals():
    # Greek τ, ν, ρ, ο: "tvpo" is not a word, but each must read as its Latin twin.
    assert find_terms("\u03c4\u03bf\u03c1", ["top"]) == ["top"]
    assert find_terms("\u03bd\u03bf\u03c4e", ["vote"]) == ["vote"]


def test_the_word_filter_still_keeps_words_apart():
    assert find_terms("a first-class comment", ["ass"]) == []
    assert find_terms("Привет, как дела?", ["scumbag"]) == []
