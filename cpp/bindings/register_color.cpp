// SPDX-License-Identifier: MIT
#include <string>

#include "bindings.h"
#include "ocrai/color.h"

namespace ocrai::bindings {

ColorOrder color_order(const std::string& order) {
  if (order == "rgb") return ColorOrder::kRgb;
  if (order == "bgr") return ColorOrder::kBgr;
  throw py::value_error("color order must be 'rgb' or 'bgr', got '" + order + "'");
}

void register_color(py::module_& kernels) {
  kernels.def(
      "to_gray_u8",
      [](const py::array& image, const std::string& order, const py::object& out) {
        const ImageView src = image_view(image, "image");
        const ColorOrder co = color_order(order);
        py::array result = output_image(out, src.height, src.width, 1, "out");
        const MutableImageView dst = mutable_image_view(result, "out");
        {
          // Pure C++ on memory that the arrays above keep alive; no Python object is touched.
          py::gil_scoped_release nogil;
          to_gray_u8(src, co, dst);
        }
        return result;
      },
      py::arg("image"), py::arg("order") = "rgb", py::arg("out") = py::none(),
      R"pbdoc(Gray (BT.601 luma, 14-bit fixed point) of a uint8 image with 1, 3 or 4 channels.)pbdoc");
}

}  // namespace ocrai::bindings
