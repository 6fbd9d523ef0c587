# Stubs for ocrai._core.kernels (cpp/bindings/register_*.cpp).
from typing import TypedDict

import numpy as np
import numpy.typing as npt

def to_gray_u8(
    image: npt.NDArray[np.uint8],
    order: str = "rgb",
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """Gray (BT.601 luma, 14-bit fixed point) of a uint8 image with 1, 3 or 4 channels."""

def histogram_u8(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint64]:
    """Counts of each gray level (uint64, shape (256,)) of a 1-channel uint8 image."""

def otsu_threshold_u8(image: npt.NDArray[np.uint8]) -> int:
    """Otsu's threshold t of a 1-channel uint8 image: pixels <= t are the dark class
    (ink), pixels > t the light class (paper). 0 when fewer than two gray levels occur."""

def binarize_u8(
    image: npt.NDArray[np.uint8],
    threshold: int,
    invert: bool = False,
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """255 where image > threshold, else 0 (the opposite when invert), for a 1-channel
    uint8 image; threshold in [0, 255]. out may be image itself."""

def sauvola_u8(
    image: npt.NDArray[np.uint8],
    window: int = 31,
    k: float = 0.2,
    r: float = 128.0,
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """Sauvola binarization of a 1-channel uint8 image: 255 where
    image > mean * (1 + k * (std / r - 1)) over the window x window neighbourhood (clipped at
    the borders), else 0. window is odd, in [3, 255]."""

def adaptive_mean_u8(
    image: npt.NDArray[np.uint8],
    window: int = 31,
    c: int = 10,
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """Adaptive mean binarization of a 1-channel uint8 image: 255 where
    image > mean - c over the window x window neighbourhood (clipped at the borders, compared
    exactly), else 0. window is odd, in [3, 255]; c in [-255, 255]."""

class _SkewEstimate(TypedDict):
    angle: float
    confidence: float
    background: int

def estimate_skew_u8(
    image: npt.NDArray[np.uint8], order: str = "rgb", max_angle: float = 15.0
) -> _SkewEstimate:
    """Skew of a page (uint8, 1, 3 or 4 channels): {"angle": degrees to rotate by,
    counter-clockwise positive, to make the text horizontal; "confidence": 0..1; "background":
    the paper's gray level}. Angle and confidence are 0 for blank or empty images."""

def rotated_size(width: int, height: int, angle: float, expand: bool) -> tuple[int, int]:
    """(height, width) of a width x height image rotated by angle degrees: unchanged
    without expand, else the canvas that holds the whole rotated image."""

def rotate_u8(
    image: npt.NDArray[np.uint8],
    angle: float,
    border: int = 255,
    expand: bool = False,
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """Rotates a uint8 image (1, 3 or 4 channels) counter-clockwise by angle degrees
    about its centre, bilinear, filling with border (0..255) outside the source; expand grows
    the canvas to hold the whole result. out must have the rotated shape."""

def deskew_u8(
    image: npt.NDArray[np.uint8],
    order: str = "rgb",
    max_angle: float = 15.0,
    border: int = -1,
    expand: bool = True,
    min_confidence: float = 0.0,
) -> tuple[npt.NDArray[np.uint8], _SkewEstimate]:
    """Estimates the skew of a page and rotates it upright: returns (image, estimate)
    with estimate as from estimate_skew_u8. border -1 fills with the estimated paper level. The
    image is an unrotated copy when the angle is 0 or the confidence is below min_confidence."""
