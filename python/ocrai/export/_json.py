"""JSON in the versioned ``ocrai.result/1`` schema (shipped as ``result.schema.json``).

A document is ``{"schema": "ocrai.result/1", "generator": "ocrai X.Y.Z", "pages": [...]}``
with one object per page, each what ``Page.to_dict()`` returns: size, skew angle, text,
blocks, lines (quad, bbox, confidence, characters, words), timings and models. The shape
is the same for one page and for many. ``from_json`` reads it back into equal Pages.
A later incompatible format will have another version number; this reader refuses it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

from ocrai.results import Page

from ._common import as_pages, ocrai_version

__all__ = ["SCHEMA_ID", "from_json", "json_schema", "to_json"]

SCHEMA_ID = "ocrai.result/1"
_FAMILY = SCHEMA_ID.split("/", 1)[0] + "/"


def to_json(pages: Page | Iterable[Page], *, indent: int | None = None) -> str:
    """A JSON document holding one page or several; ``indent`` pretty-prints it."""
    document = {
        "schema": SCHEMA_ID,
        "generator": f"ocrai {ocrai_version()}",
        "pages": [page.to_dict() for page in as_pages(pages)],
    }
    return json.dumps(document, ensure_ascii=False, allow_nan=False, indent=indent)


def from_json(text: str | bytes) -> list[Page]:
    """The pages of a document written by :func:`to_json`. Raises ValueError for text that
    is not JSON, a document of another schema or version, or a malformed page (the
    message names the bad value, e.g. ``pages[0].lines[3].quad``)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"not JSON: {exc}"
        raise ValueError(msg) from exc
    if not isinstance(document, dict) or "schema" not in document:
        msg = f"not an ocrai result document: no 'schema' key (expected {SCHEMA_ID!r})"
        raise ValueError(msg)
    schema = document["schema"]
    if schema != SCHEMA_ID:
        if isinstance(schema, str) and schema.startswith(_FAMILY):
            msg = f"unsupported version {schema!r}: this ocrai reads {SCHEMA_ID!r}"
        else:
            msg = f"not an ocrai result document: schema {schema!r}, expected {SCHEMA_ID!r}"
        raise ValueError(msg)
    pages = document.get("pages")
    if not isinstance(pages, list) or not pages:
        msg = f"an ocrai result document has a non-empty 'pages' list, not {pages!r:.60}"
        raise ValueError(msg)
    result = []
    for k, page in enumerate(pages):
        try:
            result.append(Page.from_dict(page))
        except ValueError as exc:
            msg = f"pages[{k}]: {exc}"
            raise ValueError(msg) from exc
    return result


@lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files(__package__).joinpath("result.schema.json").read_text("utf-8")


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the documents :func:`to_json` writes."""
    schema: dict[str, Any] = json.loads(_schema_text())
    return schema
