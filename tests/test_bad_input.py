"""Bad input at every public entry point: the exception a caller gets, and that the engine
keeps working afterwards.

Every test here that hands the engine something bad then reads a line with the *same*
engine and checks the page is the one it read before (`assert_still_works`). Failures in
the native core are C++ exceptions mapped in one place (``cpp/bindings/register_errors.cpp``);
a native crash is always a bug, so the fuzzers (``fuzz/``) throw random inputs of the same
kinds at the same entry points and the sanitizer run (``scripts/sanitize.sh``) runs this
file under AddressSanitizer + UndefinedBehaviorSanitizer.

The whole list. "here" is this file; other rows name the test that already covers the case
at that entry point (it is not repeated here).

=============================================  ==========================================  =====================================================
Input                                          Exception (message says)                    Where
=============================================  ==========================================  =====================================================
**Images** (``OcrAI.recognize``, ``recognize_many``, ``ocrai.io.load_image``/``iter_pages``, ``ocrai read``)
truncated PNG/JPEG/TIFF/BMP/GIF/WebP file      ImageError ("cannot decode ... truncated")  here (recognize); test_io::test_truncated_files,
                                                                                           test_files_cut_inside_the_header
corrupt data inside a valid header             ImageError                                  here; test_io::test_corrupt_png_data,
                                                                                           test_corrupt_jpeg_data, test_mutated_files_raise_only_image_errors
unknown format (text, random bytes)            ImageError ("not an image in a supported")  here; test_io::test_unknown_formats
empty file / 0 bytes                           ImageError ("empty input (0 bytes)")        here; test_io::test_empty_inputs
missing path, a folder                         FileNotFoundError, IsADirectoryError        here; test_io::test_missing_paths_and_folders
not an image source (None, int, list, text     TypeError ("cannot read an image from")     here; test_io::test_unsupported_source_types,
file object)                                                                               test_text_mode_files_are_type_errors
zero-size array / image (0xN, Nx0)             ImageError ("zero size")                    here; test_io::test_zero_size_arrays,
                                                                                           test_zero_size_pil_image_and_file
1-pixel image, 2x3 image                       reads, no lines                             here
extreme aspect ratio 1x100000, 100000x1,       reads (no lines for blank ones), with and   here
3x20000, 20000x3, 48x60000, a 300-char line    without detection
over the pixel limit (array, file header)      ImageTooLargeError, before decoding         here; test_io::test_huge_headers_are_refused_before_allocation,
                                                                                           test_max_pixels_argument_and_environment, test_each_tiff_page_...
page index out of range                        PageIndexError                              here; test_io::test_page_out_of_range
wrong dtype (int32/int64/complex/object)       TypeError ("unsupported pixel dtype")       here; test_io::test_other_integer_dtypes_are_type_errors,
                                                                                           test_non_numeric_dtypes_are_type_errors
wrong channel count (5), ndim 1 or 4           ValueError ("1, 2, 3 or 4 channels" ...)    here; test_io::test_wrong_shapes_and_channel_counts
NaN / inf in a float array                     ImageError ("contain NaN" / "inf")          here; test_io::test_nan_and_inf_are_rejected
floats outside 0..1                            ImageError ("must lie in 0.0..1.0")         here; test_io::test_floats_outside_0_1_are_rejected
non-contiguous / Fortran / flipped arrays      read, same result as a contiguous copy      here; test_io::test_non_contiguous_arrays_are_copied_contiguous
read-only arrays                               read, same result                           here; test_io::test_read_only_arrays_are_fine
empty page (blank, black, uniform)             a Page with no lines; every exporter        here; test_pipeline::test_blank_images_have_no_lines,
                                               writes a valid empty document               test_export::test_hocr_of_an_empty_page
**Options** (``recognize(**options)``, ``Pipeline.run(options=)``)
unknown key, wrong type, out of range,         ValueError naming the key                   here; test_pipeline::test_bad_arguments
NaN, an int beyond 64 bits
threads=0 or > 1024 (engine, Pipeline, ORT     ValueError ("threads must be ...")          here; test_engine::test_bad_arguments,
session, thread pool)                                                                      test_parallel::test_bad_thread_count
**Arrays at the native boundary** (``_core.kernels.*`` through ``ocrai.preprocess``, ``_core.pipeline.Pipeline.run``)
wrong dtype                                    TypeError ("expected a uint8 array")        test_color::test_rejects_bad_input, test_resize::test_rejects_bad_input,
                                                                                           test_binarize::test_rejects_bad_input, test_crop::test_rejects_bad_input,
                                                                                           test_deskew::test_skew_and_rotation_reject_bad_input,
                                                                                           test_pack::test_rejects_bad_out_and_input; test_pipeline::test_bad_arguments
wrong channel count / ndim                     ValueError ("1, 3 or 4 channels")           the same tests
non-contiguous pixels (stepped, transposed)    ValueError ("contiguous ... ascontiguous")  the same tests (padded rows are accepted without a copy)
read-only or wrongly shaped ``out=``           ValueError ("read-only", "has shape")       the same tests; test_pack::test_rejects_misaligned_out
zero-size and 1-pixel images                   valid everywhere (or ValueError "empty"     test_color::test_empty_images, test_binarize::test_empty_and_tiny_images,
                                               where no output can be made)                test_deskew::test_rotation_of_empty_and_tiny_images, test_resize::test_out_and_empty
NaN/inf parameters (angle, k, quad, pad)       ValueError ("must be finite", "NaN")        the same tests; test_crop::test_rejects_bad_quads
sizes that overflow ``int`` or memory          ValueError ("exceeds int") / MemoryError    here
ink_bounds tolerance outside [0, 255],         ValueError ("tolerance", "give_up_height") test_ink::test_bad_arguments
give_up_height < 0
random shapes, strides, parameters             only the documented exceptions              fuzz/fuzz_kernels.py
**Model files** (``OcrAI`` on first use / ``warmup``, ``_core.pipeline.Pipeline``, ``ModelStore.install``)
truncated model                                ModelError naming the file                  here; test_runtime::test_truncated_model_raises_model_error
corrupt / not ONNX / empty file                ModelError naming the file                  here; test_runtime::test_corrupt_model_raises_model_error,
                                                                                           test_engine::test_a_corrupt_model_raises_model_error_naming_it
wrong kind: det<->rec<->cls in each role       ModelError ("is not a text ... model")      here (all six swaps)
a non-OCR ONNX model in each role              ModelError                                  here; test_pipeline::test_bad_arguments (affine as det)
dictionary of another model / extra line       ModelError naming both files                here; test_pipeline::test_dictionary_of_another_model_is_refused,
                                                                                           test_engine::test_a_dictionary_that_does_not_fit_raises_model_error
empty or non-UTF-8 dictionary                  ModelError naming the file                  here
a model file that is missing                   FileNotFoundError with the install command  test_engine::test_a_removed_model_is_reported_with_the_fix,
                                                                                           test_no_auto_install
**Model directory and names** (``OcrAI(model_dir=...)``, ``ModelStore``, ``ocrai models``)
read-only directory holding the models         reads; nothing is written                   here (as an unprivileged user when run as root)
read-only directory missing the models         PermissionError naming the directory        here; test_models::test_read_only_directory_reads_but_refuses_writes
and how to choose another
missing directory that cannot be created       PermissionError ("cannot create")           here; test_models::test_unwritable_directory_cannot_be_created
a file where the directory should be           NotADirectoryError                          test_models::test_directory_creation_errors
model names with path traversal, absolute,     ValueError ("invalid model name")           test_models::test_bad_names_are_rejected_everywhere,
hidden, NUL; pack names with traversal                                                     test_engine::test_custom_model_names_are_checked,
                                                                                           test_cli_models (remove ../escape.onnx); here (packs)
**Batches** (``ocrai read``)
bad files among good ones                      each reported with its reason, every good   test_cli_read::test_good_files_get_outputs_and_bad_files_are_reported,
                                               output written, exit status 1               test_command_with_good_and_bad_files
a kill during the batch                        no partial output, finished ones complete   test_cli_read::test_a_killed_batch_leaves_only_whole_outputs
**Results and exporters**
malformed page dicts / JSON documents          ValueError naming the bad value             test_results::test_malformed_dicts_name_the_bad_value,
                                                                                           test_export::test_from_json_errors
not a Page / no pages                          TypeError / ValueError                      test_export::test_exporters_check_their_input
=============================================  ==========================================  =====================================================
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import textwrap
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import ocrai
from ocrai import (
    ImageError,
    ImageTooLargeError,
    ModelError,
    OcrAI,
    PageIndexError,
    export,
    preprocess,
)
from ocrai.models import ModelStore
from ocrai.results import Page
from ocrai.testing import render_line

pytestmark = pytest.mark.models

TEXT = "Twelve boxes of paper were shipped on Monday."


def comparable(page: Page) -> dict[str, Any]:
    """Everything a page says except how long it took."""
    d = page.to_dict()
    del d["timings"]
    return d


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bad-input") / "models"
    store = ModelStore(path)
    store.ensure_pack("ppocrv6-tiny")
    store.ensure_pack("ppocrv5-cls")
    return path


@pytest.fixture(scope="module")
def line() -> np.ndarray:
    return render_line(TEXT)


class Engine:
    """One engine for the module and the page it reads from `line`, to compare with."""

    def __init__(self, ai: OcrAI, line: np.ndarray) -> None:
        self.ai = ai
        self.line = line
        self.reference = comparable(ai.recognize(line, detect=False))
        assert self.reference["lines"], "the engine reads nothing: the checks would be void"

    def assert_still_works(self) -> None:
        assert comparable(self.ai.recognize(self.line, detect=False)) == self.reference


@pytest.fixture(scope="module")
def engine(model_dir: Path, line: np.ndarray) -> Iterator[Engine]:
    with OcrAI(model_dir, pack="ppocrv6-tiny", threads=2) as ai:
        yield Engine(ai, line)


# --- images -------------------------------------------------------------------------------


def encoded(fmt: str, size: tuple[int, int] = (120, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 180, 160)).save(buf, fmt)
    return buf.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims `width` x `height` RGB pixels and holds none (IHDR, IEND)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def corrupt_png() -> bytes:
    data = bytearray(encoded("PNG", (300, 100)))
    start = data.index(b"IDAT") + 8
    data[start : start + 16] = b"\xff" * 16
    return bytes(data)


def write(tmp: Path, name: str, data: bytes) -> str:
    path = tmp / name
    path.write_bytes(data)
    return str(path)


BAD_IMAGES: list[tuple[str, Callable[[Path], object], type[Exception], str]] = [
    ("truncated-png", lambda t: encoded("PNG")[:70], ImageError, "cannot decode the image"),
    (
        "truncated-jpeg-file",
        lambda t: write(t, "cut.jpg", encoded("JPEG")[:300]),
        ImageError,
        r"cut\.jpg: cannot decode the image",
    ),
    ("truncated-tiff", lambda t: encoded("TIFF")[:200], ImageError, "cannot decode|TIFF"),
    ("png-signature-only", lambda t: encoded("PNG")[:12], ImageError, "PNG file whose header"),
    ("corrupt-png", lambda t: corrupt_png(), ImageError, "cannot decode the image"),
    ("unknown-format", lambda t: b"hello, I am not a picture", ImageError, "not an image in"),
    ("random-bytes", lambda t: bytes(range(256)) * 3, ImageError, "not an image in"),
    ("empty-bytes", lambda t: b"", ImageError, r"empty input \(0 bytes\)"),
    ("empty-file", lambda t: write(t, "e.png", b""), ImageError, r"e\.png: empty input"),
    ("missing-path", lambda t: str(t / "nothere.png"), FileNotFoundError, r"nothere\.png"),
    ("a-folder", os.fspath, IsADirectoryError, "Is a directory"),
    ("none", lambda t: None, TypeError, "cannot read an image from NoneType"),
    ("int", lambda t: 7, TypeError, "cannot read an image from int"),
    ("list", lambda t: [[0, 255], [255, 0]], TypeError, "cannot read an image from list"),
    ("zero-rows", lambda t: np.zeros((0, 50), np.uint8), ImageError, "zero size"),
    ("zero-columns", lambda t: np.zeros((50, 0, 3), np.uint8), ImageError, "zero size"),
    ("header-over-limit", lambda t: png_header(50_000, 50_000), ImageTooLargeError, "over the"),
    ("int32", lambda t: np.zeros((8, 8), np.int32), TypeError, "unsupported pixel dtype int32"),
    ("int64", lambda t: np.zeros((8, 8, 3), np.int64), TypeError, "unsupported pixel dtype"),
    ("complex", lambda t: np.zeros((8, 8), np.complex64), TypeError, "unsupported pixel dtype"),
    ("object", lambda t: np.full((8, 8), None, object), TypeError, "unsupported pixel dtype"),
    ("five-channels", lambda t: np.zeros((8, 8, 5), np.uint8), ValueError, "4 channels"),
    ("channels-first", lambda t: np.zeros((3, 8, 8), np.uint8), ValueError, "moveaxis"),
    ("one-dim", lambda t: np.zeros(64, np.uint8), ValueError, "2 or 3 dimensions"),
    ("four-dim", lambda t: np.zeros((1, 8, 8, 3), np.uint8), ValueError, "2 or 3 dimensions"),
    ("nan", lambda t: np.full((8, 8), np.nan, np.float32), ImageError, "contain NaN"),
    ("inf", lambda t: np.array([[0.5, np.inf]] * 4), ImageError, "contain inf"),
    ("float-0-255", lambda t: np.full((8, 8), 200.0), ImageError, r"must lie in 0\.0\.\.1\.0"),
]


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [pytest.param(m, e, r, id=i) for i, m, e, r in BAD_IMAGES],
)
def test_bad_images_raise_and_the_engine_keeps_working(
    engine: Engine,
    tmp_path: Path,
    make: Callable[[Path], object],
    error: type[Exception],
    match: str,
) -> None:
    source = make(tmp_path)
    with pytest.raises(error, match=match):
        engine.ai.recognize(source)  # type: ignore[arg-type]
    with pytest.raises(error, match=match):
        engine.ai.recognize(source, detect=False)  # type: ignore[arg-type]
    # Through recognize_many it is raised at its turn, after the good image before it.
    many = engine.ai.recognize_many([engine.line, source], detect=False)  # type: ignore[list-item]
    assert comparable(next(many)) == engine.reference
    with pytest.raises(error, match=match):
        next(many)
    engine.assert_still_works()


def test_the_pixel_limit_applies_to_arrays_and_files(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OCRAI_MAX_PIXELS", "5000")
    with pytest.raises(ImageTooLargeError, match=r"100x100 is 10000 pixels, over the limit"):
        engine.ai.recognize(np.zeros((100, 100), np.uint8))
    path = write(tmp_path, "big.png", encoded("PNG", (100, 100)))
    with pytest.raises(ImageTooLargeError, match=r"big\.png: 100x100"):
        engine.ai.recognize(path)
    monkeypatch.setenv("OCRAI_MAX_PIXELS", str(engine.line.shape[0] * engine.line.shape[1]))
    engine.assert_still_works()  # exactly at the limit is allowed


def test_a_page_that_does_not_exist(engine: Engine) -> None:
    with pytest.raises(PageIndexError, match=r"page 1 does not exist \(the input has 1 page\)"):
        engine.ai.recognize(encoded("PNG"), page=1)
    with pytest.raises(ValueError, match="page must be 0 or more"):
        engine.ai.recognize(encoded("PNG"), page=-1)
    engine.assert_still_works()


@pytest.mark.parametrize(
    "shape",
    [
        (1, 1),
        (1, 1, 3),
        (1, 1, 4),
        (2, 3),
        (1, 100_000),
        (100_000, 1),
        (1, 100_000, 3),
        (100_000, 1, 3),
        (3, 20_000),
        (20_000, 3),
        (48, 60_000),
    ],
)
@pytest.mark.parametrize("value", [0, 255])
def test_tiny_and_extreme_images_read_as_empty_pages(
    engine: Engine, shape: tuple[int, ...], value: int
) -> None:
    image = np.full(shape, value, np.uint8)
    for detect in (True, False):
        page = engine.ai.recognize(image, detect=detect)
        assert (page.height, page.width) == shape[:2]
        assert page.lines == ()
        assert page.text == ""
    engine.assert_still_works()


def test_a_very_long_line_is_read_squeezed(engine: Engine) -> None:
    """A line far wider than the recogniser's widest input (6400 px) is squeezed to it.
    With detection it is one lone line, read so. The detector at the default scale (longest
    side 960 px) shrinks its text to 3 px and finds nothing, which is not an error; at full
    scale it finds the text."""
    image = render_line(" ".join([TEXT] * 12), font_size=30)
    assert image.shape[1] > 8000
    squeezed = engine.ai.recognize(image, detect=False)
    assert len(squeezed.lines) == 1
    assert engine.ai.recognize(image).lines == squeezed.lines
    assert engine.ai.recognize(image, lone_line=False).lines == ()
    detected = engine.ai.recognize(image, det_max_side=8192)
    assert detected.text.count("Monday") >= 6
    engine.assert_still_works()


def test_text_on_an_extreme_strip_is_found(engine: Engine) -> None:
    """Text in a 1:60 strip (and its transpose, vertical) goes through detection."""
    strip = np.full((60, 3600, 3), 250, np.uint8)
    text = render_line(TEXT, font_size=28)
    h, w = min(text.shape[0], 60), min(text.shape[1], 3600)
    strip[:h, :w] = text[:h, :w]
    page = engine.ai.recognize(strip)
    assert "boxes" in page.text
    turned = np.ascontiguousarray(np.rot90(strip, -1))
    assert engine.ai.recognize(turned).width == 60
    engine.assert_still_works()


@pytest.mark.parametrize(
    "view",
    [
        pytest.param(lambda a: a[:, ::-1], id="flipped"),
        pytest.param(lambda a: a[::2, ::2], id="stepped"),
        pytest.param(np.asfortranarray, id="fortran"),
        pytest.param(lambda a: a[:, :, ::-1], id="channels-reversed"),
        pytest.param(
            lambda a: np.lib.stride_tricks.as_strided(a, a.shape, a.strides), id="strided"
        ),
    ],
)
def test_non_contiguous_and_read_only_arrays_read_like_a_copy(
    engine: Engine, view: Callable[[np.ndarray], np.ndarray]
) -> None:
    v = view(engine.line)
    expected = comparable(engine.ai.recognize(np.ascontiguousarray(v), detect=False))
    assert comparable(engine.ai.recognize(v, detect=False)) == expected
    frozen = engine.line.copy()
    frozen.flags.writeable = False
    assert comparable(engine.ai.recognize(view(frozen), detect=False)) == expected
    engine.assert_still_works()


def test_read_only_arrays_are_read_in_place(engine: Engine) -> None:
    frozen = engine.line.copy()
    frozen.flags.writeable = False
    assert comparable(engine.ai.recognize(frozen, detect=False)) == engine.reference


@pytest.mark.parametrize(
    "image",
    [
        pytest.param(np.full((600, 800, 3), 255, np.uint8), id="white"),
        pytest.param(np.zeros((600, 800), np.uint8), id="black"),
        pytest.param(np.full((300, 300, 4), 128, np.uint8), id="gray-rgba"),
    ],
)
def test_empty_pages_and_their_exports(engine: Engine, image: np.ndarray) -> None:
    page = engine.ai.recognize(image, deskew=True, binarize="otsu")
    assert page.lines == ()
    assert page.text == ""
    assert export.to_text(page).strip() == ""
    assert export.from_json(export.to_json(page))[0].lines == ()
    for fmt in ("hocr", "alto"):
        exporter, _ = export.FORMATS[fmt]
        ET.fromstring(exporter(page).encode())  # well-formed
    assert export.to_tsv(page).splitlines()[0].startswith("level")
    engine.assert_still_works()


# --- options ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"colour": True}, "unknown option 'colour'"),
        ({"rec_batch": 2**70}, "'rec_batch' must be an int in range"),
        ({"det_max_side": -(2**40)}, "'det_max_side' must be an int in range"),
        ({"top_k": 10**30}, "'top_k' must be an int in range"),
        ({"box_thresh": float("nan")}, "'box_thresh' must be a finite number"),
        ({"det_thresh": float("inf")}, "'det_thresh' must be a finite number"),
        ({"unclip_ratio": 1e300}, "unclip_ratio must be in"),
        ({"min_confidence": -0.5}, "min_confidence must be in"),
        ({"det_max_side": 100_000}, "det_max_side must be in"),
        ({"det_max_side": 16.0}, "'det_max_side' must be an int"),
        ({"detect": None}, "'detect' must be a bool"),
        ({"binarize": 1}, "'binarize' must be a str"),
        ({"classify": "auto"}, "classify needs a line classifier"),
        ({"fallback_threshold": 0.5}, "fallback_threshold needs a fallback"),
    ],
)
def test_bad_options_name_the_key(engine: Engine, options: dict[str, object], match: str) -> None:
    detect = options.pop("detect", True)
    with pytest.raises(ValueError, match=match):
        engine.ai.recognize(engine.line, detect=detect, **options)  # type: ignore[arg-type]
    engine.assert_still_works()


# Reading control (allowlist, denylist, pattern, words, word_weight): bad values raise a typed
# error naming the option (or the character no model reads) and the engine reads on.
BAD_READING: list[tuple[dict[str, object], type[Exception], str]] = [
    ({"allowlist": ""}, ValueError, "allowlist is empty"),
    ({"allowlist": ["12"]}, ValueError, "allowlist: every element must be one character"),
    ({"allowlist": 12}, TypeError, "allowlist must be a str or a set of characters"),
    ({"allowlist": "0\u16a0"}, ValueError, r"allowlist: '\u16a0' \(U\+16A0\) cannot be read"),
    ({"allowlist": "1\n"}, ValueError, "line break"),
    ({"denylist": b"x"}, TypeError, "denylist must be a str or a set of characters, got bytes"),
    ({"denylist": {"a", None}}, ValueError, "denylist: every element must be one character"),
    ({"pattern": r"(a)\1"}, ValueError, "back references"),
    ({"pattern": "("}, ValueError, "not a valid regular expression"),
    ({"pattern": 5}, TypeError, "pattern must be a str or a compiled re.Pattern"),
    ({"pattern": r"\d+", "allowlist": "ab"}, ValueError, "can match nothing"),
    ({"pattern": "[0-9]{4000}"}, ValueError, "too large|automaton states"),
    ({"words": []}, ValueError, "words is empty"),
    ({"words": [3]}, TypeError, "words: every word must be a str"),
    ({"words": 3}, TypeError, "words must be a str or an iterable of str"),
    ({"words": ["\u16a0x"]}, ValueError, r"words: '\u16a0' \(U\+16A0\) cannot be read"),
    ({"word_weight": -1.0}, ValueError, r"word_weight must be in \[0, 100\]"),
    ({"word_weight": float("nan")}, ValueError, "word_weight must be in"),
    ({"word_weight": "1"}, TypeError, "word_weight must be a number"),
]


@pytest.mark.parametrize(("options", "error", "match"), BAD_READING)
def test_bad_reading_control_is_refused(
    engine: Engine, options: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        engine.ai.recognize(engine.line, detect=False, **options)  # type: ignore[arg-type]
    with pytest.raises(error, match=match):
        next(engine.ai.recognize_many([engine.line], detect=False, **options))  # type: ignore[arg-type]
    engine.assert_still_works()


@pytest.mark.parametrize(("options", "error", "match"), BAD_READING[:3] + BAD_READING[7:10])
def test_bad_reading_control_fails_the_engine_at_once(
    model_dir: Path, options: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        OcrAI(model_dir, pack="ppocrv6-tiny", threads=1, **options)  # type: ignore[arg-type]


def test_absurd_thread_counts_are_refused(engine: Engine, model_dir: Path) -> None:
    """threads=100000 used to stall the process creating threads; every entry point that
    starts threads refuses more than 1024."""
    from ocrai import _core

    for threads in (0, 1025, 100_000):
        with pytest.raises(ValueError, match=r"threads must be >= 1 and <= 1024"):
            OcrAI(model_dir, pack="ppocrv6-tiny", threads=threads)
        files = {
            "det_model": str(model_dir / DET),
            "rec_model": str(model_dir / REC),
            "rec_dict": str(model_dir / "ppocrv6-tiny-dict.txt"),
        }
        with pytest.raises(ValueError, match=r"threads must be in \[1, 1024\]"):
            _core.pipeline.Pipeline(**files, threads=threads)
        with pytest.raises(ValueError, match=r"session threads must be in \[1, 1024\]"):
            _core.ort.Session(files["det_model"], intra_op_threads=threads)
    engine.assert_still_works()


def test_sizes_beyond_int_or_memory(engine: Engine) -> None:
    image = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="must be at most"):
        preprocess.resize(image, (2**31, 1))
    with pytest.raises(ValueError, match=r"too big|must be at most"):
        preprocess.resize(image, (2**31 - 1, 2**31 - 1))
    with pytest.raises(MemoryError):
        preprocess.resize(image, (10**6, 10**6))
    with pytest.raises(ValueError, match="exceeds int; pass max_width"):
        preprocess.rectified_width([[0, 0], [1e12, 0], [1e12, 1], [0, 1]], 48)
    with pytest.raises(ValueError, match="exceeds int"):
        preprocess.round_up(2**31 - 1, 32)
    engine.assert_still_works()


# --- model files --------------------------------------------------------------------------


def onnx_model(
    path: Path, nodes: list[Any], in_shape: list[Any], out_shape: list[Any], **kw: Any
) -> str:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    in_type = kw.get("in_type", TensorProto.FLOAT)
    out_type = kw.get("out_type", TensorProto.FLOAT)
    inputs = [helper.make_tensor_value_info("x", in_type, in_shape)]
    inputs += [helper.make_tensor_value_info(n, in_type, in_shape) for n in kw.get("extra", [])]
    graph = helper.make_graph(
        nodes, "not-ocr", inputs, [helper.make_tensor_value_info("y", out_type, out_shape)]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path.name


@pytest.fixture(scope="module")
def odd_models(model_dir: Path) -> dict[str, str]:
    """Model files that are not OCR models, or not whole ones, in the model directory."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    nhw = ["n", 3, "h", "w"]
    names = {
        "identity-image": onnx_model(
            model_dir / "identity.onnx", [helper.make_node("Identity", ["x"], ["y"])], nhw, nhw
        ),
        "rank3-int64": onnx_model(
            model_dir / "argmax.onnx",
            [helper.make_node("ArgMax", ["x"], ["y"], axis=1, keepdims=0)],
            nhw,
            ["n", "h", "w"],
            out_type=TensorProto.INT64,
        ),
        "two-inputs": onnx_model(
            model_dir / "two.onnx",
            [helper.make_node("Add", ["x", "x2"], ["y"])],
            nhw,
            nhw,
            extra=["x2"],
        ),
        "uint8-input": onnx_model(
            model_dir / "u8.onnx",
            [helper.make_node("Identity", ["x"], ["y"])],
            nhw,
            nhw,
            in_type=TensorProto.UINT8,
            out_type=TensorProto.UINT8,
        ),
    }
    rec = (model_dir / "ppocrv6-tiny-rec.onnx").read_bytes()
    for name, data in {
        "truncated.onnx": rec[: len(rec) // 2],
        "cut-header.onnx": rec[:64],
        "empty.onnx": b"",
        "text.onnx": b"this is not a model\n" * 20,
    }.items():
        (model_dir / name).write_bytes(data)
        names[name.removesuffix(".onnx")] = name
    assert onnx is not None
    return names


DET, REC, CLS = "ppocrv6-tiny-det.onnx", "ppocrv6-tiny-rec.onnx", "ppocrv5-cls.onnx"

MODEL_CASES: list[tuple[str, dict[str, str], str]] = [
    ("rec-as-det", {"det_model": REC}, r"ppocrv6-tiny-rec\.onnx is not a text detection model"),
    ("cls-as-det", {"det_model": CLS}, r"ppocrv5-cls\.onnx is not a text detection model"),
    ("det-as-rec", {"rec_model": DET}, r"ppocrv6-tiny-det\.onnx is not a text recognition"),
    ("cls-as-rec", {"rec_model": CLS}, r"ppocrv5-cls\.onnx is not a text recognition"),
    ("det-as-cls", {"cls_model": DET}, r"ppocrv6-tiny-det\.onnx is not a text line orientation"),
    ("rec-as-cls", {"cls_model": REC}, r"ppocrv6-tiny-rec\.onnx is not a text line orientation"),
    ("identity-as-det", {"det_model": "identity-image"}, r"identity\.onnx is not a text detection"),
    ("identity-as-rec", {"rec_model": "identity-image"}, r"identity\.onnx is not a text recog"),
    ("identity-as-cls", {"cls_model": "identity-image"}, r"identity\.onnx is not a text line"),
    ("int64-as-rec", {"rec_model": "rank3-int64"}, r"argmax\.onnx is not a text recognition"),
    ("two-inputs-as-det", {"det_model": "two-inputs"}, r"two\.onnx is not a text detection"),
    ("uint8-as-det", {"det_model": "uint8-input"}, r"u8\.onnx is not a text detection"),
    ("truncated-rec", {"rec_model": "truncated"}, r"cannot load model .*truncated\.onnx"),
    ("truncated-det", {"det_model": "cut-header"}, r"cannot load model .*cut-header\.onnx"),
    ("empty-model", {"det_model": "empty"}, r"model file .*empty\.onnx is empty"),
    ("text-as-model", {"cls_model": "text"}, r"cannot load model .*text\.onnx"),
    ("model-as-dict", {"rec_dict": REC}, r"dictionary .*ppocrv6-tiny-rec\.onnx is not valid UTF-8"),
    ("small-dict", {"rec_dict": "ppocrv6-small-dict.txt"}, r"does not match recognition model"),
]


@pytest.mark.parametrize(("files", "match"), [pytest.param(f, m, id=i) for i, f, m in MODEL_CASES])
def test_wrong_model_files_raise_model_error_and_nothing_is_lost(
    engine: Engine, model_dir: Path, odd_models: dict[str, str], files: dict[str, str], match: str
) -> None:
    custom = {role: odd_models.get(name, name) for role, name in files.items()}
    if "ppocrv6-small-dict.txt" in custom.values():
        ModelStore(model_dir).ensure_pack("ppocrv6-small", ["dict"])
    classify = "on" if "cls_model" in custom else "off"
    reserved = ocrai.engine._budget.reserved()
    store = ModelStore(model_dir)
    in_use = {m.name for m in store.models() if m.in_use}
    with OcrAI(model_dir, pack="ppocrv6-tiny", classify=classify, threads=1, **custom) as bad:
        for _ in range(2):  # a failed load leaves nothing half made: the next try fails alike
            with pytest.raises(ModelError, match=match):
                bad.recognize(engine.line)
            assert not bad.loaded
        with pytest.raises(ModelError, match=match):
            bad.warmup()
    assert ocrai.engine._budget.reserved() == reserved
    assert {m.name for m in store.models() if m.in_use} == in_use  # the holds were released
    engine.assert_still_works()  # another engine of the process is not disturbed
    with OcrAI(model_dir, pack="ppocrv6-tiny", threads=1) as good:
        assert comparable(good.recognize(engine.line, detect=False)) == engine.reference


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", r"dictionary .*d\.txt is empty"),
        (b"\xff\xfe\x00a\n" * 50, r"dictionary .*d\.txt is not valid UTF-8"),
        (b"a\nb\nc\n", r"the model has 6906 classes, the dictionary gives 5"),
    ],
)
def test_bad_dictionaries(engine: Engine, model_dir: Path, content: bytes, match: str) -> None:
    (model_dir / "d.txt").write_bytes(content)
    with (
        OcrAI(model_dir, pack="ppocrv6-tiny", rec_dict="d.txt", threads=1) as bad,
        pytest.raises(ModelError, match=match),
    ):
        bad.warmup()
    engine.assert_still_works()


def test_pack_names_with_traversal_are_unknown_packs(model_dir: Path) -> None:
    for name in ("../ppocrv6-tiny", "ppocrv6-tiny/../ppocrv6-small", "/etc", ""):
        with pytest.raises(ValueError, match="unknown model pack"):
            OcrAI(model_dir, pack=name)
    with pytest.raises(FileNotFoundError, match="neither a local file nor a model pack"):
        ModelStore(model_dir).install("../ppocrv6-tiny")


# --- the model directory ------------------------------------------------------------------

RO_SCRIPT = textwrap.dedent(
    """
    import ctypes, json, os, sys

    if os.geteuid() == 0 and os.environ.get("OCRAI_TEST_CAPS_DROPPED") != "1":
        # Root ignores permission bits through CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH:
        # drop them from the bounding set, then exec again, so that this process has them
        # no more and the directory's mode bits apply to it like to any user.
        libc = ctypes.CDLL(None, use_errno=True)
        PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2
        for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                sys.exit(f"prctl: {os.strerror(ctypes.get_errno())}")
        os.environ["OCRAI_TEST_CAPS_DROPPED"] = "1"
        os.execv(sys.executable, [sys.executable, *sys.argv])

    import ocrai
    from ocrai.testing import render_line

    ro, missing_parent = sys.argv[1], sys.argv[2]
    out = {}
    before = sorted(os.listdir(ro))
    with ocrai.OcrAI(ro, pack="ppocrv6-tiny") as ai:
        out["text"] = ai.recognize(render_line(sys.argv[3]), detect=False).text
        out["listed"] = ai.list_local()
    out["unchanged"] = sorted(os.listdir(ro)) == before
    for label, make in [
        ("missing_pack", lambda: ocrai.OcrAI(ro, pack="ppocrv6-small")),
        ("uncreatable", lambda: ocrai.OcrAI(os.path.join(missing_parent, "sub", "models"))),
    ]:
        try:
            make().free_resources()
            out[label] = "no error"
        except Exception as exc:
            out[label] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(out))
    """
)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder that another user can read (pytest's own are private to this user)."""
    path = Path(tempfile.mkdtemp(prefix="ocrai-ro-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for p in [path, *path.rglob("*")]:
            if p.is_dir():
                p.chmod(0o755)
        shutil.rmtree(path)


def test_read_only_model_directory(shared_tmp: Path, model_dir: Path) -> None:
    """A read-only directory that holds the models is read without writing anything; one
    that lacks them, or cannot be created, raises PermissionError naming the directory and
    the way out. Root ignores permission bits, so as root the check runs in a process
    without the capabilities that let it (see RO_SCRIPT)."""
    ro = shared_tmp / "models"
    ro.mkdir()
    for name in ("ppocrv6-tiny-det.onnx", "ppocrv6-tiny-rec.onnx", "ppocrv6-tiny-dict.txt"):
        shutil.copy(model_dir / name, ro / name)
    ModelStore(ro).ensure_pack("ppocrv6-tiny")  # records them in the manifest
    parent = shared_tmp / "locked"
    parent.mkdir()
    script = shared_tmp / "read_only_probe.py"
    script.write_text(RO_SCRIPT, encoding="utf-8")
    for p in [ro, *ro.iterdir()]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    parent.chmod(0o555)
    done = subprocess.run(
        [sys.executable, str(script), str(ro), str(parent), TEXT],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["text"]  # the tiny pack read the line
    assert out["listed"] == [
        "ppocrv6-tiny-det.onnx",
        "ppocrv6-tiny-dict.txt",
        "ppocrv6-tiny-rec.onnx",
    ]
    assert out["unchanged"]
    assert re.match(
        rf"PermissionError: .*cannot write in the model directory {re.escape(str(ro))}: "
        r"Permission denied; set OCRAI_MODEL_DIR or pass model_dir=",
        out["missing_pack"],
    )
    assert re.match(r"PermissionError: .*cannot create the directory", out["uncreatable"])
