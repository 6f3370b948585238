"""What user-typed text may contain: one rule for nicknames, titles, notes and reports.

Text that others see must show what it says. Control characters (NUL, BEL, escape, a line
break in a one-line field) break databases, logs and layouts; format characters that draw
nothing (zero-width space, word joiner, BOM, soft hyphen) and bidi overrides make one
string look like another (`ali\u200bce` reads "alice", `\u202eecila` reads "alice").
Emoji still work: a zero-width joiner is kept between two symbols (👨‍👩‍👧), and tag
characters after a black flag (🏴 subdivision flags).
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ZWJ = "\u200d"
BLACK_FLAG = "\U0001f3f4"
TAGS = range(0xE0020, 0xE0080)


def _is_letter_or_digit(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"


def invisible_characters(value: str, *, multiline: bool = False) -> list[str]:
    """The characters of `value` that the rule refuses, as `U+XXXX` names, in order."""
    found = []
    for index, char in enumerate(value):
        category = unicodedata.category(char)
        if category == "Cc":
            if multiline and char in "\r\n\t":
                continue
            found.append(char)
        elif category in ("Cf", "Cs", "Zl", "Zp"):
            if char == ZWJ and 0 < index < len(value) - 1:
                before, after = value[index - 1], value[index + 1]
                if not _is_letter_or_digit(before) and not _is_letter_or_digit(after):
                    continue  # an emoji sequence
            if ord(char) in TAGS and BLACK_FLAG in value[:index]:
                continue  # a subdivision flag's tag sequence
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
