"""Fuzzes the end-to-end pipeline: ``_core.pipeline.Pipeline.run`` on small random uint8
images of any layout, and ``OcrAI.recognize`` on arrays of every dtype, with random options
(valid and invalid keys, types and values).

Images are random pixels, random boxes, or a rendered text line (the text, size and noise
drawn from the input), so that detection, cropping, recognition, the classifier and the
fallback recogniser all run. Documented outcomes: a page dict / Page that keeps the contract
of the team brief (A.2: sizes, quads inside the image, confidences in 0..1, blocks naming
existing lines), ValueError or TypeError (ImageError is a ValueError). The models: the tiny
pack with the small recogniser as its fallback and the line classifier, on one and on two
threads.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

import _harness

with _harness.instrumented():
    import ocrai
    from ocrai import _core, _runtime
    from ocrai.testing import render_line


ALLOWED = (TypeError, ValueError)
PACKS = Path(_core.__file__).parent / "packs"
OPTION_KEYS = [
    "detect", "det_max_side", "det_thresh", "box_thresh", "unclip_ratio", "classify", "deskew",
    "binarize", "rec_batch", "fallback_threshold", "top_k", "min_confidence",
]  # fmt: skip
WORDS = ["Invoice", "1,284.50", "déjà", "Čtvrtek", "Monday", "x", "漢字", "—", "ok", "12"]


def pipelines() -> list[Any]:
    _runtime.load()
    tiny, small = PACKS / "ppocrv6-tiny", PACKS / "ppocrv6-small"
    models = {
        "det_model": str(tiny / "ppocrv6-tiny-det.onnx"),
        "rec_model": str(tiny / "ppocrv6-tiny-rec.onnx"),
        "rec_dict": str(tiny / "ppocrv6-tiny-dict.txt"),
        "cls_model": str(PACKS / "ppocrv5-cls" / "ppocrv5-cls.onnx"),
        "fallback_rec_model": str(small / "ppocrv6-small-rec.onnx"),
        "fallback_rec_dict": str(small / "ppocrv6-small-dict.txt"),
    }
    return [_core.pipeline.Pipeline(**models, threads=t) for t in (1, 2)]


PIPELINES = pipelines()
ENGINE = ocrai.OcrAI(pack="ppocrv6-tiny", threads=1)


class Input(_harness.Draws):
    def real(self, lo: float, hi: float) -> float:
        if self.int(0, 15) == 15:  # exhausted input gives 0: plain values
            return self.pick([math.nan, math.inf, -math.inf, 1e300, -0.0])
        return lo + (hi - lo) * self.fdp.ConsumeProbability()

    def value(self, key: str) -> Any:
        """A plausible value for `key` most of the time; any type sometimes."""
        if self.int(0, 9) == 9:
            return self.pick([None, "x", 1.5, -1, 2**40, True, [], {"a": 1}])
        if key in ("detect", "deskew"):
            return self.fdp.ConsumeBool()
        if key == "det_max_side":
            return self.int(16, 1100)
        if key in ("det_thresh", "box_thresh", "min_confidence", "fallback_threshold"):
            return self.real(-0.1, 1.1)
        if key == "unclip_ratio":
            return self.real(0, 4)
        if key == "classify":
            return self.pick(["off", "on", "auto", "sometimes"])
        if key == "binarize":
            return self.pick(["none", "otsu", "sauvola", "niblack"])
        if key == "rec_batch":
            return self.int(0, 70)
        if key == "top_k":
            return self.int(-1, 8)
        return self.int(0, 3)

    def options(self) -> dict[str, Any]:
        keys = [k for k in OPTION_KEYS if self.int(0, 4) == 4]
        if self.int(0, 30) == 30:
            keys.append("bogus")  # an unknown key
        return {k: self.value(k) for k in keys}

    def image(self) -> np.ndarray:
        kind = self.int(0, 3)
        channels = self.pick([3, 1, 4])
        if kind == 0:  # a text line
            words = [self.pick(WORDS) for _ in range(self.int(1, 6))]
            line = render_line(
                " ".join(words),
                font_size=self.int(8, 40),
                margin=self.int(0, 20),
                noise=self.real(0, 40) if self.int(0, 2) == 0 else 0.0,
                seed=self.int(0, 1000),
            )
            if self.int(0, 3) == 0:  # cut, squeeze or stretch it
                h, w = line.shape[:2]
                line = line[: self.int(1, h), : self.int(1, w)]
            if channels == 1:
                return np.ascontiguousarray(line[:, :, 0])
            if channels == 4:
                return np.dstack([line, np.full(line.shape[:2], 255, np.uint8)])
            return line
        h, w = self.int(1, 200), self.int(1, 300)
        shape = (h, w) if channels == 1 else (h, w, channels)
        if kind == 1:  # random pixels
            raw = self.fdp.ConsumeBytes(2048) or b"\x00"
            n = h * w * max(channels, 1)
            return np.frombuffer((raw * (n // len(raw) + 1))[:n], np.uint8).reshape(shape)
        image = np.full(shape, self.int(0, 255), np.uint8)  # boxes on a plain background
        for _ in range(self.int(0, 12)):
            y, x = self.int(0, h - 1), self.int(0, w - 1)
            image[y : y + self.int(1, 40), x : x + self.int(1, 120)] = self.int(0, 255)
        return image

    def layout(self, image: np.ndarray) -> np.ndarray:
        """The image as a padded-rows view, upside-down rows, or as it is."""
        kind = self.int(0, 3)
        if kind == 0:
            wide = np.zeros((image.shape[0], image.shape[1] + 3, *image.shape[2:]), np.uint8)
            wide[:, : image.shape[1]] = image
            return wide[:, : image.shape[1]]
        if kind == 1:
            return image[::-1]
        return image


def check_page(page: dict[str, Any], image: np.ndarray) -> None:
    h, w = image.shape[:2]
    assert (page["height"], page["width"]) == (h, w)
    assert math.isfinite(page["angle"])
    lines = page["lines"]
    covered = []
    for block in page["blocks"]:
        covered += block["lines"]
        assert all(math.isfinite(v) for v in block["bbox"])
    assert sorted(covered) == list(range(len(lines))), (covered, len(lines))
    for line in lines:
        assert 0.0 <= line["confidence"] <= 1.0, line["confidence"]
        assert line["text"]
        assert 0 <= line["block"] < len(page["blocks"])
        for x, y in line["quad"] + [p for word in line["words"] for p in word["quad"]]:
            assert -0.5 <= x <= w + 0.5, (x, y, w, h)
            assert -0.5 <= y <= h + 0.5, (x, y, w, h)
        for c in line["chars"]:
            assert 0.0 <= c["confidence"] <= 1.0
            assert -1e-6 <= c["x0"] <= c["x1"] <= 1.0 + 1e-6, (c["x0"], c["x1"])
    assert all(math.isfinite(v) and v >= 0 for v in page["timings"].values())


def test_one_input(data: bytes) -> None:
    inp = Input(data)
    path = inp.int(0, 3)
    image = inp.image()
    options = inp.options()
    if path == 0:  # the engine, with an array of another dtype sometimes
        dtype = inp.pick([np.uint8] * 6 + [np.float32, np.uint16, np.bool_, np.int16])
        array: Any = image
        if dtype == np.float32:  # dividing by 0.0 gives inf and NaN pixels on purpose
            with np.errstate(divide="ignore", invalid="ignore"):
                array = image.astype(np.float32) / inp.pick([255.0, 1.0, 0.0])
        elif dtype != np.uint8:
            array = image.astype(dtype)
        order = inp.pick([None, "rgb", "bgr"])
        try:
            page = ENGINE.recognize(array, order=order, **options)
        except ALLOWED:
            return
        check_page(page.to_dict(), image)
        return
    pipeline = PIPELINES[path % 2]
    order = inp.pick(["rgb", "bgr", "rgb", "lab"])
    view = inp.layout(image)
    try:
        page = pipeline.run(view, order, options)
    except ALLOWED:
        return
    check_page(page, image)


def seeds() -> Iterator[bytes]:
    rng = np.random.default_rng(int(os.environ.get("OCRAI_FUZZ_SEED", "20261121")))
    for path in range(4):
        for kind in range(4):
            for _ in range(3):
                body = rng.integers(0, 256, int(rng.integers(16, 400)), dtype=np.uint8)
                # FuzzedDataProvider reads integers from the end: the path, then the kind.
                yield body.tobytes() + bytes([kind, path])


if __name__ == "__main__":
    _harness.main(test_one_input, seeds)
