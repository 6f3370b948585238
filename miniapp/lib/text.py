r"""What user-typed text may contain: one rule for nicknames, titles, notes and reports.

Text that others see must show what it says. Control characters (NUL, BEL, escape, a line
break in a one-line field) break databases, logs and layouts; characters that draw nothing
make one string look like another (`ali\u200bce` and `ali\u3164ce` read "alice", and so does
`\u202eecila`). Those are Unicode's Default_Ignorable_Code_Point (zero-width space, word
joiner, BOM, soft hyphen, bidi controls, Hangul fillers, the combining grapheme joiner,
variation selectors...), every other format character (Cf), and blank symbols Unicode counts
as visible (U+2800 BRAILLE PATTERN BLANK). Emoji still work: such a character is kept where
it is part of an emoji Unicode recommends (the `emoji` package's list): the joiner (U+200D)
in 👨‍👩‍👧, the variation selector (U+FE0F) in ❤️ and 1️⃣, the tags of Scotland's flag.

A nickname names someone, so it follows more (`validate_nickname`): no space at either end,
one ordinary space (U+0020) between words and no other space, and Unicode's composed form
(NFC: `normalized`), so that a decomposed "José" is the same name as a composed one.
"""

import bisect
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Default_Ignorable_Code_Point, from DerivedCoreProperties-15.0.0.txt. Every assigned code
# point in it is in Unicode 14.0.0 too, the version of Python 3.11's unicodedata, which
# lacks this property. (regex's \p{DI} has it, with a whole regex engine; unicodedata2 and
# unicodedataplus do not.)
DEFAULT_IGNORABLE = [
    (0x00AD, 0x00AD),  # SOFT HYPHEN
    (0x034F, 0x034F),  # COMBINING GRAPHEME JOINER
    (0x061C, 0x061C),  # ARABIC LETTER MARK
    (0x115F, 0x1160),  # HANGUL CHOSEONG FILLER, HANGUL JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # KHMER VOWEL INHERENT AQ, AA
    (0x180B, 0x180F),  # MONGOLIAN FREE VARIATION SELECTORS, VOWEL SEPARATOR
    (0x200B, 0x200F),  # ZERO WIDTH SPACE..RIGHT-TO-LEFT MARK
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x206F),  # WORD JOINER..NOMINAL DIGIT SHAPES
    (0x3164, 0x3164),  # HANGUL FILLER
    (0xFE00, 0xFE0F),  # VARIATION SELECTOR-1..16
    (0xFEFF, 0xFEFF),  # ZERO WIDTH NO-BREAK SPACE (BOM)
    (0xFFA0, 0xFFA0),  # HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),  # reserved
    (0x1BCA0, 0x1BCA3),  # SHORTHAND FORMAT LETTER OVERLAP..UP STEP
    (0x1D173, 0x1D17A),  # MUSICAL SYMBOL BEGIN BEAM..END PHRASE
    (0xE0000, 0xE0FFF),  # tags, VARIATION SELECTOR-17..256, reserved
]
_STARTS = [start for start, _ in DEFAULT_IGNORABLE]

# Symbols that are not default-ignorable but draw an empty cell all the same.
BLANKS = {
    "\u2800",  # BRAILLE PATTERN BLANK
    "\U0001d159",  # MUSICAL SYMBOL NULL NOTEHEAD
}


def is_default_ignorable(char: str) -> bool:
    code = ord(char)
    index = bisect.bisect_right(_STARTS, code) - 1
    return index >= 0 and code <= DEFAULT_IGNORABLE[index][1]


def _in_emoji(value: str) -> set[int]:
    """The indexes of `value` that belong to an emoji Unicode recommends (RGI)."""
    # Imported on first need: its tables cost ~5 MB and 0.2 s, and most text has no joiner,
    # variation selector or tag to look up.
    import emoji

    return {i for match in emoji.emoji_list(value) for i in range(match["match_start"], match["match_end"])}


def invisible_characters(value: str, *, multiline: bool = False) -> list[str]:
    """The characters of `value` that the rule refuses, as `U+XXXX` names, in order."""
    found = []
    in_emoji = None
    for index, char in enumerate(value):
        category = unicodedata.category(char)
        if category == "Cc":
            if multiline and char in "\r\n\t":
                continue
            found.append(char)
        elif category in ("Cs", "Zl", "Zp") or char in BLANKS:
            found.append(char)
        elif category == "Cf" or is_default_ignorable(char):
            if in_emoji is None:
                in_emoji = _in_emoji(value)
            if index not in in_emoji:
                found.append(char)
    return [f"U+{ord(char):04X}" for char in found]


def validate_plain_text(value: str, *, multiline: bool = False) -> None:
    """Raise ValidationError naming the first invisible or control character, if any.
    `multiline` allows line breaks (LF, CR) and tabs (notes, report texts)."""
    bad = invisible_characters(value, multiline=multiline)
    if bad:
        raise ValidationError(
            _("Remove the invisible or control character %(char)s: text may only hold characters that show."),
            code="invisible_character",
            params={"char": bad[0]},
        )


def validate_one_line(value: str) -> None:
    validate_plain_text(value, multiline=False)


def validate_multiline(value: str) -> None:
    validate_plain_text(value, multiline=True)


def comment_text(value: str, *, limit: int) -> str:
    """A comment's text as it is kept: trimmed, composed (NFC), one line of plain text, 1 to
    `limit` characters; else ValidationError with a message for its writer. Comments on videos
    and in live rooms both."""
    text = normalized(value.strip())
    if not text:
        raise ValidationError(_("Write something first."))
    if len(text) > limit:
        raise ValidationError(
            _("A comment can be at most %(limit)d characters; this one has %(length)d.")
            % {"limit": limit, "length": len(text)}
        )
    validate_one_line(text)
    return text


def normalized(value: str) -> str:
    """`value` in Unicode's composed form (NFC): what a keyboard types, and how text is stored.
    Canonically equivalent strings (a decomposed and a composed "é") become one."""
    return unicodedata.normalize("NFC", value)


def validate_nickname(value: str) -> None:
    """One line of characters that show (`validate_one_line`), no space at either end, one
    ordinary space (U+0020) between words and no other space, in NFC (bring it there with
    `normalized` first): "alice ", "alice\u00a0" and "ali\u3164ce" are not alice, nor anyone."""
    validate_one_line(value)
    for index, char in enumerate(value):
        if unicodedata.category(char) != "Zs":
            continue
        params = {"char": f"U+{ord(char):04X}"}
        if index in (0, len(value) - 1):
            raise ValidationError(
                _("Remove the space %(char)s at the start or end of the nickname."), code="outer_space", params=params
            )
        if char != " ":
            raise ValidationError(
                _("Replace the space %(char)s with an ordinary space (U+0020): a nickname has no other."),
                code="unusual_space",
                params=params,
            )
        if value[index + 1] == " ":
            raise ValidationError(
                _("Put one space (U+0020) between the words of a nickname, not two."), code="double_space"
            )
    if not unicodedata.is_normalized("NFC", value):
        raise ValidationError(_("Give the nickname in Unicode's composed form (NFC)."), code="not_normalized")
