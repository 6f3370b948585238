import pytest

from miniapp.videos.templatetags.counts import compact


@pytest.mark.parametrize(
    ("value", "chinese", "english"),
    [
        (0, "0", "0"),
        (999, "999", "999"),
        (1234, "1234", "1.2K"),
        (12345, "1.2万", "12.3K"),
        (15000, "1.5万", "15K"),
        (999950, "100万", "1M"),
        (99999999, "1亿", "100M"),
        (340000000, "3.4亿", "340M"),
    ],
)
def test_it_writes_counts_like_intl_compact(value, chinese, english):
    # The same strings as Intl.NumberFormat(lang, {notation: "compact", maximumFractionDigits: 1}).
    assert compact(value, "zh-hans") == chinese
    assert compact(value, "en") == english
