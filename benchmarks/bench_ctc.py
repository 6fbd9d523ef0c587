"""Row argmax of recogniser output (the greedy CTC decoder's inner loop), one thread: ocrai's
SIMD kernel beside numpy, on the probabilities of 8 lines of 1200 px (1200 steps x 18,710
classes of PP-OCRv6 small, 90 MB: read once per batch, so memory bandwidth bounds it)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ocrai import _core


@pytest.fixture(scope="module")
def probs() -> np.ndarray:
    rng = np.random.default_rng(18710)
    logits = rng.standard_normal((1200, 18710), dtype=np.float32)
    logits[np.arange(1200), rng.integers(0, 18710, 1200)] += 12.0
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.benchmark(group="argmax-18710")
def test_ocrai_argmax(benchmark: Any, facts: dict[str, Any], probs: np.ndarray) -> None:
    index, value = benchmark(_core.pipeline.argmax_rows, probs)
    np.testing.assert_array_equal(index, probs.argmax(axis=1))
    np.testing.assert_array_equal(value, probs.max(axis=1))


@pytest.mark.benchmark(group="argmax-18710")
def test_ocrai_argmax_scalar(benchmark: Any, probs: np.ndarray) -> None:
    _core._set_simd_targets(["scalar"])
    try:
        index, _ = benchmark(_core.pipeline.argmax_rows, probs)
    finally:
        _core._set_simd_targets([])
    np.testing.assert_array_equal(index, probs.argmax(axis=1))


@pytest.mark.benchmark(group="argmax-18710")
def test_numpy_argmax(benchmark: Any, probs: np.ndarray) -> None:
    def both(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        index = p.argmax(axis=1)
        return index, p[np.arange(len(p)), index]

    index, _ = benchmark(both, probs)
    np.testing.assert_array_equal(index, probs.argmax(axis=1))
