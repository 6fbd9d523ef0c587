"""Fuzzes the preprocessing kernels (``ocrai.preprocess``, i.e. ``_core.kernels``) with random
shapes, channel counts, dtypes, strides, offsets, ``out=`` arrays and parameters (NaN, inf,
extremes included).

Documented outcomes: a result, TypeError or ValueError. Every call that succeeds is run
again on every SIMD target this CPU supports and must give the scalar target's result
(bit-exact for integer outputs, within 1e-6 relative for float tensors), and a call that
fails must fail alike on every target. Sizes are bounded so that no input can exhaust
memory.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import _harness

with _harness.instrumented():
    from ocrai import _core, preprocess


TARGETS: list[str] = _core.simd_info()["supported"]
ALLOWED = (TypeError, ValueError)
MAX_OUT = 300  # largest output side the harness asks for


class Input(_harness.Draws):
    """Draws the arguments of one call from the fuzzer's bytes."""

    def real(self, lo: float, hi: float) -> float:
        """Mostly a float in [lo, hi]; sometimes NaN, an infinity or an extreme."""
        kind = self.int(0, 15)  # exhausted input gives 0: a plain value
        if kind == 15:
            return self.pick([math.nan, math.inf, -math.inf, 1e300, -1e300, 5e-324, 0.0])
        if kind == 14:
            return self.fdp.ConsumeFloat()
        return lo + (hi - lo) * self.fdp.ConsumeProbability()

    def image(self, max_h: int = 40, max_w: int = 70) -> np.ndarray:
        h, w = self.int(0, max_h), self.int(0, max_w)
        channels = self.pick([1, 3, 4, 3, 1, 0, 2, 5])  # 0: a 2-D array
        c = max(channels, 1)
        dtype = self.pick([np.uint8] * 12 + [np.float32, np.uint16, np.bool_, np.int8])
        layout = self.int(0, 7)
        n = h * w * c
        raw = self.fdp.ConsumeBytes(min(n, 4096)) or b"\x80"
        pixels = np.frombuffer((raw * (n // len(raw) + 1))[:n], np.uint8).astype(dtype)
        shape = (h, w) if channels == 0 else (h, w, c)
        base = pixels.reshape(shape)
        if layout == 1:  # a crop of a wider array: padded rows
            wide = np.zeros((h, w + 5, *shape[2:]), dtype)
            wide[:, :w] = base
            return wide[:, :w]
        if layout == 2:  # every other column: pixels not contiguous
            wide = np.zeros((h, 2 * w, *shape[2:]), dtype)
            wide[:, ::2] = base
            return wide[:, ::2]
        if layout == 3:  # rows upside down: a negative row stride
            return base[::-1]
        if layout == 4 and base.ndim >= 2:  # transposed
            return base.swapaxes(0, 1)
        if layout == 5:  # one byte off any alignment
            buf = np.zeros(base.nbytes + 1, np.uint8)[1:].view(np.uint8)
            out = np.frombuffer(buf.data, dtype=np.uint8)[: base.nbytes]
            if dtype == np.uint8:
                view = out.reshape(shape)
                view[...] = base
                return view
        if layout == 6:
            base = base.copy()
            base.flags.writeable = False
        return base

    def out_for(self, shape: tuple[int, ...], dtype: Any = np.uint8) -> np.ndarray | None:
        kind = self.int(0, 7)
        if kind == 0:
            return np.zeros(shape, dtype)
        if kind == 1:  # wrong shape
            return np.zeros(tuple(s + 1 for s in shape), dtype)
        if kind == 2:  # read-only
            a = np.zeros(shape, dtype)
            a.flags.writeable = False
            return a
        if kind == 3:  # wrong dtype
            return np.zeros(shape, np.float64)
        return None

    def quad(self) -> list[list[float]]:
        if self.int(0, 3) == 0:
            return [[self.real(-50, 120), self.real(-50, 120)] for _ in range(4)]
        x0, y0 = self.real(-20, 60), self.real(-20, 40)
        w, h = self.real(0, 90), self.real(0, 50)
        return [[x0, y0], [x0 + w, y0 + self.real(-5, 5)], [x0 + w, y0 + h], [x0, y0 + h]]


def call(inp: Input) -> Callable[[], Any]:
    """Chooses a kernel and its arguments; returns the call, to be run on each target."""
    kernel = inp.int(0, 16)
    image = inp.image()
    order = inp.pick(["rgb", "bgr", "rgb", "hsv"])
    if kernel == 0:
        out = inp.out_for(image.shape[:2])
        return lambda: preprocess.to_gray(image, order, out=out)
    if kernel == 1:
        size = (inp.int(0, MAX_OUT), inp.int(0, MAX_OUT))
        mode = inp.pick(["auto", "bilinear", "area", "nearest"])
        out = inp.out_for((size[1], size[0], *image.shape[2:]))
        return lambda: preprocess.resize(image, size, mode, out=out)
    if kernel == 2:
        quad = inp.quad()
        height = inp.int(-1, 80)
        width = inp.pick([None, inp.int(-1, MAX_OUT)])
        border = inp.pick(["replicate", "constant", "wrap"])
        value = inp.int(-2, 260)
        return lambda: preprocess.crop_quad(
            image, quad, height, width, max_width=MAX_OUT, border=border, border_value=value
        )
    if kernel == 3:
        quad = inp.quad()
        height, max_width = inp.int(-1, 100), inp.int(-1, 10_000)
        return lambda: preprocess.rectified_width(quad, height, max_width or None)
    if kernel in (4, 5):
        mean = [inp.real(-1, 1) for _ in range(inp.pick([3, 1, 2]))]
        std = [inp.real(-1, 1) for _ in range(inp.pick([3, 1, 3]))]
        scale, reverse, pad = inp.real(0, 0.1), inp.bool(), inp.real(-2, 2)
        if kernel == 4:
            size = inp.pick([None, (inp.int(0, MAX_OUT), inp.int(0, 100))])
            multiple = inp.pick([None, inp.int(0, 64)])
            return lambda: preprocess.pack(
                image, mean, std, scale, reverse, size=size, multiple=multiple, pad_value=pad
            )
        crops = [image] + [inp.image(20, 60) for _ in range(inp.int(0, 3))]
        height = inp.pick([None, inp.int(-1, 60)])
        width = inp.pick([None, inp.int(-1, MAX_OUT)])
        batch = inp.pick([None, inp.int(-1, 6)])
        multiple = inp.pick([None, inp.int(0, 32)])
        return lambda: preprocess.pack_batch(
            crops, mean, std, scale, reverse, height=height, width=width, batch=batch,
            multiple=multiple, pad_value=pad,
        )  # fmt: skip
    if kernel == 6:
        return lambda: preprocess.otsu_threshold(image)
    if kernel == 7:
        threshold = inp.pick([None, inp.int(-5, 260)])
        invert = inp.bool()
        inplace = inp.int(0, 3) == 0 and image.flags.writeable
        out = image if inplace else inp.out_for(image.shape)
        return lambda: preprocess.binarize(image, threshold, invert=invert, out=out)
    if kernel == 8:
        window, k, r = inp.int(-1, 260), inp.real(-1, 1), inp.real(-10, 300)
        return lambda: preprocess.sauvola(image, window, k, r)
    if kernel == 9:
        window, c = inp.int(-1, 260), inp.int(-300, 300)
        return lambda: preprocess.adaptive_mean(image, window, c)
    if kernel == 10:
        max_angle = inp.real(-5, 50)
        return lambda: preprocess.estimate_skew(image, order, max_angle=max_angle)
    if kernel in (11, 12):
        angle, border, expand = inp.real(-400, 400), inp.int(-2, 260), inp.bool()
        return lambda: preprocess.rotate(image, angle, border=border, expand=expand)
    if kernel == 13:
        max_angle, conf = inp.real(-5, 50), inp.real(-0.5, 1.5)
        border = inp.pick([None, inp.int(-2, 260)])
        expand = inp.bool()
        return lambda: preprocess.deskew(
            image, order, max_angle=max_angle, border=border, expand=expand, min_confidence=conf
        )
    if kernel == 14:
        tolerance, give_up = inp.int(-2, 260), inp.int(-1, 50)
        return lambda: _core.pipeline.ink_bounds(image, tolerance=tolerance, give_up_height=give_up)
    if kernel == 15:  # DB post-processing, its region cutting included, on a ragged map
        plane = image if image.ndim == 2 else image[:, :, 0]
        prob = np.ascontiguousarray(plane, dtype=np.float32) / 255
        thresh, unclip, split = inp.real(-0.1, 1.0), inp.real(-0.5, 3), inp.bool()
        return lambda: _core.pipeline.db_postprocess(
            prob, thresh=thresh, box_thresh=0.1, unclip_ratio=unclip, split_joined_lines=split
        )
    value, multiple = inp.int(-5, 2**31), inp.int(-1, 1024)
    return lambda: preprocess.round_up(value, multiple)


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except ALLOWED as exc:
        return type(exc).__name__, str(exc)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype == np.float32:
            return bool(np.allclose(a, b, rtol=1e-6, atol=1e-6, equal_nan=True))
        return bool(np.array_equal(a, b))
    return bool(a == b)


def test_one_input(data: bytes) -> None:
    fn = call(Input(data))
    results = []
    try:
        for target in TARGETS:
            _core._set_simd_targets([target])
            results.append((target, outcome(fn)))
    finally:
        _core._set_simd_targets([])
    (ref_target, (ref_kind, ref_value)), *others = results
    for target, (kind, value) in others:
        assert kind == ref_kind, (ref_target, ref_kind, ref_value, target, kind, value)
        if kind == "ok":
            assert same(ref_value, value), f"{target} differs from {ref_target}"


def seeds() -> Iterator[bytes]:
    rng = np.random.default_rng(int(os.environ.get("OCRAI_FUZZ_SEED", "20261121")))
    for kernel in range(15):
        for _ in range(4):
            size = int(rng.integers(8, 600))
            body = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
            # FuzzedDataProvider takes integers from the end: put the kernel choice there.
            yield body + bytes([kernel])


if __name__ == "__main__":
    _harness.main(test_one_input, seeds)
