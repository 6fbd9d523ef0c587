// SPDX-License-Identifier: MIT
// ONNX Runtime behind the runtime.h owners. This is the only file that sees Ort::Exception.
#include "ocrai/runtime.h"

#include "ocrai/cpu.h"

#include <dlfcn.h>

#include <cstdlib>
#include <fstream>
#include <limits>
#include <mutex>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <utility>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <onnxruntime_cxx_api.h>

#include "ocrai/errors.h"

namespace ocrai {
namespace {

ONNXTensorElementDataType to_ort(ElementType type) {
  switch (type) {
    case ElementType::kFloat32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case ElementType::kFloat64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE;
    case ElementType::kInt64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
    case ElementType::kInt32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
    case ElementType::kUInt8: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
    case ElementType::kInt8: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8;
    case ElementType::kBool: return ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL;
    case ElementType::kOther: break;
  }
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

ElementType from_ort(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return ElementType::kFloat32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return ElementType::kFloat64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return ElementType::kInt64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return ElementType::kInt32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return ElementType::kUInt8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: return ElementType::kInt8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: return ElementType::kBool;
    default: return ElementType::kOther;
  }
}

const char* ort_code_name(OrtErrorCode code) {
  switch (code) {
    case ORT_OK: return "ORT_OK";
    case ORT_FAIL: return "ORT_FAIL";
    case ORT_INVALID_ARGUMENT: return "ORT_INVALID_ARGUMENT";
    case ORT_NO_SUCHFILE: return "ORT_NO_SUCHFILE";
    case ORT_NO_MODEL: return "ORT_NO_MODEL";
    case ORT_ENGINE_ERROR: return "ORT_ENGINE_ERROR";
    case ORT_RUNTIME_EXCEPTION: return "ORT_RUNTIME_EXCEPTION";
    case ORT_INVALID_PROTOBUF: return "ORT_INVALID_PROTOBUF";
    case ORT_MODEL_LOADED: return "ORT_MODEL_LOADED";
    case ORT_NOT_IMPLEMENTED: return "ORT_NOT_IMPLEMENTED";
    case ORT_INVALID_GRAPH: return "ORT_INVALID_GRAPH";
    case ORT_EP_FAIL: return "ORT_EP_FAIL";
    default: return "ORT_ERROR";
  }
}

std::string describe(const Ort::Exception& e) {
  return std::string(ort_code_name(e.GetOrtErrorCode())) + ": " + e.what();
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::ostringstream out;
  out << '[';
  for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << ']';
  return out.str();
}

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::mutex g_runtime_mutex;
std::shared_ptr<OrtRuntime> g_runtime;  // guarded by g_runtime_mutex; never reset

}  // namespace

std::size_t element_size(ElementType type) {
  switch (type) {
    case ElementType::kFloat64:
    case ElementType::kInt64: return 8;
    case ElementType::kFloat32:
    case ElementType::kInt32: return 4;
    case ElementType::kUInt8:
    case ElementType::kInt8:
    case ElementType::kBool: return 1;
    case ElementType::kOther: break;
  }
  return 0;
}

const char* element_type_name(ElementType type) {
  switch (type) {
    case ElementType::kFloat32: return "float32";
    case ElementType::kFloat64: return "float64";
    case ElementType::kInt64: return "int64";
    case ElementType::kInt32: return "int32";
    case ElementType::kUInt8: return "uint8";
    case ElementType::kInt8: return "int8";
    case ElementType::kBool: return "bool";
    case ElementType::kOther: break;
  }
  return "other";
}

// ---------------------------------------------------------------------------------------------
// Tensor

struct Tensor::Impl {
  Ort::Value value{nullptr};
  ElementType type = ElementType::kOther;
  std::vector<std::int64_t> shape;
  std::size_t count = 0;
};

Tensor::Tensor() : impl_(std::make_unique<Impl>()) {}
Tensor::Tensor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tensor::Tensor(Tensor&&) noexcept = default;
Tensor& Tensor::operator=(Tensor&&) noexcept = default;
Tensor::~Tensor() = default;

ElementType Tensor::type() const { return impl_->type; }
const std::vector<std::int64_t>& Tensor::shape() const { return impl_->shape; }
std::size_t Tensor::element_count() const { return impl_->count; }
const void* Tensor::data() const {
  if (!impl_->value || impl_->count == 0) return nullptr;
  return impl_->value.GetTensorRawData();
}

template <typename T>
const T* Tensor::data_as() const {
  constexpr ElementType expected = std::is_same_v<T, float>          ? ElementType::kFloat32
                                   : std::is_same_v<T, double>       ? ElementType::kFloat64
                                   : std::is_same_v<T, std::int64_t> ? ElementType::kInt64
                                   : std::is_same_v<T, std::int32_t> ? ElementType::kInt32
                                   : std::is_same_v<T, std::uint8_t> ? ElementType::kUInt8
                                   : std::is_same_v<T, std::int8_t>  ? ElementType::kInt8
                                                                     : ElementType::kOther;
  if (impl_->type != expected) {
    throw std::logic_error(std::string("Tensor holds ") + element_type_name(impl_->type) +
                           ", not " + element_type_name(expected));
  }
  return static_cast<const T*>(data());
}

template const float* Tensor::data_as<float>() const;
template const double* Tensor::data_as<double>() const;
template const std::int64_t* Tensor::data_as<std::int64_t>() const;
template const std::int32_t* Tensor::data_as<std::int32_t>() const;
template const std::uint8_t* Tensor::data_as<std::uint8_t>() const;
template const std::int8_t* Tensor::data_as<std::int8_t>() const;

// ---------------------------------------------------------------------------------------------
// OrtRuntime

struct OrtRuntime::Impl {
  Ort::Env env{nullptr};
};

OrtRuntime::OrtRuntime(std::string library_path, std::string version, std::unique_ptr<Impl> impl)
    : library_path_(std::move(library_path)), version_(std::move(version)), impl_(std::move(impl)) {}

OrtRuntime::~OrtRuntime() = default;

int OrtRuntime::api_version() const { return ORT_API_VERSION; }

std::shared_ptr<OrtRuntime> OrtRuntime::current() {
  std::lock_guard<std::mutex> lock(g_runtime_mutex);
  return g_runtime;
}

std::shared_ptr<OrtRuntime> OrtRuntime::load(const std::string& library_path) {
  std::lock_guard<std::mutex> lock(g_runtime_mutex);
  if (g_runtime) return g_runtime;

  // RTLD_LOCAL keeps ORT's symbols out of the global namespace, so a second copy of ORT in the
  // process (the onnxruntime Python module links its own) cannot clash with this one.
  void* handle = dlopen(library_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* reason = dlerror();
    throw RuntimeLoadError("cannot load the ONNX Runtime library " + library_path + ": " +
                           (reason ? reason : "unknown dlopen error"));
  }
  using GetApiBase = const OrtApiBase* (*)();
  auto get_api_base = reinterpret_cast<GetApiBase>(dlsym(handle, "OrtGetApiBase"));
  if (get_api_base == nullptr) {
    throw RuntimeLoadError(library_path + " is not an ONNX Runtime library (no OrtGetApiBase)");
  }
  const OrtApiBase* base = get_api_base();
  const std::string version = base->GetVersionString();
  const OrtApi* api = base->GetApi(ORT_API_VERSION);
  if (api == nullptr) {
    throw RuntimeLoadError("onnxruntime " + version + " at " + library_path +
                           " is too old: ocrai needs ORT API " + std::to_string(ORT_API_VERSION) +
                           " (onnxruntime >= 1." + std::to_string(ORT_API_VERSION) +
                           "); upgrade with: pip install -U onnxruntime");
  }
  Ort::InitApi(api);

  // ORT writes telemetry files when an Env is created unless this variable is set (its
  // DisableTelemetryEvents() call does not stop them). Respect a value the user chose.
  setenv("ORT_DISABLE_TELEMETRY", "1", /*overwrite=*/0);
  auto impl = std::make_unique<Impl>();
  try {
    impl->env = Ort::Env(ORT_LOGGING_LEVEL_ERROR, "ocrai");
    impl->env.DisableTelemetryEvents();
  } catch (const Ort::Exception& e) {
    throw RuntimeLoadError("cannot create the ONNX Runtime environment: " + describe(e));
  }
  // The library handle is deliberately never closed (see runtime.h).
  g_runtime = std::shared_ptr<OrtRuntime>(new OrtRuntime(library_path, version, std::move(impl)));
  return g_runtime;
}

// ---------------------------------------------------------------------------------------------
// Session

struct Session::Impl {
  std::shared_ptr<OrtRuntime> runtime;  // keeps the Env alive for as long as the session
  std::string name;
  Ort::Session session{nullptr};
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::vector<const char*> input_names;   // point into inputs[i].name
  std::vector<const char*> output_names;  // point into outputs[i].name
  Ort::MemoryInfo cpu_memory{nullptr};
  bool release_arena_after_run = false;
};

namespace {

std::vector<char> read_model_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) {
    throw ModelError("cannot open model file " + path);
  }
  const std::streamsize size = file.tellg();
  if (size <= 0) {
    throw ModelError("model file " + path + " is empty");
  }
  std::vector<char> bytes(static_cast<std::size_t>(size));
  file.seekg(0);
  if (!file.read(bytes.data(), size)) {
    throw ModelError("cannot read model file " + path);
  }
  return bytes;
}

Ort::SessionOptions make_options(const SessionOptions& options) {
  if (options.intra_op_threads < 1 || options.inter_op_threads < 1 ||
      options.intra_op_threads > kMaxThreads || options.inter_op_threads > kMaxThreads) {
    throw std::invalid_argument("session threads must be in [1, " + std::to_string(kMaxThreads) +
                                "]");
  }
  Ort::SessionOptions so;
  so.SetIntraOpNumThreads(options.intra_op_threads);
  so.SetInterOpNumThreads(options.inter_op_threads);
  so.SetExecutionMode(options.inter_op_threads > 1 ? ExecutionMode::ORT_PARALLEL
                                                   : ExecutionMode::ORT_SEQUENTIAL);
  switch (options.optimization) {
    case GraphOptimization::kDisabled: so.SetGraphOptimizationLevel(ORT_DISABLE_ALL); break;
    case GraphOptimization::kBasic: so.SetGraphOptimizationLevel(ORT_ENABLE_BASIC); break;
    case GraphOptimization::kExtended: so.SetGraphOptimizationLevel(ORT_ENABLE_EXTENDED); break;
    case GraphOptimization::kAll: so.SetGraphOptimizationLevel(ORT_ENABLE_ALL); break;
  }
  if (!options.cpu_mem_arena) so.DisableCpuMemArena();
  if (!options.memory_pattern) so.DisableMemPattern();
  const char* spin = options.allow_spinning ? "1" : "0";
  so.AddConfigEntry("session.intra_op.allow_spinning", spin);
  so.AddConfigEntry("session.inter_op.allow_spinning", spin);
  return so;
}

std::vector<TensorInfo> describe_io(const Ort::Session& session, bool inputs) {
  Ort::AllocatorWithDefaultOptions allocator;
  const std::size_t n = inputs ? session.GetInputCount() : session.GetOutputCount();
  std::vector<TensorInfo> infos(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto name = inputs ? session.GetInputNameAllocated(i, allocator)
                       : session.GetOutputNameAllocated(i, allocator);
    infos[i].name = name.get();
    Ort::TypeInfo type = inputs ? session.GetInputTypeInfo(i) : session.GetOutputTypeInfo(i);
    if (type.GetONNXType() == ONNX_TYPE_TENSOR) {
      auto tensor = type.GetTensorTypeAndShapeInfo();
      infos[i].type = from_ort(tensor.GetElementType());
      infos[i].shape = tensor.GetShape();
    }
  }
  return infos;
}

}  // namespace

Session::Session(std::shared_ptr<OrtRuntime> runtime, const std::string& model_path,
                 const SessionOptions& options)
    : Session(runtime, model_path, nullptr, 0, options) {}

Session::Session(std::shared_ptr<OrtRuntime> runtime, const std::string& name,
                 const void* model_bytes, std::size_t size, const SessionOptions& options)
    : impl_(std::make_unique<Impl>()) {
  if (!runtime) throw RuntimeLoadError("ONNX Runtime is not loaded");
  impl_->runtime = std::move(runtime);
  impl_->release_arena_after_run = options.release_arena_after_run;
  impl_->name = name;
  // A null buffer means "name is a path": read it here so that the file is closed before ORT
  // builds the session, whatever ORT does with file-based loading.
  std::vector<char> file_bytes;
  if (model_bytes == nullptr) {
    file_bytes = read_model_file(name);
    model_bytes = file_bytes.data();
    size = file_bytes.size();
  }
  try {
    Ort::SessionOptions so = make_options(options);
    impl_->session = Ort::Session(impl_->runtime->impl().env, model_bytes, size, so);
    impl_->inputs = describe_io(impl_->session, true);
    impl_->outputs = describe_io(impl_->session, false);
    Ort::AllocatorWithDefaultOptions allocator;
    Ort::ModelMetadata meta = impl_->session.GetModelMetadata();
    for (auto& key : meta.GetCustomMetadataMapKeysAllocated(allocator)) {
      auto value = meta.LookupCustomMetadataMapAllocated(key.get(), allocator);
      impl_->metadata.emplace_back(key.get(), value ? value.get() : "");
    }
    impl_->cpu_memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  } catch (const Ort::Exception& e) {
    throw ModelError("cannot load model " + name + ": " + describe(e));
  }
  for (const auto& info : impl_->inputs) impl_->input_names.push_back(info.name.c_str());
  for (const auto& info : impl_->outputs) impl_->output_names.push_back(info.name.c_str());
  impl_->name = base_name(name);
}

Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;
Session::~Session() = default;

const std::string& Session::name() const { return impl_->name; }
const std::vector<TensorInfo>& Session::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo>& Session::outputs() const { return impl_->outputs; }
const std::vector<std::pair<std::string, std::string>>& Session::metadata() const {
  return impl_->metadata;
}

std::vector<Tensor> Session::run(const std::vector<TensorView>& inputs) const {
  if (!impl_ || !impl_->session) throw std::logic_error("Session: used after move");
  const auto& expected = impl_->inputs;
  if (inputs.size() != expected.size()) {
    throw std::invalid_argument(impl_->name + " takes " + std::to_string(expected.size()) +
                                " inputs, got " + std::to_string(inputs.size()));
  }
  std::vector<Ort::Value> values;
  values.reserve(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const TensorView& in = inputs[i];
    const TensorInfo& want = expected[i];
    if (in.type != want.type) {
      throw std::invalid_argument(impl_->name + " input '" + want.name + "' takes " +
                                  element_type_name(want.type) + ", got " +
                                  element_type_name(in.type));
    }
    bool shape_ok = want.shape.empty() || in.shape.size() == want.shape.size();
    for (std::size_t d = 0; shape_ok && d < want.shape.size(); ++d) {
      shape_ok = in.shape[d] >= 0 && (want.shape[d] < 0 || want.shape[d] == in.shape[d]);
    }
    if (!shape_ok) {
      throw std::invalid_argument(impl_->name + " input '" + want.name + "' has shape " +
                                  shape_text(want.shape) + ", got " + shape_text(in.shape));
    }
    const auto count = static_cast<std::size_t>(std::accumulate(
        in.shape.begin(), in.shape.end(), std::int64_t{1}, std::multiplies<std::int64_t>()));
    if (count > 0 && in.data == nullptr) {
      throw std::invalid_argument(impl_->name + " input '" + want.name + "' has no data");
    }
    // ORT only reads inputs; the const_cast is needed by its C signature alone.
    values.push_back(Ort::Value::CreateTensor(impl_->cpu_memory, const_cast<void*>(in.data),
                                              count * element_size(in.type), in.shape.data(),
                                              in.shape.size(), to_ort(in.type)));
  }
  std::vector<Ort::Value> results;
  try {
    Ort::RunOptions run_options{nullptr};
    if (impl_->release_arena_after_run) {
      run_options = Ort::RunOptions();
      run_options.AddConfigEntry("memory.enable_memory_arena_shrinkage", "cpu:0");
    }
    results = impl_->session.Run(run_options, impl_->input_names.data(),
                                 values.data(), values.size(), impl_->output_names.data(),
                                 impl_->output_names.size());
  } catch (const Ort::Exception& e) {
    throw InferenceError("running " + impl_->name + " failed: " + describe(e));
  }
  std::vector<Tensor> outputs;
  outputs.reserve(results.size());
  for (auto& value : results) {
    auto impl = std::make_unique<Tensor::Impl>();
    if (value.IsTensor()) {
      auto info = value.GetTensorTypeAndShapeInfo();
      impl->type = from_ort(info.GetElementType());
      impl->shape = info.GetShape();
      impl->count = info.GetElementCount();
    }
    impl->value = std::move(value);
    outputs.push_back(Tensor(std::move(impl)));
  }
  return outputs;
}

LazySession::LazySession(std::shared_ptr<OrtRuntime> runtime, std::string model_path,
                         SessionOptions options, Check check)
    : runtime_(std::move(runtime)),
      model_path_(std::move(model_path)),
      options_(std::move(options)),
      check_(std::move(check)) {}

LazySession::~LazySession() = default;

const Session& LazySession::get() const {
  if (const Session* s = ready_.load(std::memory_order_acquire)) return *s;
  std::lock_guard<std::mutex> lock(mutex_);
  if (!session_) {
    auto session = std::make_unique<const Session>(runtime_, model_path_, options_);
    if (check_) check_(*session);
    session_ = std::move(session);
    trim_native_heap();  // what creating it freed (see Pipeline's constructor)
    ready_.store(session_.get(), std::memory_order_release);
  }
  return *session_;
}

bool LazySession::created() const { return ready_.load(std::memory_order_acquire) != nullptr; }

bool trim_native_heap() {
#if defined(__GLIBC__)
  return malloc_trim(0) != 0;
#else
  return false;
#endif
}

bool set_heap_trim_threshold(std::size_t bytes) {
#if defined(__GLIBC__)
  const std::size_t limit = static_cast<std::size_t>(std::numeric_limits<int>::max());
  return mallopt(M_TRIM_THRESHOLD, static_cast<int>(bytes < limit ? bytes : limit)) == 1;
#else
  (void)bytes;
  return false;
#endif
}

}  // namespace ocrai
