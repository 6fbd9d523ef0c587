"""Renders the example page that scripts/example.sh reads: a short multilingual notice.

The page is made here rather than shipped, so the expected text is known exactly and the
repository carries no binary test images. Usage: python examples/make_example.py OUT.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from ocrai.testing import SAMPLE_TEXT, render_page


def make_example() -> tuple[np.ndarray, str]:
    """The example page (RGB) and its ground-truth text, English then French lines."""
    lines = SAMPLE_TEXT["en"][:3] + SAMPLE_TEXT["fr"][:2]
    page = render_page(lines, font_size=34, noise=6.0, seed=1)
    return page.image, page.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="PNG file to write")
    args = parser.parse_args()
    image, text = make_example()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(args.out)
    args.out.with_suffix(".gt.txt").write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({image.shape[1]}x{image.shape[0]}) and its ground truth")


if __name__ == "__main__":
    main()
