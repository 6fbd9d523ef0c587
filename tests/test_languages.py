"""Script and language per line and word; their JSON, hOCR and ALTO forms."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocrai import OcrAI, testing
from ocrai.export import from_json, json_schema, to_alto, to_hocr, to_json
from ocrai.languages import (
    annotate_page,
    char_script,
    foreign_characters,
    normalize_language,
    text_script,
)
from ocrai.results import Block, Line, Page, Word

# Characters ruff would take for Latin ones, by name.
PLANCK, FULL_A, ALPHA, FULL_COMMA = "\u210e", "\uff21", "\u03b1", "\uff0c"

LANGS = ["en", "fr", "pt", "cs", "ja", "zh-hant"]
QUAD = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))


@pytest.fixture(scope="module")
def ai() -> Iterator[OcrAI]:
    with OcrAI(threads=2) as engine:
        yield engine


def page_of(*texts: str) -> Page:
    lines = tuple(
        Line(t, 0.9, QUAD, words=tuple(Word(w, 0.9, QUAD) for w in t.split())) for t in texts
    )
    return Page(100, 100, lines, (Block((0, 0, 10, 5), tuple(range(len(lines)))),))


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("Hello world", "Latin"),
        ("Příliš žluťoučký", "Latin"),
        ("Съешь же ещё этих булок", "Cyrillic"),
        ("Καλημέρα", "Greek"),
        ("東京駅から新幹線", "Japanese"),
        ("カタカナ", "Japanese"),
        ("臺北市立圖書館", "Han"),
        ("这份报告说明", "Han"),
        ("안녕하세요", "Hangul"),
        ("مرحبا", "Arabic"),
        ("12.50 / 3", None),
        ("", None),
    ],
)
def test_text_script(text: str, script: str | None) -> None:
    assert text_script(text) == script


def test_char_script() -> None:
    assert char_script("a") == "Latin"
    assert char_script("ř") == "Latin"
    assert char_script("ж") == "Cyrillic"
    assert char_script("の") == "Kana"
    assert char_script("漢") == "Han"
    assert char_script("7") is None
    assert char_script(" ") is None
    assert char_script("\u1200") == "Other"  # Ethiopic
    assert char_script("º") == char_script("ɛ") == "Latin"
    assert char_script(PLANCK) is None  # a letterlike symbol
    assert char_script("ⁿ") is None
    assert char_script(FULL_A) == "Latin"  # fullwidth


def test_foreign_characters() -> None:
    chars = ["a", "ř", "º", "7", ",", "ж", ALPHA, "の", "漢", "한", "、", FULL_COMMA, FULL_A, "€"]
    chars += ["", "ab"]  # not characters: never foreign
    assert foreign_characters(chars, ["en", "cs"]) == f"ж{ALPHA}の漢한、{FULL_COMMA}{FULL_A}"
    assert foreign_characters(chars, ["ja"]) == f"ж{ALPHA}한"
    assert foreign_characters(chars, ["zh-Hant"]) == f"ж{ALPHA}の한"
    assert foreign_characters(chars, ["ru", "en"]) == f"{ALPHA}の漢한、{FULL_COMMA}{FULL_A}"
    assert foreign_characters(chars, []) == ""
    assert foreign_characters(chars, ["en", "xx"]) == ""  # a script unknown here: no ruling
    with pytest.raises(ValueError, match="BCP 47"):
        foreign_characters(chars, ["english"])


@pytest.mark.parametrize(
    ("tag", "expected"), [("EN", "en"), ("zh-hant", "zh-Hant"), ("zh-TW", "zh-Hant"), ("cs", "cs")]
)
def test_normalize_language(tag: str, expected: str) -> None:
    assert normalize_language(tag) == expected


@pytest.mark.parametrize("bad", ["", "c", "english language", "12", "cs_CZ"])
def test_bad_language(bad: str) -> None:
    with pytest.raises(ValueError, match="BCP 47"):
        normalize_language(bad)
    with pytest.raises(ValueError, match="BCP 47"):
        OcrAI(languages=(bad,))


def test_given_languages_pick_by_script() -> None:
    page = annotate_page(page_of("Dobrý den, jak se máte?", "今日の天気は晴れです。"), ("cs", "ja"))
    assert [(x.script, x.language) for x in page.lines] == [("Latin", "cs"), ("Japanese", "ja")]
    assert page.languages == ("cs", "ja")


def test_given_latin_languages_told_apart() -> None:
    page = annotate_page(
        page_of("Le déjeuner coûte 14,90 € par élève.", "Čtvrtletní zpráva byla odeslána."),
        ("fr", "cs"),
    )
    assert [x.language for x in page.lines] == ["fr", "cs"]


def test_languages_told_from_the_text() -> None:
    page = annotate_page(
        page_of(
            "臺北市立圖書館的開放時間已經調整。",
            "这份报告说明了今年的销售状况。",
            "ひらがなとカタカナ",
            "Příliš žluťoučký kůň úpěl ďábelské ódy.",
            "12.50",
        )
    )
    assert [x.language for x in page.lines] == ["zh-Hant", "zh-Hans", "ja", "cs", None]
    assert [x.script for x in page.lines] == ["Han", "Han", "Japanese", "Latin", None]
    assert set(page.languages) == {"zh-Hant", "zh-Hans", "ja", "cs"}


def test_words_where_the_script_changes() -> None:
    page = annotate_page(page_of("Meeting in Москва tomorrow"), ("en", "ru"))
    (line,) = page.lines
    assert line.script == "Latin"
    assert line.language == "en"
    assert [(w.script, w.language) for w in line.words] == [
        ("Latin", "en"),
        ("Latin", "en"),
        ("Cyrillic", "ru"),
        ("Latin", "en"),
    ]


@pytest.mark.parametrize("lang", LANGS)
def test_rendered_pages_get_their_script_and_language(ai: OcrAI, lang: str) -> None:
    rendered = testing.render_page(testing.SAMPLE_TEXT[lang], lang=lang)
    script = {"ja": "Japanese", "zh-hant": "Han"}.get(lang, "Latin")
    expected = normalize_language(lang)
    told = ai.recognize(rendered.image)
    assert {x.script for x in told.lines} == {script}
    assert told.languages[0] == expected
    given = ai.recognize(rendered.image, languages=[lang, "ja"] if lang != "ja" else ["cs", "ja"])
    assert {x.language for x in given.lines} == {expected}


def test_json_round_trip_and_schema(ai: OcrAI) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    page = ai.recognize(testing.render_page(testing.SAMPLE_TEXT["cs"], lang="cs").image)
    text = to_json(page)
    jsonschema.validate(json.loads(text), json_schema())
    (back,) = from_json(text)
    assert back == page
    assert back.lines[0].language == "cs"
    assert back.orientation == 0


def test_json_written_before_these_fields_still_loads(ai: OcrAI) -> None:
    page = ai.recognize(testing.render_page(testing.SAMPLE_TEXT["en"]).image)
    document = json.loads(to_json(page))
    for p in document["pages"]:
        for key in ("orientation", "orientation_confidence", "languages"):
            del p[key]
        for line in p["lines"]:
            for key in ("raw_confidence", "script", "language"):
                del line[key]
            for word in line["words"]:
                for key in ("raw_confidence", "script", "language"):
                    del word[key]
    (old,) = from_json(json.dumps(document))
    assert old.text == page.text
    assert old.orientation == 0
    assert old.orientation_confidence is None
    assert old.languages == ()
    assert old.lines[0].language is None
    assert old.lines[0].raw_confidence is None


def test_bad_orientation_in_json() -> None:
    document = page_of("x").to_dict()
    document["orientation"] = 45
    with pytest.raises(ValueError, match="orientation"):
        Page.from_dict(document)


def test_hocr_passes_hocr_spec_without_warnings(ai: OcrAI, tmp_path: Path) -> None:
    hocr_spec = pytest.importorskip("hocr_spec")
    pages = [
        ai.recognize(testing.render_page(testing.SAMPLE_TEXT[lang], lang=lang).image)
        for lang in ("cs", "ja", "zh-hant")
    ]
    pages.append(annotate_page(page_of("Meeting in Москва tomorrow"), ("en", "ru")))
    document = to_hocr(pages)
    path = tmp_path / "page.hocr"
    path.write_text(document, encoding="utf-8")
    report = hocr_spec.HocrValidator("standard").validate(str(path))
    text = report.format("text")
    assert report.is_valid(), text
    assert "[WARN]" not in text, text
    assert "[ERROR]" not in text, text
    root = ET.fromstring(document)
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    langs = root.find("h:head/h:meta[@name='ocr-langs']", ns)
    assert langs is not None
    assert langs.get("content") == "cs ja zh-Hant en ru"
    line_langs = [e.get("lang") for e in root.iterfind(".//h:span[@class='ocr_line']", ns)]
    assert {"cs", "ja", "zh-Hant", "en"} <= set(line_langs)
    word_langs = [e.get("lang") for e in root.iterfind(".//h:span[@class='ocrx_word']", ns)]
    assert word_langs.count("ru") == 1  # only the word whose language differs from its line's


def test_alto_carries_lang(ai: OcrAI) -> None:
    page = ai.recognize(
        testing.render_page(testing.SAMPLE_TEXT["ja"], lang="ja").image, languages=("ja",)
    )
    mixed = annotate_page(page_of("Meeting in Москва tomorrow"), ("en", "ru"))
    root = ET.fromstring(to_alto([page, mixed]))
    ns = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}
    lines = root.findall(".//a:TextLine", ns)
    assert [e.get("LANG") for e in lines] == ["ja"] * len(page.lines) + ["en"]
    strings = root.findall(".//a:String", ns)
    assert [e.get("CONTENT") for e in strings if e.get("LANG")] == ["Москва"]
