"""ocrai on Ray Data (`ocrai.ray`), on a local Ray of 2 CPUs bound to 127.0.0.1: the same
pages and bad files as the Dask tests, texts equal to a local run's, every page exactly
once, bad files reported with their reasons, engines freed when the pool shuts down, and a
page that aborts its actor (the test-only hook) failing alone while the job completes."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

from ocrai.batch import ABORT_ENV, PageRecord, ReaderConfig

pytestmark = [
    pytest.mark.models,
    pytest.mark.slow,
    # Ray Data warns about its own deprecated settings when its context is touched.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

ABORT_MARKER = "ABORT-ACTOR"
CONFIG = ReaderConfig(pack="ppocrv6-tiny")


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    events = tmp_path_factory.mktemp("ray-events")
    env = {ABORT_ENV: ABORT_MARKER, "OCRAI_TEST_EVENTS": str(events)}
    for name in ("OCRAI_MODEL_DIR", "PYTHONPATH"):
        if name in os.environ:
            env[name] = os.environ[name]
    ray.init(
        num_cpus=2,
        _node_ip_address="127.0.0.1",
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": env},
    )
    try:
        yield events
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ocrai.testing import render_page

    root = tmp_path_factory.mktemp("ray-pages")
    texts = [f"Delivery {200 + k} of paper boxes" for k in range(7)]
    images = [Image.fromarray(render_page([t], font_size=30).image) for t in texts]
    for k, image in enumerate(images[:3]):
        image.save(root / f"page{k}.png")
    images[3].save(root / "multi.tif", save_all=True, append_images=images[4:6])
    images[6].save(root / "doc.pdf", save_all=True, append_images=images[:1])
    (root / "corrupt.png").write_bytes((root / "page0.png").read_bytes()[:300])
    (root / "empty.png").write_bytes(b"")
    (root / "notes.jpg").write_text("not a scan", encoding="utf-8")
    return root


def _local(folder: Path) -> dict[tuple[str, int], str]:
    from ocrai import OcrAI
    from ocrai.batch import PageReader, expand_source

    with OcrAI(pack="ppocrv6-tiny", threads=1) as engine:
        reader = PageReader(CONFIG, engine=engine)
        texts = {}
        for path in sorted(folder.iterdir()):
            for task in expand_source(str(path)):
                record = reader.read(task)
                if record.ok:
                    texts[record.key] = record.text
    return texts


def test_ray_data_equals_local_mode(local_ray: Path, folder: Path) -> None:
    import cloudpickle

    from ocrai import ray as ocrai_ray

    expected = _local(folder)
    assert len(expected) == 3 + 3 + 2

    class Recording(ocrai_ray.RayPageReader):
        def close(self) -> None:
            freed = self.reader.loaded
            super().close()
            if freed:
                marker = Path(os.environ["OCRAI_TEST_EVENTS"]) / f"freed-{os.getpid()}"
                marker.write_text(str(self.reader.pages_read), encoding="utf-8")

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        sources = sorted(str(p) for p in folder.iterdir())
        records = list(
            ocrai_ray.read_pages(sources, config=CONFIG, workers=2, reader_class=Recording)
        )
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert all(n == 1 for n in Counter(r.key for r in records).values())
    assert {r.key: r.text for r in records if r.ok} == expected
    bad = {Path(r.source).name: r for r in records if not r.ok}
    assert sorted(bad) == ["corrupt.png", "empty.png", "notes.jpg"]
    assert "empty input (0 bytes)" in (bad["empty.png"].error_message or "")
    assert "cannot decode the image" in (bad["corrupt.png"].error_message or "")
    assert "not an image in a supported format" in (bad["notes.jpg"].error_message or "")
    # Engines freed when the pool shut down: each actor that loaded one left its marker,
    # and the pages they read add up.
    workers = {r.worker for r in records if r.ok}
    deadline = time.monotonic() + 60  # the pool shuts down after the last row, in the background
    while len(list(local_ray.glob("freed-*"))) < len(workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    freed = list(local_ray.glob("freed-*"))
    assert {f"freed-{w.rsplit(':', 1)[1]}" for w in workers} == {p.name for p in freed}
    assert sum(int(p.read_text("utf-8")) for p in freed) == len(expected)


def test_a_page_that_aborts_its_actor_fails_alone(local_ray: Path, folder: Path) -> None:
    from ocrai import ray as ocrai_ray

    sources = [str(folder / f"page{k}.png") for k in range(3)]
    bad = folder.parent / f"{ABORT_MARKER}.png"
    bad.write_bytes((folder / "page0.png").read_bytes())
    sources.insert(1, str(bad))
    records: list[PageRecord] = list(
        ocrai_ray.read_pages(sources, config=CONFIG, workers=2, max_restarts=1, max_task_retries=1)
    )
    assert sorted(r.source for r in records) == sorted(sources)
    failed = [r for r in records if not r.ok]
    assert [r.source for r in failed] == [str(bad)]
    assert failed[0].error_type == "WorkerDied"
    assert "the Ray actor reading this page died" in (failed[0].error_message or "")
