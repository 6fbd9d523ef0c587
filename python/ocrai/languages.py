"""Script and language of each line and word, told from the characters read.

Scripts come from Unicode ranges: ``Latin``, ``Cyrillic``, ``Greek``, ``Japanese`` (a run
with kana; the Han characters beside kana are Japanese too), ``Han`` (Chinese characters
without kana), ``Hangul``, ``Arabic``, ``Hebrew``, ``Devanagari``, ``Thai``, and ``Other``
for letters of any other script. Digits, punctuation and spaces belong to no script: a
line of digits has none.

Languages are BCP 47 tags (``en``, ``cs``, ``ja``, ``zh-Hant``, ``zh-Hans``, ...):

- with the page's languages given (``languages=("cs", "ja")``), a line takes the given
  language of its script; among several of one script (``en`` and ``fr`` are both Latin)
  the one whose letters and short words the text matches best, else the first given;
- without them, a language is named only where the text tells it: kana say Japanese;
  Chinese characters say Traditional or Simplified by the characters that differ between
  the two (counted over the line, else the page); Latin text by letters peculiar to a
  language and its commonest short words, over the line or, when the line alone does not
  tell, over the page's Latin lines (a page in one language is the common case).

Nothing here needs the native core: it works on `ocrai.results.Page` objects.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from .results import Line, Page, Word

__all__ = [
    "ISO_15924",
    "SCRIPTS",
    "annotate_page",
    "char_script",
    "foreign_characters",
    "normalize_language",
    "text_script",
]

SCRIPTS = (
    "Latin",
    "Cyrillic",
    "Greek",
    "Japanese",
    "Han",
    "Hangul",
    "Arabic",
    "Hebrew",
    "Devanagari",
    "Thai",
    "Other",
)

#: The ISO 15924 code of each script (hOCR's ``ocr-scripts``); "Other" has none.
ISO_15924 = {
    "Latin": "Latn",
    "Cyrillic": "Cyrl",
    "Greek": "Grek",
    "Japanese": "Jpan",
    "Han": "Hani",
    "Hangul": "Hang",
    "Arabic": "Arab",
    "Hebrew": "Hebr",
    "Devanagari": "Deva",
    "Thai": "Thai",
}

# (first, last, script) by code point; kana are "Kana" here and make a run Japanese, and
# "Common" letters belong to no script.
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "Latin"),
    (0x0061, 0x007A, "Latin"),
    (0x00AA, 0x00BA, "Latin"),  # the ordinal indicators (1º, 2ª) and the micro sign
    (0x00C0, 0x024F, "Latin"),
    (0x0250, 0x02FF, "Latin"),  # IPA and modifier letters
    (0x1E00, 0x1EFF, "Latin"),
    (0xFF21, 0xFF3A, "Latin"),  # fullwidth Latin letters
    (0xFF41, 0xFF5A, "Latin"),
    (0x2070, 0x209F, "Common"),  # superscripts and subscripts (xⁿ)
    (0x2100, 0x214F, "Common"),  # letterlike symbols (Planck's h, the angstrom sign, ℵ)
    (0x0370, 0x03FF, "Greek"),
    (0x1F00, 0x1FFF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"),
    (0x0590, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"),
    (0x0750, 0x077F, "Arabic"),
    (0x0900, 0x097F, "Devanagari"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x1100, 0x11FF, "Hangul"),
    (0x3130, 0x318F, "Hangul"),
    (0xAC00, 0xD7AF, "Hangul"),
    (0x3040, 0x30FF, "Kana"),
    (0x31F0, 0x31FF, "Kana"),
    (0xFF66, 0xFF9F, "Kana"),
    (0x3400, 0x4DBF, "Han"),
    (0x4E00, 0x9FFF, "Han"),
    (0xF900, 0xFAFF, "Han"),
    (0x20000, 0x3134F, "Han"),
)

# The script each supported language is written in.
_LANGUAGE_SCRIPT: dict[str, str] = {
    **dict.fromkeys(
        [
            "en",
            "fr",
            "de",
            "es",
            "it",
            "pt",
            "cs",
            "sk",
            "pl",
            "nl",
            "da",
            "sv",
            "no",
            "nb",
            "nn",
            "fi",
            "et",
            "lv",
            "lt",
            "hu",
            "ro",
            "hr",
            "sl",
            "sq",
            "tr",
            "is",
            "ga",
            "cy",
            "mt",
            "ms",
            "id",
            "bs",
            "vi",
            "tl",
            "sw",
            "af",
            "ca",
            "eu",
            "gl",
            "la",
            "az",
            "uz",
        ],
        "Latin",
    ),
    **dict.fromkeys(["ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "mn", "tg"], "Cyrillic"),
    "el": "Greek",
    "ja": "Japanese",
    "zh": "Han",
    "zh-Hant": "Han",
    "zh-Hans": "Han",
    "ko": "Hangul",
    "ar": "Arabic",
    "fa": "Arabic",
    "ur": "Arabic",
    "he": "Hebrew",
    "hi": "Devanagari",
    "mr": "Devanagari",
    "ne": "Devanagari",
    "th": "Thai",
}
_ALIASES = {
    "zh-tw": "zh-Hant",
    "zh-hk": "zh-Hant",
    "zh-hant": "zh-Hant",
    "zh-cn": "zh-Hans",
    "zh-sg": "zh-Hans",
    "zh-hans": "zh-Hans",
    "jp": "ja",
    "cz": "cs",
}

# Characters that differ between Simplified and Traditional Chinese, common ones of each
# side (a character written the same way in both says nothing).
_SIMPLIFIED = set(
    "这们说为国发时会对过来个见现开关门问间东车书长马鸟鱼语话读写学习经济电脑认识爱请让谁"
    "给钱银铁钟点听买卖岁饭馆场图报纸应该还边运动样实际总统选举龙华汉与专业务员区医药达飞"
    "风级线网乐两亲气热无万产从众调议备资销状况诉贝页顾题颜类"
)
_TRADITIONAL = (
    set(
        "這們說為國發時會對過來個見現開關門問間東車書長馬鳥魚語話讀寫學習經濟電腦認識愛請讓誰"
        "給錢銀鐵鐘點聽買賣歲飯館場圖報紙應該還邊運動樣實際總統選舉龍華漢與專業務員區醫藥達飛"
        "風級線網樂兩親氣熱無萬產從眾調議備資銷狀況臺灣體訴貝頁顧題顏類"
    )
    - _SIMPLIFIED
)

# Letters peculiar to a Latin-script language (weight 2) and its commonest short words
# (weight 1). Written for this module from the languages' alphabets and grammar.
_LATIN_LETTERS: dict[str, str] = {
    "cs": "ěščřžýůťďň",
    "sk": "ľĺŕäôťďňšžčý",
    "pl": "ąćęłńśźż",
    "fr": "éèêëàâçîïôûùœ",
    "pt": "ãõçáâéêíóôúà",
    "es": "ñáéíóú¿¡",
    "de": "äöüß",
    "da": "æøå",
    "it": "àèéìòù",
    "en": "",
}
_LATIN_WORDS: dict[str, str] = {
    "en": "the and of to in is for on with that this are be was by at from",
    "fr": "le la les des et est une un du dans pour que qui sur au aux pas par",
    "pt": "o os as de da do das dos em um uma que não para com por se ao",
    "cs": "a je se na v ve že to jsou pro jako by byl ale nebo od do",
    "sk": "a je sa na v vo že to sú pre ako by bol ale alebo od do",
    "pl": "i w z na się nie do że to jest jak od po za",
    "es": "el la los las de del y en que un una es por con para se",
    "de": "der die das und ist nicht ein eine zu den mit von dem auf für im",
    "da": "og i at er det en til på af som med for ikke den har",
    "it": "il la le di che e un una per non con del della sono gli",
}
_WORD_SETS = {lang: set(words.split()) for lang, words in _LATIN_WORDS.items()}
_WORD_RE = re.compile(r"\w+", re.UNICODE)


def normalize_language(tag: object) -> str:
    """A language tag in the form results use (``zh-hant`` -> ``zh-Hant``, ``EN`` -> ``en``);
    ValueError for an empty or malformed tag."""
    if not isinstance(tag, str) or not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", tag):
        msg = f"a language is a BCP 47 tag such as 'en', 'cs' or 'zh-Hant', not {tag!r}"
        raise ValueError(msg)
    low = tag.lower()
    if low in _ALIASES:
        return _ALIASES[low]
    return low.split("-")[0] if low.split("-")[0] in _LANGUAGE_SCRIPT else low


def char_script(ch: str) -> str | None:
    """The script of one character (``"Kana"`` for kana), None for digits, punctuation,
    spaces and symbols."""
    cp = ord(ch)
    for first, last, script in _RANGES:
        if first <= cp <= last:
            if script == "Common":
                return None
            return script if unicodedata.category(ch)[0] == "L" or script == "Kana" else None
    if unicodedata.category(ch)[0] == "L":
        return "Other"
    return None


# Punctuation and forms of Chinese and Japanese typesetting (CJK symbols and punctuation,
# vertical and compatibility forms, fullwidth and halfwidth forms): of no script, but no
# page in other languages holds them.
_CJK_MARKS = ((0x3000, 0x303F), (0xFE10, 0xFE1F), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))

# The scripts `char_script` names for the letters of a language of each script. Chinese and
# Japanese text mixes in Latin letters (names, units, romanisations).
_LETTER_SCRIPTS = {"Japanese": {"Kana", "Han", "Latin"}, "Han": {"Han", "Latin"}}


def foreign_characters(chars: Iterable[str], languages: Iterable[str]) -> str:
    """The characters of `chars` that no language of `languages` (BCP 47 tags) is written
    with, in the order of `chars`: letters of other scripts, and the punctuation and
    fullwidth forms of Chinese and Japanese typesetting when neither language is given.
    Other digits, punctuation and symbols are never foreign, nor are entries that are not
    one character. Empty when `languages` is empty or names a language whose script is
    unknown here (nothing can be ruled out). ValueError for a malformed tag."""
    allowed: set[str] = set()
    for tag in languages:
        script = _LANGUAGE_SCRIPT.get(normalize_language(tag))
        if script is None:
            return ""
        allowed |= _LETTER_SCRIPTS.get(script, {script})
    if not allowed:
        return ""
    cjk = bool(allowed & {"Kana", "Han"})
    out: list[str] = []
    for ch in dict.fromkeys(chars):
        if len(ch) != 1:
            continue  # a dictionary's empty line or a multi-character entry
        cp = ord(ch)
        script = char_script(ch)
        if not cjk and any(first <= cp <= last for first, last in _CJK_MARKS):
            foreign = True
        else:
            foreign = script is not None and script not in allowed
        if foreign:
            out.append(ch)
    return "".join(out)


def _script_counts(text: str) -> Counter[str]:
    return Counter(s for s in map(char_script, text) if s is not None)


def text_script(text: str) -> str | None:
    """The script of a text: Japanese when it has kana, else the script of most of its
    letters; None when it has no letters."""
    counts = _script_counts(text)
    if not counts:
        return None
    if counts["Kana"]:
        counts["Japanese"] = counts.pop("Kana") + counts.pop("Han", 0)
    return counts.most_common(1)[0][0]


def _han_variant(text: str) -> int:
    """> 0 for Traditional, < 0 for Simplified, 0 when the text does not tell."""
    return sum((ch in _TRADITIONAL) - (ch in _SIMPLIFIED) for ch in text)


def _latin_scores(text: str, candidates: Iterable[str]) -> dict[str, float]:
    low = text.lower()
    words = _WORD_RE.findall(low)
    scores: dict[str, float] = {}
    for lang in candidates:
        letters = _LATIN_LETTERS.get(lang, "")
        vocab = _WORD_SETS.get(lang, set())
        scores[lang] = 2.0 * sum(low.count(ch) for ch in letters) + sum(w in vocab for w in words)
    return scores


def _decisive(scores: dict[str, float], margin: float, least: float) -> str | None:
    """The best-scoring language when it scores at least `least` and leads by `margin`."""
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best, top = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    return best if top >= least and top >= second + margin else None


class _Chooser:
    """Picks a language for a text of a known script, from the given languages or the
    text, with the page's text as the tie-breaker."""

    def __init__(self, given: Sequence[str], page_text: str) -> None:
        self.given = list(given)
        self.page_text = page_text
        self.page_han = _han_variant(page_text)
        latin = [lang for lang in given if _LANGUAGE_SCRIPT.get(lang) == "Latin"]
        pool = latin or list(_LATIN_WORDS)
        # A page says its language with a few points of evidence: receipts' "NO" (invoice
        # number) must not make them Spanish (SROIE: 16 of 100 pages with a threshold of 1).
        self.page_latin = _decisive(_latin_scores(page_text, pool), 2.0, 6.0)
        if latin and self.page_latin is None:
            self.page_latin = latin[0]

    def choose(self, script: str | None, text: str) -> str | None:
        if script is None:
            return None
        given = [lang for lang in self.given if _LANGUAGE_SCRIPT.get(lang) == script]
        if script == "Japanese":
            return "ja"
        if script == "Han":
            return self._han(text, given)
        if script == "Latin":
            pool = given or list(_LATIN_WORDS)
            if len(pool) == 1:
                return pool[0]
            least = 1.0 if given else 3.0  # among the given ones any evidence will do
            return _decisive(_latin_scores(text, pool), 2.0, least) or self.page_latin
        if given:
            return given[0]
        return None

    def _han(self, text: str, given: list[str]) -> str | None:
        if not given and "ja" in self.given:
            return "ja"  # Chinese characters on a page said to be Japanese (kanji)
        variant = _han_variant(text) or self.page_han
        tag = "zh-Hant" if variant > 0 else "zh-Hans" if variant < 0 else None
        if given:
            if tag in given:
                return tag
            if len(given) == 1 or tag is None:
                return given[0]
            return tag
        return tag


def annotate_page(page: Page, languages: Sequence[str] | None = None) -> Page:
    """The page with ``script`` and ``language`` set on every line and word (where the
    text tells) and ``languages``: the given ones, else those found, most characters
    first."""
    given = [normalize_language(tag) for tag in (languages or ())]
    chooser = _Chooser(given, page.text)
    found: Counter[str] = Counter()
    lines: list[Line] = []
    for line in page.lines:
        script = text_script(line.text)
        language = chooser.choose(script, line.text)
        words: list[Word] = []
        for word in line.words:
            w_script = text_script(word.text)
            if w_script == script or w_script is None:
                w_language = language if w_script is not None else None
            else:
                w_language = chooser.choose(w_script, word.text)
            words.append(replace(word, script=w_script, language=w_language))
            if w_language is not None:
                found[w_language] += len(word.text)
        if not line.words and language is not None:
            found[language] += len(line.text)
        lines.append(replace(line, script=script, language=language, words=tuple(words)))
    page_languages = tuple(given) if given else tuple(lang for lang, _ in found.most_common())
    return replace(page, lines=tuple(lines), languages=page_languages)
