import pytest
from django.core.exceptions import ValidationError

from miniapp.lib.text import invisible_characters, validate_multiline, validate_one_line


@pytest.mark.parametrize(
    "value",
    [
        "alice",
        "老王",
        "王家村 🐓",
        "👨\u200d👩\u200d👧",
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland's flag
        "café",
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
