"""The end-to-end pipeline (_core.pipeline.Pipeline) on pages the tests render."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ocrai import InferenceError, ModelError, _core, _runtime, testing

PACKS = Path(_core.__file__).parent / "packs"
LANGS = ["en", "fr", "pt", "cs", "ja", "zh-hant"]

pytestmark = pytest.mark.models


def pack_files(pack: str) -> dict[str, str]:
    base = PACKS / pack
    return {
        "det_model": str(base / f"{pack}-det.onnx"),
        "rec_model": str(base / f"{pack}-rec.onnx"),
        "rec_dict": str(base / f"{pack}-dict.txt"),
    }


CLS = str(PACKS / "ppocrv5-cls" / "ppocrv5-cls.onnx")


def make_pipeline(pack: str = "ppocrv6-small", **kwargs: Any) -> _core.pipeline.Pipeline:
    _runtime.load()
    return _core.pipeline.Pipeline(**{**pack_files(pack), "threads": 2, **kwargs})


@pytest.fixture(scope="module")
def small() -> Iterator[_core.pipeline.Pipeline]:
    p = make_pipeline(cls_model=CLS)
    yield p
    p.close()


@pytest.fixture(scope="module")
def fast() -> Iterator[_core.pipeline.Pipeline]:
    small_files = pack_files("ppocrv6-small")
    p = make_pipeline(
        "ppocrv6-tiny",
        fallback_rec_model=small_files["rec_model"],
        fallback_rec_dict=small_files["rec_dict"],
    )
    yield p
    p.close()


def cer(got: str, truth: str, lang: str) -> float:
    """Character error rate after collapsing whitespace (removing it for CJK)."""
    return testing.cer(got, truth, lang)


def page_text(result: dict[str, Any]) -> str:
    return "\n".join(line["text"] for line in result["lines"])


def signed_area2(quad: list[list[float]]) -> float:
    q = np.array(quad)
    return float(np.sum(q[:, 0] * np.roll(q[:, 1], -1) - np.roll(q[:, 0], -1) * q[:, 1]))


# --- accuracy --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_clean_text_in_every_language(small: _core.pipeline.Pipeline, lang: str) -> None:
    page = testing.render_page(testing.SAMPLE_TEXT[lang], lang=lang)
    result = small.run(page.image)
    assert len(result["lines"]) == len(page.lines)
    assert cer(page_text(result), page.text, lang) < 0.02
    assert not any(line["rotated_180"] for line in result["lines"])


@pytest.mark.parametrize("lang", LANGS)
def test_fast_mode_keeps_the_accuracy(fast: _core.pipeline.Pipeline, lang: str) -> None:
    page = testing.render_page(testing.SAMPLE_TEXT[lang], lang=lang)
    result = fast.run(page.image)
    assert cer(page_text(result), page.text, lang) < 0.02
    models = {line["model"] for line in result["lines"]}
    if lang == "ja":  # the tiny recogniser has no kana: every line is re-read
        assert models == {"fallback"}
    if lang == "en":  # read confidently by the tiny one
        assert models == {"primary"}
    assert result["models"]["fallback"] == "ppocrv6-small-rec.onnx"


@pytest.mark.parametrize("classify", ["off", "on", "auto"])
def test_upright_text_stays_upright(small: _core.pipeline.Pipeline, classify: str) -> None:
    page = testing.render_page(testing.SAMPLE_TEXT["en"] + testing.SAMPLE_TEXT["fr"])
    result = small.run(page.image, options={"classify": classify})
    assert page_text(result) == page.text
    assert not any(line["rotated_180"] for line in result["lines"])
    assert result["models"]["cls"] == (None if classify == "off" else "ppocrv5-cls.onnx")


def test_upside_down_page_is_turned_by_the_classifier(small: _core.pipeline.Pipeline) -> None:
    page = testing.render_page(testing.SAMPLE_TEXT["en"])
    flipped = np.ascontiguousarray(page.image[::-1, ::-1])
    result = small.run(flipped, options={"classify": "on"})
    assert all(line["rotated_180"] for line in result["lines"])
    # The page reads in its own order (from the bottom of the image up), and the skew says
    # it is upside down.
    assert page_text(result) == page.text
    assert abs(result["angle"]) == pytest.approx(180.0, abs=0.5)
    # A quad starts at its text's top-left: the bottom-right of the region in the image.
    first = np.array(result["lines"][0]["quad"])
    assert first[0, 0] > first[1, 0]
    assert first[0, 1] > first[3, 1]
    assert signed_area2(result["lines"][0]["quad"]) > 0


def test_single_line_1000x300(small: _core.pipeline.Pipeline) -> None:
    text = "Invoice 2026-114 for the spring delivery"
    line = testing.render_page([text], font_size=44, margin=40, width=1000).image
    image = np.full((300, 1000, 3), 250, np.uint8)
    image[100 : 100 + line.shape[0]] = line
    result = small.run(image)
    assert [ln["text"] for ln in result["lines"]] == [text]
    assert (result["width"], result["height"]) == (1000, 300)


@pytest.mark.parametrize("lang", LANGS)
def test_a_lone_line_is_read_as_one_line_without_the_detector(
    small: _core.pipeline.Pipeline, lang: str
) -> None:
    # A 1000x300 image holding one line and nothing else: read as detection off reads it
    # (the same crop, so the same reading), its box where the detector puts it.
    text = testing.SAMPLE_TEXT[lang][0]
    line = testing.render_line(text, lang=lang, font_size=30)
    image = np.full((300, 1000, 3), 250, np.uint8)
    image[120 : 120 + line.shape[0], 40 : 40 + line.shape[1]] = line
    lone = small.run(image)
    one_line = small.run(image, "rgb", {"detect": False})
    detected = small.run(image, "rgb", {"lone_line": False})
    assert lone["models"]["det"] is None
    assert lone["timings"]["detect"] == 0
    assert detected["models"]["det"] is not None
    assert detected["timings"]["detect"] > 0
    assert [ln["text"] for ln in lone["lines"]] == [ln["text"] for ln in one_line["lines"]]
    assert [ln["quad"] for ln in lone["lines"]] == [ln["quad"] for ln in one_line["lines"]]
    assert len(detected["lines"]) == 1
    read, found = lone["lines"][0]["text"], detected["lines"][0]["text"]
    assert cer(read, text, lang) <= cer(found, text, lang)
    corners = np.array(lone["lines"][0]["quad"]) - np.array(detected["lines"][0]["quad"])
    ink = _core.pipeline.lone_text_line(image, tolerance=24)
    assert np.abs(corners).max() <= 0.25 * (ink[3] - ink[1])  # a quarter of the text's height


def test_what_is_not_one_lone_line_goes_to_the_detector(small: _core.pipeline.Pipeline) -> None:
    text = testing.SAMPLE_TEXT["en"][:2]
    block = testing.render_page(text, font_size=30, margin=12).image
    image = np.full((300, 1000, 3), 250, np.uint8)
    image[60 : 60 + block.shape[0], 40 : 40 + block.shape[1]] = block
    result = small.run(image)
    assert result["models"]["det"] is not None
    assert result["timings"]["detect"] > 0
    assert [ln["text"] for ln in result["lines"]] == text


@pytest.mark.parametrize(
    ("lang", "font_size", "lines"), [("en", 44, 1), ("en", 18, 1), ("cs", 30, 2), ("ja", 36, 1)]
)
def test_detection_on_the_inked_part_reads_as_the_whole_image(
    small: _core.pipeline.Pipeline, lang: str, font_size: int, lines: int
) -> None:
    # On a plain background the detector reads only the ink and its margin; a frame of noise
    # one pixel wide makes the background not plain, and the whole image is read: the same
    # lines, in nearly the same places.
    text = testing.SAMPLE_TEXT[lang][:lines]
    block = testing.render_page(text, lang=lang, font_size=font_size, margin=20).image
    image = np.full((400, 1200, 3), 245, np.uint8)
    image[150 : 150 + block.shape[0], 100 : 100 + block.shape[1]] = block[:, :1100]
    framed = image.copy()
    rng = np.random.default_rng(0)
    for edge in (framed[0], framed[-1], framed[:, 0], framed[:, -1]):
        edge[:] = rng.integers(0, 256, edge.shape, dtype=np.uint8)
    assert _core.pipeline.ink_bounds(image, tolerance=24)[1] >= 150
    assert _core.pipeline.ink_bounds(framed, tolerance=24) == (0, 0, 1200, 400)
    # (lone_line off: a single line on the plain background would not reach the detector)
    options = {"lone_line": False}
    cut, whole = small.run(image, "rgb", options), small.run(framed, "rgb", options)
    assert [ln["text"] for ln in cut["lines"]] == [ln["text"] for ln in whole["lines"]]
    assert cer("\n".join(ln["text"] for ln in cut["lines"]), "\n".join(text), lang) < 0.05
    for a, b in zip(cut["lines"], whole["lines"], strict=True):
        assert np.abs(np.array(a["quad"]) - np.array(b["quad"])).max() < 0.25 * font_size + 4


@pytest.mark.parametrize("font_size", [12, 16, 20])
def test_small_text_beside_large_text_is_found(
    small: _core.pipeline.Pipeline, font_size: int
) -> None:
    # Line-like images are detected at half scale first; small text there must send the
    # page to the full-scale pass rather than be lost.
    title = testing.render_page(["Spring delivery"], font_size=64, margin=20).image
    body = testing.render_page([testing.SAMPLE_TEXT["en"][1]], font_size=font_size, margin=20)
    image = np.full((title.shape[0] + body.image.shape[0], 1000, 3), 250, np.uint8)
    image[: title.shape[0], : title.shape[1]] = title
    image[title.shape[0] :, : body.image.shape[1]] = body.image
    result = small.run(image)
    assert [line["text"] for line in result["lines"]] == ["Spring delivery", *body.lines]


@pytest.mark.parametrize("lang", ["en", "cs", "ja"])
def test_detect_false_reads_a_line_image(small: _core.pipeline.Pipeline, lang: str) -> None:
    text = testing.SAMPLE_TEXT[lang][1]
    image = testing.render_line(text, lang=lang)
    result = small.run(image, options={"detect": False})
    (line,) = result["lines"]
    assert cer(line["text"], text, lang) < 0.05
    assert line["det_score"] == 1.0
    # The line is read within the image, around its ink (test_engine.py checks the cut).
    h, w = image.shape[:2]
    ink = np.argwhere((image.min(axis=2) if image.ndim == 3 else image) < 200)
    (y0, x0), (y1, x1) = ink.min(axis=0), ink.max(axis=0) + 1
    (qx0, qy0), _, (qx1, qy1), _ = line["quad"]
    assert 0 <= qx0 <= x0
    assert x1 <= qx1 <= w
    assert 0 <= qy0 <= y0
    assert y1 <= qy1 <= h
    assert result["models"]["det"] is None
    assert result["timings"]["detect"] == 0.0


def test_large_line_image_without_detection(small: _core.pipeline.Pipeline) -> None:
    # A tall line is shrunk by more than 1.5x: area averaging keeps it readable.
    text = "Twelve boxes of paper"
    image = testing.render_line(text, font_size=150)
    assert small.run(image, options={"detect": False})["lines"][0]["text"] == text


@pytest.mark.parametrize(
    "image",
    [
        np.full((600, 400, 3), 255, np.uint8),
        np.zeros((300, 300), np.uint8),
        np.full((1, 1, 4), 128, np.uint8),
        np.full((5, 3000), 200, np.uint8),
    ],
    ids=["white", "black-gray", "one-pixel", "thin"],
)
def test_blank_images_have_no_lines(small: _core.pipeline.Pipeline, image: np.ndarray) -> None:
    result = small.run(image)
    assert result["lines"] == []
    assert result["blocks"] == []
    assert (result["width"], result["height"]) == (image.shape[1], image.shape[0])
    assert small.run(image, options={"detect": False})["lines"] == []


@pytest.mark.parametrize("binarize", ["otsu", "sauvola"])
def test_binarized_reading(small: _core.pipeline.Pipeline, binarize: str) -> None:
    page = testing.render_page(testing.SAMPLE_TEXT["fr"], noise=12.0, ink=60, paper=200)
    result = small.run(page.image, options={"binarize": binarize})
    assert cer(page_text(result), page.text, "fr") < 0.02


@pytest.mark.parametrize("degrees", [-6.0, 4.0])
def test_deskewed_reading_in_input_coordinates(
    small: _core.pipeline.Pipeline, degrees: float
) -> None:
    page = testing.render_page(testing.SAMPLE_TEXT["en"] + testing.SAMPLE_TEXT["pt"])
    image = testing.rotate_image(page.image, degrees)
    result = small.run(image, options={"deskew": True})
    assert result["deskewed"]
    assert result["angle"] == pytest.approx(degrees, abs=0.2)
    assert page_text(result) == page.text
    assert (result["width"], result["height"]) == (image.shape[1], image.shape[0])
    # Each line's quad lies where that line is in the rotated input: rotate the rendered
    # boxes' centres the way rotate_image turned the page (about its centre, canvas grown).
    h0, w0 = page.image.shape[:2]
    h1, w1 = image.shape[:2]
    a = np.radians(degrees)
    for line, (x0, y0, x1, y1) in zip(result["lines"], page.boxes, strict=True):
        dx, dy = (x0 + x1) / 2 - w0 / 2, (y0 + y1) / 2 - h0 / 2
        expected = (
            w1 / 2 + dx * np.cos(a) + dy * np.sin(a),
            h1 / 2 - dx * np.sin(a) + dy * np.cos(a),
        )
        centre = np.array(line["quad"]).mean(axis=0)
        assert centre == pytest.approx(expected, abs=6.0)
        top = np.array(line["quad"][1]) - np.array(line["quad"][0])
        assert np.degrees(np.arctan2(-top[1], top[0])) == pytest.approx(degrees, abs=1.0)
    # Without deskew the skew is measured from the boxes.
    plain = small.run(image)
    assert not plain["deskewed"]
    assert plain["angle"] == pytest.approx(degrees, abs=0.5)
    assert page_text(plain) == page.text


# --- the page dict ----------------------------------------------------------------------------


def test_page_dict_structure(small: _core.pipeline.Pipeline) -> None:
    page = testing.render_page(testing.SAMPLE_TEXT["fr"], noise=4.0)
    result = small.run(page.image, options={"top_k": 3})
    assert set(result) == {
        "width",
        "height",
        "angle",
        "deskewed",
        "lines",
        "blocks",
        "timings",
        "models",
    }
    assert set(result["timings"]) == {
        "preprocess", "detect", "postprocess", "crop", "classify", "recognize", "decode",
        "layout", "total",
    }  # fmt: skip
    assert all(isinstance(v, float) and v >= 0 for v in result["timings"].values())
    parts = sum(v for k, v in result["timings"].items() if k != "total")
    assert parts <= result["timings"]["total"] * 1.001
    assert result["models"] == {
        "det": "ppocrv6-small-det.onnx",
        "rec": "ppocrv6-small-rec.onnx",
        "cls": None,
        "check": None,
        "fallback": None,
    }
    h, w = page.image.shape[:2]
    for i, line in enumerate(result["lines"]):
        assert line["model"] == "primary"
        assert line["checked"] is False
        assert 0 < line["confidence"] <= 1
        assert 0 < line["det_score"] <= 1
        assert "".join(c["text"] for c in line["chars"]) == line["text"]
        assert " ".join(word["text"] for word in line["words"]) == " ".join(line["text"].split())
        assert signed_area2(line["quad"]) > 0
        assert all(0 <= x <= w and 0 <= y <= h for x, y in line["quad"])
        assert i in result["blocks"][line["block"]]["lines"]
        x0s = [c["x0"] for c in line["chars"]]
        assert x0s == sorted(x0s)
        assert x0s[0] >= 0
        assert line["chars"][-1]["x1"] <= 1
        for c in line["chars"]:
            assert len(c["alternatives"]) == 3
            assert c["alternatives"][0][0] == c["text"]
        # Word quads lie along the line, in order.
        q = np.array(line["quad"])
        lo, hi = q.min(axis=0) - 1, q.max(axis=0) + 1
        lefts = []
        for word in line["words"]:
            wq = np.array(word["quad"])
            assert (wq >= lo).all()
            assert (wq <= hi).all()
            lefts.append(wq[0, 0])
        assert lefts == sorted(lefts)


def test_words_cover_their_text(small: _core.pipeline.Pipeline) -> None:
    page = testing.render_page(["Twelve boxes of paper were shipped"], font_size=48)
    (line,) = small.run(page.image)["lines"]
    boxes = page.boxes[0]
    width = boxes[2] - boxes[0]
    words = line["words"]
    assert [w["text"] for w in words] == ["Twelve", "boxes", "of", "paper", "were", "shipped"]
    # The words start and end near the rendered text's ends (within 4 % of the line).
    assert abs(words[0]["quad"][0][0] - boxes[0]) < 0.04 * width
    assert abs(words[-1]["quad"][1][0] - boxes[2]) < 0.04 * width


def test_cjk_runs_are_one_word(small: _core.pipeline.Pipeline) -> None:
    text = testing.SAMPLE_TEXT["zh-hant"][1]
    (line,) = small.run(testing.render_line(text, lang="zh-hant"))["lines"]
    assert [w["text"] for w in line["words"]] == [line["text"]]


def test_min_confidence_drops_lines(small: _core.pipeline.Pipeline) -> None:
    page = testing.render_page(testing.SAMPLE_TEXT["en"])
    assert len(small.run(page.image, options={"min_confidence": 0.5})["lines"]) == 4
    assert small.run(page.image, options={"min_confidence": 1.0})["lines"] == []


def test_colour_orders_and_channels(small: _core.pipeline.Pipeline) -> None:
    page = testing.render_page(testing.SAMPLE_TEXT["pt"])
    rgb = page.image
    gray = np.ascontiguousarray(rgb[:, :, 0])
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    for image, order in [(rgb, "rgb"), (np.ascontiguousarray(rgb[:, :, ::-1]), "bgr"),
                         (gray, "rgb"), (rgba, "rgb"), (rgba, "bgr")]:  # fmt: skip
        assert page_text(small.run(image, order)) == page.text
    # A view with padded rows is read in place.
    padded = np.zeros((rgb.shape[0], rgb.shape[1] + 7, 3), np.uint8)
    padded[:, : rgb.shape[1]] = rgb
    assert page_text(small.run(padded[:, : rgb.shape[1]])) == page.text


# --- threads and lifetime ---------------------------------------------------------------------


def test_threads_sharing_one_pipeline_agree(small: _core.pipeline.Pipeline) -> None:
    pages = [testing.render_page(testing.SAMPLE_TEXT[lang], lang=lang).image for lang in LANGS]
    expected = [page_text(small.run(p)) for p in pages]
    results: dict[int, list[str]] = {}
    errors: list[Exception] = []

    def work(k: int) -> None:
        try:
            results[k] = [page_text(small.run(p)) for p in pages[k % 3 :] + pages[: k % 3]]
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k, texts in results.items():
        assert texts == expected[k % 3 :] + expected[: k % 3]


def test_close_while_running_is_safe() -> None:
    pipeline = make_pipeline()
    image = testing.render_page(testing.SAMPLE_TEXT["en"] * 3).image
    outcomes: list[str] = []
    started = threading.Event()

    def work() -> None:
        for _ in range(4):
            started.set()
            try:
                pipeline.run(image)
                outcomes.append("ok")
            except ValueError as e:
                outcomes.append("closed" if "closed" in str(e) else repr(e))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    started.wait()
    pipeline.close()
    pipeline.close()  # idempotent
    for t in threads:
        t.join()
    assert pipeline.closed
    assert len(outcomes) == 12
    assert set(outcomes) <= {"ok", "closed"}
    assert "closed" in outcomes
    with pytest.raises(ValueError, match="closed"):
        pipeline.run(image)
    with pytest.raises(ValueError, match="closed"):
        pipeline.warmup()


def test_warmup_and_properties() -> None:
    pipeline = make_pipeline(threads=1, cls_model=CLS)
    assert pipeline.threads == 1
    assert not pipeline.closed
    pipeline.warmup()
    page = testing.render_page(testing.SAMPLE_TEXT["en"][:2])
    assert page_text(pipeline.run(page.image)) == page.text
    pipeline.close()


# --- errors -----------------------------------------------------------------------------------


def test_missing_and_corrupt_models(tmp_path: Path) -> None:
    files = pack_files("ppocrv6-small")
    with pytest.raises(ModelError, match=r"nothere-det\.onnx"):
        make_pipeline(**{**files, "det_model": str(tmp_path / "nothere-det.onnx")})
    corrupt = tmp_path / "corrupt-rec.onnx"
    corrupt.write_bytes(b"\x08\x07not a model at all")
    with pytest.raises(ModelError, match=r"corrupt-rec\.onnx"):
        make_pipeline(**{**files, "rec_model": str(corrupt)})
    with pytest.raises(ModelError, match=r"missing-dict\.txt"):
        make_pipeline(**{**files, "rec_dict": str(tmp_path / "missing-dict.txt")})
    # A detector where a recogniser belongs does not have the recogniser's output.
    with pytest.raises(ModelError, match=r"ppocrv6-small-det\.onnx.*text recognition"):
        make_pipeline(**{**files, "rec_model": files["det_model"]})


def test_dictionary_of_another_model_is_refused(tmp_path: Path) -> None:
    small, tiny = pack_files("ppocrv6-small"), pack_files("ppocrv6-tiny")
    with pytest.raises(ModelError, match=r"ppocrv6-tiny-dict\.txt.*ppocrv6-small-rec\.onnx"):
        make_pipeline(**{**small, "rec_dict": tiny["rec_dict"]})
    with pytest.raises(ModelError, match=r"ppocrv6-small-dict\.txt.*ppocrv6-tiny-rec\.onnx"):
        make_pipeline(
            **small, cls_model=None, fallback_rec_model=tiny["rec_model"],
            fallback_rec_dict=small["rec_dict"],
        )  # fmt: skip
    # The check recogniser reads with the first one's dictionary.
    with pytest.raises(ModelError, match=r"ppocrv6-small-dict\.txt.*ppocrv6-tiny-rec\.onnx"):
        make_pipeline(**small, check_rec_model=tiny["rec_model"])
    copy = tmp_path / "extra-line-dict.txt"
    shutil.copy(small["rec_dict"], copy)
    with copy.open("a", encoding="utf-8") as f:
        f.write("¤extra\r\n")
    with pytest.raises(ModelError, match="18711"):
        make_pipeline(**{**small, "rec_dict": str(copy)})


def test_bad_arguments(small: _core.pipeline.Pipeline, affine_model: Any) -> None:
    image = np.full((64, 64, 3), 255, np.uint8)
    with pytest.raises(ValueError, match="unknown option 'colour'"):
        small.run(image, options={"colour": True})
    with pytest.raises(ValueError, match="'det_max_side' must be an int"):
        small.run(image, options={"det_max_side": 9.5})
    with pytest.raises(ValueError, match="det_max_side must be in"):
        small.run(image, options={"det_max_side": 16})
    with pytest.raises(ValueError, match="'detect' must be a bool"):
        small.run(image, options={"detect": 1})
    with pytest.raises(ValueError, match="'classify' must be 'off', 'on' or 'auto'"):
        small.run(image, options={"classify": "always"})
    with pytest.raises(ValueError, match="box_thresh"):
        small.run(image, options={"box_thresh": 2.0})
    with pytest.raises(ValueError, match="rec_batch"):
        small.run(image, options={"rec_batch": 0})
    with pytest.raises(ValueError, match="fallback_threshold needs a fallback"):
        small.run(image, options={"fallback_threshold": 0.5})
    with pytest.raises(ValueError, match=r"check_threshold needs a check recogniser \(check_rec"):
        small.run(image, options={"check_threshold": 0.5})
    with pytest.raises(ValueError, match="'binarize' must be 'none', 'otsu' or 'sauvola'"):
        small.run(image, options={"binarize": "niblack"})
    with pytest.raises(ValueError, match="'deskew' must be a bool"):
        small.run(image, options={"deskew": "yes"})
    with pytest.raises(ValueError, match="color order"):
        small.run(image, "rgba")
    with pytest.raises(TypeError, match="uint8"):
        small.run(image.astype(np.float32))
    with pytest.raises(ValueError, match="channels"):
        small.run(np.zeros((8, 8, 2), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        small.run(np.zeros((0, 10, 3), np.uint8))
    with pytest.raises(ValueError, match="contiguous"):
        small.run(image[:, ::2])
    with pytest.raises(TypeError, match="dict"):
        small.run(image, options=[("detect", False)])  # type: ignore[arg-type]
    no_cls = make_pipeline()
    with pytest.raises(ValueError, match="classify needs a line classifier"):
        no_cls.run(image, options={"classify": "auto"})
    with pytest.raises(ValueError, match="threads"):
        make_pipeline(threads=0)
    # A model of the right kind whose output does not fit is a ModelError, not a crash.
    with pytest.raises(ModelError, match="not a text detection model"):
        make_pipeline(det_model=str(affine_model([1.0], [0.0])))
    assert InferenceError is not ModelError
