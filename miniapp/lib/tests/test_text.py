import pytest
from django.core.exceptions import ValidationError

from miniapp.lib.api import TextField
from miniapp.lib.text import (
    invisible_characters,
    is_default_ignorable,
    normalized,
    validate_multiline,
    validate_nickname,
    validate_one_line,
)

SCOTLAND = "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
CALIFORNIA = "🏴\U000e0075\U000e0073\U000e0063\U000e0061\U000e007f"  # not a flag Unicode recommends


@pytest.mark.parametrize(
    "value",
    [
        "alice",
        "老王",
        "王家村 🐓",
        "👨\u200d👩\u200d👧",
        SCOTLAND,
        "café",
        "\u2764\ufe0f",  # ❤️: a symbol and VS16
        "\u2764",  # ❤ alone
        "1\ufe0f\u20e3",  # 1️⃣: a keycap
        "#\ufe0f\u20e3",
        "\u263a\ufe0f",  # ☺️
        "\U0001f3f3\ufe0f\u200d\U0001f308",  # 🏳️‍🌈: VS16 inside a ZWJ sequence
        "\U0001f469\U0001f3fd\u200d\U0001f4bb",  # 👩🏽‍💻: a skin tone, a joiner
        "王家村 ❤\ufe0f 1\ufe0f\u20e3 " + SCOTLAND,
        "Bonjour\u00a0!",  # a title may hold a no-break space (a nickname may not)
        "中文\u3000标题",
    ],
)
def test_it_takes_text_that_shows(value):
    validate_one_line(value)


@pytest.mark.parametrize(
    ("value", "char"),
    [
        ("ali\u200bce", "U+200B"),
        ("\u202eecila", "U+202E"),
        ("bob\x00", "U+0000"),
        ("bell\x07", "U+0007"),
        ("two\nlines", "U+000A"),
        ("ali\u200dce", "U+200D"),  # a joiner between letters draws nothing
        ("\ufeffbom", "U+FEFF"),
        ("soft\u00adhyphen", "U+00AD"),
        ("line\u2028sep", "U+2028"),
        ("\ud800", "U+D800"),
        # Default-ignorable characters that are not format characters (Cf): they draw nothing.
        ("ali\u3164ce", "U+3164"),  # HANGUL FILLER
        ("\u115fbob", "U+115F"),  # HANGUL CHOSEONG FILLER
        ("bob\u1160", "U+1160"),  # HANGUL JUNGSEONG FILLER
        ("ali\uffa0ce", "U+FFA0"),  # HALFWIDTH HANGUL FILLER
        ("ali\u034fce", "U+034F"),  # COMBINING GRAPHEME JOINER
        ("ali\u17b4ce", "U+17B4"),  # KHMER VOWEL INHERENT AQ
        ("alice\ufe0f", "U+FE0F"),  # VS16 after a letter
        ("alice\ufe00", "U+FE00"),  # VS1
        ("alice\U000e0100", "U+E0100"),  # VS17
        ("alice\U000e0061", "U+E0061"),  # a tag with no flag
        # Blank symbols that Unicode counts as visible.
        ("ali\u2800ce", "U+2800"),  # BRAILLE PATTERN BLANK
        ("alice\U0001d159", "U+1D159"),  # MUSICAL SYMBOL NULL NOTEHEAD
        # Emoji characters where they make no emoji, and so draw nothing.
        ("1\ufe0f", "U+FE0F"),  # VS16 after a digit, with no keycap
        ("\U0001f413\ufe0f", "U+FE0F"),  # 🐓 has no text style: VS16 changes nothing
        ("\u2764\ufe0e", "U+FE0E"),  # VS15: ❤ looks the same with it
        ("\U0001f413\u200d\U0001f413", "U+200D"),  # two roosters, a joiner no emoji has
        ("\U0001f413\u200d\u200d", "U+200D"),
        (CALIFORNIA, "U+E0075"),  # drawn as the black flag alone
        (SCOTLAND + "\U000e0061", "U+E0061"),  # a tag after a whole flag
    ],
)
def test_it_names_the_first_character_that_does_not_show(value, char):
    assert invisible_characters(value)[0] == char
    with pytest.raises(ValidationError):
        validate_one_line(value)


def test_multiline_text_takes_line_breaks_and_tabs_only():
    validate_multiline("第一行\n第二行\r\n第三行\twith a tab")
    with pytest.raises(ValidationError):
        validate_multiline("x\x1b[31m")
    with pytest.raises(ValidationError):
        validate_multiline("x\u2067y")


def test_the_default_ignorable_table_has_its_edges():
    for char in "\u00ad\u034f\u115f\u1160\u180f\u2064\u2065\u3164\ufe00\ufe0f\uffa0\U000e0000\U000e0fff":
        assert is_default_ignorable(char), f"U+{ord(char):04X}"
    for char in "\x00a\u00ac\u00ae\u0350\u115e\u1161\u2070\u3163\u3165\ufe10\U000e1000\u2800":
        assert not is_default_ignorable(char), f"U+{ord(char):04X}"


@pytest.mark.parametrize("value", ["alice", "bob smith", "老王", "Zoë", "❤\ufe0f bob", "a b c", "x" * 40])
def test_a_nickname_may_be_any_one_line_of_text_that_shows_with_single_spaces(value):
    validate_nickname(value)  # the length is the model field's


@pytest.mark.parametrize(
    ("value", "code", "char"),
    [
        ("alice ", "outer_space", "U+0020"),
        (" alice", "outer_space", "U+0020"),
        ("alice\u00a0", "outer_space", "U+00A0"),  # NO-BREAK SPACE
        ("\u3000alice", "outer_space", "U+3000"),  # IDEOGRAPHIC SPACE
        ("alice\u2000", "outer_space", "U+2000"),  # EN QUAD
        ("alice\u200a", "outer_space", "U+200A"),  # HAIR SPACE
        (" ", "outer_space", "U+0020"),
        ("bob\u00a0smith", "unusual_space", "U+00A0"),  # looks like "bob smith"
        ("bob\u3000smith", "unusual_space", "U+3000"),
        ("bob\u202fsmith", "unusual_space", "U+202F"),  # NARROW NO-BREAK SPACE
        ("bob  smith", "double_space", "U+0020"),  # HTML shows one space
        ("ali\u3164ce", "invisible_character", "U+3164"),
        ("Jose\u0301", "not_normalized", None),  # decomposed: the form brings it to NFC first
    ],
)
def test_a_nickname_has_no_space_at_either_end_and_only_single_ordinary_spaces(value, code, char):
    with pytest.raises(ValidationError) as refused:
        validate_nickname(value)
    error = refused.value.error_list[0]
    assert error.code == code
    if char:
        assert char in error.message % (error.params or {})


def test_text_is_normalized_to_the_composed_form():
    assert normalized("Jose\u0301") == "Jos\u00e9"
    assert normalized("Jos\u00e9") == "Jos\u00e9"
    assert normalized("\uff21\uff2c\uff29\uff23\uff25") == "\uff21\uff2c\uff29\uff23\uff25"  # NFC keeps full width


def test_api_text_is_kept_composed():
    """lib.api's TextField (notes, report texts, titles, descriptions) stores NFC."""
    assert TextField().run_validation("Cafe\u0301") == "Caf\u00e9"
