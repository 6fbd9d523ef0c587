"""Dictionaries and greedy CTC decoding (cpp/src/ctc.cc), and the SIMD row argmax under it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ocrai import ModelError, _core

Dictionary = _core.pipeline.Dictionary
ctc_decode = _core.pipeline.ctc_decode
argmax_rows = _core.pipeline.argmax_rows

PACKS = Path(_core.__file__).parent / "packs"


@pytest.fixture
def abc() -> Dictionary:
    return Dictionary.from_text("a\r\nb\r\nc\r\n", "abc.txt")


def one_hot(seq: list[int], classes: int, p: float = 0.9) -> np.ndarray:
    """Each step puts `p` on its class and spreads the rest evenly."""
    probs = np.full((len(seq), classes), (1 - p) / (classes - 1), np.float32)
    probs[np.arange(len(seq)), seq] = p
    return probs


# --- dictionaries ----------------------------------------------------------------------------


def test_dictionary_layout(abc: Dictionary) -> None:
    assert abc.num_classes == 5
    assert [abc.symbol(i) for i in range(5)] == ["", "a", "b", "c", " "]
    assert abc.find("b") == 2
    assert abc.find("z") == -1
    assert abc.name == "abc.txt"
    with pytest.raises(IndexError):
        abc.symbol(5)


def test_dictionary_line_ends_bom_and_duplicates() -> None:
    lf = Dictionary.from_text("x\ny\nx", "lf")
    assert [lf.symbol(i) for i in range(lf.num_classes)] == ["", "x", "y", "x", " "]
    assert lf.find("x") == 1  # a symbol listed twice maps to its first line
    bom = Dictionary.from_text("\ufeffé\r\nř\r\n", "bom")
    assert [bom.symbol(i) for i in range(bom.num_classes)] == ["", "é", "ř", " "]


def test_dictionary_rejects_bad_text(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="empty"):
        Dictionary.from_text("", "empty.txt")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"a\n\xff\xfe\n")
    with pytest.raises(ModelError, match=r"bad\.txt.*UTF-8.*line 2"):
        Dictionary(str(bad))
    with pytest.raises(ModelError, match=r"missing\.txt"):
        Dictionary(str(tmp_path / "missing.txt"))


@pytest.mark.models
@pytest.mark.parametrize(("pack", "classes"), [("ppocrv6-small", 18710), ("ppocrv6-tiny", 6906)])
def test_bundled_dictionaries_match_their_models(pack: str, classes: int) -> None:
    d = Dictionary(str(PACKS / pack / f"{pack}-dict.txt"))  # both files have CRLF line ends
    assert d.num_classes == classes
    assert d.symbol(1) == "!"
    assert d.find("\r") == -1
    d.check_model_classes(classes, "rec.onnx")
    with pytest.raises(ModelError, match=rf"{pack}-dict\.txt.*other-rec\.onnx.*{classes + 1}"):
        d.check_model_classes(classes + 1, "other-rec.onnx")


# --- decoding --------------------------------------------------------------------------------


def test_greedy_decoding_merges_runs_and_drops_blanks(abc: Dictionary) -> None:
    #        a  a  -  b  b  b  _  c  -  -      (- blank, _ space)
    seq = [1, 1, 0, 2, 2, 2, 4, 3, 0, 0]
    out = ctc_decode(one_hot(seq, 5), abc)
    assert out["text"] == "ab c"
    assert [c["text"] for c in out["chars"]] == ["a", "b", " ", "c"]
    assert out["confidence"] == pytest.approx(0.9)
    # A blank between equal classes makes two characters.
    assert ctc_decode(one_hot([1, 0, 1, 1, 0, 1], 5), abc)["text"] == "aaa"


def test_confidence_is_the_peak_of_each_run(abc: Dictionary) -> None:
    probs = one_hot([1, 1, 1, 0, 2], 5)
    probs[0, 1], probs[1, 1], probs[2, 1] = 0.5, 0.8, 0.6
    probs[4, 2] = 0.7
    out = ctc_decode(probs, abc)
    assert [c["confidence"] for c in out["chars"]] == pytest.approx([0.8, 0.7])
    assert out["confidence"] == pytest.approx(0.75)


def test_positions_along_the_line(abc: Dictionary) -> None:
    # Runs: a [0, 2) centre 1, b [3, 6) centre 4.5, space [6, 7) centre 6.5, c [7, 8) centre 7.5.
    out = ctc_decode(one_hot([1, 1, 0, 2, 2, 2, 4, 3, 0, 0], 5), abc)
    half = (7.5 - 1.0) / 3 / 2  # half the mean spacing of the centres
    expected = [
        (max(0.0, 1.0 - half), 2.75),
        (2.75, 5.5),
        (5.5, 7.0),
        (7.0, 7.5 + half),
    ]
    got = [(c["x0"] * 10, c["x1"] * 10) for c in out["chars"]]
    assert got == [pytest.approx(e, abs=1e-5) for e in expected]
    # A lone character spans its run.
    (lone,) = ctc_decode(one_hot([0, 0, 3, 3, 3, 0], 5), abc)["chars"]
    assert (lone["x0"], lone["x1"]) == pytest.approx((2 / 6, 5 / 6))


def test_leading_and_trailing_spaces_are_dropped(abc: Dictionary) -> None:
    out = ctc_decode(one_hot([4, 0, 1, 4, 2, 4, 4], 5), abc)
    assert out["text"] == "a b"
    assert ctc_decode(one_hot([4, 0, 4], 5), abc) == {
        "text": "",
        "confidence": 0.0,
        "gap_doubt": 0.0,
        "space_doubt": 0.0,
        "pattern_matched": None,
        "search_cost": 0.0,
        "chars": [],
    }


def test_only_valid_steps_are_read(abc: Dictionary) -> None:
    probs = one_hot([1, 0, 2, 0, 3, 3], 5)
    assert ctc_decode(probs, abc, valid_steps=4)["text"] == "ab"
    assert ctc_decode(probs, abc, valid_steps=0)["text"] == ""
    out = ctc_decode(probs, abc, valid_steps=3)
    assert out["chars"][-1]["x1"] <= 1.0
    with pytest.raises(ValueError, match="valid_steps"):
        ctc_decode(probs, abc, valid_steps=7)


def test_top_k_alternatives(abc: Dictionary) -> None:
    probs = np.array(
        [
            [0.05, 0.6, 0.25, 0.1, 0.0],  # a, then b, then c; the blank never appears
            [0.7, 0.1, 0.1, 0.05, 0.05],
            [0.0, 0.2, 0.2, 0.2, 0.4],  # the space; ties keep class order
        ],
        np.float32,
    )
    out = ctc_decode(probs, abc, top_k=2)
    assert out["text"] == "a"  # the trailing space is dropped
    assert out["chars"][0]["alternatives"] == [
        ["a", pytest.approx(0.6)],
        ["b", pytest.approx(0.25)],
    ]
    out = ctc_decode(probs[[0, 2, 0]], abc, top_k=3)
    assert out["chars"][1]["alternatives"] == [
        [" ", pytest.approx(0.4)],
        ["a", pytest.approx(0.2)],
        ["b", pytest.approx(0.2)],
    ]
    assert ctc_decode(probs, abc)["chars"][0]["alternatives"] == []
    assert len(ctc_decode(probs, abc, top_k=50)["chars"][0]["alternatives"]) == 4


def test_gap_doubt_measures_near_misses_between_characters(abc: Dictionary) -> None:
    probs = one_hot([1, 0, 0, 2, 0, 3], 5, p=0.7)
    probs[1] = [0.6, 0.1, 0.1, 0.15, 0.05]  # blank wins; c (not a neighbour) reaches 0.15
    probs[2] = [0.5, 0.05, 0.4, 0.0, 0.05]  # b is the next character: a normal transition
    out = ctc_decode(probs, abc, measure_gaps=True)
    assert out["text"] == "abc"
    assert out["gap_doubt"] == pytest.approx(0.15)
    assert ctc_decode(probs, abc)["gap_doubt"] == 0.0  # only measured on request
    # The best non-blank class of a blank step counts unless it is the space or a neighbour:
    # here step 1's is the space, step 2's the next character, step 4's a (0.3 / 4).
    probs[1] = [0.6, 0.05, 0.05, 0.0, 0.3]
    assert ctc_decode(probs, abc, measure_gaps=True)["gap_doubt"] == pytest.approx(0.075)


def test_space_doubt_measures_word_breaks_not_made(abc: Dictionary) -> None:
    probs = one_hot([0, 1, 0, 2, 0, 4, 3, 0], 5, p=0.7)
    probs[0] = [0.5, 0.0, 0.0, 0.0, 0.5]  # before the text: a space there would be stripped
    probs[2] = [0.6, 0.0, 0.0, 0.1, 0.3]  # between a and b: the space reaches 0.3
    probs[4] = [0.5, 0.0, 0.0, 0.0, 0.45]  # beside the space that was read: no doubt
    probs[7] = [0.5, 0.0, 0.0, 0.0, 0.5]  # after the text
    out = ctc_decode(probs, abc, measure_gaps=True)
    assert out["text"] == "ab c"
    assert out["space_doubt"] == pytest.approx(0.3)
    assert out["gap_doubt"] == 0.0  # each blank step's best other class is the space
    assert ctc_decode(probs, abc)["space_doubt"] == 0.0  # only measured on request
    probs[2] = [0.9, 0.0, 0.0, 0.1, 0.0]
    assert ctc_decode(probs, abc, measure_gaps=True)["space_doubt"] == 0.0


@pytest.fixture
def numbers() -> Dictionary:
    return Dictionary.from_text("0\n1\n9\n3\n8\nl\nO\no\nI\n.\nS\ns", "numbers.txt")


def steps(d: Dictionary, spec: list[dict[str, float]]) -> np.ndarray:
    """One row per step: the given symbols' probabilities ("" the blank); the rest of the
    mass on the blank, so that no other class comes near."""
    probs = np.zeros((len(spec), d.num_classes), np.float32)
    for t, row in enumerate(spec):
        for sym, p in row.items():
            probs[t, d.find(sym) if sym else 0] = p
        probs[t, 0] += 1 - sum(row.values())
    return probs


LOOKALIKE = {"l": "1", "I": "1", "O": "0", "o": "0", "S": "8"}


def read(d: Dictionary, text: str, near: dict[str, float], **kwargs: object) -> dict:
    """`text` read one character a step (blanks between), at 0.9 each; at a letter whose
    look-alike digit is in `near`, that digit has the probability given there (taken from
    the letter's 0.9)."""
    spec: list[dict[str, float]] = []
    for ch in text:
        digit = LOOKALIKE.get(ch)
        p = near.get(digit, 0.0) if digit else 0.0
        spec += [{ch: 0.9 - p, digit: p} if p else {ch: 0.9}, {"": 0.9}]
    return ctc_decode(steps(d, spec), d, **kwargs)


def test_look_alike_letters_in_numbers_are_read_as_digits(numbers: Dictionary) -> None:
    # The typewriter's 'l' for 1, with '1' the runner-up: "l938" is 1938.
    out = read(numbers, "l938", {"1": 0.2})
    assert out["text"] == "1938"
    assert out["chars"][0]["confidence"] == pytest.approx(0.7)  # the letter's, kept
    # Every look-alike of a number whose digit is close enough.
    assert read(numbers, "lOo8", {"1": 0.05, "0": 0.05})["text"] == "1008"
    assert read(numbers, "lOo8", {"1": 0.05, "0": 0.005})["text"] == "1Oo8"
    assert read(numbers, "8l.", {"1": 0.3})["text"] == "81."  # "2l. Januar"
    assert read(numbers, "8.l", {"1": 0.3})["text"] == "8.l"  # a word of its own


def test_look_alikes_stay_letters_outside_numbers(numbers: Dictionary) -> None:
    assert read(numbers, "Oslo", {"0": 0.3, "1": 0.3})["text"] == "Oslo"
    # A word with another letter is no number: formulas and ordinals keep their letters.
    assert read(numbers, "SO3", {"0": 0.3})["text"] == "SO3"
    assert read(numbers, "s3O", {"0": 0.3})["text"] == "s3O"
    assert read(numbers, "0lsO", {"1": 0.3, "0": 0.3})["text"] == "0lsO"
    assert read(numbers, "l 9", {"1": 0.3})["text"] == "l 9"  # a space ends a number
    # Below kDigitLookalikeFloor (0.01) the digit was not a near reading ("0lga", "5l").
    assert read(numbers, "0l", {"1": 0.009})["text"] == "0l"
    assert read(numbers, "0l", {"1": 0.011})["text"] == "01"
    # Not a look-alike: an 'S' next to digits stays, even with '8' close.
    assert read(numbers, "S8", {"8": 0.4})["text"] == "S8"


def test_look_alikes_follow_the_allow_list(numbers: Dictionary) -> None:
    # The digit must be allowed; with it denied, the letter stays.
    assert read(numbers, "l9", {"1": 0.3}, deny="1")["text"] == "l9"
    assert read(numbers, "l9", {"1": 0.3}, allow="l19")["text"] == "19"


def test_decoding_rejects_mismatched_shapes(abc: Dictionary) -> None:
    with pytest.raises(ValueError, match="classes"):
        ctc_decode(np.zeros((3, 6), np.float32), abc)
    with pytest.raises(ValueError, match="top_k"):
        ctc_decode(np.zeros((3, 5), np.float32), abc, top_k=-1)
    with pytest.raises(TypeError, match="float32"):
        ctc_decode(np.zeros((3, 5)), abc)


# --- the argmax kernel ---------------------------------------------------------------------


@pytest.mark.parametrize("cols", [*range(1, 70), 127, 6906, 18710])
def test_argmax_matches_numpy(simd_target: str, rng: np.random.Generator, cols: int) -> None:
    data = rng.random((7, cols), dtype=np.float32)
    index, value = argmax_rows(data)
    np.testing.assert_array_equal(index, data.argmax(axis=1))
    np.testing.assert_array_equal(value, data.max(axis=1))


@pytest.mark.parametrize("cols", [1, 2, 15, 16, 17, 31, 32, 33, 64, 65, 100])
def test_argmax_ties_nan_and_infinities(simd_target: str, cols: int) -> None:
    rows = np.zeros((5, cols), np.float32)
    rows[0, :] = 3.0  # all equal: the first index
    rows[1, cols // 2 :] = 1.0  # ties in every lane: still the first one
    rows[2, :] = np.nan
    rows[2, -1] = -5.0  # NaN never wins
    rows[3, :] = -np.inf  # nothing above -inf: index 0
    rows[4, :] = np.nan
    index, value = argmax_rows(rows)
    np.testing.assert_array_equal(index, [0, cols // 2, cols - 1, 0, 0])
    np.testing.assert_array_equal(value, [3.0, 1.0, -5.0, -np.inf, -np.inf])


def test_argmax_of_no_rows() -> None:
    index, value = argmax_rows(np.zeros((0, 4), np.float32))
    assert index.shape == value.shape == (0,)
