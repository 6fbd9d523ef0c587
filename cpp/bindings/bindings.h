// SPDX-License-Identifier: MIT
#pragma once
// Shared by the binding files: array <-> view conversion and the register_* entry points.
// Only conversion and error mapping live in cpp/bindings; every computation is in cpp/src.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>

#include "ocrai/color.h"
#include "ocrai/image.h"

namespace ocrai::bindings {

namespace py = pybind11;

void register_errors(py::module_& m);
void register_cpu(py::module_& m);
void register_color(py::module_& kernels);
void register_binarize(py::module_& kernels);
void register_deskew(py::module_& kernels);
void register_geometry(py::module_& kernels);
void register_tensor(py::module_& kernels);
void register_runtime(py::module_& ort);
void register_pipeline(py::module_& pipeline);

/// Borrows a uint8 numpy array of shape (H, W) or (H, W, C), C in {1, 3, 4}, as an ImageView.
/// Pixels must be interleaved (contiguous within each row); rows may have any positive
/// stride, so crops of larger arrays pass without a copy. Raises TypeError for another dtype
/// and ValueError for another layout; nothing is ever cast or copied silently. `what` names
/// the argument in messages.
ImageView image_view(const py::array& array, const char* what);

/// As image_view, for an array the call writes into; read-only arrays raise ValueError.
MutableImageView mutable_image_view(py::array& array, const char* what);

/// Parses a colour order argument: "rgb" or "bgr"; anything else raises ValueError.
ColorOrder color_order(const std::string& order);

/// A new, C-contiguous uint8 array of shape (height, width) or (height, width, channels).
py::array_t<std::uint8_t> new_image_array(int height, int width, int channels);

/// Returns `out` after checking it is a writable uint8 image of the given shape, or a new array
/// of that shape when `out` is None.
py::array output_image(const py::object& out, int height, int width, int channels,
                       const char* what);

}  // namespace ocrai::bindings
