// SPDX-License-Identifier: MIT
#include <string>

#include "bindings.h"

namespace ocrai::bindings {
namespace {

std::string shape_of(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    s += std::to_string(a.shape(i));
    if (i + 1 < a.ndim() || a.ndim() == 1) s += ",";
    if (i + 1 < a.ndim()) s += " ";
  }
  return s + ")";
}

struct Layout {
  int height, width, channels;
  std::ptrdiff_t stride;
};

Layout check_layout(const py::array& array, const char* what) {
  if (!py::isinstance<py::array_t<std::uint8_t>>(array)) {
    throw py::type_error(std::string(what) + ": expected a uint8 array, got dtype " +
                         py::str(static_cast<py::object>(array.dtype())).cast<std::string>() +
                         "; convert it explicitly, e.g. with np.clip(a, 0, 255).astype(np.uint8)");
  }
  const auto ndim = array.ndim();
  if (ndim != 2 && ndim != 3) {
    throw py::value_error(std::string(what) + ": expected an image of shape (H, W) or (H, W, C), got " +
                          shape_of(array));
  }
  const int channels = ndim == 3 ? static_cast<int>(array.shape(2)) : 1;
  if (channels != 1 && channels != 3 && channels != 4) {
    throw py::value_error(std::string(what) + ": expected 1, 3 or 4 channels, got shape " +
                          shape_of(array));
  }
  if (array.shape(0) > INT32_MAX || array.shape(1) > INT32_MAX) {
    throw py::value_error(std::string(what) + ": image too large " + shape_of(array));
  }
  const int height = static_cast<int>(array.shape(0));
  const int width = static_cast<int>(array.shape(1));
  const std::ptrdiff_t row_bytes = static_cast<std::ptrdiff_t>(width) * channels;
  if (height == 0 || width == 0) return {height, width, channels, row_bytes};  // no pixel to read
  // Interleaved pixels: channel stride 1, pixel stride == channels. Rows: any stride that
  // does not overlap the previous row. A single row or column may report any stride.
  const bool channels_ok = ndim == 2 || channels == 1 || array.strides(2) == 1;
  const bool pixels_ok = width <= 1 || array.strides(1) == channels;
  const std::ptrdiff_t stride = height <= 1 ? row_bytes : array.strides(0);
  const bool rows_ok = height <= 1 || stride >= row_bytes;
  if (!channels_ok || !pixels_ok || !rows_ok) {
    throw py::value_error(std::string(what) +
                          ": pixels must be contiguous within each row (got strides of a "
                          "transposed, flipped or stepped view); pass np.ascontiguousarray(image)");
  }
  return {height, width, channels, stride};
}

}  // namespace

ImageView image_view(const py::array& array, const char* what) {
  const Layout l = check_layout(array, what);
  return {static_cast<const std::uint8_t*>(array.data()), l.width, l.height, l.channels, l.stride};
}

MutableImageView mutable_image_view(py::array& array, const char* what) {
  const Layout l = check_layout(array, what);
  if (!array.writeable()) {
    throw py::value_error(std::string(what) + ": the output array is read-only");
  }
  return {static_cast<std::uint8_t*>(array.mutable_data()), l.width, l.height, l.channels,
          l.stride};
}

py::array_t<std::uint8_t> new_image_array(int height, int width, int channels) {
  if (channels == 1) return py::array_t<std::uint8_t>({height, width});
  return py::array_t<std::uint8_t>({height, width, channels});
}

py::array output_image(const py::object& out, int height, int width, int channels,
                       const char* what) {
  if (out.is_none()) return new_image_array(height, width, channels);
  if (!py::isinstance<py::array>(out)) {
    throw py::type_error(std::string(what) + ": out must be a numpy array or None");
  }
  auto array = py::reinterpret_borrow<py::array>(out);
  const MutableImageView v = mutable_image_view(array, what);
  if (v.height != height || v.width != width || v.channels != channels ||
      (channels == 1 && array.ndim() != 2)) {
    throw py::value_error(std::string(what) + ": has shape " + shape_of(array) +
                          ", expected (" + std::to_string(height) + ", " + std::to_string(width) +
                          (channels == 1 ? ")" : ", " + std::to_string(channels) + ")"));
  }
  return array;
}

}  // namespace ocrai::bindings
