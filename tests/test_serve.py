"""`ocrai serve` over real HTTP on 127.0.0.1: every format equal to the library's output,
bad inputs answered 4xx with a JSON reason, overload answered 429 without losing a
request, a graceful SIGTERM, the metrics. The server runs as a subprocess (conftest's
`serve_process`), its engine with 2 threads."""

from __future__ import annotations

import asyncio
import io
import json
import re
import signal
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from ocrai import OcrAI, export
from ocrai.io import iter_pages
from ocrai.results import Page
from ocrai.testing import SAMPLE_TEXT, render_line, render_page

pytestmark = [pytest.mark.models, pytest.mark.slow]

LANGS = ["en", "fr", "cs", "ja", "zh-hant"]
TEXT_FORMATS = {"json": "json", "text": "txt", "hocr": "hocr", "alto": "alto", "tsv": "tsv"}
TIMEOUT = httpx.Timeout(60.0)


def png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def server(serve_process: Callable[..., Any]) -> Any:
    return serve_process("--threads", "2", "--max-body-mb", "2", "--max-pixels", "4000000")


@pytest.fixture(scope="module")
def engine() -> Iterator[OcrAI]:
    with OcrAI(threads=2) as ai:
        yield ai


@pytest.fixture(scope="module")
def pages_png() -> dict[str, bytes]:
    return {lang: png(render_page(SAMPLE_TEXT[lang], lang=lang).image) for lang in LANGS}


def post(url: str, body: bytes, query: str = "", **kwargs: Any) -> httpx.Response:
    headers = kwargs.pop("headers", {"Content-Type": "image/png"})
    return httpx.post(f"{url}/v1/read?{query}", content=body, headers=headers, timeout=TIMEOUT)


def without_timings(document: str) -> list[dict[str, Any]]:
    pages = json.loads(document)["pages"]
    for page in pages:
        page.pop("timings")
    return pages


def assert_same(fmt: str, served: str, library: str) -> None:
    if fmt == "json":
        assert without_timings(served) == without_timings(library)
    else:
        assert served == library


def assert_error(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == kind
    assert body["status"] == status
    assert body["message"]
    return body


def assert_serving(url: str, pages_png: dict[str, bytes]) -> None:
    assert httpx.get(f"{url}/healthz", timeout=TIMEOUT).status_code == 200
    response = post(url, pages_png["en"], "format=text")
    assert response.status_code == 200
    assert "Twelve boxes of paper" in response.text


# --- formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_format_equals_the_library(
    server: Any, engine: OcrAI, pages_png: dict[str, bytes], lang: str
) -> None:
    body = pages_png[lang]
    page = engine.recognize(body)
    assert page.lines, "the rendered page must have text"
    for fmt, name in TEXT_FORMATS.items():
        response = post(server.url, body, f"format={fmt}")
        assert response.status_code == 200, response.text
        exporter, _ = export.FORMATS[name]
        assert_same(fmt, response.text, exporter([page]))
    overlay = post(server.url, body, "format=overlay")
    assert overlay.headers["content-type"] == "image/png"
    expected = export.to_overlay_png(page, Image.open(io.BytesIO(body)))
    assert np.array_equal(
        np.asarray(Image.open(io.BytesIO(overlay.content))),
        np.asarray(Image.open(io.BytesIO(expected))),
    )


def test_multipart_upload_names_the_source(
    server: Any, engine: OcrAI, pages_png: dict[str, bytes]
) -> None:
    body = pages_png["fr"]
    files = {"file": ("facture.png", body, "image/png")}
    response = httpx.post(f"{server.url}/v1/read?format=alto", files=files, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    page = engine.recognize(body).with_source("facture.png", 0)
    assert response.text == export.to_alto([page])


def test_options_reach_the_engine(server: Any, engine: OcrAI) -> None:
    line = png(render_line("Options reach the engine 42"))
    query = "format=json&detect=false&min_confidence=0.2&top_k=2"
    response = post(server.url, line, query)
    assert response.status_code == 200, response.text
    page = engine.recognize(line, detect=False, min_confidence=0.2, top_k=2)
    assert_same("json", response.text, export.to_json([page]))
    assert any(
        c["alternatives"] for c in json.loads(response.text)["pages"][0]["lines"][0]["chars"]
    )


def test_lone_line_reaches_the_engine(server: Any, engine: OcrAI) -> None:
    line = png(render_line("Options reach the engine 42"))
    for value, detector in (("true", None), ("false", "ppocrv6-small-det.onnx")):
        response = post(server.url, line, f"format=json&lone_line={value}")
        assert response.status_code == 200, response.text
        page = engine.recognize(line, lone_line=value == "true")
        assert page.models.det == detector
        assert_same("json", response.text, export.to_json([page]))
    assert post(server.url, line, "lone_line=maybe").status_code == 400


@pytest.fixture(scope="module")
def two_page_pdf(pages_png: dict[str, bytes]) -> bytes:
    pytest.importorskip("pypdfium2")
    images = [Image.open(io.BytesIO(pages_png[lang])).convert("RGB") for lang in ("en", "cs")]
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()


def test_pdf_input_every_page_and_one_page(server: Any, engine: OcrAI, two_page_pdf: bytes) -> None:
    pages = [engine.recognize(loaded) for loaded in iter_pages(two_page_pdf, dpi=150)]
    headers = {"Content-Type": "application/pdf"}
    response = post(server.url, two_page_pdf, "format=json&dpi=150", headers=headers)
    assert response.status_code == 200, response.text
    assert_same("json", response.text, export.to_json(pages))
    response = post(server.url, two_page_pdf, "format=text&dpi=150&page=1", headers=headers)
    assert response.text == export.to_text([pages[1]])
    assert "Čtvrtletní" in response.text


def test_pdf_format_equals_to_pdf(server: Any, engine: OcrAI, pages_png: dict[str, bytes]) -> None:
    pytest.importorskip("pikepdf")
    from ocrai.export import to_pdf

    body = pages_png["en"]
    response = post(server.url, body, "format=pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    expected = bytes(to_pdf([engine.recognize(body)], body))
    # The same document, whatever a writer stamps in (a random /ID, the time of writing):
    # the same pages, sizes, text layer and rendered pixels.
    pdfium = pytest.importorskip("pypdfium2")
    served, library = pdfium.PdfDocument(response.content), pdfium.PdfDocument(expected)
    assert len(served) == len(library) == 1
    for ours, theirs in zip(served, library, strict=True):
        assert ours.get_size() == theirs.get_size()
        text = ours.get_textpage().get_text_range()
        assert text == theirs.get_textpage().get_text_range()
        assert "Twelve boxes" in text
        pixels = ours.render(scale=0.5).to_numpy()
        assert np.array_equal(pixels, theirs.render(scale=0.5).to_numpy())


# --- bad input ---------------------------------------------------------------------------------


def test_bad_inputs_are_4xx_with_a_reason(server: Any, pages_png: dict[str, bytes]) -> None:
    url = server.url
    good = pages_png["en"]
    body = assert_error(post(url, good[: len(good) // 3]), 422, "bad_image")
    assert "truncated" in body["message"] or "image" in body["message"]
    assert_error(post(url, b"\x89PNG\r\n\x1a\n" + b"\0" * 64), 422, "bad_image")
    body = assert_error(post(url, b"%PDF-1.7 not really"), 422, "bad_image")
    assert_error(post(url, b""), 400, "empty_body")
    assert_error(post(url, good, headers={"Content-Type": "application/json"}), 415,
                 "unsupported_media_type")  # fmt: skip
    assert_error(post(url, good, headers={"Content-Type": "text/plain"}), 415,
                 "unsupported_media_type")  # fmt: skip
    assert_error(post(url, good, "format=docx"), 400, "bad_query")
    assert_error(post(url, good, "colour=red"), 400, "bad_query")
    assert_error(post(url, good, "page=-1"), 400, "bad_query")
    assert_error(post(url, good, "detect=maybe"), 400, "bad_query")
    assert_error(post(url, good, "format=text&format=json"), 400, "bad_query")
    assert_error(post(url, good, "page=4"), 400, "bad_page")
    files = {"note": (None, "no file here")}
    response = httpx.post(f"{url}/v1/read", files=files, timeout=TIMEOUT)
    assert_error(response, 400, "no_file")
    assert_serving(url, pages_png)


def test_too_many_pixels_is_413_before_decoding(server: Any, pages_png: dict[str, bytes]) -> None:
    big = Image.new("L", (3000, 2000), 255)  # 6 MP > --max-pixels 4e6; compresses to little
    out = io.BytesIO()
    big.save(out, format="PNG")
    body = assert_error(post(server.url, out.getvalue()), 413, "image_too_large")
    assert "4000000" in body["message"].replace(",", "").replace("_", "")
    assert_serving(server.url, pages_png)


def test_oversize_body_is_413(server: Any, pages_png: dict[str, bytes]) -> None:
    big = b"\0" * (3 * 1024 * 1024)  # over --max-body-mb 2
    assert_error(post(server.url, big), 413, "body_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while reading
        for _ in range(48):
            yield b"\0" * 65536

    response = httpx.post(
        f"{server.url}/v1/read",
        content=chunks(),
        headers={"Content-Type": "image/png"},
        timeout=TIMEOUT,
    )
    assert_error(response, 413, "body_too_large")
    response = httpx.post(
        f"{server.url}/v1/read",
        files={"file": ("big.png", big, "image/png")},
        timeout=TIMEOUT,
    )
    assert_error(response, 413, "body_too_large")
    assert_serving(server.url, pages_png)


def raw_request(url: str, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """One request written by hand on a socket (for what an HTTP client will not send);
    the response is read until the server closes or answers in full."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head + body)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            header_end = data.find(b"\r\n\r\n")
            if header_end >= 0:
                found = re.search(rb"content-length: *(\d+)", data[:header_end], re.IGNORECASE)
                if found and len(data) >= header_end + 4 + int(found.group(1)):
                    break
    head_bytes, _, payload = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head_bytes.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, payload


def test_huge_headers(server: Any, pages_png: dict[str, bytes]) -> None:
    # A declared body far over the limit: refused from the header, nothing read.
    head = (
        b"POST /v1/read HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
        b"Content-Length: 99999999999999999999\r\nConnection: close\r\n\r\n"
    )
    status, _, payload = raw_request(server.url, head)
    assert status == 413
    assert json.loads(payload)["error"] == "body_too_large"
    # A big header the HTTP layer accepts (8 kB) does not get in the way of a read.
    response = post(
        server.url,
        pages_png["en"],
        "format=text",
        headers={"Content-Type": "image/png", "X-Padding": "p" * 8000},
    )
    assert response.status_code == 200
    # Headers over the server's limit (16 kB together): 431 with a JSON reason.
    head = (
        b"POST /v1/read HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nX-Padding: "
        + b"p" * 20_000
        + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    status, _, payload = raw_request(server.url, head)
    assert status == 431
    assert json.loads(payload)["error"] == "headers_too_large"
    # Past four times that, the HTTP layer refuses them before the app: a 4xx all the same.
    head = (
        b"POST /v1/read HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nX-Padding: "
        + b"p" * 100_000
        + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    status, _, _ = raw_request(server.url, head)
    assert 400 <= status < 500
    assert_serving(server.url, pages_png)


# --- metrics -----------------------------------------------------------------------------------


def metric(text: str, name: str, labels: str = "") -> float:
    pattern = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "") + r" (\S+)"
    found = re.search("^" + pattern + "$", text, re.MULTILINE)
    assert found, f"{name}{{{labels}}} not in the metrics"
    return float(found.group(1))


def test_metrics(server: Any, pages_png: dict[str, bytes]) -> None:
    before = httpx.get(f"{server.url}/metrics", timeout=TIMEOUT).text
    assert post(server.url, pages_png["ja"], "format=text").status_code == 200
    assert_error(post(server.url, b"junk"), 422, "bad_image")
    text = httpx.get(f"{server.url}/metrics", timeout=TIMEOUT).text
    assert metric(text, "ocrai_serve_pages_total") == metric(before, "ocrai_serve_pages_total") + 1
    ok = 'route="/v1/read",status="200"'
    assert metric(text, "ocrai_serve_requests_total", ok) >= 1
    assert metric(text, "ocrai_serve_errors_total", 'kind="bad_image"') >= 1
    assert metric(text, "ocrai_serve_request_duration_seconds_count", 'route="/v1/read"') >= 2
    assert metric(text, "ocrai_serve_queue_depth") == 0
    assert metric(text, "ocrai_serve_reads_in_flight") == 0
    assert metric(text, "ocrai_engine_loaded") == 1
    assert metric(text, "ocrai_engine_threads") == 2
    assert metric(text, "ocrai_engine_resident_memory_bytes") > 50e6
    assert httpx.get(f"{server.url}/readyz", timeout=TIMEOUT).json() == {"status": "ready"}


def test_access_log_lines_are_json(server: Any, pages_png: dict[str, bytes]) -> None:
    assert post(server.url, pages_png["en"], "format=tsv").status_code == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        records = [json.loads(x) for x in server.lines if x.startswith("{")]
        if any(r["query"] == "format=tsv" and r["status"] == 200 for r in records):
            break
        time.sleep(0.05)
    record = next(r for r in records if r["query"] == "format=tsv")
    assert record["method"] == "POST"
    assert record["path"] == "/v1/read"
    assert record["bytes"] > 0
    assert record["ms"] > 0
    errors = [r for r in records if r.get("error") == "bad_image"]
    assert errors, "an error's kind is logged"


# --- load --------------------------------------------------------------------------------------


async def _many(url: str, bodies: list[bytes], query: str) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=TIMEOUT, limits=limits) as client:
        return list(
            await asyncio.gather(
                *(
                    client.post(
                        f"{url}/v1/read?{query}", content=b, headers={"Content-Type": "image/png"}
                    )
                    for b in bodies
                )
            )
        )


def test_overload_is_429_and_nothing_is_lost(serve_process: Callable[..., Any]) -> None:
    small = serve_process("--threads", "2", "--concurrency", "1", "--queue", "2")
    clients = 24
    bodies = [png(render_line(f"Request number {k} of the burst")) for k in range(clients)]
    responses = asyncio.run(_many(small.url, bodies, "format=text&detect=false"))
    assert len(responses) == clients
    answered = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert len(answered) + len(refused) == clients, [r.status_code for r in responses]
    assert len(answered) >= 3  # what the server holds: 1 running + 2 queued
    assert refused, "24 clients at once against room for 3 must see 429"
    for k, response in enumerate(responses):  # each answer is for its own request
        if response.status_code == 200:
            assert f"number {k} of" in response.text
    for response in refused:
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["error"] == "overloaded"
    text = httpx.get(f"{small.url}/metrics", timeout=TIMEOUT).text
    assert metric(text, "ocrai_serve_requests_total", 'route="/v1/read",status="200"') == len(
        answered
    )
    assert metric(text, "ocrai_serve_requests_total", 'route="/v1/read",status="429"') == len(
        refused
    )
    assert metric(text, "ocrai_serve_errors_total", 'kind="overloaded"') == len(refused)
    assert small.stop() == 0


def test_sigterm_finishes_the_reads_in_flight(
    serve_process: Callable[..., Any], pages_png: dict[str, bytes]
) -> None:
    server = serve_process("--threads", "2", "--concurrency", "1", "--queue", "8")
    bodies = [pages_png[lang] for lang in ("en", "fr", "cs", "ja", "zh-hant")]

    async def run() -> list[httpx.Response]:
        load = asyncio.ensure_future(_many(server.url, bodies, "format=text"))
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            while time.monotonic() < deadline:  # every request has reached the server
                text = (await client.get(f"{server.url}/metrics")).text
                if metric(text, "ocrai_serve_reads_in_flight") == len(bodies):
                    break
                await asyncio.sleep(0.02)
        server.proc.send_signal(signal.SIGTERM)
        return await load

    responses = asyncio.run(run())
    assert [r.status_code for r in responses] == [200] * len(bodies)
    for lang, response in zip(("en", "fr", "cs", "ja", "zh-hant"), responses, strict=True):
        first = SAMPLE_TEXT[lang][0].split()[0]
        assert first in response.text
    assert server.proc.wait(60) == 0
    log = "\n".join(server.lines)
    assert "engine resources freed" in log
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/healthz", timeout=5)


def test_page_and_static_files_are_served(server: Any) -> None:
    index = httpx.get(f"{server.url}/", timeout=TIMEOUT)
    assert index.status_code == 200
    assert "/static/app.js" in index.text
    script = httpx.get(f"{server.url}/static/app.js", timeout=TIMEOUT)
    assert script.status_code == 200
    assert "/v1/read" in script.text
    assert "http://" not in script.text.replace("http://www.w3.org/2000/svg", "")
    assert httpx.get(f"{server.url}/static/style.css", timeout=TIMEOUT).status_code == 200


def test_page_objects_round_trip(server: Any, pages_png: dict[str, bytes]) -> None:
    response = post(server.url, pages_png["zh-hant"], "format=json")
    pages = export.from_json(response.text)
    assert isinstance(pages[0], Page)
    assert "臺北市立圖書館" in pages[0].text


def test_a_read_over_the_time_limit_is_504(
    serve_process: Callable[..., Any], pages_png: dict[str, bytes]
) -> None:
    hurried = serve_process("--threads", "2", "--timeout", "0.05")
    body = assert_error(post(hurried.url, pages_png["ja"], "format=json"), 504, "timeout")
    assert "0.05 s" in body["message"]
    assert httpx.get(f"{hurried.url}/healthz", timeout=TIMEOUT).status_code == 200
    # the abandoned read finished on its thread; the engine still answers, then stops cleanly
    response = post(hurried.url, png(render_line("ok")), "format=text&detect=false")
    assert response.status_code in (200, 504)
    assert hurried.stop() == 0
    assert "engine resources freed" in "\n".join(hurried.lines)
