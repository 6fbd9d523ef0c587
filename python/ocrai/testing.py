"""Synthetic text images for tests, benchmarks and examples.

Renders known text with the system's fonts (Debian: fonts-dejavu-core for Latin scripts,
fonts-noto-cjk for Japanese and Chinese), so accuracy can be measured against the exact
ground truth without shipping images. Nothing here is used by the OCR itself.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "CJK_LANGS",
    "SAMPLE_TEXT",
    "RenderedPage",
    "ServeProcess",
    "cer",
    "font_path",
    "levenshtein",
    "normalize_text",
    "render_columns",
    "render_line",
    "render_page",
    "render_paragraph",
    "rotate_image",
    "run_json_script",
]

# Original sentences in each language the project supports, written for these tests.
SAMPLE_TEXT: dict[str, list[str]] = {
    "en": [
        "Invoice 2026-114 for the spring delivery",
        "Twelve boxes of paper were shipped on Monday.",
        "Please pay the total of $1,284.50 by May 3.",
        "Questions? Write to billing@example.com",
    ],
    "fr": [
        "Facture n° 58 pour la livraison d'été",
        "Le déjeuner coûte 14,90 € par élève.",
        "Où se trouve la gare ? À côté du marché.",
        "Reçu le 3 février, payé à l'échéance.",
    ],
    "pt": [
        "A reunião começa às nove horas em ponto.",
        "O preço da maçã subiu três vezes este mês.",
        "Informações sobre a inscrição estão abertas.",
        "Não há ligação entre os dois serviços.",
    ],
    "cs": [
        "Příliš žluťoučký kůň úpěl ďábelské ódy.",
        "Čtvrtletní zpráva byla odeslána v úterý.",
        "Řidič zastavil u křižovatky před školou.",
        "Cena zboží se změnila o tři procenta.",
    ],
    "ja": [
        "東京駅から新幹線で大阪へ向かいます。",
        "この書類は来週の会議で使います。",
        "ひらがなとカタカナを練習しましょう。",
        "今日の天気は晴れのち曇りです。",
    ],
    "zh-hant": [
        "臺北市立圖書館的開放時間已經調整。",
        "請在會議開始前準備好所有資料。",
        "這份報告說明了今年的銷售狀況。",
        "我們明天早上九點在車站見面。",
    ],
}

_LATIN_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
)
_CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
# Face index inside the Noto CJK collection: JP, KR, SC, TC, HK.
_CJK_INDEX = {"ja": 0, "ko": 1, "zh-hans": 2, "zh-hant": 3}


def font_path(lang: str = "en", *, serif: bool = False) -> tuple[Path, int]:
    """The font file and face index that render `lang`; raises FileNotFoundError naming
    the Debian package to install when it is missing."""
    if lang in _CJK_INDEX:
        path = Path(_CJK_FONT)
        if not path.is_file():
            msg = f"{path} is missing: install the Debian package fonts-noto-cjk"
            raise FileNotFoundError(msg)
        return path, _CJK_INDEX[lang]
    path = Path(_LATIN_FONTS[1 if serif else 0])
    if not path.is_file():
        msg = f"{path} is missing: install the Debian package fonts-dejavu-core"
        raise FileNotFoundError(msg)
    return path, 0


@lru_cache(maxsize=32)
def _font(lang: str, size: int, serif: bool) -> ImageFont.FreeTypeFont:
    path, index = font_path(lang, serif=serif)
    return ImageFont.truetype(str(path), size, index=index)


@dataclass(frozen=True)
class RenderedPage:
    """A rendered image and its ground truth: the lines in reading order and their boxes
    (left, top, right, bottom) in pixels."""

    image: np.ndarray
    lines: tuple[str, ...]
    boxes: tuple[tuple[int, int, int, int], ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def render_page(
    lines: Sequence[str],
    *,
    lang: str = "en",
    font_size: int = 36,
    margin: int = 60,
    line_spacing: float = 1.8,
    width: int | None = None,
    serif: bool = False,
    ink: int = 20,
    paper: int = 250,
    noise: float = 0.0,
    seed: int = 0,
) -> RenderedPage:
    """Renders `lines` top to bottom as an RGB uint8 page."""
    font = _font(lang, font_size, serif)
    widths = [math.ceil(font.getlength(line)) for line in lines]
    step = int(font_size * line_spacing)
    page_w = width or (max(widths, default=0) + 2 * margin)
    page_h = 2 * margin + step * max(len(lines), 1)
    image = Image.new("RGB", (page_w, page_h), (paper, paper, paper))
    draw = ImageDraw.Draw(image)
    boxes = []
    for i, line in enumerate(lines):
        top = margin + i * step
        draw.text((margin, top), line, font=font, fill=(ink, ink, ink))
        left, t, right, bottom = draw.textbbox((margin, top), line, font=font)
        boxes.append((int(left), int(t), int(right), int(bottom)))
    array = np.asarray(image, dtype=np.uint8).copy()
    if noise > 0:
        rng = np.random.default_rng(seed)
        array = np.clip(array + rng.normal(0, noise, array.shape), 0, 255).astype(np.uint8)
    return RenderedPage(array, tuple(lines), tuple(boxes))


def render_line(
    text: str,
    *,
    lang: str = "en",
    font_size: int = 36,
    margin: int = 12,
    serif: bool = False,
    noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """One line of text, tightly framed: the input of recognition without detection."""
    page = render_page(
        [text],
        lang=lang,
        font_size=font_size,
        margin=margin,
        line_spacing=1.4,
        serif=serif,
        noise=noise,
        seed=seed,
    )
    return page.image


def render_columns(
    columns: Sequence[Sequence[str]],
    *,
    lang: str = "en",
    font_size: int = 30,
    gutter: int = 90,
    margin: int = 60,
    line_spacing: float = 1.7,
) -> RenderedPage:
    """Side-by-side columns; the ground truth reads each column top to bottom, left column
    first, the order a multi-column page must come out in."""
    rendered = [
        render_page(col, lang=lang, font_size=font_size, margin=0, line_spacing=line_spacing)
        for col in columns
    ]
    page_w = 2 * margin + sum(r.image.shape[1] for r in rendered) + gutter * (len(rendered) - 1)
    page_h = 2 * margin + max(r.image.shape[0] for r in rendered)
    page = np.full((page_h, page_w, 3), 250, np.uint8)
    lines: list[str] = []
    boxes: list[tuple[int, int, int, int]] = []
    left = margin
    for r in rendered:
        h, w = r.image.shape[:2]
        page[margin : margin + h, left : left + w] = r.image
        lines += r.lines
        boxes += [(a + left, b + margin, c + left, d + margin) for a, b, c, d in r.boxes]
        left += w + gutter
    return RenderedPage(page, tuple(lines), tuple(boxes))


def rotate_image(image: np.ndarray, degrees: float, *, fill: int = 250) -> np.ndarray:
    """Rotates counter-clockwise by `degrees` about the centre, expanding the canvas."""
    pil = Image.fromarray(image)
    color: int | tuple[int, ...] = fill if image.ndim == 2 else (fill,) * image.shape[2]
    rotated = pil.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=color)
    result: np.ndarray = np.asarray(rotated, dtype=np.uint8).copy()
    return result


def render_paragraph(
    lang: str = "en",
    *,
    width: int = 1100,
    lines: int = 12,
    font_size: int = 30,
    margin: int = 60,
    line_spacing: float = 1.8,
    serif: bool = False,
) -> RenderedPage:
    """A page of running text: the sample sentences of `lang`, repeated and wrapped into
    `lines` lines of at most `width - 2 * margin` pixels (Latin scripts break between words,
    Japanese and Chinese between characters), so that sentence ends fall anywhere on a line
    as in real documents. `width` is the page width."""
    font = _font(lang, font_size, serif)
    cjk = lang in _CJK_INDEX
    sep = "" if cjk else " "
    sentences = SAMPLE_TEXT[lang]
    wrapped: list[str] = []
    current = ""
    i = 0
    while len(wrapped) < lines:
        tokens = (
            list(sentences[i % len(sentences)]) if cjk else sentences[i % len(sentences)].split()
        )
        i += 1
        for token in tokens:
            candidate = current + sep + token if current else token
            if current and font.getlength(candidate) > width - 2 * margin:
                wrapped.append(current)
                current = token
            else:
                current = candidate
    return render_page(
        wrapped[:lines],
        lang=lang,
        font_size=font_size,
        margin=margin,
        line_spacing=line_spacing,
        width=width,
        serif=serif,
    )


# ---------------------------------------------------------------------------------- scoring
# The scoring behind every CER this project reports, the same as the peers' numbers in the
# project notes: Levenshtein distance / ground-truth length after collapsing whitespace runs
# to one space (removing whitespace for Chinese, Japanese and Korean).

CJK_LANGS = frozenset({"ja", "zh", "zh-hans", "zh-hant", "ko"})
_SPACES = re.compile(r"\s+")


def normalize_text(text: str, lang: str = "en", *, casefold: bool = False) -> str:
    """Whitespace runs -> one space (CJK: removed), ends stripped; optionally lower case."""
    text = _SPACES.sub("" if lang in CJK_LANGS else " ", text).strip()
    return text.lower() if casefold else text


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions of one character each).

    One numpy pass per character of `a`: with t[j] = min(above + 1, diagonal + cost), the
    row is D[j] = min over k <= j of t[k] + (j - k) = j + cummin(t[k] - k)."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    codes_b = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    steps = np.arange(len(b) + 1, dtype=np.int64)
    row = steps.copy()
    for i, ch in enumerate(a, start=1):
        cost = (codes_b != ord(ch)).astype(np.int64)
        t = np.empty_like(row)
        t[0] = i
        t[1:] = np.minimum(row[1:] + 1, row[:-1] + cost)
        row = np.minimum.accumulate(t - steps) + steps
    return int(row[-1])


def cer(read: str, truth: str, lang: str = "en", *, casefold: bool = False) -> float:
    """Character error rate of `read` against `truth`, both normalised by `normalize_text`.
    An empty truth scores 0.0 when nothing was read and 1.0 otherwise."""
    read = normalize_text(read, lang, casefold=casefold)
    truth = normalize_text(truth, lang, casefold=casefold)
    if not truth:
        return 0.0 if not read else 1.0
    return levenshtein(read, truth) / len(truth)


def run_json_script(script: str, *args: str | os.PathLike[str], timeout: float) -> dict[str, Any]:
    """Runs `script` in a fresh Python process (this interpreter, ``-c script args...``) and
    returns the JSON object printed on the last line of its output: measurements of memory
    and start-up need a process of their own. AssertionError with the process's stderr when
    it fails."""
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert isinstance(result, dict), done.stdout
    return result


class ServeProcess:
    """``ocrai serve`` in a subprocess of this interpreter, on a free port of 127.0.0.1
    (``--port 0``; the port is read from its log), for tests and benchmarks over real
    HTTP. `url` is its address, `lines` its log so far (stderr, collected by a thread), `pid`
    its process id. RuntimeError with the log when it does not start in `start_timeout`."""

    def __init__(self, args: Sequence[str] = (), *, start_timeout: float = 120.0) -> None:
        self.lines: list[str] = []
        self.url = ""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ocrai", "serve", "--port", "0", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.pid = self.proc.pid
        started = threading.Event()

        def drain() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                found = re.search(r"running on (http://127\.0\.0\.1:\d+)", line)
                if found:
                    self.url = found.group(1)
                    started.set()
            started.set()

        self._drain = threading.Thread(target=drain, daemon=True)
        self._drain.start()
        deadline = time.monotonic() + start_timeout
        while not started.wait(0.1) and time.monotonic() < deadline:
            pass
        if not self.url:
            self.stop()
            raise RuntimeError("ocrai serve did not start:\n" + "\n".join(self.lines))

    def rss_bytes(self) -> int:
        """The server's resident memory now (Linux)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        return int(found.group(1)) * 1024 if found else 0

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM (a graceful stop), then its exit status; SIGKILL and RuntimeError when
        it is still running after `timeout` seconds."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            msg = f"ocrai serve did not stop within {timeout} s of SIGTERM"
            raise RuntimeError(msg) from None
        finally:
            self._drain.join(10)
            if self.proc.stderr is not None:
                self.proc.stderr.close()
        return status
