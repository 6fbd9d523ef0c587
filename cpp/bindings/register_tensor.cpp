// SPDX-License-Identifier: MIT
// Packing uint8 images into float32 NCHW tensors.
#include <string>
#include <vector>

#include "bindings.h"
#include "ocrai/tensor.h"

namespace ocrai::bindings {
namespace {

PackParams pack_params(const std::vector<float>& scale, const std::vector<float>& bias,
                       bool reverse_channels, float pad_value) {
  if (scale.size() != bias.size() || (scale.size() != 1 && scale.size() != 3)) {
    throw py::value_error("scale and bias must both have 1 or 3 values (one per output plane), "
                          "got " + std::to_string(scale.size()) + " and " +
                          std::to_string(bias.size()));
  }
  PackParams p;
  p.channels = static_cast<int>(scale.size());
  for (std::size_t k = 0; k < scale.size(); ++k) {
    p.scale[k] = scale[k];
    p.bias[k] = bias[k];
  }
  p.reverse_channels = reverse_channels;
  p.pad_value = pad_value;
  return p;
}

std::string shape_text(const std::vector<py::ssize_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    s += std::to_string(shape[i]) + (i + 1 < shape.size() ? ", " : "");
  }
  return s + ")";
}

// `out` after checking it is a writable, C-contiguous float32 array of exactly `shape`, or a
// new one when `out` is None.
py::array_t<float> float_output(const py::object& out, const std::vector<py::ssize_t>& shape) {
  if (out.is_none()) return py::array_t<float>(shape);
  if (!py::isinstance<py::array>(out)) {
    throw py::type_error("out: expected a numpy float32 array or None");
  }
  auto array = py::reinterpret_borrow<py::array>(out);
  if (!py::isinstance<py::array_t<float>>(array)) {
    throw py::type_error("out: expected dtype float32, got " +
                         py::str(static_cast<py::object>(array.dtype())).cast<std::string>());
  }
  std::vector<py::ssize_t> got(array.shape(), array.shape() + array.ndim());
  if (got != shape) {
    throw py::value_error("out: has shape " + shape_text(got) + ", expected " +
                          shape_text(shape));
  }
  if (!(array.flags() & py::array::c_style)) {
    throw py::value_error("out: must be C-contiguous (the tensor is written as one block)");
  }
  if (!array.writeable()) throw py::value_error("out: the output array is read-only");
  if (!(array.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_)) {
    throw py::value_error("out: must be aligned to 4 bytes (a float32 array made from a "
                          "buffer at an odd offset is not)");
  }
  return py::reinterpret_borrow<py::array_t<float>>(out);
}

void check_dims(int batch, int height, int width, const char* what) {
  if (batch < 0 || height < 0 || width < 0) {
    throw py::value_error(std::string(what) + ": batch, height and width must be non-negative");
  }
}

}  // namespace

void register_tensor(py::module_& kernels) {
  kernels.def(
      "pack_chw_f32",
      [](const py::array& image, const std::vector<float>& scale, const std::vector<float>& bias,
         bool reverse_channels, float pad_value, int height, int width, const py::object& out) {
        const ImageView src = image_view(image, "image");
        const PackParams p = pack_params(scale, bias, reverse_channels, pad_value);
        check_dims(1, height, width, "pack_chw_f32");
        py::array_t<float> result = float_output(out, {1, p.channels, height, width});
        float* data = result.mutable_data();
        {
          // Pure C++ on memory that the arrays above keep alive; no Python object is touched.
          py::gil_scoped_release nogil;
          pack_chw_f32(src, p, data, height, width);
        }
        return result;
      },
      py::arg("image"), py::arg("scale"), py::arg("bias"), py::arg("reverse_channels"),
      py::arg("pad_value"), py::arg("height"), py::arg("width"),
      py::arg("out") = py::none(),
      R"pbdoc(Pack a uint8 image into a float32 (1, C, height, width) tensor, C = len(scale):
plane k = scale[k] * x + bias[k] (model channel order) of input channel k, or 2 - k with
reverse_channels (a gray image feeds every plane); the image at the top-left, pad_value
elsewhere.)pbdoc");

  kernels.def(
      "pack_batch_f32",
      [](const py::list& crops, const std::vector<float>& scale, const std::vector<float>& bias,
         bool reverse_channels, float pad_value, int batch, int height, int width,
         const py::object& out) {
        const PackParams p = pack_params(scale, bias, reverse_channels, pad_value);
        check_dims(batch, height, width, "pack_batch_f32");
        std::vector<py::array> keep;  // holds every crop alive while the GIL is released
        std::vector<ImageView> views;
        keep.reserve(crops.size());
        views.reserve(crops.size());
        for (std::size_t i = 0; i < crops.size(); ++i) {
          const std::string what = "crops[" + std::to_string(i) + "]";
          py::object item = crops[i];
          if (!py::isinstance<py::array>(item)) {
            throw py::type_error(what + ": expected a numpy uint8 array");
          }
          keep.push_back(py::reinterpret_borrow<py::array>(item));
          views.push_back(image_view(keep.back(), what.c_str()));
        }
        py::array_t<float> result = float_output(out, {batch, p.channels, height, width});
        float* data = result.mutable_data();
        {
          // Pure C++ on memory that `keep` and `result` keep alive; no Python object is touched.
          py::gil_scoped_release nogil;
          pack_batch_f32(views, p, data, batch, p.channels, height, width);
        }
        return result;
      },
      py::arg("crops"), py::arg("scale"), py::arg("bias"), py::arg("reverse_channels"),
      py::arg("pad_value"), py::arg("batch"), py::arg("height"), py::arg("width"),
      py::arg("out") = py::none(),
      R"pbdoc(Pack up to `batch` uint8 images (e.g. line crops of different widths) into one
float32 (batch, C, height, width) tensor, each at the top-left of its sample, as
pack_chw_f32; samples without a crop are all pad_value.)pbdoc");

  kernels.def("round_up", &round_up, py::arg("value"), py::arg("multiple"),
              R"pbdoc(`value` rounded up to a multiple of `multiple`.)pbdoc");
}

}  // namespace ocrai::bindings
