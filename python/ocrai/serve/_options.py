"""The query parameters of ``POST /v1/read``: one table, each entry a parser and a target.

An entry whose ``engine`` is True is passed to ``OcrAI.recognize`` as the keyword of its
name; the others (format, page, dpi) steer the request. Adding a reading option of the
engine is one line in `QUERY_OPTIONS`. Values are parsed here, so a bad one is a 400 that
names the parameter before any work is done; the engine checks its own ranges again. A
text option of `recognize` (a character allowlist, say) is one more line:
``"allowlist": QueryOption(_string(4096), True, "only these characters")``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["FORMATS", "QUERY_OPTIONS", "QueryError", "ReadRequest", "parse_query"]

#: Response formats: name -> media type.
FORMATS: dict[str, str] = {
    "json": "application/json",
    "text": "text/plain; charset=utf-8",
    "hocr": "application/xhtml+xml; charset=utf-8",
    "alto": "application/xml; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "pdf": "application/pdf",
    "overlay": "image/png",
}


class QueryError(ValueError):
    """A query parameter that is unknown, repeated or has a bad value."""


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    msg = "expected true or false"
    raise ValueError(msg)


def _integer(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text.strip())
        if not low <= value <= high:
            msg = f"expected an integer from {low} to {high}"
            raise ValueError(msg)
        return value

    return parse


def _number(low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(text.strip())
        if not math.isfinite(value) or not low <= value <= high:
            msg = f"expected a number from {low:g} to {high:g}"
            raise ValueError(msg)
        return value

    return parse


def _string(max_length: int) -> Callable[[str], str]:
    """Text as given (for options such as a character allowlist), at most `max_length`."""

    def parse(text: str) -> str:
        if len(text) > max_length:
            msg = f"expected at most {max_length} characters"
            raise ValueError(msg)
        return text

    return parse


def _choice(*values: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in values:
            msg = f"expected one of {', '.join(values)}"
            raise ValueError(msg)
        return text

    return parse


@dataclass(frozen=True)
class QueryOption:
    """One query parameter: how its text becomes a value, and whether it goes to the
    engine's `recognize` (as the keyword of the same name)."""

    parse: Callable[[str], object]
    engine: bool
    help: str


QUERY_OPTIONS: dict[str, QueryOption] = {
    # the request
    "format": QueryOption(_choice(*FORMATS), False, "response format (json)"),
    "page": QueryOption(_integer(0, 100_000), False, "only this page (0-based) of a PDF/TIFF"),
    "dpi": QueryOption(_number(10, 1200), False, "resolution of rendered PDF pages (300)"),
    # the engine's reading options
    "detect": QueryOption(_boolean, True, "false: the image is one text line"),
    "lone_line": QueryOption(_boolean, True, "false: run the detector on a one-line image too"),
    "deskew": QueryOption(_boolean, True, "straighten a skewed page before reading"),
    "classify": QueryOption(_choice("off", "on", "auto"), True, "180-degree line classifier"),
    "binarize": QueryOption(_choice("none", "otsu", "sauvola"), True, "binarise first"),
    "det_max_side": QueryOption(_integer(32, 8192), True, "longest side seen by detection"),
    "det_thresh": QueryOption(_number(0, 1), True, "detection pixel threshold"),
    "box_thresh": QueryOption(_number(0, 1), True, "detection box threshold"),
    "unclip_ratio": QueryOption(_number(0.1, 10), True, "text box expansion"),
    "min_confidence": QueryOption(_number(0, 1), True, "drop lines below this confidence"),
    "top_k": QueryOption(_integer(0, 16), True, "alternatives kept per character"),
    "fallback_threshold": QueryOption(_number(0, 1), True, "re-read lines below it (--fast)"),
    "check_threshold": QueryOption(
        _number(0, 1), True, "check int8 lines below it with fp32 (--fast, auto)"
    ),
}


@dataclass(frozen=True)
class ReadRequest:
    """The parsed query of one read: the format, the page (None: every page), the PDF
    resolution (None: the server's) and the options for `recognize`."""

    format: str = "json"
    page: int | None = None
    dpi: float | None = None
    options: Mapping[str, object] = field(default_factory=dict)


def parse_query(
    items: Sequence[tuple[str, str]], table: Mapping[str, QueryOption] = QUERY_OPTIONS
) -> ReadRequest:
    """Parses the query's (name, value) pairs; QueryError names the first bad one."""
    seen: set[str] = set()
    request: dict[str, object] = {}
    options: dict[str, object] = {}
    for name, text in items:
        option = table.get(name)
        if option is None:
            msg = f"unknown query parameter {name!r}; known: {', '.join(sorted(table))}"
            raise QueryError(msg)
        if name in seen:
            msg = f"query parameter {name!r} is given more than once"
            raise QueryError(msg)
        seen.add(name)
        try:
            value = option.parse(text)
        except ValueError as exc:
            reason = str(exc) if not str(exc).startswith(("invalid literal", "could not")) else ""
            msg = f"bad value {text!r} for {name!r}" + (f": {reason}" if reason else "")
            raise QueryError(msg) from exc
        (options if option.engine else request)[name] = value
    page, dpi = request.get("page"), request.get("dpi")
    return ReadRequest(
        format=str(request.get("format", "json")),
        page=page if isinstance(page, int) else None,
        dpi=float(dpi) if isinstance(dpi, (int, float)) else None,
        options=options,
    )
