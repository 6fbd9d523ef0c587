// SPDX-License-Identifier: MIT
// Resize and quad crop on numpy arrays.
#include <array>
#include <string>

#include "bindings.h"
#include "ocrai/crop.h"
#include "ocrai/geometry.h"
#include "ocrai/resize.h"

namespace ocrai::bindings {
namespace {

ResizeMode resize_mode(const std::string& mode) {
  if (mode == "auto") return ResizeMode::kAuto;
  if (mode == "bilinear") return ResizeMode::kBilinear;
  if (mode == "area") return ResizeMode::kArea;
  throw py::value_error("resize mode must be 'auto', 'bilinear' or 'area', got '" + mode + "'");
}

BorderMode border_mode(const std::string& border) {
  if (border == "replicate") return BorderMode::kReplicate;
  if (border == "constant") return BorderMode::kConstant;
  throw py::value_error("border must be 'replicate' or 'constant', got '" + border + "'");
}

using QuadArg = std::array<std::array<double, 2>, 4>;

Quad to_quad(const QuadArg& q) {
  Quad quad;
  for (std::size_t k = 0; k < 4; ++k) {
    quad[k] = {static_cast<float>(q[k][0]), static_cast<float>(q[k][1])};
  }
  return quad;
}

void check_size(int width, int height, const char* what) {
  if (width < 0 || height < 0) {
    throw py::value_error(std::string(what) + ": size must be non-negative, got (" +
                          std::to_string(width) + ", " + std::to_string(height) + ")");
  }
}

}  // namespace

void register_geometry(py::module_& kernels) {
  kernels.def(
      "resize_u8",
      [](const py::array& image, int width, int height, const std::string& mode,
         const py::object& out) {
        const ImageView src = image_view(image, "image");
        const ResizeMode m = resize_mode(mode);
        check_size(width, height, "resize_u8");
        py::array result = output_image(out, height, width, src.channels, "out");
        const MutableImageView dst = mutable_image_view(result, "out");
        {
          // Pure C++ on memory that the arrays above keep alive; no Python object is touched.
          py::gil_scoped_release nogil;
          resize_u8(src, dst, m);
        }
        return result;
      },
      py::arg("image"), py::arg("width"), py::arg("height"), py::arg("mode") = "auto",
      py::arg("out") = py::none(),
      R"pbdoc(Resize a uint8 image (1, 3 or 4 channels) to width x height.

mode: 'bilinear' (pixel-centre aligned, like OpenCV INTER_LINEAR), 'area' (exact box
filter, antialiased when shrinking) or 'auto' (area when shrinking along both axes,
bilinear otherwise). Integer weights: every SIMD target gives the same bytes.)pbdoc");

  kernels.def(
      "crop_quad_u8",
      [](const py::array& image, const QuadArg& quad, int width, int height,
         const std::string& border, int border_value, const py::object& out) {
        const ImageView src = image_view(image, "image");
        const BorderMode b = border_mode(border);
        if (border_value < 0 || border_value > 255) {
          throw py::value_error("border_value must be in 0..255, got " +
                                std::to_string(border_value));
        }
        check_size(width, height, "crop_quad_u8");
        const Quad q = to_quad(quad);
        validate_quad(q, "quad");  // before allocating, so a bad quad costs nothing
        py::array result = output_image(out, height, width, src.channels, "out");
        const MutableImageView dst = mutable_image_view(result, "out");
        {
          // Pure C++ on memory that the arrays above keep alive; no Python object is touched.
          py::gil_scoped_release nogil;
          crop_quad_u8(src, q, dst, b, static_cast<std::uint8_t>(border_value));
        }
        return result;
      },
      py::arg("image"), py::arg("quad"), py::arg("width"), py::arg("height"),
      py::arg("border") = "replicate", py::arg("border_value") = 0, py::arg("out") = py::none(),
      R"pbdoc(Rectify the quadrilateral `quad` ((x, y) corners clockwise from the top-left)
of a uint8 image into a width x height image by the perspective transform through the
corners, sampling bilinearly. border: 'replicate' (edge pixels) or 'constant'
(border_value in every channel).)pbdoc");

  kernels.def(
      "rectified_width",
      [](const QuadArg& quad, int height, int max_width) {
        return rectified_width(to_quad(quad), height, max_width);
      },
      py::arg("quad"), py::arg("height"), py::arg("max_width") = 0,
      R"pbdoc(Width that keeps the aspect ratio of `quad` at `height` pixels: mean length of
the top and bottom edges over the mean of the left and right edges, times height,
rounded, clamped to [1, max_width] (no upper bound when max_width <= 0).)pbdoc");
}

}  // namespace ocrai::bindings
