"""The OcrAI engine: construction, model files, thread budget, lifecycle and release."""

from __future__ import annotations

import contextlib
import gc
import os
import random
import threading
import time
import weakref
from pathlib import Path

import numpy as np
import pytest

import ocrai
from ocrai import OcrAI, engine
from ocrai.models import ModelStore
from ocrai.results import Page
from ocrai.testing import SAMPLE_TEXT, render_line, render_page

pytestmark = pytest.mark.models

SMALL = ["ppocrv6-small-det.onnx", "ppocrv6-small-dict.txt", "ppocrv6-small-rec.onnx"]


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"


# --- construction -----------------------------------------------------------------------


def test_construction_installs_the_default_pack_and_loads_nothing(model_dir: Path) -> None:
    ai = OcrAI(model_dir)
    try:
        assert ai.get_local_path() == str(model_dir)
        assert ai.list_local() == SMALL
        assert not ai.loaded
        assert not ai.released
        assert ai.pack == "ppocrv6-small"
        assert ai.model_files == {
            "det_model": str(model_dir / "ppocrv6-small-det.onnx"),
            "rec_model": str(model_dir / "ppocrv6-small-rec.onnx"),
            "rec_dict": str(model_dir / "ppocrv6-small-dict.txt"),
        }
        assert all(m.in_use for m in ai.models())
        assert all(v.status == "ok" for v in ai.verify())
        assert "not loaded" in repr(ai)
    finally:
        ai.free_resources()


def test_fast_and_classifier_choose_their_files(model_dir: Path) -> None:
    with OcrAI(model_dir, fast=True, classify="auto") as ai:
        assert ai.pack == "ppocrv6-tiny"
        files = {role: Path(p).name for role, p in ai.model_files.items()}
        assert files == {
            "det_model": "ppocrv6-tiny-det.onnx",
            "rec_model": "ppocrv6-tiny-rec.onnx",
            "rec_dict": "ppocrv6-tiny-dict.txt",
            "fallback_rec_model": "ppocrv6-small-rec.onnx",
            "fallback_rec_dict": "ppocrv6-small-dict.txt",
            "cls_model": "ppocrv5-cls.onnx",
        }
        # Only the files it needs were installed (not the small detector).
        assert ai.list_local() == sorted(files.values())


def test_no_auto_install(model_dir: Path) -> None:
    with OcrAI(model_dir, auto_install=False) as ai:
        assert ai.list_local() == []
        with pytest.raises(
            FileNotFoundError,
            match=r"ppocrv6-small-det\.onnx is missing from .*`ocrai models install ppocrv6-small`",
        ):
            ai.warmup()
        assert not ai.loaded


def test_a_removed_model_is_reported_with_the_fix(model_dir: Path) -> None:
    with OcrAI(model_dir) as ai:
        ai.store.remove("ppocrv6-small-rec.onnx", force=True)
        with pytest.raises(FileNotFoundError, match=r"ppocrv6-small-rec\.onnx is missing"):
            ai.warmup()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"threads": 0}, ValueError, "threads must be >= 1"),
        ({"threads": "2"}, TypeError, "threads must be a positive int"),
        ({"threads": True}, TypeError, "threads must be a positive int"),
        ({"pack": "ppocrv9"}, ValueError, "unknown model pack 'ppocrv9'"),
        ({"classify": "always"}, ValueError, "classify must be one of"),
    ],
)
def test_bad_arguments(
    model_dir: Path, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        OcrAI(model_dir, **kwargs)  # type: ignore[arg-type]


# --- thread budget ----------------------------------------------------------------------


def test_thread_budget_shares_the_cores(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gc.collect()  # engines of earlier tests that are only waiting for collection
    already = engine._budget.reserved()
    monkeypatch.setattr(engine, "available_cores", lambda: already + 4)
    a = OcrAI(model_dir)
    b = OcrAI(model_dir)
    c = OcrAI(model_dir, threads=3)  # honoured as given
    assert (a.threads, b.threads, c.threads) == (4, 1, 3)
    a.free_resources()
    c.free_resources()
    d = OcrAI(model_dir)
    assert d.threads == 3  # a's and c's shares came back; b still holds one
    b.free_resources()
    d.free_resources()
    assert engine._budget.reserved() == already


def test_available_cores_follows_the_affinity() -> None:

    assert engine.available_cores() == len(os.sched_getaffinity(0))


# --- release ----------------------------------------------------------------------------


def test_free_resources_is_idempotent_and_final(model_dir: Path) -> None:
    ai = OcrAI(model_dir)
    ai.free_resources()
    ai.free_resources()
    assert ai.released
    assert "released" in repr(ai)
    for call in (
        lambda: ai.recognize(b"anything"),
        lambda: ai.recognize_many([b"anything"]),
        ai.warmup,
    ):
        with pytest.raises(ocrai.ResourcesReleasedError, match=r"free_resources\(\).*new OcrAI"):
            call()
    assert issubclass(ocrai.ResourcesReleasedError, RuntimeError)
    # The model store keeps working: it only touches files.
    assert ai.list_local() == SMALL
    assert ai.get_local_path() == str(model_dir)
    assert not any(m.in_use for m in ai.models())


def test_files_in_use_are_removable_once_released(model_dir: Path) -> None:
    ai = OcrAI(model_dir)
    with pytest.raises(PermissionError, match="in use by a live OcrAI"):
        ai.remove("ppocrv6-small-dict.txt")
    with pytest.raises(PermissionError):
        ModelStore(model_dir).remove("ppocrv6-small-dict.txt")
    ai.free_resources()
    assert ai.remove("ppocrv6-small-dict.txt") == str(model_dir / "ppocrv6-small-dict.txt")
    assert "ppocrv6-small-dict.txt" not in ai.list_local()


def test_with_statement_releases(model_dir: Path) -> None:
    with OcrAI(model_dir) as ai:
        assert not ai.released
    assert ai.released


def test_garbage_collected_engine_releases(model_dir: Path) -> None:
    gc.collect()
    before = engine._budget.reserved()
    ai = OcrAI(model_dir)
    assert engine._budget.reserved() > before
    ref = weakref.ref(ai)
    del ai
    gc.collect()
    assert ref() is None
    assert engine._budget.reserved() == before
    assert not any(m.in_use for m in ModelStore(model_dir).models())


# --- the release lock, deterministically (a pipeline that blocks until told) -------------


class BlockingPipeline:
    """Stands in for the native pipeline to order events exactly: `run` blocks until
    `proceed` is set; `close` records when it ran."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.proceed = threading.Event()
        self.events: list[str] = []
        self.closed = False

    def run(self) -> str:
        self.entered.set()
        assert self.proceed.wait(10)
        self.events.append("run finished")
        return "page"

    def close(self) -> None:
        self.events.append("closed")
        self.closed = True


def test_free_waits_for_calls_in_flight_and_later_calls_raise(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = BlockingPipeline()
    monkeypatch.setattr(OcrAI, "_create_pipeline", lambda self: fake)
    ai = OcrAI(model_dir)
    results: list[object] = []

    def call() -> None:
        try:
            with ai._using() as pipeline:
                results.append(pipeline.run())
        except ocrai.ResourcesReleasedError as exc:
            results.append(exc)

    first = threading.Thread(target=call)
    first.start()
    assert fake.entered.wait(10)
    freer = threading.Thread(target=ai.free_resources)
    freer.start()
    # free_resources waits: the call in flight holds the engine.
    freer.join(0.2)
    assert freer.is_alive()
    assert fake.events == []
    # A call that starts now queues behind free_resources, then finds the engine released.
    late = threading.Thread(target=call)
    late.start()
    late.join(0.2)
    assert late.is_alive()
    fake.proceed.set()
    for t in (first, freer, late):
        t.join(10)
        assert not t.is_alive()
    assert fake.events == ["run finished", "closed"]
    assert results[0] == "page"
    assert isinstance(results[1], ocrai.ResourcesReleasedError)
    assert ai.released
    assert ai._state.pipeline is None


def test_many_readers_run_together(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inside = threading.Barrier(4, timeout=10)

    class Concurrent:
        def run(self) -> None:
            inside.wait()  # only passes when all four calls are inside at once

        def close(self) -> None:
            pass

    monkeypatch.setattr(OcrAI, "_create_pipeline", lambda self: Concurrent())
    with OcrAI(model_dir) as ai:

        def call() -> None:
            with ai._using() as pipeline:
                pipeline.run()

        threads = [threading.Thread(target=call) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert not inside.broken


def test_the_pipeline_is_created_once(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[object] = []

    class Slow:
        def close(self) -> None:
            pass

    def create(self: OcrAI) -> Slow:
        time.sleep(0.05)
        created.append(self)
        return Slow()

    monkeypatch.setattr(OcrAI, "_create_pipeline", create)
    with OcrAI(model_dir) as ai:

        def call() -> None:
            with ai._using():
                pass

        threads = [threading.Thread(target=call) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert len(created) == 1
        assert ai.loaded


# --- with the native pipeline -----------------------------------------------------------

LINES = {
    "en": "Twelve boxes of paper were shipped on Monday.",
    "fr": "Le déjeuner coûte 14,90 € par élève.",
    "cs": "Čtvrtletní zpráva byla odeslána v úterý.",
}


@pytest.fixture(scope="module")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shared") / "models"
    store = ModelStore(path)
    store.ensure_pack("ppocrv6-small")
    store.ensure_pack("ppocrv6-tiny")
    return path


@pytest.fixture(scope="module")
def line_images() -> dict[str, np.ndarray]:
    return {lang: render_line(text, lang=lang) for lang, text in LINES.items()}


@pytest.fixture(scope="module")
def small_page() -> np.ndarray:
    return render_page(SAMPLE_TEXT["en"][:2], font_size=28).image


def comparable(page: Page) -> dict[str, object]:
    """Everything a page says except how long it took."""
    d = page.to_dict()
    del d["timings"]
    return d


def test_recognize_lines_and_pages(
    shared_dir: Path, line_images: dict[str, np.ndarray], small_page: np.ndarray
) -> None:
    with OcrAI(shared_dir) as ai:
        for lang, image in line_images.items():
            assert ai.recognize(image, detect=False).text == LINES[lang]
        assert ai.loaded
        assert "loaded" in repr(ai)
        page = ai.recognize(small_page)
        assert page.text == "\n".join(SAMPLE_TEXT["en"][:2])
        bgr = np.ascontiguousarray(small_page[:, :, ::-1])
        assert comparable(ai.recognize(bgr, order="bgr")) == comparable(page)
        with pytest.raises(ValueError, match="bogus"):
            ai.recognize(small_page, bogus=1)


def test_one_line_reading_cuts_a_loose_margin_to_the_text(
    shared_dir: Path, line_images: dict[str, np.ndarray]
) -> None:
    tight = line_images["cs"]  # the ink, and a margin of 12 px
    loose = np.full((300, 1400, 3), 250, np.uint8)
    top, left = (300 - tight.shape[0]) // 2, 150
    loose[top : top + tight.shape[0], left : left + tight.shape[1]] = tight
    ink = np.argwhere((np.abs(loose.astype(int) - 250) > 24).any(axis=2))
    (y0, x0), (y1, x1) = ink.min(axis=0), ink.max(axis=0) + 1
    # Grey paper darkening from left to right: no plain background, nothing is margin.
    shade = np.linspace(0, 80, loose.shape[1]).astype(np.uint8)[None, :, None]
    shaded = np.clip(loose.astype(int) - shade, 0, 255).astype(np.uint8)
    shaded = shaded[top - 20 : top + tight.shape[0] + 20]
    with OcrAI(shared_dir, precision="fp32") as ai:
        # Shrunk whole to the recogniser's 48 px, the loose field's text would be 6 px tall.
        line = ai.recognize(loose, detect=False).lines[0]
        assert line.text == LINES["cs"]
        bx0, by0, bx1, by1 = line.bbox
        pad = 0.3 * (y1 - y0)  # the margin the detector leaves
        assert (bx0, by0) == pytest.approx((x0 - pad, y0 - pad), abs=2)
        assert (bx1, by1) == pytest.approx((x1 + pad, y1 + pad), abs=2)
        # A line cut out tightly, and one on no plain background, are read whole.
        height, width = tight.shape[:2]
        assert ai.recognize(tight, detect=False).lines[0].bbox == (0, 0, width, height)
        line = ai.recognize(shaded, detect=False).lines[0]
        assert line.bbox == (0, 0, shaded.shape[1], shaded.shape[0])
        # With detection, the loose field is one lone line: read as detection off reads it,
        # with its calibrated confidence (the context of a line read whole), no detector.
        lone = ai.recognize(loose)
        whole = ai.recognize(loose, detect=False)
        assert lone.models.det is None
        assert lone.timings.detect == 0
        assert [(ln.text, ln.bbox, ln.confidence) for ln in lone.lines] == [
            (ln.text, ln.bbox, ln.confidence) for ln in whole.lines
        ]
        detected = ai.recognize(loose, lone_line=False)
        assert detected.models.det is not None
        assert detected.text == LINES["cs"]


def test_unsure_lines_of_a_page_are_left_out_unless_min_confidence_is_given(
    shared_dir: Path,
    line_images: dict[str, np.ndarray],
    small_page: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with OcrAI(shared_dir, precision="fp32") as ai:
        every = ai.recognize(small_page, min_confidence=0)
        assert len(every.lines) == 2
        assert min(line.raw_confidence or 0 for line in every.lines) >= engine.UNSURE_LINE
        assert ai.recognize(small_page).text == every.text  # sure lines all stay
        monkeypatch.setattr(engine, "UNSURE_LINE", 1.01)  # every line is unsure now
        assert ai.recognize(small_page).lines == ()
        assert ai.recognize(small_page, min_confidence=0).text == every.text
        assert ai.recognize(line_images["en"], detect=False).text == LINES["en"]
    with OcrAI(shared_dir, precision="fp32", options={"min_confidence": 0.0}) as ai:
        assert ai.recognize(small_page).text == every.text


def test_warmup_loads_every_model_and_keeps_no_file_open(shared_dir: Path) -> None:
    ai = OcrAI(shared_dir, fast=True, classify="auto")
    assert ai.warmup() is ai
    assert ai.loaded
    fd_dir = Path("/proc/self/fd")
    targets = []
    for fd in fd_dir.iterdir():
        with contextlib.suppress(OSError):
            targets.append(str(fd.readlink()))
    assert not [t for t in targets if t.startswith(str(shared_dir))]
    pipeline = ai._state.pipeline
    ai.free_resources()
    assert pipeline.closed


def test_a_corrupt_model_raises_model_error_naming_it(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    store.install("ppocrv6-tiny")
    rec = tmp_path / "ppocrv6-tiny-rec.onnx"
    data = bytearray(rec.read_bytes())
    data[100:4000] = bytes(3900)  # same size: construction does not notice, loading does
    rec.write_bytes(bytes(data))
    with OcrAI(tmp_path, pack="ppocrv6-tiny") as ai:
        with pytest.raises(ocrai.ModelError, match=r"ppocrv6-tiny-rec\.onnx"):
            ai.warmup()
        assert not ai.loaded
    assert [v.name for v in store.verify() if v.status == "corrupt"] == [rec.name]
    # A damaged file of the wrong size is repaired from the bundle by the next engine.
    rec.write_bytes(bytes(data[:1000]))
    with OcrAI(tmp_path, pack="ppocrv6-tiny") as ai:
        ai.warmup()
    assert all(v.status == "ok" for v in store.verify())


def test_a_dictionary_that_does_not_fit_raises_model_error(shared_dir: Path) -> None:
    with (
        OcrAI(shared_dir, rec_dict="ppocrv6-tiny-dict.txt") as ai,
        pytest.raises(
            ocrai.ModelError,
            match=r"ppocrv6-tiny-dict\.txt.*ppocrv6-small-rec\.onnx|"
            r"ppocrv6-small-rec\.onnx.*ppocrv6-tiny-dict\.txt",
        ),
    ):
        ai.warmup()


def test_recognize_many_keeps_input_order(
    shared_dir: Path, line_images: dict[str, np.ndarray]
) -> None:
    images = list(line_images.values()) * 3
    with OcrAI(shared_dir, pack="ppocrv6-tiny") as ai:
        expected = [comparable(ai.recognize(im, detect=False)) for im in images]
        for workers in (None, 1, 3):
            got = ai.recognize_many(iter(images), detect=False, workers=workers)
            assert [comparable(p) for p in got] == expected
        # Closing early stops the work; the engine stays usable.
        many = ai.recognize_many(images, detect=False)
        assert comparable(next(many)) == expected[0]
        many.close()
        assert comparable(ai.recognize(images[1], detect=False)) == expected[1]
        # An image that cannot be read raises at its turn, after the ones before it.
        mixed = ai.recognize_many([images[0], b"not an image", images[1]], detect=False)
        assert comparable(next(mixed)) == expected[0]
        with pytest.raises(ocrai.ImageError):
            next(mixed)
        with pytest.raises(ValueError, match="workers must be >= 1"):
            ai.recognize_many(images, workers=0)


def test_eight_threads_share_one_engine(
    shared_dir: Path, line_images: dict[str, np.ndarray], small_page: np.ndarray
) -> None:
    work: list[tuple[np.ndarray, bool]] = [(im, False) for im in line_images.values()]
    work.append((small_page, True))
    with OcrAI(shared_dir, pack="ppocrv6-tiny") as ai:
        reference = [comparable(ai.recognize(im, detect=d)) for im, d in work]
        assert all(r["text"] for r in reference)
        results: dict[int, list[tuple[int, dict[str, object]]]] = {}

        def worker(seed: int) -> None:
            order = list(range(len(work)))
            random.Random(seed).shuffle(order)
            results[seed] = [
                (i, comparable(ai.recognize(work[i][0], detect=work[i][1]))) for i in order * 2
            ]

        threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        assert sorted(results) == list(range(8))
        for got in results.values():
            assert len(got) == 2 * len(work)
            for i, page in got:
                assert page == reference[i]


def test_free_resources_midway_through_threaded_work(
    shared_dir: Path, line_images: dict[str, np.ndarray]
) -> None:
    images = list(line_images.values())
    ai = OcrAI(shared_dir, pack="ppocrv6-tiny")
    reference = [comparable(ai.recognize(im, detect=False)) for im in images]
    done = threading.Semaphore(0)
    outcomes: dict[int, list[object]] = {i: [] for i in range(8)}

    def worker(n: int) -> None:
        k = n
        while True:
            i = k % len(images)
            k += 1
            try:
                page = ai.recognize(images[i], detect=False)
            except ocrai.ResourcesReleasedError as exc:
                outcomes[n].append(exc)
                return
            except Exception as exc:  # noqa: BLE001 - any other error fails the asserts below
                outcomes[n].append(exc)
                return
            outcomes[n].append((i, comparable(page)))
            done.release()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for _ in range(12):  # let work be in flight, then pull the plug
        assert done.acquire(timeout=120)
    pipeline = ai._state.pipeline
    ai.free_resources()
    assert pipeline.closed
    for t in threads:
        t.join(120)
        assert not t.is_alive()
    for got in outcomes.values():
        *pages, last = got
        assert isinstance(last, ocrai.ResourcesReleasedError), last
        for i, page in pages:  # type: ignore[misc]
            assert page == reference[i]
    assert sum(len(got) - 1 for got in outcomes.values()) >= 12
    with pytest.raises(ocrai.ResourcesReleasedError):
        ai.recognize(images[0], detect=False)


def test_a_collected_engine_closes_its_pipeline(
    shared_dir: Path, line_images: dict[str, np.ndarray]
) -> None:
    ai = OcrAI(shared_dir, pack="ppocrv6-tiny")
    ai.recognize(line_images["en"], detect=False)
    pipeline = ai._state.pipeline
    del ai
    gc.collect()
    assert pipeline.closed


def test_custom_model_names_are_checked(model_dir: Path) -> None:
    gc.collect()
    before = engine._budget.reserved()
    for bad in ("../x.onnx", "/etc/x.onnx", "a/b.onnx"):
        with pytest.raises(ValueError, match="invalid model name"):
            OcrAI(model_dir, det_model=bad)
    assert engine._budget.reserved() == before


def test_heap_trim_threshold_is_low_while_pipelines_are_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ocrai import _core

    # glibc's malloc takes it; AddressSanitizer's allocator (scripts/sanitize.sh) answers no.
    glibc = not ocrai.build_info()["sanitizers"]
    assert _core.ort.set_heap_trim_threshold(64 << 20) is glibc
    calls: list[object] = []
    monkeypatch.setattr(_core.ort, "set_heap_trim_threshold", calls.append)
    monkeypatch.setattr(_core.ort, "trim_native_heap", lambda: calls.append("trim"))
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    heap = engine._NativeHeap()
    heap.pipeline_loading()
    heap.pipeline_loading()
    heap.pipeline_released()
    heap.pipeline_released()
    assert calls == [128 << 10, "trim", "trim", 64 << 20]
    # A threshold the user chose is left alone; releases still trim.
    calls.clear()
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000000")
    heap.pipeline_loading()
    heap.pipeline_released()
    assert calls == ["trim"]
