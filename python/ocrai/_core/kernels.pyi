# Stubs for ocrai._core.kernels (cpp/bindings/register_*.cpp).
import numpy as np
import numpy.typing as npt

def to_gray_u8(
    image: npt.NDArray[np.uint8],
    order: str = "rgb",
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """Gray (BT.601 luma, 14-bit fixed point) of a uint8 image with 1, 3 or 4 channels."""
