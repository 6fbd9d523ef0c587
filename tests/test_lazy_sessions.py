"""Sessions created on first use: a pipeline creates the detector and, per recogniser, the
session a single line runs on (every thread of the budget); the one-thread session that
pairs batches up on the pool waits for the first run that needs it. Readings must not depend
on when (or from how many threads at once) that session was created, and releasing an engine
releases it too."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ocrai import ModelError, OcrAI, _core, _runtime, testing

PACKS = Path(_core.__file__).parent / "packs"

pytestmark = pytest.mark.models


def make_pipeline(threads: int, pack: str = "ppocrv6-small", **kwargs: Any) -> Any:
    _runtime.load()
    base = PACKS / pack
    return _core.pipeline.Pipeline(
        det_model=str(base / f"{pack}-det.onnx"),
        rec_model=str(base / f"{pack}-rec.onnx"),
        rec_dict=str(base / f"{pack}-dict.txt"),
        threads=threads,
        **kwargs,
    )


def reading(page: dict[str, Any]) -> list[tuple[str, float, tuple[float, ...]]]:
    """Text, confidence and quad of every line: what must not change."""
    return [
        (line["text"], line["confidence"], tuple(np.ravel(line["quad"]).tolist()))
        for line in page["lines"]
    ]


@pytest.fixture(scope="module")
def page() -> np.ndarray:
    lines = testing.SAMPLE_TEXT["en"] + testing.SAMPLE_TEXT["fr"]
    return testing.render_page(lines).image


@pytest.fixture(scope="module")
def line() -> np.ndarray:
    return testing.render_line(testing.SAMPLE_TEXT["en"][0])


@pytest.fixture(scope="module")
def reference(page: np.ndarray, line: np.ndarray) -> dict[str, Any]:
    """Readings of a pipeline whose sessions were all created up front (warmup)."""
    p = make_pipeline(2)
    p.warmup()
    assert p.sessions_created == 3
    out = {"page": reading(p.run(page)), "line": reading(p.run(line))}
    p.close()
    assert out["page"]
    assert out["line"]
    return out


def test_a_line_creates_no_second_session(
    page: np.ndarray, line: np.ndarray, reference: dict[str, Any]
) -> None:
    p = make_pipeline(2)
    assert p.sessions_created == 2  # the detector and the recogniser's session for lone lines
    assert reading(p.run(line)) == reference["line"]
    assert p.sessions_created == 2
    # A page pairs batches up on the pool: the one-thread session is created now.
    assert reading(p.run(page)) == reference["page"]
    assert p.sessions_created == 3
    assert reading(p.run(line)) == reference["line"]
    p.close()


def test_one_thread_has_one_session_per_recogniser(
    page: np.ndarray, reference: dict[str, Any]
) -> None:
    p = make_pipeline(1)
    assert p.sessions_created == 2
    assert reading(p.run(page)) == reference["page"]
    p.warmup()
    assert p.sessions_created == 2
    p.close()


def test_fast_mode_creates_each_recognisers_sessions_on_first_use(page: np.ndarray) -> None:
    small = PACKS / "ppocrv6-small"
    p = make_pipeline(
        2,
        pack="ppocrv6-tiny",
        fallback_rec_model=str(small / "ppocrv6-small-rec.onnx"),
        fallback_rec_dict=str(small / "ppocrv6-small-dict.txt"),
    )
    assert p.sessions_created == 3  # the detector and one session per recogniser
    first = reading(p.run(page))
    assert 4 <= p.sessions_created <= 5
    p.warmup()
    assert p.sessions_created == 5
    assert reading(p.run(page)) == first
    p.close()


def test_threads_creating_the_session_at_once_read_the_same(
    page: np.ndarray, reference: dict[str, Any]
) -> None:
    p = make_pipeline(2)
    callers = 4
    start = threading.Barrier(callers)
    results: list[Any] = [None] * callers

    def read(k: int) -> None:
        start.wait(timeout=60)
        try:
            results[k] = reading(p.run(page))
        except Exception as exc:  # noqa: BLE001  (the assertion below names it)
            results[k] = exc

    threads = [threading.Thread(target=read, args=(k,)) for k in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads)
    assert all(r == reference["page"] for r in results), results
    assert p.sessions_created == 3
    p.close()


def test_engine_releases_a_session_created_on_first_use(
    tmp_path: Path, page: np.ndarray, line: np.ndarray, reference: dict[str, Any]
) -> None:
    ai = OcrAI(tmp_path / "models", threads=2, orientation="off")
    ai.recognize(line)
    with ai._using() as pipeline:
        assert pipeline.sessions_created == 2
    assert [ln.text for ln in ai.recognize(page).lines] == [t for t, _, _ in reference["page"]]
    with ai._using() as pipeline:
        assert pipeline.sessions_created == 3
    ai.free_resources()
    assert pipeline.closed  # every session with it (RSS: tests/test_memory.py)


def _fallback_pipeline(**kwargs: Any) -> Any:
    small = PACKS / "ppocrv6-small"
    return make_pipeline(
        2,
        pack="ppocrv6-tiny",
        fallback_rec_model=str(small / "ppocrv6-small-rec.onnx"),
        fallback_rec_dict=str(small / "ppocrv6-small-dict.txt"),
        **kwargs,
    )


def test_a_fallback_on_first_use_waits_for_its_first_reread(page: np.ndarray) -> None:
    eager = _fallback_pipeline()
    expected = reading(eager.run(page))
    eager.close()
    p = _fallback_pipeline(fallback_on_first_use=True)
    assert p.sessions_created == 2  # the detector and the tiny recogniser's
    # A line the tiny recogniser reads surely: nothing to re-read, nothing created.
    sure = testing.render_line("Invoice 2026", font_size=40)
    read = p.run(sure)["lines"]
    assert [line["model"] for line in read] == ["primary"]
    assert p.sessions_created == 2
    # The page has lines it doubts: the small recogniser's session now, same readings.
    result = p.run(page)
    assert any(line["model"] == "fallback" for line in result["lines"])
    assert reading(result) == expected
    assert p.sessions_created >= 3
    p.close()


def test_a_fallback_on_first_use_is_checked_at_its_first_reread(page: np.ndarray) -> None:
    tiny = PACKS / "ppocrv6-tiny"
    # The tiny recogniser as the fallback of a small dictionary: refused when it is created.
    p = make_pipeline(
        2,
        fallback_rec_model=str(tiny / "ppocrv6-tiny-rec.onnx"),
        fallback_rec_dict=str(PACKS / "ppocrv6-small" / "ppocrv6-small-dict.txt"),
        fallback_on_first_use=True,
    )
    noisy = testing.render_page(testing.SAMPLE_TEXT["en"], noise=25.0, font_size=20).image
    for _ in range(2):  # and again: a failed creation is not kept
        with pytest.raises(ModelError, match=r"ppocrv6-small-dict\.txt.*ppocrv6-tiny-rec"):
            p.run(noisy, options={"fallback_threshold": 1.0})
    # the detector and the small recogniser's two (the page paired its batches up); no
    # fallback session was kept
    assert p.sessions_created == 3
    p.close()


def _checked_pipeline(**kwargs: Any) -> Any:
    """Fast mode's pair with a check between them: the tiny recogniser checked by itself
    (the engine's check is the fp32 model an int8 one was derived from; the same model makes
    what the check does visible: the same readings, marked)."""
    tiny = PACKS / "ppocrv6-tiny"
    return _fallback_pipeline(check_rec_model=str(tiny / "ppocrv6-tiny-rec.onnx"), **kwargs)


def test_the_check_rereads_the_lines_its_gate_doubts(page: np.ndarray) -> None:
    plain = _fallback_pipeline()
    expected = plain.run(page)
    plain.close()
    assert expected["models"]["check"] is None
    assert not any(line["checked"] for line in expected["lines"])
    p = _checked_pipeline(fallback_on_first_use=True)
    assert p.sessions_created == 2  # the detector and the tiny recogniser's
    # check_threshold 1: every line read below certainty is checked.
    everything = p.run(page, options={"check_threshold": 1.0})
    assert everything["models"]["check"] == "ppocrv6-tiny-rec.onnx"
    assert any(line["checked"] for line in everything["lines"])
    assert all(line["checked"] for line in everything["lines"] if line["confidence"] < 1.0)
    # The check's reading goes on to the fallback's gate as the first reading would have.
    assert reading(everything) == reading(expected)
    assert [line["model"] for line in everything["lines"]] == [
        line["model"] for line in expected["lines"]
    ]
    assert p.sessions_created >= 4  # and the check's session now
    sure = testing.render_line("Invoice 2026", font_size=40)
    read = p.run(sure, options={"check_threshold": 0.5})["lines"]
    assert [(line["checked"], line["model"]) for line in read] == [(False, "primary")]
    with pytest.raises(ValueError, match="check_threshold must be in"):
        p.run(sure, options={"check_threshold": 1.5})
    p.close()


def test_a_check_on_first_use_is_checked_at_its_first_reread() -> None:
    small = PACKS / "ppocrv6-small"
    # The small recogniser as the check of the tiny one: refused when it is created, by name.
    p = _fallback_pipeline(
        check_rec_model=str(small / "ppocrv6-small-rec.onnx"), fallback_on_first_use=True
    )
    sure = testing.render_line("Invoice 2026", font_size=40)
    for _ in range(2):  # and again: a failed creation is not kept
        with pytest.raises(ModelError, match=r"ppocrv6-tiny-dict\.txt.*ppocrv6-small-rec"):
            p.run(sure, options={"check_threshold": 1.0})
    p.close()
