"""ocrai as an HTTP service (``ocrai serve``; the extra ``ocrai[serve]``).

An ASGI app (Starlette, run by uvicorn) over one `ocrai.OcrAI` and its async API:

- ``POST /v1/read``: an image or PDF as the body (``Content-Type: image/...``,
  ``application/pdf`` or ``application/octet-stream``) or as the file of a multipart form;
  query parameters choose the format (json, text, hocr, alto, tsv, pdf, overlay), the page
  and the engine's reading options (see ``_options.QUERY_OPTIONS``);
- ``GET /healthz`` (alive), ``GET /readyz`` (models loaded), ``GET /metrics`` (Prometheus);
- ``GET /``: a page where a user drops an image or PDF and sees the boxes and the text.

`Limits` says what one server accepts; see `create_app` for the answers it gives.
"""

from __future__ import annotations

from ._app import Limits, create_app
from ._options import FORMATS, QUERY_OPTIONS
from ._server import serve

__all__ = ["FORMATS", "QUERY_OPTIONS", "Limits", "create_app", "serve"]
