// SPDX-License-Identifier: MIT
#include "bindings.h"
#include "ocrai/cpu.h"

namespace ocrai::bindings {

void register_cpu(py::module_& m) {
  m.def(
      "simd_info",
      [] {
        py::dict info;
        info["compiled"] = target_names(compiled_targets());
        info["supported"] = target_names(supported_targets());
        info["selected"] = target_name(active_target());
        info["int8_dot_product"] = has_int8_dot_product();
        return info;
      },
      R"pbdoc(SIMD targets: compiled into this build, supported by this CPU, and the one
every kernel dispatches to now; whether the CPU has int8 dot products (AVX512-VNNI or
AVX-VNNI), which make quantised models faster.)pbdoc");
  m.def(
      "_set_simd_targets",
      [](const std::vector<std::string>& names) {
        std::uint32_t mask = 0;
        for (const auto& name : names) {
          bool known = false;
          for (SimdTarget t : {SimdTarget::kScalar, SimdTarget::kAvx2, SimdTarget::kAvx512}) {
            if (name == target_name(t)) {
              mask |= static_cast<std::uint32_t>(t);
              known = true;
            }
          }
          if (!known) throw py::value_error("unknown SIMD target '" + name + "'");
        }
        set_allowed_targets(names.empty() ? ~0u : mask);
        return std::string(target_name(active_target()));
      },
      py::arg("targets"),
      R"pbdoc(Test-only: restrict dispatch to the named targets (the scalar reference is always
allowed); an empty list restores the default. Returns the target now selected.)pbdoc");
}

}  // namespace ocrai::bindings
