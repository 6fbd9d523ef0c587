"""ocrai on a real Dask cluster: a ``dask scheduler`` process and two ``dask worker
--nthreads 1`` processes on 127.0.0.1, started and stopped by a fixture, as separate
machines would run them. The CLI and the Python API read rendered pages and bad files
through it: texts equal to a local run's, every page exactly once, bad files reported
with their reasons, engines freed; a worker SIGKILLed mid-job and a page that aborts its
worker (the test-only hook) do not stop the job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

distributed = pytest.importorskip("distributed")

from ocrai.batch import ABORT_ENV, PageRecord, ReaderConfig
from ocrai.cli import main

pytestmark = [pytest.mark.models, pytest.mark.slow]

ABORT_MARKER = "ABORT-WORKER"
BAD = {
    "corrupt.png": "cannot decode the image",
    "empty.png": "empty input (0 bytes)",
    "notes.jpg": "not an image in a supported format",
}
# Small pages keep the test short; the benchmark reads full ones.
CONFIG = ReaderConfig(pack="ppocrv6-tiny")


def _texts(n: int) -> list[list[str]]:
    words = ["Invoice", "Monday", "paper", "boxes", "total", "shipped", "twelve", "Friday"]
    return [[f"{words[i % 8]} {100 + i} {words[(3 * i + 1) % 8]}"] for i in range(n)]


@pytest.fixture(scope="module")
def pages_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rendered single pages, a 3-page TIFF, a 2-page PDF and three bad files."""
    from ocrai.testing import render_page

    folder = tmp_path_factory.mktemp("pages")
    images = [Image.fromarray(render_page(t, font_size=30).image) for t in _texts(9)]
    for k, image in enumerate(images[:4]):
        image.save(folder / f"page{k}.png")
    images[4].save(folder / "multi.tif", save_all=True, append_images=images[5:7])
    images[7].save(folder / "doc.pdf", save_all=True, append_images=images[8:9])
    (folder / "corrupt.png").write_bytes((folder / "page0.png").read_bytes()[:300])
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.jpg").write_text("meeting notes, not a scan", encoding="utf-8")
    return folder


PAGES = {"page0": 1, "page1": 1, "page2": 1, "page3": 1, "multi": 3, "doc": 2}


@pytest.fixture(scope="module")
def local_texts(pages_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The local run (one process) that the cluster must equal: texts per output."""
    out = tmp_path_factory.mktemp("local")
    status = main(["read", str(pages_folder), "-o", str(out), "-f", "json", "--pack", "tiny"])
    assert status == 1
    return _read_outputs(out)


def _read_outputs(out: Path) -> dict[str, list[tuple[int, str]]]:
    result = {}
    for path in sorted(out.iterdir()):
        pages = json.loads(path.read_text("utf-8"))["pages"]
        result[path.stem] = [(p["page"], p["text"]) for p in pages]
    return result


class Cluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.scheduler_file = root / "scheduler.json"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}

    def start(self, name: str, *args: str, env: dict[str, str]) -> None:
        log = self.root / f"{name}.log"
        self.logs[name] = log
        with log.open("wb") as file:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "dask", *args],
                stdout=file,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.root,
            )

    @property
    def address(self) -> str:
        return str(json.loads(self.scheduler_file.read_text("utf-8"))["address"])

    def stop(self, name: str, timeout: float = 30) -> int | None:
        process = self.processes[name]
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        return process.returncode

    def log(self, name: str) -> str:
        return self.logs[name].read_text("utf-8", errors="replace")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, local_texts: Any) -> Iterator[Cluster]:
    """A scheduler and two single-thread workers, each a process of its own (with a nanny
    that restarts a worker that dies). The scheduler allows one worker death per task and
    hands each worker one task at a time; the workers abort on pages named ABORT-WORKER."""
    root = tmp_path_factory.mktemp("cluster")
    env = dict(os.environ)
    env[ABORT_ENV] = ABORT_MARKER
    env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = "1"
    env["DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION"] = "1.0"
    env["PYTHONUNBUFFERED"] = "1"
    found = Cluster(root)
    found.start(
        "scheduler",
        "scheduler",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--no-dashboard",
        "--scheduler-file",
        str(found.scheduler_file),
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not found.scheduler_file.exists():
            assert found.processes["scheduler"].poll() is None, found.log("scheduler")
            assert time.monotonic() < deadline, "the scheduler did not start in 60 s"
            time.sleep(0.1)
        for name in ("worker-a", "worker-b"):
            found.start(
                name,
                "worker",
                found.address,
                "--nthreads",
                "1",
                "--name",
                name,
                "--host",
                "127.0.0.1",
                "--no-dashboard",
                "--local-directory",
                str(root / name),
                env=env,
            )
        with distributed.Client(found.address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
        yield found
    finally:
        for name in reversed(list(found.processes)):
            found.stop(name)


@pytest.fixture
def client(cluster: Cluster) -> Iterator[Any]:
    with distributed.Client(cluster.address, timeout="30s") as c:
        c.wait_for_workers(2, timeout=90)
        yield c


def _freed_events(client: Any, since: float) -> list[dict[str, Any]]:
    return [
        msg
        for stamp, msg in client.get_events("ocrai")
        if stamp >= since and msg.get("action") == "engine-freed"
    ]


def test_cli_on_a_scheduler_equals_local_mode(
    cluster: Cluster,
    pages_folder: Path,
    local_texts: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    since = time.time()
    out = tmp_path / "out"
    argv = ["read", str(pages_folder), "-o", str(out), "-f", "json", "--pack", "tiny"]
    status = main([*argv, "--scheduler", cluster.address])
    err = capsys.readouterr().err
    assert status == 1
    outputs = _read_outputs(out)
    assert outputs == local_texts  # texts equal, pages in order, each page once
    assert {name: len(pages) for name, pages in outputs.items()} == PAGES
    for name, reason in BAD.items():
        assert f"ocrai: {pages_folder / name}: {reason}" in err
    assert err.endswith(f"ocrai: {len(BAD)} of {len(PAGES) + len(BAD)} inputs failed\n")
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file
    # The CLI releases the engines when it is done: each worker reports its engine freed.
    with distributed.Client(cluster.address, timeout="30s") as client:
        deadline = time.monotonic() + 30
        while len(_freed_events(client, since)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        freed = _freed_events(client, since)
        workers = set(client.scheduler_info(n_workers=-1)["workers"])
    assert {e["worker"] for e in freed} == workers
    assert sum(e["pages"] for e in freed) == sum(PAGES.values())  # pages read, bad ones aside

    # --resume: nothing left to read but the bad files, which fail again.
    status = main([*argv, "--scheduler", cluster.address, "--resume"])
    err = capsys.readouterr().err
    assert status == 1
    assert f"ocrai: skipped {len(PAGES)} inputs whose outputs exist (--resume)" in err
    assert err.endswith(f"ocrai: {len(BAD)} of {len(BAD)} inputs failed\n")


def test_searchable_pdfs_on_a_scheduler(
    cluster: Cluster, pages_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # -f pdf needs each source itself beside its pages: the client's writer makes the PDF
    # from the source once the workers' records are in, as in local mode.
    pypdfium2 = pytest.importorskip("pypdfium2")
    pytest.importorskip("pikepdf")
    good = [pages_folder / "page0.png", pages_folder / "multi.tif", pages_folder / "doc.pdf"]
    argv = ["read", *map(str, good), "-f", "pdf", "--pack", "tiny"]
    assert main([*argv, "-o", str(tmp_path / "local")]) == 0
    assert main([*argv, "-o", str(tmp_path / "cluster"), "--scheduler", cluster.address]) == 0
    capsys.readouterr()

    def texts(folder: Path) -> dict[str, list[str]]:
        result = {}
        for path in sorted(folder.glob("*.pdf")):
            document = pypdfium2.PdfDocument(path)
            try:
                pages = [document[k].get_textpage().get_text_range() for k in range(len(document))]
            finally:
                document.close()
            result[path.stem] = [" ".join(text.split()) for text in pages]
        return result

    local, clustered = texts(tmp_path / "local"), texts(tmp_path / "cluster")
    assert clustered == local
    assert {name: len(pages) for name, pages in clustered.items()} == {
        "page0": 1,
        "multi": 3,
        "doc": 2,
    }
    assert all(text for pages in clustered.values() for text in pages)


def test_python_api_streams_each_page_once(
    client: Any, pages_folder: Path, local_texts: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ocrai.dask import read_pages

    submitted: list[Any] = []
    submit = client.submit

    def counting(*args: Any, **kwargs: Any) -> Any:
        future = submit(*args, **kwargs)
        submitted.append(future)
        return future

    monkeypatch.setattr(client, "submit", counting)
    sources = sorted(str(p) for p in pages_folder.iterdir())
    records = []
    for record in read_pages(client, sources, config=CONFIG, window=2):
        records.append(record)
        assert len(submitted) - len(records) <= 2  # never more than the window in flight
    keys = Counter(r.key for r in records)
    assert all(n == 1 for n in keys.values())
    assert len(records) == sum(PAGES.values()) + len(BAD)
    by_name: dict[str, list[PageRecord]] = {}
    for r in records:
        by_name.setdefault(Path(r.source).stem, []).append(r)
    for name, expected in local_texts.items():
        got = sorted(by_name[name], key=lambda r: r.page)
        assert [(r.page, r.text) for r in got] == expected
        assert all(r.ok and r.pages == PAGES[name] for r in got)
        assert [p.page for r in got for p in [r.to_page()]] == list(range(PAGES[name]))
    for name, reason in BAD.items():
        (bad,) = by_name[Path(name).stem]
        assert bad.error_type == "ImageError"
        assert reason in (bad.error_message or "")
    assert len({r.worker for r in records}) == 2  # both workers read pages


def test_the_bag_entry(client: Any, pages_folder: Path, local_texts: dict[str, Any]) -> None:
    from ocrai.dask import read_bag

    sources = [str(pages_folder / "multi.tif"), str(pages_folder / "empty.png")]
    records = read_bag(sources, client=client, config=CONFIG, npartitions=3).compute()
    assert sorted((r.page, r.text) for r in records if r.ok) == local_texts["multi"]
    assert [r.error_type for r in records if not r.ok] == ["ImageError"]


def test_workers_open_urls_themselves(
    client: Any, pages_folder: Path, local_texts: dict[str, Any]
) -> None:
    """A ``file://`` URL stands for any fsspec URL (s3://...): the workers fetch it."""
    from ocrai.dask import read_pages

    url = (pages_folder / "doc.pdf").as_uri()
    records = sorted(read_pages(client, [url], config=CONFIG), key=lambda r: r.page)
    assert [(r.source, r.page) for r in records] == [(url, 0), (url, 1)]
    assert [(r.page, r.text) for r in records] == local_texts["doc"]


def _worker_pids(client: Any) -> dict[str, int]:
    info = client.scheduler_info(n_workers=-1)["workers"]
    pids = client.run(os.getpid)
    return {info[address]["name"]: int(pid) for address, pid in pids.items()}


def test_sigkill_of_a_worker_mid_job(client: Any, pages_folder: Path, tmp_path: Path) -> None:
    """One worker process is killed after the first pages: its nanny restarts it, the
    tasks it held run again, and every page comes back exactly once."""
    from ocrai.dask import read_pages

    copies = []
    for k in range(16):
        target = tmp_path / f"copy{k:02d}.png"
        target.write_bytes((pages_folder / f"page{k % 4}.png").read_bytes())
        copies.append(str(target))
    victim = _worker_pids(client)["worker-b"]
    records = []
    for record in read_pages(client, copies, config=CONFIG):
        records.append(record)
        if len(records) == 3:
            os.kill(victim, signal.SIGKILL)
    assert sorted(r.source for r in records) == copies  # every page, once
    assert all(r.ok for r in records), [r.error for r in records if not r.ok]
    client.wait_for_workers(2, timeout=90)
    assert _worker_pids(client)["worker-b"] != victim  # restarted by its nanny


def test_a_page_that_aborts_its_worker_fails_alone(
    client: Any, pages_folder: Path, tmp_path: Path
) -> None:
    """The test-only hook makes one page abort whichever worker reads it: after the
    scheduler's allowed failures (and one resubmission) it is a failed record with a clear
    error; the other pages complete and the job ends."""
    from ocrai.dask import read_pages

    sources = []
    for k in range(6):
        target = tmp_path / f"good{k}.png"
        target.write_bytes((pages_folder / f"page{k % 4}.png").read_bytes())
        sources.append(str(target))
    bad = tmp_path / f"{ABORT_MARKER}.png"
    bad.write_bytes((pages_folder / "page0.png").read_bytes())
    sources.insert(2, str(bad))
    records = list(read_pages(client, sources, config=CONFIG, retries=1))
    assert sorted(r.source for r in records) == sorted(sources)
    failed = [r for r in records if not r.ok]
    assert [r.source for r in failed] == [str(bad)]
    assert failed[0].error_type == "KilledWorker"
    assert "worker process reading this page died every time" in (failed[0].error_message or "")
    assert "submitted 2 times, 4 worker deaths, the last on tcp://127.0.0.1:" in (
        failed[0].error_message or ""
    )
    client.wait_for_workers(2, timeout=90)


def test_local_workers_option(
    pages_folder: Path, local_texts: dict[str, Any], tmp_path: Path
) -> None:
    """``--workers 2``: a local cluster of two single-thread worker processes."""
    out = tmp_path / "out"
    sources = [str(pages_folder / n) for n in ("multi.tif", "page1.png", "notes.jpg")]
    argv = ["read", *sources, "-o", str(out), "-f", "json", "--pack", "tiny", "--workers", "2"]
    assert main(argv) == 1
    assert _read_outputs(out) == {k: local_texts[k] for k in ("multi", "page1")}


def test_sigterm_frees_the_engine(cluster: Cluster) -> None:
    """Last: a worker stopped with SIGTERM runs the plugin's teardown (its log says so)."""
    assert cluster.stop("worker-a") == 0
    assert "ocrai: engine freed on" in cluster.log("worker-a")
