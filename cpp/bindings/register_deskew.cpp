// SPDX-License-Identifier: MIT
#include <string>

#include "bindings.h"
#include "ocrai/deskew.h"

namespace ocrai::bindings {
namespace {

py::dict estimate_dict(const SkewEstimate& e) {
  py::dict d;
  d["angle"] = e.angle;
  d["confidence"] = e.confidence;
  d["background"] = e.background;
  return d;
}

// Rotates `src` into a new array (or `out`) of the rotated size; the GIL is released for the
// pixel work only.
py::array rotate_into(const ImageView& src, double angle, int border, bool expand,
                      const py::object& out) {
  const ImageSize size = rotated_size(src.width, src.height, angle, expand);
  py::array result = output_image(out, size.height, size.width, src.channels, "out");
  const MutableImageView dst = mutable_image_view(result, "out");
  {
    // Pure C++ on memory that the arrays keep alive; no Python object is touched.
    py::gil_scoped_release nogil;
    rotate_u8(src, dst, angle, border);
  }
  return result;
}

}  // namespace

void register_deskew(py::module_& kernels) {
  kernels.def(
      "estimate_skew_u8",
      [](const py::array& image, const std::string& order, double max_angle) {
        const ImageView src = image_view(image, "image");
        const ColorOrder co = color_order(order);
        SkewOptions options;
        options.max_angle = max_angle;
        SkewEstimate e;
        {
          // Pure C++ on memory that `image` keeps alive; no Python object is touched.
          py::gil_scoped_release nogil;
          e = estimate_skew_u8(src, co, options);
        }
        return estimate_dict(e);
      },
      py::arg("image"), py::arg("order") = "rgb", py::arg("max_angle") = 15.0,
      R"pbdoc(Skew of a page (uint8, 1, 3 or 4 channels): {"angle": degrees to rotate by,
counter-clockwise positive, to make the text horizontal; "confidence": 0..1; "background":
the paper's gray level}. Angle and confidence are 0 for blank or empty images.)pbdoc");

  kernels.def(
      "rotated_size",
      [](int width, int height, double angle, bool expand) {
        const ImageSize s = rotated_size(width, height, angle, expand);
        return py::make_tuple(s.height, s.width);
      },
      py::arg("width"), py::arg("height"), py::arg("angle"), py::arg("expand"),
      R"pbdoc((height, width) of a width x height image rotated by angle degrees: unchanged
without expand, else the canvas that holds the whole rotated image.)pbdoc");

  kernels.def(
      "rotate_u8",
      [](const py::array& image, double angle, int border, bool expand, const py::object& out) {
        return rotate_into(image_view(image, "image"), angle, border, expand, out);
      },
      py::arg("image"), py::arg("angle"), py::arg("border") = 255, py::arg("expand") = false,
      py::arg("out") = py::none(),
      R"pbdoc(Rotates a uint8 image (1, 3 or 4 channels) counter-clockwise by angle degrees
about its centre, bilinear, filling with border (0..255) outside the source; expand grows
the canvas to hold the whole result. out must have the rotated shape.)pbdoc");

  kernels.def(
      "deskew_u8",
      [](const py::array& image, const std::string& order, double max_angle, int border,
         bool expand, double min_confidence) {
        const ImageView src = image_view(image, "image");
        const ColorOrder co = color_order(order);
        if (border < -1 || border > 255) {
          throw py::value_error("border must be in [0, 255] or -1 (the paper level), got " +
                                std::to_string(border));
        }
        SkewOptions options;
        options.max_angle = max_angle;
        SkewEstimate e;
        {
          // Pure C++ on memory that `image` keeps alive; no Python object is touched.
          py::gil_scoped_release nogil;
          e = estimate_skew_u8(src, co, options);
        }
        const bool turn = e.angle != 0.0 && e.confidence >= min_confidence;
        const int fill = border >= 0 ? border : e.background;
        py::array rotated =
            rotate_into(src, turn ? e.angle : 0.0, fill, expand && turn, py::none());
        return py::make_tuple(rotated, estimate_dict(e));
      },
      py::arg("image"), py::arg("order") = "rgb", py::arg("max_angle") = 15.0,
      py::arg("border") = -1, py::arg("expand") = true, py::arg("min_confidence") = 0.0,
      R"pbdoc(Estimates the skew of a page and rotates it upright: returns (image, estimate)
with estimate as from estimate_skew_u8. border -1 fills with the estimated paper level. The
image is an unrotated copy when the angle is 0 or the confidence is below min_confidence.)pbdoc");
}

}  // namespace ocrai::bindings
