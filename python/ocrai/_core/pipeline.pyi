# Stubs for ocrai._core.pipeline (cpp/bindings/register_pipeline.cpp).
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt

class Char(TypedDict):
    text: str
    confidence: float
    x0: float
    x1: float
    alternatives: list[list[Any]]  # [[symbol: str, probability: float], ...]

class Word(TypedDict):
    text: str
    confidence: float
    quad: list[list[float]]

class Line(TypedDict):
    text: str
    confidence: float
    quad: list[list[float]]
    det_score: float
    block: int
    rotated_180: bool
    model: str
    pattern_matched: bool | None
    chars: list[Char]
    words: list[Word]

class Block(TypedDict):
    bbox: list[float]
    lines: list[int]

class Timings(TypedDict):
    preprocess: float
    detect: float
    postprocess: float
    crop: float
    classify: float
    recognize: float
    decode: float
    layout: float
    total: float

class Models(TypedDict):
    det: str | None
    rec: str
    cls: str | None
    fallback: str | None

class Page(TypedDict):
    width: int
    height: int
    angle: float
    deskewed: bool
    lines: list[Line]
    blocks: list[Block]
    timings: Timings
    models: Models

class Pipeline:
    """The end-to-end OCR pipeline over one set of models."""

    def __init__(
        self,
        *,
        det_model: str,
        rec_model: str,
        rec_dict: str,
        cls_model: str | None = None,
        fallback_rec_model: str | None = None,
        fallback_rec_dict: str | None = None,
        threads: int = 1,
        fallback_on_first_use: bool = False,
    ) -> None:
        """Loads every model now (GIL released). A missing or corrupt file raises
        ModelError naming it; a dictionary that does not match its recogniser raises
        ModelError naming both files. With fallback_on_first_use the fallback recogniser's
        model is loaded and checked by the first run that re-reads a line (which raises
        those errors then); its dictionary is read now."""
    def run(
        self,
        image: npt.NDArray[np.uint8],
        order: str = "rgb",
        options: dict[str, object] | None = None,
    ) -> Page:
        """Reads a uint8 image (H, W) or (H, W, 3|4) with the GIL released and returns
        the page dict: lines and words in reading order, blocks, timings, models."""
    def warmup(self) -> None:
        """Runs every model once on a tiny input."""
    def close(self) -> None:
        """Releases the models now; idempotent. Runs in flight finish first; later
        calls raise ValueError("the pipeline is closed")."""
    @property
    def closed(self) -> bool: ...
    @property
    def threads(self) -> int: ...

def _thread_pool_check(
    threads: int, count: int, grain: int, fail_at: int = -1, callers: int = 1
) -> tuple[list[int], list[str]]:
    """Test-only: `callers` threads each run parallel_for over [0, count) with `grain` on
    one ThreadPool(threads), counting visits per item (an item visited by every caller reads
    `callers`); item `fail_at` throws. Returns (visits, each caller's error message or "")."""

class _CtcResult(TypedDict):
    text: str
    confidence: float
    gap_doubt: float
    space_doubt: float
    pattern_matched: bool | None
    search_cost: float
    chars: list[Char]

class _Layout(TypedDict):
    order: list[int]
    block_of: list[int]
    blocks: list[Block]
    skew: float

def db_postprocess(
    prob: npt.NDArray[np.float32],
    *,
    valid_width: int | None = None,
    valid_height: int | None = None,
    page_width: int | None = None,
    page_height: int | None = None,
    thresh: float = 0.2,
    box_thresh: float = 0.45,
    unclip_ratio: float = 1.4,
    min_size: float = 3.0,
    max_candidates: int = 3000,
) -> list[tuple[list[list[float]], float]]:
    """DB post-processing of a (H, W) float32 probability map: a list of (quad, score),
    quads clockwise from the text's top-left in page coordinates. The valid region (default
    the whole map) maps onto page_width x page_height (default the valid size)."""

def min_area_rect(
    points: npt.NDArray[np.float32],
) -> tuple[list[list[float]], float, float]:
    """The least-area rectangle around (n, 2) float32 points: (quad, width, height), the
    quad clockwise from the corner whose outgoing edge points most nearly to +x; width is
    the length of its first edge, height of its second."""

def argmax_rows(
    data: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """Per-row argmax of a (rows, cols) float32 array with the active SIMD target:
    (indices int32, values float32). Ties go to the first index; NaN never wins."""

class Dictionary:
    """A CTC recogniser's symbol table."""

    def __init__(self, path: str) -> None: ...
    @staticmethod
    def from_text(text: str, name: str) -> Dictionary:
        """A dictionary from text in memory; name stands for the file."""
    @property
    def num_classes(self) -> int: ...
    @property
    def name(self) -> str: ...
    def symbol(self, cls: int) -> str: ...
    def find(self, symbol: str) -> int: ...
    def check_model_classes(self, model_classes: int, model_name: str) -> None: ...

class CtcConstraint:
    """Reading control compiled against one dictionary (see ctc_decode)."""

    def __init__(
        self,
        dictionary: Dictionary,
        *,
        allow: str | None = None,
        deny: str | None = None,
        pattern: dict[str, Any] | None = None,
        words: list[str] | None = None,
        word_weight: float = 1.0,
    ) -> None: ...
    @property
    def masks(self) -> bool: ...
    @property
    def pattern_can_match(self) -> bool: ...

def ctc_decode(
    probs: npt.NDArray[np.float32],
    dictionary: Dictionary,
    *,
    valid_steps: int | None = None,
    top_k: int = 0,
    measure_gaps: bool = False,
    allow: str | None = None,
    deny: str | None = None,
    pattern: dict[str, Any] | None = None,
    words: list[str] | None = None,
    word_weight: float = 1.0,
    beam_width: int = 16,
    constraint: CtcConstraint | None = None,
) -> _CtcResult:
    """CTC decoding of one line's (steps, classes) float32 probabilities: {"text",
    "confidence", "gap_doubt", "space_doubt", "pattern_matched", "chars": [{"text",
    "confidence", "x0", "x1", "alternatives"}]}. Greedy without reading control. gap_doubt
    (with measure_gaps): the highest probability a character other than its neighbours
    reaches at a step the blank wins. space_doubt (with measure_gaps): the highest
    probability the space reaches at such a step between two characters that are not
    spaces. allow/deny (str): the characters a reading may use / not use (probabilities
    renormalised over the allowed classes); pattern: a compiled pattern
    (ocrai.reading.compile_pattern) the whole reading must match, by a constrained beam
    search of beam_width beams; words: a list the reading is drawn toward, by word_weight per
    character of a listed word; constraint: the same compiled once (CtcConstraint), for many
    lines. pattern_matched: None without a pattern. search_cost: how much less likely (in
    nats) the beam search's reading is than the best path, 0 when it did not choose it."""

def ink_bounds(
    image: npt.NDArray[np.uint8], *, tolerance: int, give_up_height: int = 0
) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the smallest box around the pixels of a uint8 image (gray, 3 or
    4 channels) that differ from its plain background by more than `tolerance` in a channel.
    The background is the per-channel median of the border; the whole image when under 95 %
    of the border is within `tolerance` of it, (0, 0, 0, 0) when there is no ink.
    give_up_height: the whole image once the ink spans that many rows (0: never)."""

def lone_text_line(image: npt.NDArray[np.uint8], *, tolerance: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the ink of a uint8 image (as `ink_bounds`) when it is one
    horizontal line of text on a plain background and nothing else, the pipeline's reason to
    read it without the detector; (0, 0, 0, 0) otherwise."""

def layout_lines(
    quads: npt.NDArray[np.float32],
    *,
    gutter: float = 0.1,
    column_min_width: float = 4.0,
    paragraph_gap: float = 0.9,
) -> _Layout:
    """Reading order of (n, 4, 2) float32 line quads: {"order", "block_of", "blocks":
    [{"bbox", "lines"}], "skew"}; order[k] is the box read k-th, blocks list reading
    positions."""
