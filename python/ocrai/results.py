"""OCR results: frozen, hashable dataclasses built from the native pipeline's page dict.

A :class:`Page` holds its :class:`Line` objects in reading order (columns one after the
other), each with its :class:`Word` and :class:`Char` objects, and the reading-order
:class:`Block` objects (columns, paragraphs) that group the lines. Coordinates are pixels
of the input image (x to the right, y down), as float quadrilaterals: four (x, y) points
clockwise from the top-left corner of the text; ``bbox`` is the axis-aligned box around a
quad, ``(x0, y0, x1, y1)``. Confidences are 0..1.

``Page.text`` is the page as plain text: the lines in reading order, one per text line;
a blank line separates consecutive lines of different blocks; lines whose text is empty
or only whitespace are left out.

``Page.from_native(d)`` reads the pipeline's dict; ``Page.to_dict()`` gives a JSON-ready
dict (the page object of the ``ocrai.result/1`` JSON schema, see ``ocrai.export``) that
``Page.from_dict`` reads back into an equal Page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, NoReturn

__all__ = [
    "BBox",
    "Block",
    "Char",
    "Line",
    "Models",
    "Page",
    "Point",
    "Quad",
    "Timings",
    "Word",
]

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]
BBox = tuple[float, float, float, float]
LineModel = Literal["primary", "fallback"]


def quad_bbox(quad: Quad) -> BBox:
    """The axis-aligned box (x0, y0, x1, y1) around a quad."""
    xs = [p[0] for p in quad]
    ys = [p[1] for p in quad]
    return (min(xs), min(ys), max(xs), max(ys))


def bbox_union(boxes: Sequence[BBox]) -> BBox:
    """The axis-aligned box around non-empty `boxes`."""
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


@dataclass(frozen=True)
class Char:
    """One recognised character: its confidence, its extent along the line as fractions
    0..1 of the line's length (``x0``, ``x1``), and the recogniser's next-best readings
    ``(text, probability)`` when alternatives were asked for."""

    text: str
    confidence: float
    x0: float = 0.0
    x1: float = 0.0
    alternatives: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Word:
    """A run of characters between spaces (a run of CJK text without spaces is one word).
    ``confidence`` is calibrated when ``raw_confidence`` is set (see `Line`); ``script`` and
    ``language`` are set where they differ from the line's."""

    text: str
    confidence: float
    quad: Quad
    raw_confidence: float | None = None
    script: str | None = None
    language: str | None = None

    @property
    def bbox(self) -> BBox:
        return quad_bbox(self.quad)


@dataclass(frozen=True)
class Line:
    """One text line: its text and mean character confidence, its quad, the detector's
    score for it (1.0 when detection was off), the index of its block in ``Page.blocks``,
    whether it was read turned by 180 degrees, which recogniser read it (``"primary"`` or
    ``"fallback"``), its characters and its words. ``pattern_matched``: None unless the
    line was read with a ``pattern``; then whether its text matches it (False: nothing the
    model could read matched, and the text is the reading without the pattern).

    ``raw_confidence`` is the recogniser's own (mean character) confidence when
    ``confidence`` has been calibrated to the probability that the line is read exactly
    right (see `ocrai.calibration`); None when ``confidence`` is the raw one. ``script``
    (``"Latin"``, ``"Japanese"``, ``"Han"``, ``"Cyrillic"``, ...) and ``language`` (a BCP 47
    tag such as ``"cs"`` or ``"zh-Hant"``) are told from the characters read (see
    `ocrai.languages`); None when unknown. ``checked``: the line was re-read by the check
    recogniser (``Page.models.check``: in fast mode under precision "auto", the tiny fp32
    recogniser behind its int8 one) before the fallback's gate; ``model`` stays
    ``"primary"`` unless the fallback then re-read it too."""

    text: str
    confidence: float
    quad: Quad
    det_score: float = 1.0
    block: int = 0
    rotated_180: bool = False
    model: LineModel = "primary"
    chars: tuple[Char, ...] = ()
    words: tuple[Word, ...] = ()
    pattern_matched: bool | None = None
    raw_confidence: float | None = None
    script: str | None = None
    language: str | None = None
    checked: bool = False

    @property
    def bbox(self) -> BBox:
        return quad_bbox(self.quad)


@dataclass(frozen=True)
class Block:
    """A reading-order block (a column or paragraph): its box and its lines, by index into
    ``Page.lines`` and as the Line objects themselves."""

    bbox: BBox
    line_indices: tuple[int, ...]
    lines: tuple[Line, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Timings:
    """Milliseconds spent in each stage of the pipeline for one page."""

    preprocess: float = 0.0
    detect: float = 0.0
    postprocess: float = 0.0
    crop: float = 0.0
    classify: float = 0.0
    recognize: float = 0.0
    decode: float = 0.0
    layout: float = 0.0
    total: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Models:
    """The model files that produced a page (file names; None for a stage not run)."""

    det: str | None = None
    rec: str | None = None
    cls: str | None = None
    fallback: str | None = None
    #: The recogniser that re-read the lines the first one doubted before the fallback's
    #: gate (fast mode's tiny fp32 one behind its int8 one, under precision "auto").
    check: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Page:
    """The result of reading one image (one page of a document).

    ``orientation`` is how far the page's text was turned clockwise in the image (0, 90, 180
    or 270 degrees; it was read turned back, coordinates stay in the image's space) and
    ``orientation_confidence`` how sure the detection was (None when not detected, see
    `ocrai.orientation`). ``languages`` are the page's languages (given or told from the
    text), most used first."""

    width: int
    height: int
    lines: tuple[Line, ...] = ()
    blocks: tuple[Block, ...] = ()
    angle: float = 0.0
    deskewed: bool = False
    timings: Timings = Timings()
    models: Models = Models()
    source: str | None = None
    page: int = 0
    orientation: int = 0
    orientation_confidence: float | None = None
    languages: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            msg = f"a page has a positive size, not {self.width}x{self.height}"
            raise ValueError(msg)
        if self.orientation not in (0, 90, 180, 270):
            msg = f"a page's orientation is 0, 90, 180 or 270, not {self.orientation!r}"
            raise ValueError(msg)
        owner = [-1] * len(self.lines)
        for b, block in enumerate(self.blocks):
            for i in block.line_indices:
                if not 0 <= i < len(self.lines):
                    msg = f"block {b} lists line {i}, but the page has {len(self.lines)} lines"
                    raise ValueError(msg)
                if owner[i] != -1:
                    msg = f"line {i} is listed in blocks {owner[i]} and {b}"
                    raise ValueError(msg)
                owner[i] = b
        for i, (line, b) in enumerate(zip(self.lines, owner, strict=True)):
            if b == -1:
                msg = f"line {i} ({line.text!r}) is in no block"
                raise ValueError(msg)
            if line.block != b:
                msg = f"line {i} says it is in block {line.block}, but block {b} lists it"
                raise ValueError(msg)
        for block in self.blocks:
            expected = tuple(self.lines[i] for i in block.line_indices)
            if block.lines != expected:
                # Frozen: set the derived field once, as __init__ would have.
                object.__setattr__(self, "blocks", _with_block_lines(self.blocks, self.lines))
                break

    # -- views ----------------------------------------------------------------------

    @property
    def text(self) -> str:
        parts: list[str] = []
        previous: int | None = None
        for line in self.lines:
            if not line.text.strip():
                continue
            if previous is not None and line.block != previous:
                parts.append("")
            parts.append(line.text)
            previous = line.block
        return "\n".join(parts)

    @property
    def words(self) -> Iterator[Word]:
        """Every word of the page in reading order."""
        for line in self.lines:
            yield from line.words

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return (self.width, self.height)

    def with_source(self, source: str | None, page: int | None = None) -> Page:
        """This page with another ``source`` (and ``page`` index)."""
        return replace(self, source=source, page=self.page if page is None else page)

    def keeping(self, keep: Callable[[Line], bool]) -> Page:
        """This page with only the lines `keep` accepts, in the same reading order; each
        block keeps its lines that are left (a block that lost some gets their boxes'
        bounds for its box), and blocks left empty go."""
        kept = [i for i, line in enumerate(self.lines) if keep(line)]
        if len(kept) == len(self.lines):
            return self
        position = {old: new for new, old in enumerate(kept)}
        lines = [self.lines[i] for i in kept]
        blocks: list[Block] = []
        for block in self.blocks:
            indices = tuple(position[i] for i in block.line_indices if i in position)
            if not indices:
                continue
            for i in indices:
                lines[i] = replace(lines[i], block=len(blocks))
            bbox = block.bbox
            if len(indices) < len(block.line_indices):
                bbox = bbox_union([lines[i].bbox for i in indices])
            blocks.append(Block(bbox, indices))
        return replace(self, lines=tuple(lines), blocks=tuple(blocks))

    # -- conversion ---------------------------------------------------------------------

    @classmethod
    def from_native(cls, d: Mapping[str, Any], *, source: str | None = None, page: int = 0) -> Page:
        """Builds a Page from the dict that ``_core.pipeline.Pipeline.run`` returns."""
        return _read_page(d, "page", source=source, page=page)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Page:
        """Reads a dict written by :meth:`to_dict` (derived keys ``text`` and ``bbox`` are
        ignored). Raises ValueError naming the first key that is missing or wrong."""
        source = d.get("source")
        if source is not None and not isinstance(source, str):
            msg = f"page.source must be a string or null, not {source!r}"
            raise ValueError(msg)
        return _read_page(d, "page", source=source, page=_int(d.get("page", 0), "page.page"))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: plain lists, strings, numbers, booleans and None."""
        return {
            "source": self.source,
            "page": self.page,
            "width": self.width,
            "height": self.height,
            "angle": self.angle,
            "deskewed": self.deskewed,
            "text": self.text,
            "blocks": [
                {"bbox": list(block.bbox), "lines": list(block.line_indices)}
                for block in self.blocks
            ],
            "lines": [_line_dict(line) for line in self.lines],
            "timings": self.timings.as_dict(),
            "models": self.models.as_dict(),
            "orientation": self.orientation,
            "orientation_confidence": self.orientation_confidence,
            "languages": list(self.languages),
        }


def _with_block_lines(blocks: Sequence[Block], lines: Sequence[Line]) -> tuple[Block, ...]:
    return tuple(
        Block(block.bbox, block.line_indices, tuple(lines[i] for i in block.line_indices))
        for block in blocks
    )


def _quad_list(quad: Quad) -> list[list[float]]:
    return [[x, y] for x, y in quad]


def _line_dict(line: Line) -> dict[str, Any]:
    d = _line_fields(line)
    if line.pattern_matched is not None:  # only lines read with a pattern carry it
        d["pattern_matched"] = line.pattern_matched
    return d


def _line_fields(line: Line) -> dict[str, Any]:
    return {
        "text": line.text,
        "confidence": line.confidence,
        "quad": _quad_list(line.quad),
        "bbox": list(line.bbox),
        "det_score": line.det_score,
        "block": line.block,
        "rotated_180": line.rotated_180,
        "model": line.model,
        "checked": line.checked,
        "raw_confidence": line.raw_confidence,
        "script": line.script,
        "language": line.language,
        "chars": [
            {
                "text": c.text,
                "confidence": c.confidence,
                "x0": c.x0,
                "x1": c.x1,
                "alternatives": [[t, p] for t, p in c.alternatives],
            }
            for c in line.chars
        ],
        "words": [
            {
                "text": w.text,
                "confidence": w.confidence,
                "quad": _quad_list(w.quad),
                "bbox": list(w.bbox),
                "raw_confidence": w.raw_confidence,
                "script": w.script,
                "language": w.language,
            }
            for w in line.words
        ],
    }


# ---------------------------------------------------------------------------------------
# reading dicts: every value checked, errors name the path of the bad value

_MISSING: Any = object()


def _invalid(message: str) -> NoReturn:
    """Bad content of a result dict, whatever is wrong with it (a missing key, a value
    of the wrong type or range): always ValueError, as for any malformed document."""
    raise ValueError(message)


def _get(d: Any, key: str, where: str, default: Any = _MISSING) -> Any:
    if type(d) is dict:  # the common case, without the cost of an ABC check
        value = d.get(key, default)
        if value is _MISSING:
            _invalid(f"{where}.{key} is missing")
        return value
    if not isinstance(d, Mapping):
        _invalid(f"{where} must be a dict, not {type(d).__name__}")
    if key in d:
        return d[key]
    if default is _MISSING:
        _invalid(f"{where}.{key} is missing")
    return default


def _float(value: Any, where: str) -> float:
    if type(value) is float and math.isfinite(value):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _invalid(f"{where} must be a number, not {value!r}")
    result = float(value)
    if not math.isfinite(result):
        _invalid(f"{where} must be finite, not {value!r}")
    return result


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _invalid(f"{where} must be an integer, not {value!r}")
    return int(value)


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        _invalid(f"{where} must be true or false, not {value!r}")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        _invalid(f"{where} must be a string, not {value!r}")
    return value


def _list(value: Any, where: str) -> Sequence[Any]:
    if type(value) is list or type(value) is tuple:
        return value
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        _invalid(f"{where} must be a list, not {type(value).__name__}")
    return value


def _quad(value: Any, where: str) -> Quad:
    points = _list(value, where)
    if len(points) != 4:
        _invalid(f"{where} must have 4 points, not {len(points)}")
    out: list[Point] = []
    for k, point in enumerate(points):
        xy = _list(point, f"{where}[{k}]")
        if len(xy) != 2:
            _invalid(f"{where}[{k}] must be [x, y], not {point!r}")
        out.append((_float(xy[0], f"{where}[{k}][0]"), _float(xy[1], f"{where}[{k}][1]")))
    return (out[0], out[1], out[2], out[3])


def _bbox(value: Any, where: str) -> BBox:
    box = _list(value, where)
    if len(box) != 4:
        _invalid(f"{where} must be [x0, y0, x1, y1], not {value!r}")
    x0, y0, x1, y1 = (_float(v, f"{where}[{k}]") for k, v in enumerate(box))
    return (x0, y0, x1, y1)


def _read_char(d: Any, where: str) -> Char:
    if type(d) is dict and len(d) == 5 and not d.get("alternatives", True):
        # Fast path for the pipeline's usual char: exact types, no alternatives.
        text, conf, x0, x1 = d.get("text"), d.get("confidence"), d.get("x0"), d.get("x1")
        if (
            type(text) is str
            and type(conf) is float
            and type(x0) is float
            and type(x1) is float
            and math.isfinite(conf + x0 + x1)
        ):
            return Char(text, conf, x0, x1)
    return _read_char_checked(d, where)


def _read_char_checked(d: Any, where: str) -> Char:
    alternatives = tuple(
        (_str(_list(a, f"{where}.alternatives[{k}]")[0], f"{where}.alternatives[{k}][0]"),
         _float(_list(a, f"{where}.alternatives[{k}]")[1], f"{where}.alternatives[{k}][1]"))
        for k, a in enumerate(_list(_get(d, "alternatives", where, []), f"{where}.alternatives"))
    )  # fmt: skip
    return Char(
        text=_str(_get(d, "text", where), f"{where}.text"),
        confidence=_float(_get(d, "confidence", where), f"{where}.confidence"),
        x0=_float(_get(d, "x0", where, 0.0), f"{where}.x0"),
        x1=_float(_get(d, "x1", where, 0.0), f"{where}.x1"),
        alternatives=alternatives,
    )


def _optional(value: Any, read: Any, where: str) -> Any:
    return None if value is None else read(value, where)


def _read_word(d: Any, where: str) -> Word:
    return Word(
        text=_str(_get(d, "text", where), f"{where}.text"),
        confidence=_float(_get(d, "confidence", where), f"{where}.confidence"),
        quad=_quad(_get(d, "quad", where), f"{where}.quad"),
        raw_confidence=_optional(
            _get(d, "raw_confidence", where, None), _float, f"{where}.raw_confidence"
        ),
        script=_optional(_get(d, "script", where, None), _str, f"{where}.script"),
        language=_optional(_get(d, "language", where, None), _str, f"{where}.language"),
    )


def _read_line(d: Any, where: str) -> Line:
    model = _get(d, "model", where, "primary")
    if model not in ("primary", "fallback"):
        _invalid(f"{where}.model must be 'primary' or 'fallback', not {model!r}")
    chars = _list(_get(d, "chars", where, []), f"{where}.chars")
    words = _list(_get(d, "words", where, []), f"{where}.words")
    return Line(
        text=_str(_get(d, "text", where), f"{where}.text"),
        confidence=_float(_get(d, "confidence", where), f"{where}.confidence"),
        quad=_quad(_get(d, "quad", where), f"{where}.quad"),
        det_score=_float(_get(d, "det_score", where, 1.0), f"{where}.det_score"),
        block=_int(_get(d, "block", where, 0), f"{where}.block"),
        rotated_180=_bool(_get(d, "rotated_180", where, False), f"{where}.rotated_180"),
        model=model,
        chars=tuple(_read_char(c, f"{where}.chars[{k}]") for k, c in enumerate(chars)),
        words=tuple(_read_word(w, f"{where}.words[{k}]") for k, w in enumerate(words)),
        pattern_matched=_optional_bool(_get(d, "pattern_matched", where, None), where),
        raw_confidence=_optional(
            _get(d, "raw_confidence", where, None), _float, f"{where}.raw_confidence"
        ),
        script=_optional(_get(d, "script", where, None), _str, f"{where}.script"),
        language=_optional(_get(d, "language", where, None), _str, f"{where}.language"),
        checked=_bool(_get(d, "checked", where, False), f"{where}.checked"),
    )


def _optional_bool(value: Any, where: str) -> bool | None:
    return None if value is None else _bool(value, f"{where}.pattern_matched")


def _read_timings(d: Any, where: str) -> Timings:
    if not isinstance(d, Mapping):
        _invalid(f"{where} must be a dict, not {type(d).__name__}")
    known = {f.name for f in fields(Timings)}
    values = {k: _float(v, f"{where}.{k}") for k, v in d.items() if k in known}
    return Timings(**values)


def _read_models(d: Any, where: str) -> Models:
    if not isinstance(d, Mapping):
        _invalid(f"{where} must be a dict, not {type(d).__name__}")
    values: dict[str, str | None] = {}
    for f in fields(Models):
        value = d.get(f.name)
        values[f.name] = None if value is None else _str(value, f"{where}.{f.name}")
    return Models(**values)


def _read_page(d: Mapping[str, Any], where: str, *, source: str | None, page: int) -> Page:
    width = _int(_get(d, "width", where), f"{where}.width")
    height = _int(_get(d, "height", where), f"{where}.height")
    raw_lines = _list(_get(d, "lines", where), f"{where}.lines")
    lines = tuple(_read_line(x, f"{where}.lines[{k}]") for k, x in enumerate(raw_lines))
    raw_blocks = _list(_get(d, "blocks", where, []), f"{where}.blocks")
    blocks = []
    for k, b in enumerate(raw_blocks):
        at = f"{where}.blocks[{k}]"
        indices = _list(_get(b, "lines", at), f"{at}.lines")
        blocks.append(
            Block(
                bbox=_bbox(_get(b, "bbox", at), f"{at}.bbox"),
                line_indices=tuple(_int(i, f"{at}.lines[{j}]") for j, i in enumerate(indices)),
            )
        )
    if not blocks and lines:
        # A result without layout (e.g. one text line read without detection): one block.
        union = bbox_union([line.bbox for line in lines])
        blocks.append(Block(union, tuple(range(len(lines)))))
        lines = tuple(replace(line, block=0) for line in lines)
    if page < 0:
        _invalid(f"{where}.page must be 0 or more, not {page}")
    try:
        return Page(
            width=width,
            height=height,
            lines=lines,
            blocks=tuple(blocks),
            angle=_float(_get(d, "angle", where, 0.0), f"{where}.angle"),
            deskewed=_bool(_get(d, "deskewed", where, False), f"{where}.deskewed"),
            timings=_read_timings(_get(d, "timings", where, {}), f"{where}.timings"),
            models=_read_models(_get(d, "models", where, {}), f"{where}.models"),
            source=source,
            page=page,
            orientation=_int(_get(d, "orientation", where, 0), f"{where}.orientation"),
            orientation_confidence=_optional(
                _get(d, "orientation_confidence", where, None),
                _float,
                f"{where}.orientation_confidence",
            ),
            languages=tuple(
                _str(x, f"{where}.languages[{k}]")
                for k, x in enumerate(_list(_get(d, "languages", where, []), f"{where}.languages"))
            ),
        )
    except ValueError as exc:
        if str(exc).startswith(where):
            raise
        msg = f"{where}: {exc}"
        raise ValueError(msg) from exc
