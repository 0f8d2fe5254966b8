"""Names people read and match: normalised to NFC, without invisible characters, and (for
identifiers such as dimension names and tags) in one script.

Two names that look the same must be the same name, or a dimension `region` typed once with
the Cyrillic letter ie (U+0435) for its `e`, or with a zero-width space, becomes a series of
its own that dashboards then add to the real one. NFC makes composed and decomposed accents
one spelling; control, format (zero-width space, direction marks), private-use, unassigned,
line and paragraph separator characters are refused, and so are spaces other than U+0020.
Display names keep the zero-width joiners (U+200C, U+200D) that emoji sequences and Persian
and Indic writing need; values that tell series apart refuse them too. For identifiers,
letters must come from one script (with the mixes Japanese and Korean writing use): the cheap
rule of Unicode's confusable detection (UTS #39, "single script"), which refuses that
`region`. ASCII text needs none of this and takes a fast path: these run for every dimension
of every point. Names read back from the database (service/models/stored.py) are taken as
stored.
"""

from __future__ import annotations

import unicodedata

from pydantic import AfterValidator, ValidationInfo

from service.models.stored import is_stored

#: Unicode categories that show nothing, or nothing that tells two names apart.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}
#: Format characters display names keep: the joiners of emoji sequences and of Persian and
#: Indic writing. Values that key a series (dimensions) refuse them too.
_JOINERS = {"\u200c", "\u200d"}
#: Scripts that one name may mix (Japanese: kanji with kana; Korean: hangul with hanja).
_SCRIPT_MIXES = (
    frozenset({"CJK", "HIRAGANA", "KATAKANA"}),
    frozenset({"CJK", "HANGUL"}),
)


def _clean(text: str, joiners: bool) -> str:
    """NFC text without invisible or control characters (ValueError otherwise)."""
    if text.isascii():
        if text.isprintable():
            return text
        bad = next(c for c in text if not c.isprintable())
        raise ValueError(f"must not contain control characters (U+{ord(bad):04X})")
    text = unicodedata.normalize("NFC", text)
    for char in text:
        category = unicodedata.category(char)
        if (category in _REFUSED_CATEGORIES and not (joiners and char in _JOINERS)) or (
            category == "Zs" and char != " "
        ):
            raise ValueError(
                f"must not contain invisible, control or unusual space characters "
                f"(U+{ord(char):04X})"
            )
    return text


def _visible(text: str, info: ValidationInfo) -> str:
    return text if is_stored(info) else _clean(text, joiners=True)


def _distinct(text: str) -> str:
    return _clean(text, joiners=False)


def _script(char: str) -> str:
    # The first word of a letter's Unicode name is its script, near enough for this rule:
    # LATIN, CYRILLIC, GREEK, ARABIC, CJK, HIRAGANA ... (FULLWIDTH letters count apart).
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


def _one_script(text: str, info: ValidationInfo) -> str:
    if is_stored(info):
        return text
    text = _clean(text, joiners=False)
    if text.isascii():
        return text
    scripts = {_script(c) for c in text if c.isalpha()}
    if len(scripts) > 1 and not any(scripts <= mix for mix in _SCRIPT_MIXES):
        raise ValueError(
            f"mixes the scripts {', '.join(sorted(scripts))}: letters that look alike would "
            "make two names of one"
        )
    return text


#: Display text people read (names of services, KPIs, teams; owners; a point's source).
Visible = AfterValidator(_visible)
#: Values that tell series apart (dimension values): no joiners either.
Distinct = AfterValidator(_distinct)
#: Identifiers people type and compare (dimension names, tags): Distinct, in one script.
Identifier = AfterValidator(_one_script)
