"""Image preprocessing on numpy arrays, by the native SIMD kernels.

Every function takes uint8 images of shape (H, W) or (H, W, C) with C in {1, 3, 4} whose
pixels are contiguous within each row (crops of larger arrays are fine), checks dtype, shape
and layout, raises TypeError or ValueError with a clear message instead of casting, and runs
without the GIL. Functions that produce an image accept ``out=`` to write into an existing
array.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from . import _core

__all__ = ["to_gray"]

ColorOrder = Literal["rgb", "bgr"]
U8Image = npt.NDArray[np.uint8]


def to_gray(image: U8Image, order: ColorOrder = "rgb", *, out: U8Image | None = None) -> U8Image:
    """Gray (BT.601 luma) of a 1-, 3- or 4-channel image; alpha is ignored.

    ``order`` says whether a colour image is RGB(A) or BGR(A).
    """
    return _core.kernels.to_gray_u8(image, order, out)
