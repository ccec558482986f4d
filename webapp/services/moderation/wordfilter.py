"""Word matching that sees through the usual disguises.

Moderators list words; readers write "S.P.A.M", "s p a m", "spaaam", "5pam" or
"ѕpam" (Cyrillic ѕ). Both sides are reduced to a skeleton (lower case, no accents,
Cyrillic, Greek and other letters that look Latin read as the Latin letter,
look-alike digits read as letters, letters split by dots or spaces joined, repeated
letters collapsed) and compared token by token, so "class" never matches "ass".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from webapp.services.names import prototype_map

LOOKALIKES = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "@": "a",
        "5": "s",
        "$": "s",
        "7": "t",
        "8": "b",
        "9": "g",
        "€": "e",
    }
)
_NON_LETTERS = re.compile(r"[^a-z]+")
_REPEATS = re.compile(r"(.)\1+")
SUFFIXES = ("", "s", "es", "ed", "er", "ers", "ing", "y")


def _latin(text: str) -> str:
    """``text`` as plain ASCII letters and digits, or "" when it is not one."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain if plain.isalnum() else ""


@lru_cache(maxsize=1)
def _as_latin() -> dict[int, str]:
    """Every non-ASCII character that Unicode's confusables data (TR39, the same as
    display names use, webapp/services/names.py) says looks like Latin letters or
    digits, to them: Cyrillic "ѕ" to "s", Greek "ο" to "o". A lower-case letter with
    no Latin prototype of its own is read through its capital (Greek "τ" is "ᴛ", a
    small capital, but "Τ" is "T"). ASCII itself is left alone (TR39's "m" is "rn"),
    and characters already decomposed by NFKD are not keys: _fold decomposes first."""
    table: dict[int, str] = {}
    prototypes = prototype_map()
    for code in prototypes:
        char = chr(code)
        if char.isascii() or unicodedata.normalize("NFKD", char) != char:
            continue
        latin = _latin(prototypes[code]) or _latin(char.upper().translate(prototypes))
        if latin:
            table[code] = latin.lower()
    return table


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    if not text.isascii():
        text = text.translate(_as_latin())
    ascii_text = text.encode("ascii", "ignore").decode()
    return ascii_text.lower().translate(LOOKALIKES)


def skeleton_tokens(text: str) -> list[str]:
    tokens: list[str] = []
    single_run: list[str] = []
    for raw in _fold(text).split():
        # Punctuation inside a token goes: "s.p.a.m" and "sp-am" both become "spam".
        word = _NON_LETTERS.sub("", raw)
        if len(word) == 1:
            single_run.append(word)
            continue
        if single_run:
            tokens.append("".join(single_run))
            single_run = []
        if word:
            tokens.append(word)
    if single_run:
        tokens.append("".join(single_run))
    return [_REPEATS.sub(r"\1", token) for token in tokens if token]


def term_skeleton(term: str) -> list[str]:
    return [
        _REPEATS.sub(r"\1", t) for t in (_NON_LETTERS.sub("", w) for w in _fold(term).split()) if t
    ]


def find_terms(text: str, terms: Iterable[str]) -> list[str]:
    """The listed terms that ``text`` contains, in the order given."""
    terms = list(terms)
    if not terms:
        return []
    tokens = skeleton_tokens(text)
    found = []
    for term in terms:
        wanted = term_skeleton(term)
        if not wanted:
            continue
        size = len(wanted)
        for start in range(len(tokens) - size + 1):
            window = tokens[start : start + size]
            if window[:-1] == wanted[:-1] and any(
                window[-1] == _REPEATS.sub(r"\1", wanted[-1] + suffix) for suffix in SUFFIXES
            ):
                found.append(term)
                break
        else:
            # "s p a m" written with spaces inside a longer sentence is joined above;
            # a multi-word term may also be written as one run of letters.
            if size > 1 and "".join(wanted) in tokens:
                found.append(term)
    return found


LINK_PATTERN = re.compile(r"(?i)\b(?:https?://|www\.)\S+")


def count_links(text: str) -> int:
    return len(LINK_PATTERN.findall(text))
