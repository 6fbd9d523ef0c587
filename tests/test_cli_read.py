"""``ocrai read``: batches with good and bad files, formats, outputs, progress, atomicity.

The engine is replaced by a recogniser given to the constructor (`BatchReader`, or the
``make_engine`` argument of the command's handler) that describes each page it gets, so
the file handling is checked exactly and without models.
"""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from ocrai._batch import BatchReader, expand_inputs, output_paths, write_atomic
from ocrai.cli import _cmd_read, build_parser
from ocrai.export import from_json
from ocrai.io import LoadedImage, load_image
from ocrai.results import Page


class DescribingRecognizer:
    """Returns one line per page: the file name, page index and mean pixel value."""

    def __init__(self, page_dict: Callable[..., dict]) -> None:
        self.page_dict = page_dict
        self.calls: list[tuple[str | None, int, bool, dict[str, Any]]] = []
        self.freed = False

    def recognize(self, image: Any, *, detect: bool = True, **options: Any) -> Page:
        loaded = load_image(image)
        assert isinstance(image, LoadedImage)
        self.calls.append((loaded.name, loaded.page, detect, options))
        name = Path(loaded.name or "data").name
        text = f"{name} page {loaded.page} mean {int(loaded.array.mean())}"
        d = self.page_dict([[text]], width=loaded.width, height=loaded.height)
        return Page.from_native(d, source=loaded.name, page=loaded.page)

    def free_resources(self) -> None:
        self.freed = True


@pytest.fixture
def recognizer(page_dict: Callable[..., dict]) -> DescribingRecognizer:
    return DescribingRecognizer(page_dict)


def save(image: Image.Image, path: Path, fmt: str, **options: Any) -> Path:
    image.save(path, fmt, **options)
    return path


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    """Good and bad files side by side, plus files a folder search must skip."""
    folder = tmp_path / "in"
    folder.mkdir()
    save(Image.new("L", (300, 80), 100), folder / "a_good.png", "PNG")
    save(Image.new("RGB", (300, 80), (50, 50, 50)), folder / "b_good.jpg", "JPEG")
    pages = [Image.new("L", (300, 80), v) for v in (10, 20, 30)]
    save(pages[0], folder / "c_pages.tif", "TIFF", save_all=True, append_images=pages[1:])
    whole = io.BytesIO()
    Image.new("RGB", (300, 80), (1, 2, 3)).save(whole, "PNG")
    (folder / "d_truncated.png").write_bytes(whole.getvalue()[:60])
    (folder / "e_text.jpg").write_text("not a picture at all", encoding="utf-8")
    (folder / "f_empty.png").write_bytes(b"")
    (folder / "README.txt").write_text("skipped: not an image name", encoding="utf-8")
    save(Image.new("L", (300, 80), 0), folder / ".hidden.png", "PNG")
    return folder


GOOD = ["a_good", "b_good", "c_pages"]
BAD = {
    "d_truncated.png": "cannot decode the image",
    "e_text.jpg": "not an image in a supported format",
    "f_empty.png": "empty input (0 bytes)",
}


def test_good_files_get_outputs_and_bad_files_are_reported(
    mixed_folder: Path,
    tmp_path: Path,
    recognizer: DescribingRecognizer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    result = BatchReader(recognizer, out_dir=out).run([mixed_folder])
    assert result.exit_status == 1
    assert sorted([p.name for p in out.iterdir()]) == [f"{name}.txt" for name in GOOD]
    assert (out / "a_good.txt").read_text("utf-8") == "a_good.png page 0 mean 100\n"
    assert (out / "c_pages.txt").read_text("utf-8") == (
        "c_pages.tif page 0 mean 10\n\fc_pages.tif page 1 mean 20\n\fc_pages.tif page 2 mean 30\n"
    )
    assert [p.name for p in result.read] == ["a_good.png", "b_good.jpg", "c_pages.tif"]
    failed = {Path(name).name: reason for name, reason in result.failed}
    assert set(failed) == set(BAD)
    for name, reason in BAD.items():
        assert reason in failed[name]
    err = capsys.readouterr().err.splitlines()
    assert len(err) == len(BAD)
    for line, (name, reason) in zip(err, sorted(BAD.items()), strict=True):
        assert line.startswith(f"ocrai: {mixed_folder / name}: ")
        assert reason in line


@pytest.mark.parametrize("fmt", ["txt", "json", "hocr", "alto", "tsv"])
def test_every_format_writes_one_document_per_file(
    mixed_folder: Path, tmp_path: Path, recognizer: DescribingRecognizer, fmt: str
) -> None:
    out = tmp_path / fmt
    result = BatchReader(recognizer, fmt=fmt, out_dir=out, progress=False).run([mixed_folder])
    suffix = {"txt": ".txt", "json": ".json", "hocr": ".hocr", "alto": ".xml", "tsv": ".tsv"}[fmt]
    assert sorted([p.name for p in out.iterdir()]) == [name + suffix for name in GOOD]
    assert len(result.failed) == len(BAD)
    multi = (out / f"c_pages{suffix}").read_text("utf-8")
    if fmt == "json":
        pages = from_json(multi)
        assert [(p.page, p.source) for p in pages] == [
            (k, str(mixed_folder / "c_pages.tif")) for k in range(3)
        ]
    elif fmt == "hocr":
        root = ET.fromstring(multi)
        assert sum(1 for e in root.iter() if e.get("class") == "ocr_page") == 3
    elif fmt == "alto":
        root = ET.fromstring(multi)
        assert len(root.findall(".//{http://www.loc.gov/standards/alto/ns-v4#}Page")) == 3
    elif fmt == "tsv":
        assert [r.split("\t")[1] for r in multi.splitlines() if r.startswith("1\t")] == [
            "1",
            "2",
            "3",
        ]
    else:
        assert multi.count("\f") == 2


def test_stdout_text_streams_files_separated_by_form_feeds(
    tmp_path: Path, recognizer: DescribingRecognizer
) -> None:
    one = save(Image.new("L", (200, 60), 7), tmp_path / "one.png", "PNG")
    two = save(Image.new("L", (200, 60), 9), tmp_path / "two.bmp", "BMP")
    stdout = io.StringIO()
    result = BatchReader(recognizer, stdout=stdout, stderr=io.StringIO()).run([one, two])
    assert result.exit_status == 0
    assert stdout.getvalue() == "one.png page 0 mean 7\n\ftwo.bmp page 0 mean 9\n"


def test_stdout_json_is_one_document_for_all_files(
    mixed_folder: Path, recognizer: DescribingRecognizer
) -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    result = BatchReader(recognizer, fmt="json", stdout=stdout, stderr=stderr).run([mixed_folder])
    pages = from_json(stdout.getvalue())
    assert [Path(p.source or "").name for p in pages] == [
        "a_good.png",
        "b_good.jpg",
        "c_pages.tif",
        "c_pages.tif",
        "c_pages.tif",
    ]
    assert result.exit_status == 1
    assert stderr.getvalue().count("\n") == len(BAD)


def test_missing_files_and_empty_folders_are_failures(
    tmp_path: Path, recognizer: DescribingRecognizer
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("x", encoding="utf-8")
    good = save(Image.new("L", (50, 20), 1), tmp_path / "g.png", "PNG")
    stderr = io.StringIO()
    result = BatchReader(recognizer, stdout=io.StringIO(), stderr=stderr).run(
        [tmp_path / "nope.png", empty, good]
    )
    assert result.exit_status == 1
    assert result.read == [good]
    assert result.failed[0] == (str(empty), result.failed[0][1])
    assert "no image files in this folder" in result.failed[0][1]
    assert result.failed[1] == (str(tmp_path / "nope.png"), "No such file or directory")
    assert f"ocrai: {tmp_path / 'nope.png'}: No such file or directory" in stderr.getvalue()


def test_all_good_is_exit_status_0(tmp_path: Path, recognizer: DescribingRecognizer) -> None:
    good = save(Image.new("L", (50, 20), 1), tmp_path / "g.png", "PNG")
    out = tmp_path / "o"
    assert BatchReader(recognizer, out_dir=out).run([good]).exit_status == 0
    assert (out / "g.txt").is_file()


def test_output_names_never_collide(tmp_path: Path, recognizer: DescribingRecognizer) -> None:
    left, right = tmp_path / "left", tmp_path / "right"
    left.mkdir()
    right.mkdir()
    save(Image.new("L", (40, 20), 1), left / "a.png", "PNG")
    save(Image.new("L", (40, 20), 2), left / "a.jpg", "JPEG")
    save(Image.new("L", (40, 20), 3), right / "a.png", "PNG")
    out = tmp_path / "out"
    result = BatchReader(recognizer, out_dir=out).run([left, right])
    assert result.exit_status == 0
    assert sorted([p.name for p in out.iterdir()]) == ["a.jpg.txt", "a.png-2.txt", "a.png.txt"]
    assert (out / "a.png.txt").read_text("utf-8").startswith("a.png page 0 mean 1")
    assert (out / "a.png-2.txt").read_text("utf-8").startswith("a.png page 0 mean 3")


def test_recursive_folders_keep_their_structure(
    tmp_path: Path, recognizer: DescribingRecognizer
) -> None:
    root = tmp_path / "scans"
    (root / "2026" / "may").mkdir(parents=True)
    save(Image.new("L", (40, 20), 1), root / "top.png", "PNG")
    save(Image.new("L", (40, 20), 2), root / "2026" / "may" / "deep.png", "PNG")
    (root / ".cache").mkdir()
    save(Image.new("L", (40, 20), 2), root / ".cache" / "skip.png", "PNG")
    flat, _ = expand_inputs([root])
    assert [i.relative for i in flat] == [Path("top.png")]
    out = tmp_path / "out"
    BatchReader(recognizer, out_dir=out, recursive=True).run([root])
    assert (out / "top.txt").is_file()
    assert (out / "2026" / "may" / "deep.txt").is_file()
    assert not (out / ".cache").exists()


def test_output_paths_rule() -> None:
    inputs, _ = expand_inputs(["x/a.png", "y/a.png", "x/a.tif", "b.png"])
    names = [p.name for p in output_paths(inputs, Path("out"), ".txt")]
    assert names == ["a.png.txt", "a.png-2.txt", "a.tif.txt", "b.txt"]


def test_no_detect_and_options_reach_the_recogniser(
    tmp_path: Path, recognizer: DescribingRecognizer
) -> None:
    good = save(Image.new("L", (50, 20), 1), tmp_path / "g.png", "PNG")
    reader = BatchReader(recognizer, detect=False, options={"rec_batch": 4}, stdout=io.StringIO())
    reader.run([good])
    assert recognizer.calls == [(str(good), 0, False, {"rec_batch": 4})]


def test_pixel_limit_applies_to_every_file(
    tmp_path: Path, recognizer: DescribingRecognizer
) -> None:
    small = save(Image.new("L", (10, 10), 1), tmp_path / "small.png", "PNG")
    big = save(Image.new("L", (100, 100), 1), tmp_path / "big.png", "PNG")
    result = BatchReader(recognizer, max_pixels=5000, stdout=io.StringIO(), stderr=io.StringIO())
    outcome = result.run([small, big])
    assert outcome.read == [small]
    assert "100x100 is 10000 pixels, over the limit of 5000" in outcome.failed[0][1]


def test_recogniser_errors_are_per_file(tmp_path: Path, page_dict: Callable[..., dict]) -> None:
    class Picky(DescribingRecognizer):
        def recognize(self, image: Any, *, detect: bool = True, **options: Any) -> Page:
            if "bad" in str(image.name):
                msg = "the pipeline refused this image"
                raise RuntimeError(msg)
            return super().recognize(image, detect=detect, **options)

    good = save(Image.new("L", (50, 20), 1), tmp_path / "good.png", "PNG")
    bad = save(Image.new("L", (50, 20), 1), tmp_path / "bad.png", "PNG")
    out = tmp_path / "out"
    result = BatchReader(Picky(page_dict), out_dir=out, stderr=io.StringIO()).run([bad, good])
    assert [p.name for p in out.iterdir()] == ["good.txt"]
    assert result.failed == [(str(bad), "RuntimeError: the pipeline refused this image")]


def test_progress_bar(
    mixed_folder: Path,
    tmp_path: Path,
    recognizer: DescribingRecognizer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    stderr = io.StringIO()
    BatchReader(recognizer, out_dir=tmp_path / "o", progress=True, stderr=stderr).run(
        [mixed_folder]
    )
    text = stderr.getvalue()
    assert "\r\x1b[K" in text
    assert "ocrai read [" in text
    # pages done of those known, failed pages, the rate (pages/s); 8 pages (3 in c_pages.tif)
    assert re.search(r"\] 8/8 pages, 3 failed, [0-9.]+/s done\n", text)
    assert re.search(r"\] 1/6 pages, [0-9.]+/s(, ETA [0-9]+:[0-9]{2})? ", text)
    for name in BAD:
        assert f"\r\x1b[Kocrai: {mixed_folder / name}: " in text
    bars = [part for part in text.split("\r\x1b[K") if part.startswith("ocrai read [")]
    assert all(len(bar.rstrip("\n")) <= 59 for bar in bars)
    assert any(bar.endswith("c_pages.tif") for bar in bars)  # long paths keep their end
    quiet = io.StringIO()
    BatchReader(recognizer, out_dir=tmp_path / "p", stderr=quiet).run([mixed_folder])
    assert "ocrai read [" not in quiet.getvalue()  # not a terminal: no bar by default


def test_no_temporary_files_are_left(
    mixed_folder: Path, tmp_path: Path, recognizer: DescribingRecognizer
) -> None:
    out = tmp_path / "out"
    for fmt in ("txt", "json"):
        BatchReader(recognizer, fmt=fmt, out_dir=out).run([mixed_folder])
    assert not [name for name in [p.name for p in out.iterdir()] if name.startswith(".")]


def test_write_atomic_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "r.txt"
    target.write_text("old", encoding="utf-8")
    write_atomic(target, "new ✓\n")
    assert target.read_text("utf-8") == "new ✓\n"
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "half \ud800 written")  # fails inside the write
    assert target.read_text("utf-8") == "new ✓\n"
    assert [p.name for p in tmp_path.iterdir()] == ["r.txt"]


@pytest.mark.parametrize("moment", ["during-write", "before-rename"])
def test_a_killed_writer_leaves_no_partial_file(tmp_path: Path, moment: str) -> None:
    """A process SIGKILLed while writing (or just before the rename) leaves the previous
    output or none under the final name, never part of the new one."""
    target = tmp_path / "page.txt"
    target.write_text("previous complete output\n", encoding="utf-8")
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from ocrai import _batch

        def die(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)

        real_fdopen = os.fdopen

        class HalfWriter:
            def __init__(self, file):
                self.file = file
            def __enter__(self):
                return self
            def __exit__(self, *exc):
                self.file.close()
            def write(self, text):
                self.file.write(text[: len(text) // 2])
                self.file.flush()
                die()

        if {moment!r} == "during-write":
            os.fdopen = lambda *a, **k: HalfWriter(real_fdopen(*a, **k))
        else:
            os.fsync = die
        _batch.write_atomic(Path({str(target)!r}), "new output " * 1000)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True)
    assert done.returncode == -9, done.stderr
    assert target.read_text("utf-8") == "previous complete output\n"
    leftovers = [p for p in [p.name for p in tmp_path.iterdir()] if p != "page.txt"]
    assert all(p.startswith(".page.txt.") and p.endswith(".tmp") for p in leftovers)


# ------------------------------------------------------------------------------ command


def run_command(
    argv: list[str], recognizer: DescribingRecognizer, seen: list[Any] | None = None
) -> int:
    args = build_parser().parse_args(["read", *argv])

    def make_engine(parsed: Any) -> DescribingRecognizer:
        if seen is not None:
            seen.append(parsed)
        return recognizer

    status: int = _cmd_read(args, make_engine=make_engine)
    return status


def test_command_with_good_and_bad_files(
    mixed_folder: Path,
    tmp_path: Path,
    recognizer: DescribingRecognizer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seen: list[Any] = []
    out = tmp_path / "out"
    argv = [str(mixed_folder), "-f", "json", "-o", str(out), "--pack", "tiny", "--fast"]
    status = run_command([*argv, "-t", "2"], recognizer, seen)
    assert status == 1
    assert (seen[0].pack, seen[0].fast, seen[0].threads) == ("tiny", True, 2)
    assert sorted([p.name for p in out.iterdir()]) == [f"{name}.json" for name in GOOD]
    err = capsys.readouterr().err
    assert err.count("ocrai: ") == len(BAD) + 1
    assert err.endswith(f"ocrai: {len(BAD)} of 6 inputs failed\n")
    assert recognizer.freed


def test_command_prints_text_to_stdout(
    tmp_path: Path, recognizer: DescribingRecognizer, capsys: pytest.CaptureFixture[str]
) -> None:
    good = save(Image.new("L", (50, 20), 3), tmp_path / "g.png", "PNG")
    assert run_command([str(good)], recognizer) == 0
    captured = capsys.readouterr()
    assert captured.out == "g.png page 0 mean 3\n"
    assert captured.err == ""


def test_command_option_errors(recognizer: DescribingRecognizer) -> None:
    parser = build_parser()
    for argv in (
        ["read"],
        ["read", "x.png", "--format", "docx"],
        ["read", "x.png", "--threads", "0"],
        ["read", "x.png", "--pack", "huge"],
        ["read", "x.png", "--dpi", "-3"],
        ["read", "x.png", "--fast", "--reread", "letters"],
    ):
        with pytest.raises(SystemExit) as exc:
            parser.parse_args(argv)
        assert exc.value.code == 2


def test_command_when_the_engine_cannot_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ocrai.errors import ModelError

    def broken(args: Any) -> Any:
        msg = "ppocrv6-small-rec.onnx: truncated model file"
        raise ModelError(msg)

    args = build_parser().parse_args(["read", str(tmp_path)])
    assert _cmd_read(args, make_engine=broken) == 2
    assert capsys.readouterr().err == (
        "ocrai: error: cannot load the models: ppocrv6-small-rec.onnx: truncated model file\n"
    )


def test_command_when_the_output_folder_cannot_be_made(
    tmp_path: Path, recognizer: DescribingRecognizer, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert run_command([str(tmp_path), "-o", str(blocker / "sub")], recognizer) == 2
    assert "cannot create the output folder" in capsys.readouterr().err


def test_unwritable_outputs_are_per_file_failures(
    tmp_path: Path, recognizer: DescribingRecognizer
) -> None:
    bad = save(Image.new("L", (50, 20), 1), tmp_path / "g.png", "PNG")
    good = save(Image.new("L", (50, 20), 2), tmp_path / "h.png", "PNG")
    out = tmp_path / "out"
    (out / "g.txt").mkdir(parents=True)  # the output name is taken by a folder
    result = BatchReader(recognizer, out_dir=out, stderr=io.StringIO()).run([bad, good])
    assert result.read == [good]
    assert result.failed == [(str(bad), f"Is a directory: {out / 'g.txt'}")]
    assert sorted(p.name for p in out.iterdir()) == ["g.txt", "h.txt"]  # no temporary file
    assert (out / "g.txt").is_dir()


def test_pages_of_arrays_are_equal_to_files(
    tmp_path: Path, recognizer: DescribingRecognizer
) -> None:
    # The recogniser gets LoadedImage objects: what the engine's recognize accepts as is.
    path = save(Image.fromarray(np.full((20, 30), 42, np.uint8)), tmp_path / "x.png", "PNG")
    reader = BatchReader(recognizer)
    (page,) = reader.read_file(path)
    assert page.source == str(path)
    assert page.text == "x.png page 0 mean 42"
    assert json.loads(json.dumps(page.to_dict()))["source"] == str(path)


# ------------------------------------------------------------------------------ with models


def needs_engine() -> None:
    import ocrai
    from ocrai import _core

    if not hasattr(ocrai, "OcrAI") or not hasattr(_core, "pipeline"):
        pytest.skip("needs the OcrAI engine and the native pipeline")


@pytest.mark.models
def test_ocrai_read_with_the_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The real command on rendered pages and a broken file: text, JSON valid against the
    schema, exit status 1 for the broken file."""
    needs_engine()
    jsonschema = pytest.importorskip("jsonschema")
    from ocrai.cli import main
    from ocrai.export import json_schema
    from ocrai.testing import SAMPLE_TEXT, render_page

    folder = tmp_path / "in"
    folder.mkdir()
    english = render_page(SAMPLE_TEXT["en"])
    Image.fromarray(english.image).save(folder / "en.png")
    Image.fromarray(render_page(SAMPLE_TEXT["fr"], lang="fr").image).save(folder / "fr.jpg")
    (folder / "broken.png").write_bytes((folder / "en.png").read_bytes()[:2000])

    assert main(["read", str(folder / "en.png"), "--threads", "2"]) == 0
    captured = capsys.readouterr()
    assert captured.out == english.text + "\n"
    # Fast mode, re-reading doubted words only: the same clean page.
    assert main(["read", str(folder / "en.png"), "-t", "2", "--fast", "--reread", "words"]) == 0
    assert capsys.readouterr().out == english.text + "\n"
    # A lone line is read without the detector, unless --no-lone-line.
    line = np.full((300, 1000, 3), 250, np.uint8)
    text = render_page(["Lone line 42"], margin=8).image
    line[120 : 120 + text.shape[0], 40 : 40 + text.shape[1]] = text
    Image.fromarray(line).save(folder / "line.png")
    for flag, detector in (("--lone-line", None), ("--no-lone-line", "ppocrv6-small-det.onnx")):
        assert main(["read", str(folder / "line.png"), "-t", "2", "-f", "json", flag]) == 0
        document = json.loads(capsys.readouterr().out)
        assert document["pages"][0]["text"] == "Lone line 42"
        assert document["pages"][0]["models"]["det"] == detector
    (folder / "line.png").unlink()

    out = tmp_path / "out"
    assert main(["read", str(folder), "-o", str(out), "-f", "json", "-t", "2"]) == 1
    err = capsys.readouterr().err
    assert f"ocrai: {folder / 'broken.png'}: cannot decode the image" in err
    assert sorted(p.name for p in out.iterdir()) == ["en.json", "fr.json"]
    document = json.loads((out / "fr.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(json_schema()).validate(document)
    assert document["pages"][0]["text"] == "\n".join(SAMPLE_TEXT["fr"])
    assert document["pages"][0]["source"] == str(folder / "fr.jpg")


def _without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k != "timings"}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


@pytest.mark.models
def test_a_killed_batch_leaves_only_whole_outputs(tmp_path: Path) -> None:
    """``ocrai read`` over 40 files (bad ones among them), SIGKILLed at three moments of the
    batch: every output present is complete and equal to an uninterrupted run's, nothing
    else is left but hidden temporary files, and a second run completes the batch."""
    needs_engine()
    from ocrai.testing import render_line

    folder = tmp_path / "in"
    folder.mkdir()
    words = ["Invoice", "Monday", "paper", "boxes", "total", "shipped", "twelve", "Friday"]
    for i in range(40):
        text = f"{words[i % 8]} {i} {words[(i * 3 + 1) % 8]}"
        Image.fromarray(render_line(text, font_size=24)).save(folder / f"f{i:02d}.png")
    (folder / "f07.png").write_bytes(b"not a picture")
    (folder / "f23.png").write_bytes((folder / "f22.png").read_bytes()[:200])
    command = [sys.executable, "-m", "ocrai", "read", str(folder), "-f", "json", "-t", "1"]
    command += ["--pack", "tiny"]

    reference_dir = tmp_path / "reference"
    done = subprocess.run(
        [*command, "-o", str(reference_dir)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1, done.stderr
    assert "f07.png: not an image" in done.stderr
    assert "f23.png: cannot decode" in done.stderr
    reference = {
        p.name: _without_timings(json.loads(p.read_text("utf-8"))) for p in reference_dir.iterdir()
    }
    assert len(reference) == 38

    out = tmp_path / "out"
    for kill_after in (1, 12, 30):  # outputs written before the kill
        proc = subprocess.Popen([*command, "-o", str(out)], stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                written = list(out.glob("*.json")) if out.exists() else []
                if len(written) >= kill_after or proc.poll() is not None:
                    break
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(30)
        assert proc.returncode == -signal.SIGKILL  # killed in the middle, not finished
        for path in out.iterdir():
            if path.name.startswith("."):
                assert path.name.endswith(".tmp"), path.name  # an interrupted write's file
                continue
            got = _without_timings(json.loads(path.read_text("utf-8")))  # whole JSON
            assert got == reference[path.name], path.name
    done = subprocess.run([*command, "-o", str(out)], capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stderr
    finished = {p.name: p for p in out.iterdir() if not p.name.startswith(".")}
    assert sorted(finished) == sorted(reference)
    for name, path in finished.items():
        assert _without_timings(json.loads(path.read_text("utf-8"))) == reference[name]
