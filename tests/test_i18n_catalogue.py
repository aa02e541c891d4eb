"""The catalogue (i18n/): every key in every language, the same placeholders, and the language rules."""

import json

import pytest

import i18n


@pytest.mark.parametrize("code", [c for c in i18n.LANGUAGES if c != i18n.DEFAULT])
def test_every_key_is_translated_with_the_same_placeholders(code):
    english, other = i18n.catalogue(i18n.DEFAULT), i18n.catalogue(code)
    missing = sorted(set(english) - set(other))
    extra = sorted(set(other) - set(english))
    assert not missing, f"i18n/{code}.json lacks {len(missing)} keys of en.json, e.g. {missing[:5]}"
    assert not extra, f"i18n/{code}.json has keys en.json lacks (a typo?): {extra[:5]}"
    differ = [key for key in english if i18n.placeholders(english[key]) != i18n.placeholders(other[key])]
    assert not differ, f"i18n/{code}.json: placeholders differ from English in {differ[:5]}"


@pytest.mark.parametrize("code", i18n.LANGUAGES)
def test_every_text_formats(code):
    for key, template in i18n.catalogue(code).items():
        values = {name: 1 for name in i18n.placeholders(template)}
        assert isinstance(template.format_map(values), str), f"{code}: {key} does not format"
        assert template.strip(), f"{code}: {key} is empty"


def test_the_files_are_sorted_and_named_as_languages():
    for code in i18n.LANGUAGES:
        path = i18n.CATALOGUE_DIR / f"{code}.json"
        keys = list(json.loads(path.read_text(encoding="utf-8")))
        assert keys == sorted(keys), f"{path.name}: keep the keys sorted (json.dumps(..., sort_keys=True))"
    assert i18n.LANGUAGES[0] == "en" and "zh-CN" in i18n.LANGUAGES


def test_chinese_reads_as_chinese():
    texts = " ".join(i18n.catalogue("zh-CN").values())
    han = sum("\u4e00" <= ch <= "\u9fff" for ch in texts)
    latin = sum(ch.isascii() and ch.isalpha() for ch in texts)
    assert han > latin, f"zh-CN.json holds more Latin letters ({latin}) than Chinese characters ({han})"


@pytest.mark.parametrize("header, expected", [
    (None, "en"), ("", "en"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"), ("zh-Hans-CN", "zh-CN"), ("zh", "zh-CN"),
    ("en-GB,en;q=0.9", "en"), ("fr-FR, zh;q=0.5", "zh-CN"), ("fr, de", "en"), ("en;q=0.2, zh;q=0.9", "zh-CN"),
    ("*", "en"), ("zh;q=abc, en", "en"), ("x" * 10_000, "en"),
])
def test_accept_language_picks_a_catalogue_language(header, expected):
    assert i18n.negotiate(header) == expected


def test_a_sentence_is_rendered_in_the_language_current_when_shown():
    error = i18n.Sentence("language.unknown", code="fr")
    assert isinstance(error, ValueError)
    assert str(error) == "There is no language “fr” here."
    with i18n.speaking("zh-CN"):
        assert str(error) == "这里没有“fr”这种语言。"
        assert i18n.text("language.name") == "中文"
        assert i18n.text("language.name", "en") == "English"
    assert i18n.language() == "en"


def test_a_parameter_that_is_a_text_is_rendered_in_the_same_language():
    inner = i18n.Text("language.name")
    with i18n.speaking("zh-CN"):
        assert i18n.text("language.unknown", code=inner) == "这里没有“中文”这种语言。"


def test_an_unknown_key_is_a_bug():
    with pytest.raises(KeyError):
        i18n.text("no.such.key")
