// SPDX-License-Identifier: MIT
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bindings.h"
#include "ocrai/runtime.h"

namespace ocrai::bindings {
namespace {

ElementType element_type_of(const py::dtype& dtype) {
  if (dtype.equal(py::dtype::of<float>())) return ElementType::kFloat32;
  if (dtype.equal(py::dtype::of<double>())) return ElementType::kFloat64;
  if (dtype.equal(py::dtype::of<std::int64_t>())) return ElementType::kInt64;
  if (dtype.equal(py::dtype::of<std::int32_t>())) return ElementType::kInt32;
  if (dtype.equal(py::dtype::of<std::uint8_t>())) return ElementType::kUInt8;
  if (dtype.equal(py::dtype::of<std::int8_t>())) return ElementType::kInt8;
  if (dtype.equal(py::dtype::of<bool>())) return ElementType::kBool;
  return ElementType::kOther;
}

py::dtype dtype_of(ElementType type) {
  switch (type) {
    case ElementType::kFloat32: return py::dtype::of<float>();
    case ElementType::kFloat64: return py::dtype::of<double>();
    case ElementType::kInt64: return py::dtype::of<std::int64_t>();
    case ElementType::kInt32: return py::dtype::of<std::int32_t>();
    case ElementType::kUInt8: return py::dtype::of<std::uint8_t>();
    case ElementType::kInt8: return py::dtype::of<std::int8_t>();
    case ElementType::kBool: return py::dtype::of<bool>();
    case ElementType::kOther: break;
  }
  throw py::type_error("model output has an element type numpy cannot hold");
}

py::dict runtime_dict(const OrtRuntime& rt) {
  py::dict d;
  d["version"] = rt.version();
  d["library_path"] = rt.library_path();
  d["api_version"] = rt.api_version();
  return d;
}

py::list describe(const std::vector<TensorInfo>& infos) {
  py::list list;
  for (const auto& info : infos) {
    list.append(py::make_tuple(info.name, element_type_name(info.type), info.shape));
  }
  return list;
}

GraphOptimization optimization_of(const std::string& level) {
  if (level == "disabled") return GraphOptimization::kDisabled;
  if (level == "basic") return GraphOptimization::kBasic;
  if (level == "extended") return GraphOptimization::kExtended;
  if (level == "all") return GraphOptimization::kAll;
  throw py::value_error("optimization must be 'disabled', 'basic', 'extended' or 'all', got '" +
                        level + "'");
}

/// The Python-facing session. close() may come from any thread while run() is in flight on
/// another: run() takes its own reference to the session before releasing the GIL, so the
/// native session is destroyed only when the last run that uses it returns.
class PySession {
 public:
  PySession(const std::string& model_path, int intra_op_threads, int inter_op_threads,
            const std::string& optimization, bool cpu_mem_arena, bool allow_spinning) {
    SessionOptions options;
    options.intra_op_threads = intra_op_threads;
    options.inter_op_threads = inter_op_threads;
    options.optimization = optimization_of(optimization);
    options.cpu_mem_arena = cpu_mem_arena;
    options.allow_spinning = allow_spinning;
    auto runtime = OrtRuntime::current();
    if (!runtime) {
      throw py::value_error("ONNX Runtime is not loaded; call load_runtime() first");
    }
    py::gil_scoped_release nogil;  // model loading is pure C++ and can take a while
    session_ = std::make_shared<const Session>(std::move(runtime), model_path, options);
  }

  std::shared_ptr<const Session> get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!session_) throw py::value_error("the session is closed");
    return session_;
  }

  void close() {
    std::shared_ptr<const Session> dropped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      dropped.swap(session_);
    }
    py::gil_scoped_release nogil;  // destroying a session frees large buffers
    dropped.reset();
  }

  bool closed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return !session_;
  }

  py::dict run(const py::dict& feeds) const {
    auto session = get();
    const auto& inputs = session->inputs();
    std::vector<py::array> keep_alive;
    std::vector<TensorView> views;
    for (const auto& info : inputs) {
      if (!feeds.contains(info.name)) {
        throw py::value_error(session->name() + ": missing input '" + info.name + "'");
      }
      py::object value = feeds[py::str(info.name)];
      if (!py::isinstance<py::array>(value)) {
        throw py::type_error(session->name() + ": input '" + info.name + "' must be a numpy array");
      }
      auto array = py::reinterpret_borrow<py::array>(value);
      if (!(array.flags() & py::array::c_style)) {
        throw py::value_error(session->name() + ": input '" + info.name +
                              "' must be C-contiguous; pass np.ascontiguousarray(a)");
      }
      const ElementType type = element_type_of(array.dtype());
      if (type == ElementType::kOther) {
        throw py::type_error(session->name() + ": input '" + info.name + "' has unsupported dtype " +
                             py::str(static_cast<py::object>(array.dtype())).cast<std::string>());
      }
      TensorView view;
      view.type = type;
      view.data = array.data();
      view.shape.assign(array.shape(), array.shape() + array.ndim());
      views.push_back(std::move(view));
      keep_alive.push_back(std::move(array));
    }
    if (py::len(feeds) != inputs.size()) {
      for (auto item : feeds) {
        const auto key = py::str(item.first).cast<std::string>();
        bool known = false;
        for (const auto& info : inputs) known = known || info.name == key;
        if (!known) throw py::value_error(session->name() + ": unknown input '" + key + "'");
      }
    }
    std::vector<Tensor> outputs;
    {
      // The arrays in keep_alive hold the input memory; the session reference holds the model.
      py::gil_scoped_release nogil;
      outputs = session->run(views);
    }
    py::dict result;
    const auto& infos = session->outputs();
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      auto owned = std::make_unique<Tensor>(std::move(outputs[i]));
      const py::dtype dtype = dtype_of(owned->type());
      std::vector<py::ssize_t> shape(owned->shape().begin(), owned->shape().end());
      const void* data = owned->data();
      // Zero copy: the array borrows ORT's buffer and the capsule owns the Tensor.
      py::capsule owner(owned.release(), [](void* p) { delete static_cast<Tensor*>(p); });
      result[py::str(infos[i].name)] = py::array(dtype, shape, data, owner);
    }
    return result;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Session> session_;
};

}  // namespace

void register_runtime(py::module_& ort) {
  ort.def(
      "load_runtime",
      [](const std::string& library_path) {
        std::shared_ptr<OrtRuntime> rt;
        {
          py::gil_scoped_release nogil;  // dlopen and Env creation are pure C++
          rt = OrtRuntime::load(library_path);
        }
        return runtime_dict(*rt);
      },
      py::arg("library_path"),
      R"pbdoc(Loads the ONNX Runtime shared library once per process and creates the one ORT
environment. Later calls return the runtime loaded first. Raises RuntimeLoadError.)pbdoc");
  ort.def(
      "runtime_info",
      []() -> py::object {
        auto rt = OrtRuntime::current();
        if (!rt) return py::none();
        return runtime_dict(*rt);
      },
      R"pbdoc(The loaded runtime's version, library path and API version, or None.)pbdoc");
  ort.def("trim_native_heap", &trim_native_heap,
          R"pbdoc(Returns freed native heap to the operating system (glibc malloc_trim).)pbdoc");
  ort.def("set_heap_trim_threshold", &set_heap_trim_threshold, py::arg("size"),
          R"pbdoc(Sets glibc's heap trim threshold (M_TRIM_THRESHOLD); False where unsupported.
A release lowers it while destroying sessions so that per-thread arenas give their free top
back (malloc_trim cannot), then sets a steady-state value.)pbdoc");

  py::class_<PySession>(ort, "Session", R"pbdoc(One ONNX model loaded in ONNX Runtime.)pbdoc")
      .def(py::init<const std::string&, int, int, const std::string&, bool, bool>(),
           py::arg("model_path"), py::kw_only(), py::arg("intra_op_threads") = 1,
           py::arg("inter_op_threads") = 1, py::arg("optimization") = "all",
           py::arg("cpu_mem_arena") = true, py::arg("allow_spinning") = false)
      .def_property_readonly("name", [](const PySession& s) { return s.get()->name(); })
      .def_property_readonly("inputs",
                             [](const PySession& s) { return describe(s.get()->inputs()); })
      .def_property_readonly("outputs",
                             [](const PySession& s) { return describe(s.get()->outputs()); })
      .def_property_readonly("metadata",
                             [](const PySession& s) {
                               py::dict d;
                               for (const auto& [k, v] : s.get()->metadata()) d[py::str(k)] = v;
                               return d;
                             })
      .def_property_readonly("closed", &PySession::closed)
      .def("run", &PySession::run, py::arg("feeds"),
           R"pbdoc(Runs the model: {input name: array} -> {output name: array}.)pbdoc")
      .def("close", &PySession::close,
           R"pbdoc(Destroys the native session now; runs in flight finish first.)pbdoc");
}

}  // namespace ocrai::bindings
