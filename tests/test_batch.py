"""The framework-free batch core (`ocrai.batch`) and the shared output writer of
``ocrai read`` (`ocrai._batch.OutputWriter`, ``--resume``), without models: the engine is a
stand-in that describes each page it gets."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from ocrai import batch
from ocrai._batch import SOURCE_FORMATS, BatchInput, BatchReader, OutputWriter, expand_inputs
from ocrai.batch import ABORT_ENV, PageReader, PageRecord, PageTask, ReaderConfig, expand_source
from ocrai.export import from_json
from ocrai.io import load_image, page_count
from ocrai.results import Page


class Describing:
    """Returns one line per page: the file name, page index and mean pixel value."""

    def __init__(self, page_dict: Callable[..., dict]) -> None:
        self.page_dict = page_dict
        self.calls = 0

    def recognize(self, image: Any, *, detect: bool = True, **options: Any) -> Page:
        loaded = load_image(image)
        self.calls += 1
        name = Path(loaded.name or "data").name
        text = f"{name} page {loaded.page} mean {int(loaded.array.mean())}"
        d = self.page_dict([[text]], width=loaded.width, height=loaded.height)
        return Page.from_native(d, source=loaded.name, page=loaded.page)


@pytest.fixture
def describing(page_dict: Callable[..., dict]) -> Describing:
    return Describing(page_dict)


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    Image.new("L", (120, 40), 100).save(folder / "one.png")
    frames = [Image.new("L", (120, 40), v) for v in (10, 20, 30)]
    frames[0].save(folder / "three.tif", save_all=True, append_images=frames[1:])
    frames[0].convert("RGB").save(folder / "two.pdf", save_all=True, append_images=frames[1:2])
    (folder / "empty.png").write_bytes(b"")
    (folder / "text.jpg").write_text("not a picture", encoding="utf-8")
    return {p.name: p for p in folder.iterdir()}


def test_page_counts_come_from_the_file_structure(sources: dict[str, Path]) -> None:
    assert page_count(sources["one.png"]) == 1
    assert page_count(sources["three.tif"]) == 3
    assert page_count(sources["two.pdf"]) == 2
    tasks = expand_source(str(sources["three.tif"]))
    assert [(t.page, t.pages) for t in tasks] == [(0, 3), (1, 3), (2, 3)]
    assert expand_source(str(sources["empty.png"])) == [PageTask(str(sources["empty.png"]))]


def test_a_reader_returns_records_and_never_raises(
    sources: dict[str, Path], describing: Describing
) -> None:
    reader = PageReader(engine=describing)
    first = reader.read(PageTask(str(sources["three.tif"])))
    assert (first.page, first.pages, first.ok) == (0, 3, True)
    assert first.text == "three.tif page 0 mean 10"
    (page,) = from_json(first.result or "")
    assert (page.source, page.page) == (str(sources["three.tif"]), 0)
    assert first.to_page().text == first.text
    assert set(first.timings) == {"read", "recognize", "total"}
    assert first.worker.endswith(f":{os.getpid()}")
    last = reader(PageTask(str(sources["three.tif"]), 2, 3))
    assert last.text == "three.tif page 2 mean 30"
    pdf = reader.read(PageTask(str(sources["two.pdf"]), 1))
    assert (pdf.pages, pdf.ok) == (2, True)

    empty = reader.read(PageTask(str(sources["empty.png"])))
    assert (empty.ok, empty.error_type, empty.pages) == (False, "ImageError", 1)
    assert empty.error_message == "empty input (0 bytes), not an image"
    assert empty.result is None
    with pytest.raises(ValueError, match="failed: ImageError: empty input"):
        empty.to_page()
    missing = reader.read(PageTask(str(sources["one.png"].with_name("gone.png"))))
    assert (missing.error_type, missing.error_message) == (
        "FileNotFoundError",
        "No such file or directory",
    )
    beyond = reader.read(PageTask(str(sources["three.tif"]), 5))
    assert beyond.error_type == "PageIndexError"
    assert "page 5 does not exist (the input has 3 pages)" in (beyond.error_message or "")
    assert PageRecord.from_dict(json.loads(json.dumps(first.to_dict()))) == first


def test_a_reader_builds_its_engine_lazily_once_and_frees_it(
    sources: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[tuple[int | None, Any]] = []
    closed: list[PageReader] = []

    class Engine:
        freed = False

        def recognize(self, image: Any, **options: Any) -> Page:
            return Page(width=10, height=10)

        def free_resources(self) -> None:
            self.freed = True

    def make(config: ReaderConfig, threads: int | None) -> Engine:
        engine = Engine()
        built.append((threads, engine))
        return engine

    monkeypatch.setattr(ReaderConfig, "engine", make)
    reader = PageReader(ReaderConfig(), threads=3, on_close=closed.append)
    assert not reader.loaded
    assert not built
    for _ in range(3):
        assert reader.read(PageTask(str(sources["one.png"]))).ok
    assert [t for t, _ in built] == [3]
    assert reader.engines_built == 1
    assert reader.pages_read == 3
    reader.close()
    reader.close()
    assert built[0][1].freed
    assert closed == [reader]
    after = reader.read(PageTask(str(sources["one.png"])))
    assert (after.error_type, after.error_message) == (
        "RuntimeError",
        "RuntimeError: this PageReader is closed",
    )


def test_an_engine_given_to_a_reader_is_left_to_its_owner(describing: Describing) -> None:
    describing.free_resources = lambda: pytest.fail("freed by the reader")  # type: ignore[attr-defined]
    PageReader(engine=describing).close()


def test_urls_are_read_with_fsspec(describing: Describing, tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    buffer = io.BytesIO()
    Image.new("L", (60, 30), 77).save(buffer, "PNG")
    fs = fsspec.filesystem("memory")
    fs.pipe("/scans/a.png", buffer.getvalue())
    fs.pipe("/scans/sub/b.png", buffer.getvalue())
    fs.pipe("/scans/notes.txt", b"x")
    fs.pipe("/scans/bad.png", b"\x89PNG\r\n\x1a\n broken")
    try:
        record = PageReader(engine=describing).read(PageTask("memory://scans/a.png"))
        assert (record.ok, record.text) == (True, "a.png page 0 mean 77")
        inputs, errors = expand_inputs(["memory://scans/"])
        assert errors == []
        assert [(i.source, i.relative) for i in inputs] == [
            ("memory:///scans/a.png", Path("a.png")),
            ("memory:///scans/bad.png", Path("bad.png")),
        ]
        deep, _ = expand_inputs(["memory://scans"], recursive=True)
        assert [i.relative for i in deep] == [Path("a.png"), Path("bad.png"), Path("sub/b.png")]
        out = tmp_path / "out"
        result = BatchReader(describing, out_dir=out, recursive=True, stderr=io.StringIO()).run(
            ["memory://scans/"]
        )
        assert sorted(str(p.relative_to(out)) for p in result.written) == ["a.txt", "sub/b.txt"]
        assert result.read == ["memory:///scans/a.png", "memory:///scans/sub/b.png"]
        assert [name for name, _ in result.failed] == ["memory:///scans/bad.png"]
        assert "memory:///scans/bad.png" not in result.failed[0][1]  # named once, not twice
    finally:
        fs.rm("/scans", recursive=True)


def record(source: str, page: int, pages: int, text: str, *, ok: bool = True) -> PageRecord:
    from ocrai.export import to_json

    if not ok:
        return PageRecord(source, page, pages, error_type="ImageError", error_message=text)
    d = Page(width=10, height=10).to_dict()
    d["lines"] = []
    page_obj = Page.from_dict(d).with_source(source, page)
    return PageRecord(source, page, pages, text=text, result=to_json(page_obj))


def test_the_writer_assembles_pages_in_order_and_keys_them(tmp_path: Path) -> None:
    """Records arrive in any order, some twice (a retried task): one output per source,
    its pages in page order, each page once."""
    inputs = [BatchInput("a.tif", Path("a.tif")), BatchInput("b.png", Path("b.png"))]
    seen: list[tuple[list[int], str]] = []

    def exporter(pages: Any, source: str) -> str:
        seen.append(([p.page for p in pages], source))
        return "|".join(f"{p.source}:{p.page}" for p in pages)

    SOURCE_FORMATS["test"] = (exporter, ".test")
    try:
        writer = OutputWriter(inputs, fmt="test", out_dir=tmp_path, stdout=io.StringIO())
        assert writer.expected_pages() == 2
        assert writer.add(record("a.tif", 2, 3, "c")) is None
        assert writer.expected_pages() == 4
        assert writer.add(record("a.tif", 0, 3, "a")) is None
        assert writer.add(record("a.tif", 0, 3, "a")) is None  # a duplicate replaces
        done = writer.add(record("a.tif", 1, 3, "b"))
        assert done is not None
        assert done.error is None
        assert writer.add(record("a.tif", 1, 3, "b")) is None  # late duplicate: ignored
        failed = writer.add(record("b.png", 0, 1, "broken", ok=False))
        assert failed is not None
        assert failed.error == "broken"
        assert seen == [([0, 1, 2], "a.tif")]
        assert (tmp_path / "a.test").read_text("utf-8") == "a.tif:0|a.tif:1|a.tif:2"
        assert not (tmp_path / "b.test").exists()
        assert writer.unfinished() == []
    finally:
        del SOURCE_FORMATS["test"]


def test_a_failed_page_fails_its_source_naming_the_page(tmp_path: Path) -> None:
    inputs = [BatchInput("a.pdf", Path("a.pdf"))]
    writer = OutputWriter(inputs, fmt="txt", out_dir=tmp_path, stdout=io.StringIO())
    writer.add(record("a.pdf", 1, 2, "cannot render page 1", ok=False))
    assert [(i.source, pages) for i, pages in writer.unfinished()] == [("a.pdf", [0])]
    outcome = writer.add(record("a.pdf", 0, 2, "x"))
    assert outcome is not None
    assert outcome.error == "page 1: cannot render page 1"
    assert list(tmp_path.iterdir()) == []


def test_lost_pages_are_reported(tmp_path: Path, sources: dict[str, Path]) -> None:
    """A page source that ends without some pages (a cluster that lost them) makes those
    sources fail, naming the pages; the exit status is 1."""

    def lossy(names: Any) -> Any:
        for name in names:
            if name.endswith("three.tif"):
                yield record(name, 0, 3, "a")
            elif name.endswith("one.png"):
                yield record(name, 0, 1, "one")

    stderr = io.StringIO()
    result = BatchReader(page_source=lossy, out_dir=tmp_path / "o", stderr=stderr).run(
        [sources["one.png"], sources["three.tif"]]
    )
    assert result.exit_status == 1
    assert result.failed == [(str(sources["three.tif"]), "no result for page(s) 1, 2")]
    assert [p.name for p in result.written] == ["one.txt"]


def test_resume_skips_sources_whose_output_exists(
    tmp_path: Path, sources: dict[str, Path], describing: Describing
) -> None:
    good = [sources["one.png"], sources["three.tif"], sources["two.pdf"]]
    out = tmp_path / "out"
    first = BatchReader(describing, out_dir=out, stderr=io.StringIO()).run(good)
    assert first.exit_status == 0
    assert describing.calls == 6
    (out / "three.txt").unlink()
    before = (out / "one.txt").stat().st_mtime_ns
    second = BatchReader(describing, out_dir=out, resume=True, stderr=io.StringIO()).run(good)
    assert describing.calls == 6 + 3  # only three.tif's pages again
    assert second.skipped == [sources["one.png"], sources["two.pdf"]]
    assert second.read == [sources["three.tif"]]
    assert (out / "three.txt").read_text("utf-8").count("\f") == 2
    assert (out / "one.txt").stat().st_mtime_ns == before
    with pytest.raises(ValueError, match="resume needs an output folder"):
        BatchReader(describing, resume=True)


def test_the_abort_hook_is_test_only_and_off_by_default(tmp_path: Path) -> None:
    """Only with OCRAI_TESTING_ABORT set does a page whose name holds the marker abort
    its process (SIGABRT); without it the same page is read like any other."""
    page = tmp_path / "page-KILLME.png"
    Image.new("L", (40, 20), 5).save(page)
    script = (
        "import sys; from ocrai.batch import PageReader, PageTask\n"
        "class E:\n"
        "    def recognize(self, image, **kw):\n"
        "        from ocrai.results import Page; return Page(width=1, height=1)\n"
        "r = PageReader(engine=E()).read(PageTask(sys.argv[1]))\n"
        "print('read', r.ok)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != ABORT_ENV}
    command = [sys.executable, "-c", script, str(page)]
    quiet = subprocess.run(
        command, check=False, env=env, capture_output=True, text=True, timeout=60
    )
    assert (quiet.returncode, quiet.stdout) == (0, "read True\n")
    env[ABORT_ENV] = "KILLME"
    aborted = subprocess.run(
        command, check=False, env=env, capture_output=True, text=True, timeout=60
    )
    assert aborted.returncode == -6  # SIGABRT
    other = subprocess.run(
        [*command[:-1], str(tmp_path / "KILLME-not-this" / "x.png")],
        env=env,
        timeout=60,
        check=False,
    )
    assert other.returncode == 0  # the marker is matched in the file name only
    assert batch.ABORT_ENV == "OCRAI_TESTING_ABORT"


def test_command_resume_needs_an_output_folder(
    sources: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from ocrai.cli import main

    assert main(["read", str(sources["one.png"]), "--resume"]) == 2
    assert "--resume needs --out" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # one place to read: a scheduler or local workers
        main(["read", "x.png", "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"])
