import gettext
import shutil
from pathlib import Path

import polib

from miniapp.lib.catalogs import catalogs_compile

LOCALE = Path(__file__).resolve().parents[3] / "locale"

SAMPLE = r"""
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"

msgid "Like"
msgstr "赞"

msgctxt "verb"
msgid "Share"
msgstr "分享"

#, python-format
msgid "%(count)s like"
msgid_plural "%(count)s likes"
msgstr[0] "%(count)s 个赞"
msgstr[1] "%(count)s 个赞们"

#, fuzzy
msgid "Report"
msgstr "举报"

msgid "Untranslated"
msgstr ""
"""


def compiled(tmp_path, text: str) -> gettext.GNUTranslations:
    po = tmp_path / "xx" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    po.write_text(text)
    assert catalogs_compile(locale_dirs=[tmp_path]) == [po.with_suffix(".mo")]
    with po.with_suffix(".mo").open("rb") as handle:
        return gettext.GNUTranslations(handle)


def test_it_compiles_what_gettext_reads(tmp_path):
    catalog = compiled(tmp_path, SAMPLE)
    assert catalog.gettext("Like") == "赞"
    assert catalog.pgettext("verb", "Share") == "分享"
    assert catalog.ngettext("%(count)s like", "%(count)s likes", 1) == "%(count)s 个赞"
    assert catalog.ngettext("%(count)s like", "%(count)s likes", 2) == "%(count)s 个赞们"


def test_it_leaves_out_fuzzy_and_untranslated_entries_as_msgfmt_does(tmp_path):
    catalog = compiled(tmp_path, SAMPLE)
    assert catalog.gettext("Report") == "Report"
    assert catalog.gettext("Untranslated") == "Untranslated"


def test_it_writes_only_what_changed(tmp_path):
    compiled(tmp_path, SAMPLE)
    assert catalogs_compile(locale_dirs=[tmp_path]) == []
    po = tmp_path / "xx" / "LC_MESSAGES" / "django.po"
    po.write_text(SAMPLE.replace("分享", "转发"))
    assert catalogs_compile(locale_dirs=[tmp_path]) == [po.with_suffix(".mo")]


def test_the_repositorys_catalogs_translate_every_translated_entry(tmp_path):
    shutil.copytree(LOCALE, tmp_path / "locale", ignore=shutil.ignore_patterns("*.mo"))
    catalogs_compile(locale_dirs=[tmp_path / "locale"])
    pos = sorted((tmp_path / "locale").glob("*/LC_MESSAGES/*.po"))
    assert {po.relative_to(tmp_path / "locale").as_posix() for po in pos} >= {
        "zh_Hans/LC_MESSAGES/django.po",
        "zh_Hans/LC_MESSAGES/djangojs.po",
    }
    for po in pos:
        with po.with_suffix(".mo").open("rb") as handle:
            catalog = gettext.GNUTranslations(handle)
        for entry in polib.pofile(str(po)).translated_entries():
            if entry.msgid_plural:
                for n in (1, 2, 5):
                    if entry.msgctxt:
                        got = catalog.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                    else:
                        got = catalog.ngettext(entry.msgid, entry.msgid_plural, n)
                    assert got in entry.msgstr_plural.values(), (po, entry.msgid)
            elif entry.msgctxt:
                assert catalog.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr, (po, entry.msgid)
            else:
                assert catalog.gettext(entry.msgid) == entry.msgstr, (po, entry.msgid)
