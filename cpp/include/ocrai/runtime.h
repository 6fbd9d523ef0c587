// SPDX-License-Identifier: MIT
#pragma once
/// ONNX Runtime: the process-wide runtime and move-only model sessions.
///
/// Ownership model: `OrtRuntime` is the dlopen()ed ONNX Runtime library plus the one
/// `Ort::Env` of the process. It is created once, by the first `OrtRuntime::load`, and never
/// unloaded: ORT keeps thread-local state and static destructors that must not outlive the
/// library, so dlclose() is never called. Every `Session` holds a shared_ptr to the runtime,
/// so the Env outlives every session whatever the order of teardown at exit.
///
/// `Session` owns one ORT inference session. It is complete after construction (names and
/// shapes cached), move-only, and releases everything the session holds when destroyed.
/// `Tensor` owns one ORT output value; `TensorView` borrows caller memory for an input.
/// `Ort::Exception` never leaves runtime.cc: it is rethrown as `ModelError` (loading) or
/// `InferenceError` (running) with the model's name and ORT's error code.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ocrai {

/// Element types that cross the session boundary.
enum class ElementType { kFloat32, kFloat64, kInt64, kInt32, kUInt8, kInt8, kBool, kOther };

/// Size in bytes of one element of `type` (0 for kOther).
std::size_t element_size(ElementType type);
/// Lower-case numpy-style name: "float32", "int64", ...
const char* element_type_name(ElementType type);

/// Name, element type and shape of one model input or output; -1 marks a dynamic dimension.
struct TensorInfo {
  std::string name;
  ElementType type = ElementType::kOther;
  std::vector<std::int64_t> shape;
};

/// Borrowed input tensor: `data` points to product(shape) elements of `type`, in row-major
/// order, and must stay alive and unchanged until `Session::run` returns.
struct TensorView {
  ElementType type = ElementType::kFloat32;
  const void* data = nullptr;
  std::vector<std::int64_t> shape;
};

/// An output of `Session::run`, owning its memory. Move-only.
class Tensor {
 public:
  Tensor();
  Tensor(Tensor&&) noexcept;
  Tensor& operator=(Tensor&&) noexcept;
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;
  ~Tensor();

  ElementType type() const;
  const std::vector<std::int64_t>& shape() const;
  std::size_t element_count() const;
  const void* data() const;
  /// Typed pointer; throws std::logic_error when T does not match type().
  template <typename T>
  const T* data_as() const;

  struct Impl;  // wraps the Ort::Value; defined in runtime.cc

 private:
  explicit Tensor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class Session;
};

/// The dlopen()ed ONNX Runtime library and the process's one Env.
class OrtRuntime {
 public:
  /// Loads the library at `library_path` and creates the Env, once per process; later calls
  /// return the same runtime whatever path they pass (the path loaded first wins, see
  /// `library_path()`). Throws RuntimeLoadError when the file is missing, is not a loadable
  /// ONNX Runtime, or provides an older API than this build needs. Thread-safe.
  /// ORT telemetry is switched off unless ORT_DISABLE_TELEMETRY is already set.
  static std::shared_ptr<OrtRuntime> load(const std::string& library_path);
  /// The runtime if one was loaded, else null.
  static std::shared_ptr<OrtRuntime> current();

  OrtRuntime(const OrtRuntime&) = delete;
  OrtRuntime& operator=(const OrtRuntime&) = delete;
  ~OrtRuntime();

  /// Path of the loaded library.
  const std::string& library_path() const { return library_path_; }
  /// Version string of the loaded library, e.g. "1.31.1".
  const std::string& version() const { return version_; }
  /// ORT API version this build asked the library for.
  int api_version() const;

  struct Impl;  // the Ort::Env; defined in runtime.cc
  Impl& impl() const { return *impl_; }

 private:
  OrtRuntime(std::string library_path, std::string version, std::unique_ptr<Impl> impl);
  std::string library_path_;
  std::string version_;
  std::unique_ptr<Impl> impl_;
};

/// Graph optimisation level (ORT's GraphOptimizationLevel).
enum class GraphOptimization { kDisabled, kBasic, kExtended, kAll };

/// How a session is created. The defaults follow measurements on 2-core x86-64: full graph
/// optimisation is 24-31 % faster than lower levels, and the CPU memory arena must stay on
/// (off made detection 45 % slower).
struct SessionOptions {
  int intra_op_threads = 1;  ///< threads one run may use, the calling thread included
  int inter_op_threads = 1;  ///< >1 only helps graphs with parallel branches
  GraphOptimization optimization = GraphOptimization::kAll;
  bool cpu_mem_arena = true;
  /// Let idle intra-op threads spin. Spinning lowers latency but burns the cores between
  /// runs, which starves our own kernels on small machines.
  bool allow_spinning = false;
  /// ORT's memory pattern: one planned block for all activations of a run, replanned for
  /// every new input shape. Off for models fed many shapes, whose arena it fragments.
  bool memory_pattern = true;
  /// Give the arena's free regions back at the end of every run (ORT's arena shrinkage), for
  /// a model run once per page whose activations are large: they are not kept resident
  /// while the other models run.
  bool release_arena_after_run = false;
};

/// One loaded model. Move-only; thread-safe for concurrent `run` calls.
class Session {
 public:
  /// Reads `model_path` into memory and creates the session from the bytes, so no file
  /// handle stays open after construction. Throws ModelError naming the file when it is
  /// missing, unreadable or not a valid model.
  Session(std::shared_ptr<OrtRuntime> runtime, const std::string& model_path,
          const SessionOptions& options);
  /// Creates the session from model bytes already in memory; `name` is used in messages.
  Session(std::shared_ptr<OrtRuntime> runtime, const std::string& name, const void* model_bytes,
          std::size_t size, const SessionOptions& options);
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  /// The model's name in messages (its file name, or the name given).
  const std::string& name() const;
  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  /// Custom metadata of the model (key, value), e.g. a dictionary shipped inside it.
  const std::vector<std::pair<std::string, std::string>>& metadata() const;

  /// Runs the model on `inputs`, given in the order of `inputs()`, and returns every output
  /// in the order of `outputs()`. Throws std::invalid_argument when the count, element types
  /// or ranks do not match the model, and InferenceError when ORT fails.
  std::vector<Tensor> run(const std::vector<TensorView>& inputs) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// A session created by the first `get`, once, whatever the threads asking at the same time
/// (they wait for it): a pipeline pays for the sessions its runs use. A failed creation
/// throws to the caller, and the next `get` tries again.
class LazySession {
 public:
  /// What checks a new session before it is kept (its model's signature): what it throws
  /// goes to the caller of `get`, and the session is dropped.
  using Check = std::function<void(const Session&)>;

  LazySession(std::shared_ptr<OrtRuntime> runtime, std::string model_path, SessionOptions options,
              Check check = {});
  ~LazySession();
  LazySession(const LazySession&) = delete;
  LazySession& operator=(const LazySession&) = delete;

  /// The session, created now if it was not yet. Throws what `Session` and the check throw.
  const Session& get() const;
  bool created() const;

 private:
  std::shared_ptr<OrtRuntime> runtime_;
  std::string model_path_;
  SessionOptions options_;
  Check check_;
  mutable std::mutex mutex_;
  mutable std::unique_ptr<const Session> session_;  // guarded by mutex_
  mutable std::atomic<const Session*> ready_{nullptr};
};

/// Returns glibc's freed heap to the operating system (malloc_trim) where available; a
/// release that must give memory back calls it after destroying sessions. Returns true when
/// memory was released.
bool trim_native_heap();

/// Sets glibc's heap trim threshold (M_TRIM_THRESHOLD, clamped to INT_MAX) where available;
/// returns whether it was set.
///
/// Why a release needs it: malloc_trim() gives back the free pages inside every arena, but
/// it cannot shrink the top of the per-thread arenas (those of ORT's intra-op threads, the
/// pipeline's workers, and every thread that called a session). Those shrink only inside
/// free(), and only when their top is larger than this threshold, which glibc raises by
/// itself up to 64 MiB once large blocks have been freed. Measured: tens of MB stayed
/// resident after sessions were destroyed with the default. A release lowers the threshold
/// while it destroys its sessions, trims, then sets a steady-state value. Setting it ends
/// glibc's dynamic adjustment of both thresholds for the rest of the process.
bool set_heap_trim_threshold(std::size_t bytes);

}  // namespace ocrai
