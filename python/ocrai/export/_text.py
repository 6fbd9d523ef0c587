"""Plain text: each page's text (see ``Page.text``) ending in a newline; pages separated
by a form feed (``\\f``), as page breaks are in plain-text OCR output."""

from __future__ import annotations

from collections.abc import Iterable

from ocrai.results import Page

from ._common import as_pages

__all__ = ["to_text"]


def to_text(pages: Page | Iterable[Page]) -> str:
    """The text of one page, or of several separated by form feeds. A page without text
    contributes nothing (its form feed still marks the page)."""
    return "\f".join(page.text + "\n" if page.text else "" for page in as_pages(pages))
