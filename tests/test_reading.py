"""Reading control (issue 12): allow and deny lists, patterns and word lists.

The pattern compiler (python/ocrai/reading.py) is checked against Python's own `re` on many
strings; the constrained decoder (cpp/src/ctc.cc) on made-up probabilities whose best path
is known; the engine on rendered lines (and on real receipt lines when the development data
is there: /work/shared/data/sroie or $OCRAI_DATA)."""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ocrai import _core, reading
from ocrai.testing import render_line

Dictionary = _core.pipeline.Dictionary
ctc_decode = _core.pipeline.ctc_decode

ALPHABET = "".join(
    sorted(set(" 0123456789.,:-/€$ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzé"))
)


def dfa_fullmatch(compiled: dict[str, Any], text: str) -> bool:
    """Runs the compiled automaton over `text` as the native core does."""
    column = {c: int(k) for c, k in zip(compiled["alphabet"], compiled["columns"], strict=True)}
    state = 0
    for ch in text:
        if ch not in column:
            return False
        state = int(compiled["table"][state, column[ch]])
        if state < 0:
            return False
    return bool(compiled["accepting"][state])


PATTERNS = [
    r"\d{2}[./-]\d{2}[./-]\d{4}",  # dates
    r"\$?\d{1,3}(,\d{3})*\.\d{2}",  # amounts
    r"[A-Z]{2}\d{2}( ?[A-Z0-9]{4}){2,4}",  # IBAN-like
    r"[A-Z]{1,3}-\d{1,4}",  # plates
    r"(?i)total|sub ?total",
    r"[^a-z\s]+",
    r"a*b+?c?|d.e",
    r"^(ab|a)(bc|c)$",
    r"\w+ \d*",
    r"",
]


def sample_strings(rng: np.random.Generator, n: int) -> list[str]:
    chars = list(ALPHABET)
    out = ["", "12.05.2024", "1,234.50", "$12.50", "DE89 3704 0044 0532", "AB-123", "TOTAL"]
    out += ["subtotal", "Sub total", "abc", "bc", "de", "dxe", "12/05/2024", "RM 12.50", "é1"]
    for _ in range(n):
        length = int(rng.integers(0, 14))
        out.append("".join(rng.choice(chars, length)))
    return out


@pytest.mark.parametrize("pattern", PATTERNS)
def test_compiled_pattern_accepts_what_re_fullmatches(pattern: str) -> None:
    compiled = reading.compile_pattern(pattern, ALPHABET)
    rx = re.compile(pattern)
    strings = sample_strings(np.random.default_rng(12), 3000)
    # Strings that match are rare among random ones: add some made by mutating matches.
    strings += [s[:k] + c + s[k + 1 :] for s in strings[:20] for k in range(len(s)) for c in "0A."]
    for s in strings:
        assert dfa_fullmatch(compiled, s) == (rx.fullmatch(s) is not None), (pattern, s)


def test_compiled_pattern_takes_flags_of_a_compiled_re() -> None:
    compiled = reading.compile_pattern(re.compile("total", re.IGNORECASE), ALPHABET)
    assert dfa_fullmatch(compiled, "TOTAL")
    assert dfa_fullmatch(compiled, "ToTaL")
    assert not dfa_fullmatch(compiled, "TOTAL:")
    ascii_digits = reading.compile_pattern(re.compile(r"\d+", re.ASCII), ALPHABET + "٣")
    assert not dfa_fullmatch(ascii_digits, "٣")
    assert dfa_fullmatch(reading.compile_pattern(r"\d+", ALPHABET + "٣"), "٣")


def test_compiled_pattern_is_small_and_dense() -> None:
    compiled = reading.compile_pattern(r"\d+\.\d{2}", ALPHABET)
    # digits share one column, '.' has its own: the automaton never sees the letters.
    assert set(compiled["alphabet"]) == set("0123456789.")
    assert compiled["table"].shape == (len(compiled["accepting"]), 2)
    assert compiled["table"].dtype == np.int32


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"(a)\1", "back references"),
        (r"a(?=b)", "look-ahead"),
        (r"(?<!a)b", "look-ahead and look-behind"),
        (r"\bword\b", "word boundaries"),
        (r"a++", "possessive"),
        (r"(", "not a valid regular expression"),
        (r"[0-9]{1000}[0-9]{1000}", "too large|automaton states"),
        (r"(a|b)*a(a|b){12}", "automaton states"),
    ],
)
def test_non_regular_or_huge_patterns_are_refused(pattern: str, message: str) -> None:
    with contextlib.suppress(re.error):
        re.compile(pattern)  # e.g. possessive repeats before 3.11: the parser refuses them
    with pytest.raises(ValueError, match=message if pattern != "a++" else "possessive|valid"):
        reading.compile_pattern(pattern, ALPHABET)


def test_pattern_types() -> None:
    with pytest.raises(TypeError, match="bytes"):
        reading.compile_pattern(re.compile(b"a"), ALPHABET)
    with pytest.raises(TypeError, match="int"):
        reading.compile_pattern(12, ALPHABET)


def test_char_sets() -> None:
    assert reading.char_set("9087", "allowlist") == "0789"
    assert reading.char_set({"b", "a"}, "allowlist") == "ab"
    with pytest.raises(ValueError, match=r"one character.*'ab'"):
        reading.char_set(["ab"], "allowlist")
    with pytest.raises(ValueError, match="denylist is empty"):
        reading.char_set("", "denylist")
    with pytest.raises(TypeError, match="bytes"):
        reading.char_set(b"01", "allowlist")
    with pytest.raises(TypeError, match="int"):
        reading.char_set(5, "allowlist")
    with pytest.raises(ValueError, match="line break"):
        reading.char_set("1\n", "allowlist")
    assert reading.word_list("TOTAL  CASH\n") == ["TOTAL", "CASH"]
    with pytest.raises(ValueError, match="empty"):
        reading.word_list([" "])


# --- the constrained decoder -----------------------------------------------------------------

DICT_TEXT = "0\n1\n2\n5\n.\n,\nO\nl\nT\nA\nL"


@pytest.fixture
def small_dict() -> Dictionary:
    return Dictionary.from_text(DICT_TEXT, "small.txt")


def steps_for(d: Dictionary, spec: list[dict[str, float]]) -> np.ndarray:
    """One row per step: the given symbols' probabilities ("" is the blank), the rest of the
    mass spread evenly over the other classes."""
    probs = np.zeros((len(spec), d.num_classes), np.float32)
    for t, row in enumerate(spec):
        rest = 1.0 - sum(row.values())
        others = d.num_classes - len(row)
        probs[t, :] = rest / others
        for sym, p in row.items():
            probs[t, 0 if sym == "" else d.find(sym)] = p
    return probs


def test_allow_list_masks_classes_and_renormalises(small_dict: Dictionary) -> None:
    # "T0" read greedily; with digits only the 'T' step falls to '1'.
    probs = steps_for(small_dict, [{"T": 0.6, "1": 0.3}, {"": 0.9}, {"0": 0.9}])
    assert ctc_decode(probs, small_dict)["text"] == "T0"
    out = ctc_decode(probs, small_dict, allow="0125", top_k=3)
    assert out["text"] == "10"
    first = out["chars"][0]
    allowed_mass = 0.3 + 0.9 * 0 + float(probs[0, [small_dict.find(c) for c in "025"]].sum())
    allowed_mass += float(probs[0, 0])
    assert first["confidence"] == pytest.approx(0.3 / allowed_mass, rel=1e-5)
    assert all(alt[0] in "0125" for alt in first["alternatives"])
    assert sum(alt[1] for alt in first["alternatives"]) <= 1.0
    denied = ctc_decode(probs, small_dict, deny="T")
    assert denied["text"] == "10"


def test_pattern_beam_search_finds_a_matching_reading(small_dict: Dictionary) -> None:
    # Greedy reads "10,50" (the 'O's stand in numbers and '0' is close: read as digits); the
    # amount pattern wants a '.' for the ','.
    spec = [
        {"1": 0.9},
        {"": 0.9},
        {"O": 0.6, "0": 0.35},
        {"": 0.9},
        {",": 0.7, ".": 0.25},
        {"": 0.9},
        {"5": 0.9},
        {"": 0.9},
        {"O": 0.55, "0": 0.4},
        {"": 0.95},
    ]
    probs = steps_for(small_dict, spec)
    plain = ctc_decode(probs, small_dict)
    assert plain["text"] == "10,50"
    assert plain["pattern_matched"] is None
    pattern = reading.compile_pattern(r"\d+\.\d{2}", small_dict_alphabet(small_dict))
    out = ctc_decode(probs, small_dict, pattern=pattern)
    assert out["text"] == "10.50"
    assert out["pattern_matched"] is True
    assert [c["text"] for c in out["chars"]] == list("10.50")
    # Positions follow the alignment: strictly increasing, inside the line.
    xs = [c["x0"] for c in out["chars"]]
    assert xs == sorted(xs)
    assert xs[0] >= 0
    assert out["chars"][-1]["x1"] <= 1
    assert out["chars"][1]["confidence"] == pytest.approx(0.35, abs=0.02)


def test_pattern_never_changes_a_matching_reading(small_dict: Dictionary) -> None:
    probs = steps_for(
        small_dict, [{"1": 0.5, "l": 0.45}, {"": 0.9}, {".": 0.9}, {"": 0.9}, {"5": 0.9}]
    )
    pattern = reading.compile_pattern(r"[0-9l]\.\d", small_dict_alphabet(small_dict))
    out = ctc_decode(probs, small_dict, pattern=pattern)
    plain = ctc_decode(probs, small_dict)
    assert out["text"] == plain["text"] == "1.5"
    assert out["pattern_matched"] is True
    assert out["chars"] == plain["chars"]


def test_pattern_that_nothing_matches_falls_back_with_a_flag(small_dict: Dictionary) -> None:
    probs = steps_for(small_dict, [{"T": 0.9}, {"": 0.9}, {"A": 0.9}])
    pattern = reading.compile_pattern(r"\d{5}", small_dict_alphabet(small_dict))
    out = ctc_decode(probs, small_dict, pattern=pattern)  # 3 steps cannot hold 5 digits
    assert out["text"] == "TA"
    assert out["pattern_matched"] is False


def test_pattern_forced_onto_an_unrelated_line_falls_back(small_dict: Dictionary) -> None:
    sure = [{"T": 0.9999}, {"": 0.9999}, {"A": 0.9999}, {"": 0.9999}, {"L": 0.9999}]
    probs = steps_for(small_dict, sure)
    pattern = reading.compile_pattern(r"\d{2}", small_dict_alphabet(small_dict))
    out = ctc_decode(probs, small_dict, pattern=pattern)
    # "00" fits the steps but is e^-34 as likely as "TAL": no reading of this line.
    assert out["text"] == "TAL"
    assert out["pattern_matched"] is False
    # A doubtful line is read into the pattern, and what that cost is reported.
    doubtful = steps_for(small_dict, [{"O": 0.6, "0": 0.3}, {"": 0.9}, {"l": 0.5, "1": 0.4}])
    fixed = ctc_decode(doubtful, small_dict, pattern=pattern)
    assert fixed["text"] == "01"
    assert fixed["search_cost"] == pytest.approx(np.log(0.6 / 0.3) + np.log(0.5 / 0.4), abs=0.01)


def test_words_draw_readings(small_dict: Dictionary) -> None:
    probs = steps_for(
        small_dict,
        [{"T": 0.9}, {"": 0.9}, {"0": 0.6, "O": 0.35}, {"": 0.9}, {"T": 0.9}, {"": 0.9}],
    )
    assert ctc_decode(probs, small_dict)["text"] == "T0T"
    assert ctc_decode(probs, small_dict, words=["TOT"])["text"] == "TOT"
    assert ctc_decode(probs, small_dict, words=["TOT"], word_weight=0.0)["text"] == "T0T"
    # A word far from the reading does not pull it.
    assert ctc_decode(probs, small_dict, words=["LAT"])["text"] == "T0T"


def small_dict_alphabet(d: Dictionary) -> str:
    return "".join(sorted({d.symbol(k) for k in range(1, d.num_classes)}))


# --- the engine on rendered lines --------------------------------------------------------------


@pytest.fixture(scope="module")
def ai() -> Any:
    from ocrai import OcrAI

    with OcrAI(threads=2) as engine:
        yield engine


DIGIT_LINES = ["Total 12.50", "Amount: 1,250.00", "Date 12/05/2024", "Ref A1B2 C3", "lOl 2O24"]


@pytest.mark.models
@pytest.mark.parametrize("allow", ["0123456789", "0123456789., ", "ABC123"])
def test_allowlist_on_rendered_lines(ai: Any, allow: str) -> None:
    for text in DIGIT_LINES:
        page = ai.recognize(render_line(text), detect=False, allowlist=allow, top_k=3)
        for line in page.lines:
            assert set(line.text) <= set(allow), (text, line.text)
            for ch in line.chars:
                assert set(ch.text) <= set(allow)
                assert all(set(alt) <= set(allow) for alt, _ in ch.alternatives)
                assert 0 <= ch.confidence <= 1
            for word in line.words:
                assert set(word.text) <= set(allow)


@pytest.mark.models
def test_denylist_on_a_rendered_page(ai: Any) -> None:
    from ocrai.testing import render_page

    page = render_page(["Invoice 2024 total 12.50", "Sold to: Ada Lovelace"])
    plain = ai.recognize(page.image)
    assert any(c in line.text for line in plain.lines for c in "aeo")
    denied = ai.recognize(page.image, denylist="aeo")
    assert denied.lines
    assert not any(c in line.text for line in denied.lines for c in "aeo")


@pytest.mark.models
def test_engine_default_and_call_override() -> None:
    from ocrai import OcrAI

    with OcrAI(threads=2, allowlist="0123456789") as engine:
        image = render_line("Total 12")
        assert set(engine.recognize(image, detect=False).text) <= set("0123456789")
        # A call's list replaces the engine's.
        text = engine.recognize(image, detect=False, allowlist="Total 12").text
        assert "T" in text


@pytest.mark.models
def test_fast_mode_applies_the_set_to_both_recognisers() -> None:
    from ocrai import OcrAI

    with OcrAI(threads=2, fast=True) as engine:
        pages = list(
            engine.recognize_many(
                [render_line(t) for t in DIGIT_LINES],
                detect=False,
                allowlist="0123456789.",
                fallback_threshold=1.0,  # every line re-read by the small recogniser
            )
        )
    for page in pages:
        for line in page.lines:
            assert line.model == "fallback"
            assert set(line.text) <= set("0123456789.")


@pytest.mark.models
def test_characters_no_model_reads_are_a_value_error(ai: Any) -> None:
    image = render_line("12")
    with pytest.raises(ValueError, match=r"allowlist: '\u16a0' \(U\+16A0\) cannot be read"):
        ai.recognize(image, detect=False, allowlist="0123\u16a0")
    with pytest.raises(ValueError, match=r"words: '\u13a0' \(U\+13A0\)"):
        ai.recognize(image, detect=False, words=["snow\u13a0"])
    with pytest.raises(ValueError, match="can match nothing"):
        ai.recognize(image, detect=False, pattern=r"\d+", allowlist="AB")


# Rendered fields and the pattern they follow, with a look that the plain reading tends to get
# wrong: letters where digits belong, a ',' for a '.', an 'O' for a '0'.
FIELDS = [
    ("2O.O5.2024", r"\d{2}\.\d{2}\.\d{4}"),
    ("l2/O5/2O24", r"\d{2}/\d{2}/\d{4}"),
    ("1O5,5O", r"\d+\.\d{2}"),
    ("TOTAL 3O.OO", r"TOTAL \d+\.\d{2}"),
    ("AB-l23", r"[A-Z]{2}-\d{3}"),
    ("DE89 37O4 OO44", r"[A-Z]{2}\d{2}( \d{4}){2}"),
    ("12.05.2024", r"\d{2}\.\d{2}\.\d{4}"),
    ("$45.99", r"\$\d+\.\d{2}"),
    ("INV-2024-0017", r"INV-\d{4}-\d{4}"),
    ("I0S.5O", r"\d+\.\d{2}"),
    ("B8-Z2", r"\d+-\d+"),
    ("Tota1 l2,5O", r"Total \d+\.\d{2}"),
]


@pytest.mark.models
def test_patterns_on_rendered_fields(ai: Any) -> None:
    changed = 0
    for text, pattern in FIELDS:
        image = render_line(text, font_size=32)
        plain = ai.recognize(image, detect=False).lines[0].text
        lines = ai.recognize(image, detect=False, pattern=pattern).lines
        assert lines, text
        line = lines[0]
        if re.fullmatch(pattern, plain):
            # A line that already matched is never changed.
            assert line.text == plain
            assert line.pattern_matched is True
        else:
            assert line.pattern_matched is True, (text, plain, line.text)
            assert re.fullmatch(pattern, line.text), (text, plain, line.text)
            changed += 1
    # The look-alike fields above really needed the pattern (some of their letters the plain
    # reading already takes for digits: they stand in numbers, see ctc.h).
    assert changed >= 4


@pytest.mark.models
def test_patterns_in_fast_mode() -> None:
    """The tiny recogniser reads under the pattern with its own dictionary; a line it cannot
    match goes to the small one, which reads under the pattern too."""
    from ocrai import OcrAI

    with OcrAI(threads=2, fast=True) as engine:
        for text, pattern in FIELDS:
            lines = engine.recognize(render_line(text, font_size=32), detect=False, pattern=pattern)
            assert lines.lines, text
            line = lines.lines[0]
            assert line.pattern_matched is True, (text, line.text, line.model)
            assert re.fullmatch(pattern, line.text), (text, line.text)
        unrelated = engine.recognize(render_line("Thank you"), detect=False, pattern=r"\d{2}")
        assert unrelated.lines[0].pattern_matched is False
        assert unrelated.lines[0].model == "fallback"  # the small recogniser had its try


@pytest.mark.models
def test_pattern_no_match_keeps_the_plain_reading(ai: Any) -> None:
    image = render_line("Thank you")
    plain = ai.recognize(image, detect=False).lines[0]
    line = ai.recognize(image, detect=False, pattern=r"\d{2}").lines[0]
    assert line.text == plain.text
    assert line.pattern_matched is False
    assert plain.pattern_matched is None
    d = ai.recognize(image, detect=False, pattern=r"\d{2}").to_dict()
    assert d["lines"][0]["pattern_matched"] is False
    assert "pattern_matched" not in ai.recognize(image, detect=False).to_dict()["lines"][0]


@pytest.mark.models
def test_words_pull_toward_the_lexicon(ai: Any) -> None:
    image = render_line("TOTAL", font_size=30)
    assert ai.recognize(image, detect=False, words=["TOTAL", "CASH"]).text == "TOTAL"


def sroie_amount_lines(limit: int) -> list[tuple[np.ndarray, str]]:
    """Receipt lines whose ground truth is an amount, cropped by their quads (the real lines
    of the development data; skipped where it is not)."""
    root = Path(os.environ.get("OCRAI_DATA", "/work/shared/data")) / "sroie"
    manifest = root / "manifest.jsonl"
    if not manifest.is_file():
        pytest.skip("real receipt lines are not here (set OCRAI_DATA)")
    from PIL import Image

    out: list[tuple[np.ndarray, str]] = []
    for row in manifest.read_text(encoding="utf-8").splitlines():
        record = json.loads(row)
        wanted = [ln for ln in record["lines"] if re.fullmatch(r"[\d.,]+", ln["text"])]
        if not wanted:
            continue
        with Image.open(root / record["image"]) as image:
            rgb = image.convert("RGB")
            for ln in wanted:
                xs = [p[0] for p in ln["quad"]]
                ys = [p[1] for p in ln["quad"]]
                pad = 0.2 * (max(ys) - min(ys))
                box = (min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad)
                out.append((np.asarray(rgb.crop(tuple(map(int, box)))), ln["text"]))
                if len(out) >= limit:
                    return out
    return out


@pytest.mark.models
def test_allowlist_on_real_receipt_lines(ai: Any) -> None:
    allow = "0123456789.,"
    lines = sroie_amount_lines(40)
    assert lines
    for crop, _truth in lines:
        page = ai.recognize(crop, detect=False, allowlist=allow, top_k=2)
        for line in page.lines:
            assert set(line.text) <= set(allow)
            assert all(set(alt) <= set(allow) for c in line.chars for alt, _ in c.alternatives)


@pytest.mark.models
def test_amount_pattern_on_real_receipt_lines(ai: Any) -> None:
    amount = r"\d{1,3}(,\d{3})*\.\d{2}|\d+\.\d{2}"
    lines = [(crop, truth) for crop, truth in sroie_amount_lines(60) if re.fullmatch(amount, truth)]
    assert lines
    for crop, _truth in lines:
        before = ai.recognize(crop, detect=False).text
        page = ai.recognize(crop, detect=False, pattern=amount)
        if re.fullmatch(amount, before):
            assert page.text == before
        for line in page.lines:
            if line.pattern_matched:
                assert re.fullmatch(amount, line.text), line.text
            else:
                assert line.text == before


# --- the command line ----------------------------------------------------------------------------


@pytest.mark.models
def test_cli_allow_deny_and_pattern(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    from ocrai.cli import main

    path = tmp_path / "field.png"
    Image.fromarray(render_line("Tota1 l2,5O", font_size=32)).save(path)
    base = ["read", str(path), "--no-detect", "--pack", "tiny", "-t", "1", "-f", "json"]

    assert main([*base, "--allow", "0123456789., "]) == 0
    doc = json.loads(capsys.readouterr().out)
    text = doc["pages"][0]["lines"][0]["text"] if "pages" in doc else doc["lines"][0]["text"]
    assert text
    assert set(text) <= set("0123456789., ")

    assert main([*base, "--pattern", r"Total \d+\.\d{2}"]) == 0
    doc = json.loads(capsys.readouterr().out)
    line = doc["pages"][0]["lines"][0] if "pages" in doc else doc["lines"][0]
    assert re.fullmatch(r"Total \d+\.\d{2}", line["text"]), line["text"]
    assert line["pattern_matched"] is True

    assert main([*base, "--deny", "Tt"]) == 0
    doc = json.loads(capsys.readouterr().out)
    line = doc["pages"][0]["lines"][0] if "pages" in doc else doc["lines"][0]
    assert not set(line["text"]) & {"T", "t"}

    assert main([*base, "--allow", ""]) == 2
    assert "allowlist is empty" in capsys.readouterr().err
    assert main([*base, "--pattern", "(a)\\1"]) == 2
    assert "back references" in capsys.readouterr().err


def test_constrained_decoding_survives_odd_probabilities(small_dict: Dictionary) -> None:
    """NaN, negative and unnormalised rows, empty and one-step lines: readings stay inside
    the constraint and nothing crashes."""
    rng = np.random.default_rng(7)
    alphabet = small_dict_alphabet(small_dict)
    pattern = reading.compile_pattern(r"\d+(\.\d\d)?", alphabet)
    for steps in (0, 1, 2, 7, 40):
        probs = rng.random((steps, small_dict.num_classes), dtype=np.float32)
        if steps > 2:
            probs[1, 3] = np.nan
            probs[2] = -1.0
        for kwargs in (
            {"allow": "012"},
            {"deny": "0125"},
            {"pattern": pattern},
            {"words": ["TOTAL", "10"], "word_weight": 100.0},
            {"pattern": pattern, "words": ["10"], "allow": "0125."},
        ):
            out = ctc_decode(probs, small_dict, top_k=2, measure_gaps=True, **kwargs)  # type: ignore[arg-type]
            text = out["text"]
            if "allow" in kwargs:
                assert set(text) <= set(str(kwargs["allow"]))
            if "deny" in kwargs:
                assert not set(text) & set(str(kwargs["deny"]))
            if "pattern" in kwargs and out["pattern_matched"]:
                assert re.fullmatch(r"\d+(\.\d\d)?", text), text
            assert all(np.isfinite(c["confidence"]) for c in out["chars"])
