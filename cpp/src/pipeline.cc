// SPDX-License-Identifier: MIT
#include "ocrai/pipeline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iterator>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <utility>

#include "ocrai/binarize.h"
#include "ocrai/cpu.h"
#include "ocrai/crop.h"
#include "ocrai/deskew.h"
#include "ocrai/errors.h"
#include "ocrai/ink.h"
#include "ocrai/layout.h"
#include "ocrai/parallel.h"
#include "ocrai/resize.h"
#include "ocrai/tensor.h"

namespace ocrai {
namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

/// Lines in one recognition batch are at least this fraction of the batch's widest line, so
/// at most 15 % of a batch is padding (recognition cost is linear in the padded width).
constexpr double kBatchWidthRatio = 0.97;
/// A batch holds at most this many input columns in all (lines x padded width). On CPU a
/// batch of one line costs no more per line than a batch of eight, while ORT's arena grows
/// with the largest batch (a page in batches of 8 long lines peaked at 1.7 GB, one line at
/// a time at 0.5 GB): long lines go alone, short ones share a run.
constexpr long kBatchWidthBudget = 2400;
/// Batch widths are multiples of the recogniser's step (8 input columns per CTC step).
constexpr int kRecStep = 8;
/// Widest recognition input; wider lines are squeezed to it.
constexpr int kMaxRecWidth = 6400;
/// A line at least this much taller than wide is vertical text: it is turned a quarter.
constexpr double kVerticalRatio = 1.5;
/// The classifier's input: lines resized to this width at most, padded to it.
constexpr int kClsWidth = 192;
constexpr int kClsBatch = 8;
/// With deskew, pages whose skew estimate is less sure than this stay as they are.
constexpr double kDeskewMinConfidence = 0.2;
/// Images whose short side is at most this at full detector scale try half scale first.
constexpr double kCoarseShortSide = 480;
/// Coarse boxes stand only when their short side is at least this (coarse detector pixels),
/// text about 11 pixels high there: comfortably above what the detector resolves.
constexpr double kCoarseMinText = 16;

/// Pixels that differ from a plain background by more than this (of 255) are ink.
constexpr int kInkTolerance = 24;
/// Context kept around the ink for the detector: at least this many pixels, and at least
/// kInkMarginHeights times the ink's height. Closer edges change the detector's map near
/// the text (its convolutions see the edge), and boxes come out smaller and tilted.
constexpr int kInkMargin = 32;
constexpr int kInkMarginHeights = 2;
/// Images whose ink is taller than this share of the image are read whole (pages).
constexpr double kInkStripShare = 0.5;
/// A cut (the detector's area, a line read alone) keeping more than this share of the image
/// is not worth making.
constexpr double kDetectAreaMaxShare = 0.8;

/// `area`, or the whole of `image` where `area` would keep more than kDetectAreaMaxShare
/// of it: a cut that keeps most of the image is not worth its resampling.
PixelRect cut_or_whole(const ImageView& image, const PixelRect& area) {
  const double share = static_cast<double>(area.width()) * area.height() /
                       (static_cast<double>(image.width) * image.height);
  return share > kDetectAreaMaxShare ? PixelRect{0, 0, image.width, image.height} : area;
}

/// The part of `image` the detector reads: the ink (ink.h) and its margin, each side grown
/// so that at `scale` it fills a whole number of the detector's 32-pixel strides. The whole
/// image when the background is not plain, when there is no ink, or when the ink fills most
/// of it.
PixelRect detection_area(const ImageView& image, double scale) {
  const PixelRect whole{0, 0, image.width, image.height};
  const auto strip = static_cast<int>(kInkStripShare * image.height);
  const PixelRect ink = ink_bounds(image, kInkTolerance, std::max(1, strip));
  if (ink.empty() || ink.height() >= strip) return whole;
  const int margin = std::max(kInkMargin, kInkMarginHeights * ink.height());
  auto span = [&](int lo, int hi, int size) {
    lo = std::max(0, lo - margin);
    hi = std::min(size, hi + margin);
    const double strides = std::ceil((hi - lo) * scale / 32.0);
    const int want = std::min(size, static_cast<int>(std::ceil(strides * 32.0 / scale)));
    const int extra = want - (hi - lo);
    lo = std::max(0, lo - extra / 2);
    hi = std::min(size, lo + want);
    lo = std::max(0, hi - want);
    return std::pair<int, int>{lo, hi};
  };
  const auto [x0, x1] = span(ink.x0, ink.x1, image.width);
  const auto [y0, y1] = span(ink.y0, ink.y1, image.height);
  return cut_or_whole(image, {x0, y0, x1, y1});
}

/// Read as one line (detection off), an image is cut to its ink and this many times the
/// ink's short side around it: the margin the detector's box leaves around a line (on the
/// 1000x300 line of bench_pipeline the ink is 31 px tall and the detector's box 47). A field
/// cut out loosely then reads at the size its text needs, not shrunk with its margins; a
/// line cut out tightly (UW3's lines keep 3 px) stays whole.
constexpr double kLinePadShortSides = 0.3;

/// `ink` (one line's) and kLinePadShortSides around it, or the whole of `image` where
/// that keeps most of it.
PixelRect line_around(const ImageView& image, const PixelRect& ink) {
  const int pad = std::max(
      2, static_cast<int>(std::ceil(kLinePadShortSides * std::min(ink.width(), ink.height()))));
  return cut_or_whole(image, {std::max(0, ink.x0 - pad), std::max(0, ink.y0 - pad),
                              std::min(image.width, ink.x1 + pad),
                              std::min(image.height, ink.y1 + pad)});
}

/// The part of `image` read as one line: its ink and kLinePadShortSides around it; the whole
/// image when the background is not plain, when there is no ink, or when the cut would keep
/// most of it (kDetectAreaMaxShare).
PixelRect single_line_area(const ImageView& image) {
  const PixelRect ink = ink_bounds(image, kInkTolerance);
  if (ink.empty()) return {0, 0, image.width, image.height};
  return line_around(image, ink);
}

ImageView sub_image(const ImageView& image, const PixelRect& r) {
  return {image.row(r.y0) + static_cast<std::ptrdiff_t>(r.x0) * image.channels, r.width(),
          r.height(), image.channels, image.stride};
}

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

double edge(const Point& a, const Point& b) {
  return std::hypot(static_cast<double>(b.x) - a.x, static_cast<double>(b.y) - a.y);
}

/// The axis-aligned box around `q`, as a quad; used when a detected quad degenerates after
/// clipping to the page.
Quad bounding_quad(const Quad& q) {
  float x0 = q[0].x, x1 = q[0].x, y0 = q[0].y, y1 = q[0].y;
  for (const Point& p : q) {
    x0 = std::min(x0, p.x);
    x1 = std::max(x1, p.x);
    y0 = std::min(y0, p.y);
    y1 = std::max(y1, p.y);
  }
  return {Point{x0, y0}, Point{x1, y0}, Point{x1, y1}, Point{x0, y1}};
}

bool usable(const Quad& q) {
  try {
    validate_quad(q, "quad");
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

/// `src` turned by 180 degrees.
Image rotated_180(const ImageView& src) {
  Image out(src.width, src.height, src.channels);
  const MutableImageView dst = out.mutable_view();
  const int c = src.channels;
  for (int y = 0; y < src.height; ++y) {
    const std::uint8_t* s = src.row(src.height - 1 - y);
    std::uint8_t* d = dst.row(y);
    for (int x = 0; x < src.width; ++x) {
      std::memcpy(d + static_cast<std::ptrdiff_t>(x) * c,
                  s + static_cast<std::ptrdiff_t>(src.width - 1 - x) * c,
                  static_cast<std::size_t>(c));
    }
  }
  return out;
}

Point lerp(const Point& a, const Point& b, double t) {
  return {static_cast<float>(a.x + (static_cast<double>(b.x) - a.x) * t),
          static_cast<float>(a.y + (static_cast<double>(b.y) - a.y) * t)};
}

/// Adds `ms` to a shared counter (thread time of parallel stages).
void add_ms(std::atomic<double>& total, double ms) {
  double cur = total.load(std::memory_order_relaxed);
  while (!total.compare_exchange_weak(cur, cur + ms, std::memory_order_relaxed)) {
  }
}

}  // namespace

struct Pipeline::Recognizer {
  /// `threads` > 1 adds the one-thread session (`narrow`). Nothing is created yet: `wide`
  /// is created (and the model checked against `dict`) by its first `get`.
  Recognizer(const std::shared_ptr<OrtRuntime>& runtime, const std::string& model_path,
             int threads, Dictionary dictionary);

  /// The model with every thread of the budget, for batches that cannot be paired up (a
  /// single line). Created with the pipeline, which checks the model with it; a fallback's
  /// can wait for its first re-read (PipelineModels::fallback_on_first_use).
  LazySession wide;
  /// The model with one intra-op thread, for batches that run side by side on the pool;
  /// null with a budget of one thread (`wide` is that session). Created by the first run
  /// that pairs batches up (a single line never does), sharing `wide`'s prepacked weights.
  std::unique_ptr<LazySession> narrow;
  Dictionary dict;
  std::string path;
  /// The model's input height, set when `wide` is created: read it after `wide.get()`.
  int height = 48;

  const Session& side_by_side() const { return narrow ? narrow->get() : wide.get(); }

 private:
  /// Refuses a model that is not a recogniser of `dict`'s classes; takes its height.
  void check(const Session& s);
};

/// One text line on its way through the pipeline.
struct Pipeline::LineWork {
  Quad quad{};  ///< the crop quad: clockwise from the top-left of the text as cropped
  float det_score = 1;
  Image crop;         ///< height x width, the input image's channels
  Image crop180;      ///< the crop turned, when it is tried upside down
  float p180 = 0;     ///< the classifier's probability that the line is upside down
  CtcLine read;       ///< the result kept so far
  CtcLine candidate;  ///< the result of the latest pass
  const Recognizer* by = nullptr;
  bool rotated = false;
  bool checked = false;
  bool fallback = false;
  int width() const { return crop.width(); }
};

/// The image that the stages after preprocessing read: the input, or a deskewed and/or
/// binarized copy of it, and the way from its coordinates back to the input's.
struct Pipeline::WorkImage {
  ImageView input;
  Image rotated;    ///< the input turned upright (deskew), or empty
  Image binary;     ///< the black-and-white copy of the input or of `rotated`, or empty
  double turn = 0;  ///< degrees the work image is turned counter-clockwise from the input
  double cos_turn = 1, sin_turn = 0;

  /// The work image: the last of input, rotated and binary that was made.
  ImageView view() const {
    if (!binary.empty()) return binary.view();
    if (!rotated.empty()) return rotated.view();
    return input;
  }
  /// A work-image point in the input's coordinates (the inverse of the deskew rotation about
  /// the images' centres), clamped to the input.
  Point to_input(Point p) const {
    if (turn == 0) return p;
    const ImageView image = view();
    const double dx = p.x - 0.5 * image.width, dy = p.y - 0.5 * image.height;
    const double x = 0.5 * input.width + dx * cos_turn - dy * sin_turn;
    const double y = 0.5 * input.height + dx * sin_turn + dy * cos_turn;
    return Point{static_cast<float>(std::clamp(x, 0.0, static_cast<double>(input.width))),
                 static_cast<float>(std::clamp(y, 0.0, static_cast<double>(input.height)))};
  }
  Quad to_input(const Quad& q) const {
    return Quad{to_input(q[0]), to_input(q[1]), to_input(q[2]), to_input(q[3])};
  }
};

namespace {

SessionOptions session_options(int threads) {
  SessionOptions o;
  o.intra_op_threads = threads;
  o.inter_op_threads = 1;
  o.optimization = GraphOptimization::kAll;
  o.cpu_mem_arena = true;
  // Measured on 2 cores: spinning intra-op threads made detection 1.7x slower.
  o.allow_spinning = false;
  return o;
}

/// The detector runs once per page, on the largest input of the run: its activations (about
/// 100 MB at a long side of 960) go back to the system after each run instead of staying
/// resident while the recognisers run. Measured on an A4 page at 300 dpi (`ocrai read`,
/// 2 threads): peak RSS 430 -> 406 MB with the detector's arena released, 340 with the
/// recognisers' too, 325 without memory patterns (their planned blocks, one per input
/// shape, fragment the arena); page and line times unchanged within the noise.
SessionOptions detector_options(int threads) {
  SessionOptions o = session_options(threads);
  o.release_arena_after_run = true;
  o.memory_pattern = false;
  return o;
}

/// Recognisers run batches of many widths, one after the other: see detector_options.
SessionOptions recognizer_options(int threads) {
  SessionOptions o = session_options(threads);
  o.release_arena_after_run = true;
  o.memory_pattern = false;
  return o;
}

Session load_session(const std::shared_ptr<OrtRuntime>& runtime, const std::string& path,
                     int threads) {
  return Session(runtime, path, session_options(threads));
}

/// Checks a model's signature when it loads, so that a model of another kind (or not an OCR
/// model at all) is refused here, naming the file, and never reaches run(). `out_dim1` is the
/// size the output's second dimension must have where the model declares it (0: any).
void expect_image_model(const Session& s, const std::string& path, const char* role, int rank_out,
                        std::int64_t out_dim1 = 0) {
  const bool ok = s.inputs().size() == 1 && s.inputs()[0].type == ElementType::kFloat32 &&
                  s.inputs()[0].shape.size() == 4 && !s.outputs().empty() &&
                  s.outputs()[0].type == ElementType::kFloat32 &&
                  static_cast<int>(s.outputs()[0].shape.size()) == rank_out;
  if (!ok) {
    throw ModelError(path + " is not a " + role +
                     " model: expected one float32 input of rank 4 "
                     "and a float32 output of rank " +
                     std::to_string(rank_out));
  }
  const std::int64_t in_channels = s.inputs()[0].shape[1];
  if (in_channels != 3 && in_channels > 0) {
    throw ModelError(path + " is not a " + role + " model: it takes " +
                     std::to_string(in_channels) + " input channels, not 3");
  }
  const std::int64_t dim1 = s.outputs()[0].shape[1];
  if (out_dim1 > 0 && dim1 > 0 && dim1 != out_dim1) {
    throw ModelError(path + " is not a " + role + " model: its output has " + std::to_string(dim1) +
                     " channels, not " + std::to_string(out_dim1));
  }
}

}  // namespace

Pipeline::Recognizer::Recognizer(const std::shared_ptr<OrtRuntime>& runtime,
                                 const std::string& model_path, int threads, Dictionary dictionary)
    : wide(runtime, model_path, recognizer_options(threads),
           [this](const Session& s) { check(s); }),
      dict(std::move(dictionary)),
      path(model_path) {
  if (threads > 1) {
    narrow = std::make_unique<LazySession>(runtime, model_path, recognizer_options(1));
  }
}

void Pipeline::Recognizer::check(const Session& s) {
  expect_image_model(s, path, "text recognition", 3);
  const std::int64_t classes = s.outputs()[0].shape[2];
  if (classes > 0) dict.check_model_classes(classes, path);
  const std::int64_t h = s.inputs()[0].shape[2];
  if (h > 0) height = static_cast<int>(h);
}

Pipeline::Pipeline(std::shared_ptr<OrtRuntime> runtime, const PipelineModels& models, int threads)
    : runtime_(std::move(runtime)), threads_(threads) {
  if (threads < 1 || threads > kMaxThreads) {
    throw std::invalid_argument("threads must be in [1, " + std::to_string(kMaxThreads) +
                                "], got " + std::to_string(threads));
  }
  if (!runtime_) throw RuntimeLoadError("ONNX Runtime is not loaded");
  if (models.det_model.empty()) throw std::invalid_argument("det_model is required");
  if (models.rec_model.empty() || models.rec_dict.empty()) {
    throw std::invalid_argument("rec_model and rec_dict are required");
  }
  if (models.fallback_rec_model.empty() != models.fallback_rec_dict.empty()) {
    throw std::invalid_argument("fallback_rec_model and fallback_rec_dict go together");
  }
  // Recognition batches run side by side on the pool, each on a one-thread session: on 2
  // cores a page took 7-13 % less time (and CPU) that way than batch after batch on one
  // session with two intra-op threads, whose parallel sections synchronise at every
  // operator. Batches left over when they no longer pair up (a single line) run on a
  // second session of the same model with every thread: a 1000-px line in 61 ms, not 94.
  // Only the session a single line needs is created now; the other one by the first page
  // (see Recognizer).
  auto load_rec = [&](const std::string& path, const std::string& dict_path, bool now) {
    auto r = std::make_unique<Recognizer>(runtime_, path, threads, Dictionary::from_file(dict_path));
    if (now) r->wide.get();  // created and checked here
    return r;
  };
  // With two threads or more the detector (then the fallback recogniser) loads beside the
  // recogniser: creating a session is one thread's work (parsing, graph rewriting), and the
  // first read waits for all of them. On 2 cores the detector took 28 ms and a small
  // recogniser about 80 ms, so the detector's thread has room for a fallback (one created
  // on first use costs nothing here, see PipelineModels).
  std::exception_ptr det_error, rec_error, fallback_error;
  auto load_det = [&] {
    try {
      det_ = std::make_unique<Session>(runtime_, models.det_model, detector_options(threads));
      expect_image_model(*det_, models.det_model, "text detection", 4, 1);
    } catch (...) {
      det_error = std::current_exception();
    }
  };
  auto load_fallback = [&] {
    if (models.fallback_rec_model.empty()) return;
    try {
      fallback_ = load_rec(models.fallback_rec_model, models.fallback_rec_dict,
                           !models.fallback_on_first_use);
    } catch (...) {
      fallback_error = std::current_exception();
    }
  };
  std::thread side_loader;
  if (threads > 1) {
    side_loader = std::thread([&] {
      load_det();
      if (!det_error) load_fallback();
    });
  } else {
    load_det();
    if (det_error) std::rethrow_exception(det_error);
  }
  try {
    rec_ = load_rec(models.rec_model, models.rec_dict, true);
  } catch (...) {
    rec_error = std::current_exception();
  }
  if (side_loader.joinable()) side_loader.join();
  // The detector's error first, then the recogniser's, then the fallback's, as before.
  if (det_error) std::rethrow_exception(det_error);
  if (rec_error) std::rethrow_exception(rec_error);
  if (threads == 1) load_fallback();
  if (fallback_error) std::rethrow_exception(fallback_error);
  if (!models.check_rec_model.empty()) {
    // The first recogniser's classes: the check's reading replaces its reading class for class.
    check_ = std::make_unique<Recognizer>(runtime_, models.check_rec_model, threads, rec_->dict);
    if (!models.fallback_on_first_use) check_->wide.get();
  }
  det_name_ = base_name(models.det_model);
  if (!models.cls_model.empty()) {
    cls_ = std::make_unique<Session>(load_session(runtime_, models.cls_model, 1));
    expect_image_model(*cls_, models.cls_model, "text line orientation", 2);
    const std::int64_t k = cls_->outputs()[0].shape[1];
    if (k != 2 && k != -1) {
      throw ModelError(models.cls_model + " is not a 0/180-degree classifier: it has " +
                       std::to_string(k) + " classes, not 2");
    }
    cls_name_ = base_name(models.cls_model);
  }
  if (fallback_) {
    fallback_blocks_.assign((0x110000 >> 7) + 1, false);
    for (int c = 1; c < fallback_->dict.num_classes(); ++c) {
      const std::string& sym = fallback_->dict.symbol(c);
      if (sym.empty() || rec_->dict.find(sym) >= 0) continue;
      const auto cps = utf8_code_points(sym);
      if (!cps.empty() && cps[0] < 0x110000) fallback_blocks_[cps[0] >> 7] = true;
    }
  }
  pool_ = std::make_unique<ThreadPool>(threads);
  // Creating a session frees tens of MB of parsing and graph rewriting, in holes of the heap
  // that only a trim gives back (rec small: 52 MB resident after creation, 33 after a trim).
  trim_native_heap();
}

Pipeline::~Pipeline() = default;

int Pipeline::sessions_created() const {
  int n = 1 + (cls_ ? 1 : 0);  // the detector, the classifier
  for (const Recognizer* r : {rec_.get(), check_.get(), fallback_.get()}) {
    if (r != nullptr) n += (r->wide.created() ? 1 : 0) + (r->narrow && r->narrow->created() ? 1 : 0);
  }
  return n;
}

bool Pipeline::fallback_expresses_better(const std::string& text) const {
  if (fallback_blocks_.empty()) return false;
  for (std::uint32_t cp : utf8_code_points(text)) {
    if (cp < 0x110000 && fallback_blocks_[cp >> 7]) return true;
  }
  return false;
}

void Pipeline::validate(const RunOptions& o) const {
  auto bad = [](const std::string& what) { throw std::invalid_argument(what); };
  if (o.det_max_side < 32 || o.det_max_side > 8192) {
    bad("det_max_side must be in [32, 8192], got " + std::to_string(o.det_max_side));
  }
  if (!(o.db.thresh > 0 && o.db.thresh < 1)) bad("det_thresh must be in (0, 1)");
  if (!(o.db.box_thresh >= 0 && o.db.box_thresh <= 1)) bad("box_thresh must be in [0, 1]");
  if (!(o.db.unclip_ratio >= 0 && o.db.unclip_ratio <= 10)) bad("unclip_ratio must be in [0, 10]");
  if (o.rec_batch < 1 || o.rec_batch > 64) {
    bad("rec_batch must be in [1, 64], got " + std::to_string(o.rec_batch));
  }
  if (o.top_k < 0 || o.top_k > 100)
    bad("top_k must be in [0, 100], got " + std::to_string(o.top_k));
  if (!(o.min_confidence >= 0 && o.min_confidence <= 1)) bad("min_confidence must be in [0, 1]");
  if (o.fallback_threshold) {
    if (!(*o.fallback_threshold >= 0 && *o.fallback_threshold <= 1)) {
      bad("fallback_threshold must be in [0, 1]");
    }
    if (!fallback_) bad("fallback_threshold needs a fallback recogniser (fallback_rec_model)");
  }
  if (o.check_threshold) {
    if (!(*o.check_threshold >= 0 && *o.check_threshold <= 1)) {
      bad("check_threshold must be in [0, 1]");
    }
    if (!check_) bad("check_threshold needs a check recogniser (check_rec_model)");
  }
  if (o.classify != ClassifyMode::kOff && !cls_) {
    bad("classify needs a line classifier (cls_model)");
  }
  if (o.reading && !(o.reading->word_weight >= 0 && o.reading->word_weight <= 100)) {
    bad("word_weight must be in [0, 100]");
  }
}

namespace {

std::string describe_code_point(std::uint32_t cp) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "U+%04X", static_cast<unsigned>(cp));
  return "'" + utf8_encode(cp) + "' (" + hex + ")";
}

/// The code points both lists hold (sorted inputs).
std::vector<std::uint32_t> common(const std::vector<std::uint32_t>& a,
                                  const std::vector<std::uint32_t>& b) {
  std::vector<std::uint32_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

std::pair<std::unique_ptr<CtcConstraint>, std::unique_ptr<CtcConstraint>> Pipeline::compile_reading(
    const RunOptions& o) const {
  if (!o.reading || !o.reading->constrains()) return {};
  const ReadingSpec& spec = *o.reading;
  auto primary = std::make_unique<CtcConstraint>(CtcConstraint::compile(spec, rec_->dict));
  std::unique_ptr<CtcConstraint> second;
  if (fallback_) {
    second = std::make_unique<CtcConstraint>(CtcConstraint::compile(spec, fallback_->dict));
  }
  // In fast mode a character either recogniser reads is fine: the other one never emits it.
  std::string models =
      base_name(rec_->path) + (fallback_ ? " or " + base_name(fallback_->path) : "");
  auto missing = [&](auto member) {
    std::vector<std::uint32_t> m = ((*primary).*member)();
    if (second) m = common(m, ((*second).*member)());
    return m;
  };
  const auto no_allowed = missing(&CtcConstraint::missing_allowed);
  if (!no_allowed.empty()) {
    throw std::invalid_argument("allowlist: " + describe_code_point(no_allowed[0]) +
                                " cannot be read by the recognition model " + models);
  }
  const auto no_word = missing(&CtcConstraint::missing_word_chars);
  if (!no_word.empty()) {
    throw std::invalid_argument("words: " + describe_code_point(no_word[0]) +
                                " cannot be read by the recognition model " + models);
  }
  if (spec.pattern && !primary->pattern_can_match() && !(second && second->pattern_can_match())) {
    throw std::invalid_argument("pattern " + spec.pattern->source +
                                " can match nothing the recognition model " + models +
                                " reads (with the allowed characters)");
  }
  return {std::move(primary), std::move(second)};
}

void Pipeline::recognize(const Recognizer& rec, const std::vector<LineWork*>& lines,
                         ColorOrder order, bool rotated, int batch, int top_k,
                         const CtcConstraint* constraint, StageTimings& t) const {
  if (lines.empty()) return;
  // Created (and checked) now if it waited for its first use; sets rec.height.
  const Session& alone_session = rec.wide.get();
  // The check's and the fallback's gates need the near misses of the readings they judge.
  const bool gaps = (fallback_ != nullptr || check_ != nullptr) && &rec != fallback_.get();
  // Widest first, so that the longest batches start first and the last ones are short.
  std::vector<LineWork*> sorted = lines;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const LineWork* a, const LineWork* b) { return a->width() > b->width(); });
  // Every participant of the pool gets work: with few lines the batches shrink (on CPU a
  // batch of one line costs no more per line than a batch of eight).
  const auto share = static_cast<int>((sorted.size() + static_cast<std::size_t>(threads_) - 1) /
                                      static_cast<std::size_t>(threads_));
  batch = std::max(1, std::min(batch, share));
  std::vector<std::pair<std::size_t, std::size_t>> batches;
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t j = i + 1;
    const double widest = sorted[i]->width();
    const int padded = round_up(std::max(sorted[i]->width(), kRecStep), kRecStep);
    while (j < sorted.size() && static_cast<int>(j - i) < batch &&
           sorted[j]->width() >= kBatchWidthRatio * widest &&
           static_cast<long>(j - i + 1) * padded <= kBatchWidthBudget) {
      ++j;
    }
    batches.emplace_back(i, j);
    i = j;
  }
  // Whole rounds of `threads_` batches run side by side; the remainder (the narrowest
  // batches, as they come last) one after the other with all threads each.
  const std::size_t threads = static_cast<std::size_t>(threads_);
  const std::size_t paired =
      threads > 1 ? batches.size() - batches.size() % threads : batches.size();
  const PackParams params = PackParams::recognizer(order == ColorOrder::kRgb);
  const int classes = rec.dict.num_classes();
  std::atomic<double> pack_ms{0}, run_ms{0}, decode_ms{0};
  auto run_batch = [&](std::size_t b) {
    const auto [lo, hi] = batches[b];
    const int n = static_cast<int>(hi - lo);
    const int width = round_up(std::max(sorted[lo]->width(), kRecStep), kRecStep);
    const auto t0 = Clock::now();
    std::vector<ImageView> views;
    views.reserve(static_cast<std::size_t>(n));
    for (std::size_t k = lo; k < hi; ++k) {
      views.push_back(rotated ? sorted[k]->crop180.view() : sorted[k]->crop.view());
    }
    std::vector<float> input(static_cast<std::size_t>(n) * 3 * rec.height * width);
    pack_batch_f32(views, params, input.data(), n, 3, rec.height, width);
    const auto t1 = Clock::now();
    TensorView in{ElementType::kFloat32, input.data(), {n, 3, rec.height, width}};
    const bool alone = b >= paired;  // the pool's other threads are idle: use them in ORT
    std::vector<Tensor> out = (alone ? alone_session : rec.side_by_side()).run({in});
    const auto t2 = Clock::now();
    const auto& shape = out[0].shape();
    if (shape.size() != 3 || shape[0] != n || shape[2] != classes) {
      throw ModelError(rec.path + " returned an output of rank " + std::to_string(shape.size()) +
                       (shape.size() == 3 ? " with " + std::to_string(shape[2]) + " classes" : "") +
                       "; its dictionary " + rec.dict.name() + " has " + std::to_string(classes));
    }
    const int steps = static_cast<int>(shape[1]);
    const float* probs = out[0].data_as<float>();
    for (int k = 0; k < n; ++k) {
      LineWork& line = *sorted[lo + static_cast<std::size_t>(k)];
      const int valid = std::min(
          steps, static_cast<int>(std::ceil(static_cast<double>(line.width()) * steps / width)));
      const float* line_probs = probs + static_cast<std::ptrdiff_t>(k) * steps * classes;
      line.candidate = constraint
                           ? ctc_constrained_decode(line_probs, steps, classes, classes, valid,
                                                    rec.dict, *constraint, top_k, gaps)
                           : ctc_greedy_decode(line_probs, steps, classes, classes, valid, rec.dict,
                                               top_k, gaps);
    }
    const auto t3 = Clock::now();
    add_ms(pack_ms, ms_between(t0, t1));
    add_ms(run_ms, ms_between(t1, t2));
    add_ms(decode_ms, ms_between(t2, t3));
  };
  const auto start = Clock::now();
  pool_->parallel_for(0, static_cast<std::int64_t>(paired), 1,
                      [&](std::int64_t lo, std::int64_t hi) {
                        for (std::int64_t b = lo; b < hi; ++b)
                          run_batch(static_cast<std::size_t>(b));
                      });
  for (std::size_t b = paired; b < batches.size(); ++b) run_batch(b);
  // Share the phase's wall time among its parts by their thread time.
  const double wall = ms_between(start, Clock::now());
  const double sum = pack_ms + run_ms + decode_ms;
  if (sum > 0) {
    t.crop += wall * pack_ms / sum;
    t.recognize += wall * run_ms / sum;
    t.decode += wall * decode_ms / sum;
  }
}

void Pipeline::classify(const std::vector<LineWork*>& lines, ColorOrder order,
                        StageTimings& t) const {
  const auto start = Clock::now();
  const PackParams params = PackParams::recognizer(order == ColorOrder::kRgb);
  const int height = 48;
  for (std::size_t lo = 0; lo < lines.size(); lo += kClsBatch) {
    const std::size_t hi = std::min(lines.size(), lo + kClsBatch);
    const int n = static_cast<int>(hi - lo);
    std::vector<Image> small;
    std::vector<ImageView> views;
    for (std::size_t k = lo; k < hi; ++k) {
      const Image& crop = lines[k]->crop;
      Image s(std::min(crop.width(), kClsWidth), height, crop.channels());
      resize_u8(crop.view(), s.mutable_view());
      views.push_back(s.view());
      small.push_back(std::move(s));
    }
    std::vector<float> input(static_cast<std::size_t>(n) * 3 * height * kClsWidth);
    pack_batch_f32(views, params, input.data(), n, 3, height, kClsWidth);
    TensorView in{ElementType::kFloat32, input.data(), {n, 3, height, kClsWidth}};
    std::vector<Tensor> out = cls_->run({in});
    const auto& shape = out[0].shape();
    if (shape.size() != 2 || shape[0] != n || shape[1] != 2) {
      throw ModelError(cls_name_ + " returned an output that is not (lines, 2)");
    }
    const float* p = out[0].data_as<float>();
    for (int k = 0; k < n; ++k) lines[lo + static_cast<std::size_t>(k)]->p180 = p[2 * k + 1];
  }
  t.classify += ms_between(start, Clock::now());
}

std::vector<TextBox> Pipeline::detect_pass(const ImageView& image, ColorOrder order, double scale,
                                           const DbOptions& db, StageTimings& t,
                                           DbStats* stats) const {
  const auto t0 = Clock::now();
  // Sides of 32 or more are stretched to the nearest multiple of 32 (the detector's stride);
  // shorter ones keep their size and are padded.
  auto fit = [](double side) {
    const int s = std::max(1, static_cast<int>(std::lround(side)));
    return s < 32 ? s : std::max(32, static_cast<int>(std::lround(s / 32.0)) * 32);
  };
  const int rw = fit(image.width * scale), rh = fit(image.height * scale);
  const int iw = std::max(32, rw), ih = std::max(32, rh);
  std::vector<float> input(static_cast<std::size_t>(3) * ih * iw);
  {
    Image resized;
    ImageView view = image;
    if (rw != image.width || rh != image.height) {
      resized = Image(rw, rh, image.channels);
      resize_u8(image, resized.mutable_view());
      view = resized.view();
    }
    pack_chw_f32(view, PackParams::detector(order == ColorOrder::kRgb), input.data(), ih, iw);
  }
  const auto t1 = Clock::now();
  t.preprocess += ms_between(t0, t1);
  std::vector<Tensor> out =
      det_->run({TensorView{ElementType::kFloat32, input.data(), {1, 3, ih, iw}}});
  const auto t2 = Clock::now();
  t.detect += ms_between(t1, t2);
  const auto& shape = out[0].shape();
  if (shape.size() != 4 || shape[0] != 1 || shape[1] != 1 || shape[2] != ih || shape[3] != iw) {
    throw ModelError(det_name_ + " returned an output that is not a (1, 1, " + std::to_string(ih) +
                     ", " + std::to_string(iw) + ") probability map");
  }
  std::vector<TextBox> boxes = db_postprocess(out[0].data_as<float>(), iw, ih, iw, rw, rh,
                                              image.width, image.height, db, stats);
  t.postprocess += ms_between(t2, Clock::now());
  return boxes;
}

PageResult Pipeline::run(const ImageView& input, ColorOrder order, const RunOptions& o) const {
  const auto start = Clock::now();
  validate_image(input, "image");
  if (input.empty()) {
    throw std::invalid_argument("image is empty (" + std::to_string(input.width) + "x" +
                                std::to_string(input.height) + ")");
  }
  validate(o);
  // The reading spec becomes classes of each recogniser once per run, not per line.
  const auto [constraint, fallback_constraint] = compile_reading(o);
  PageResult page;
  page.width = input.width;
  page.height = input.height;
  StageTimings& t = page.timings;

  const WorkImage work = preprocess(input, order, o, page);
  const LineWorks lines = locate_lines(work.view(), order, o, page);
  crop_lines(work.view(), o, lines, t);
  recognize_lines(lines, order, o, constraint.get(), t);
  check_lines(lines, order, o, constraint.get(), t);
  reread_lines(lines, order, o, fallback_constraint.get(), t);
  assemble_page(lines, work, o, page);

  page.rec_model = base_name(rec_->path);
  page.cls_model = o.classify != ClassifyMode::kOff ? cls_name_ : "";
  page.check_model = check_ ? base_name(check_->path) : "";
  page.fallback_model = fallback_ ? base_name(fallback_->path) : "";
  t.total = ms_between(start, Clock::now());
  return page;
}

Pipeline::WorkImage Pipeline::preprocess(const ImageView& input, ColorOrder order,
                                         const RunOptions& o, PageResult& page) const {
  WorkImage work;
  work.input = input;
  if (o.deskew || o.binarize != BinarizeMode::kNone) {
    const auto t0 = Clock::now();
    if (o.deskew) {
      DeskewOptions d;
      d.expand = true;
      d.border_value = -1;  // the estimated paper level
      d.min_confidence = kDeskewMinConfidence;
      SkewEstimate estimate;
      Image rotated = deskew_u8(input, order, d, &estimate);
      page.angle = estimate.confidence > 0 ? -estimate.angle : 0.0;
      if (estimate.angle != 0 && estimate.confidence >= kDeskewMinConfidence) {
        work.turn = estimate.angle;
        work.rotated = std::move(rotated);
        page.deskewed = true;
      }
    }
    if (o.binarize != BinarizeMode::kNone) {
      const ImageView image = work.view();
      Image gray;
      ImageView g = image;
      if (image.channels != 1) {
        gray = Image(image.width, image.height, 1);
        to_gray_u8(image, order, gray.mutable_view());
        g = gray.view();
      }
      Image binary(image.width, image.height, 1);
      if (o.binarize == BinarizeMode::kOtsu) {
        binarize_u8(g, binary.mutable_view(), otsu_threshold_u8(g), false);
      } else {
        // A window of about 2.5 % of the short side: a few text lines at common resolutions.
        const int side = std::min(g.width, g.height) / 40;
        const int window = std::clamp(side | 1, 15, 101);
        sauvola_u8(g, binary.mutable_view(), window, 0.2, 128.0);
      }
      work.binary = std::move(binary);
    }
    page.timings.preprocess += ms_between(t0, Clock::now());
  }
  const double turn_rad = work.turn * 3.14159265358979323846 / 180.0;
  work.cos_turn = std::cos(turn_rad);
  work.sin_turn = std::sin(turn_rad);
  return work;
}

Pipeline::LineWorks Pipeline::locate_lines(const ImageView& image, ColorOrder order,
                                           const RunOptions& o, PageResult& page) const {
  StageTimings& t = page.timings;
  LineWorks lines;
  auto one_line = [&lines](const PixelRect& area) {
    auto w = std::make_unique<LineWork>();
    const auto x0 = static_cast<float>(area.x0), y0 = static_cast<float>(area.y0);
    const auto x1 = static_cast<float>(area.x1), y1 = static_cast<float>(area.y1);
    w->quad = {Point{x0, y0}, Point{x1, y0}, Point{x1, y1}, Point{x0, y1}};
    w->det_score = 1;
    lines.push_back(std::move(w));
  };
  if (!o.detect) {
    const auto t_ink = Clock::now();
    one_line(single_line_area(image));
    t.preprocess += ms_between(t_ink, Clock::now());
    return lines;
  }
  const double full =
      std::min(1.0, static_cast<double>(o.det_max_side) / std::max(image.width, image.height));
  std::vector<TextBox> boxes;
  bool found = false;
  // Line-like images (a short side of at most kCoarseShortSide at full detector scale) are
  // tried at half that scale first. The coarse boxes stand when every one is still tall
  // there and nothing was dropped as too thin or faint (which smaller text would be);
  // otherwise the full-scale pass runs. A 1000x300 line costs a quarter of the detector.
  const double coarse = 0.5 * full;
  const bool line_like = std::min(image.width, image.height) * full <= kCoarseShortSide &&
                         std::max(image.width, image.height) * coarse >= 64;
  // A line-like image that holds one line of text and nothing else on a plain background is
  // read as that line, cut as detection off cuts it: the detector would find the same line
  // (ink.cc says on what that was measured), and its run is a third of such an image's time
  // (on the 1000x300 line of bench_pipeline, 2 threads: 12-15 ms of 42; the test costs
  // 0.6 ms there, nearly all of it finding the ink).
  if (line_like && o.lone_line) {
    const auto t_ink = Clock::now();
    const PixelRect lone = lone_text_line(image, kInkTolerance);
    if (!lone.empty()) one_line(line_around(image, lone));
    t.preprocess += ms_between(t_ink, Clock::now());
    if (!lines.empty()) return lines;
  }
  page.det_model = det_name_;
  // The detector reads only the part of a plain background that holds ink, at the scale
  // the whole image would have: the same pixels of text without the empty margins (a
  // 1000x300 line with one line of text: a third of the image).
  const auto t_ink = Clock::now();
  const PixelRect area = detection_area(image, line_like ? coarse : full);
  const ImageView det_image = sub_image(image, area);
  t.preprocess += ms_between(t_ink, Clock::now());
  if (line_like) {
    DbStats stats;
    boxes = detect_pass(det_image, order, coarse, o.db, t, &stats);
    found = !boxes.empty() && stats.dropped == 0;
    for (const TextBox& b : boxes) {
      const double side = std::min(edge(b.quad[0], b.quad[1]), edge(b.quad[1], b.quad[2]));
      found = found && side * coarse >= kCoarseMinText;
    }
  }
  if (!found) boxes = detect_pass(det_image, order, full, o.db, t, nullptr);
  for (TextBox& b : boxes) {
    for (Point& p : b.quad) {
      p.x += static_cast<float>(area.x0);
      p.y += static_cast<float>(area.y0);
    }
  }
  const auto t0 = Clock::now();
  for (const TextBox& b : boxes) {
    auto w = std::make_unique<LineWork>();
    w->quad = usable(b.quad) ? b.quad : bounding_quad(b.quad);
    if (!usable(w->quad)) continue;
    w->det_score = b.score;
    lines.push_back(std::move(w));
  }
  t.postprocess += ms_between(t0, Clock::now());
  return lines;
}

void Pipeline::crop_lines(const ImageView& image, const RunOptions& o, const LineWorks& lines,
                          StageTimings& t) const {
  const auto t0 = Clock::now();
  const int line_height = rec_->height;
  auto crop_one = [&](LineWork& w) {
    if (o.detect && rectified_width(w.quad, line_height) * kVerticalRatio <= line_height) {
      w.quad = {w.quad[1], w.quad[2], w.quad[3], w.quad[0]};  // vertical: a quarter turn
    }
    const int width = rectified_width(w.quad, line_height, kMaxRecWidth);
    const double across = 0.5 * (edge(w.quad[0], w.quad[3]) + edge(w.quad[1], w.quad[2]));
    w.crop = Image(width, line_height, image.channels);
    if (across > 1.5 * line_height) {
      // Shrinking by more than 1.5x: bilinear sampling would skip pixels (aliasing), so the
      // line is cropped near its own resolution and then area-averaged down.
      const int h1 = std::min(static_cast<int>(std::lround(across)), 4 * line_height);
      const int w1 =
          std::max(1, static_cast<int>(std::lround(static_cast<double>(width) * h1 / line_height)));
      Image big(w1, h1, image.channels);
      crop_quad_u8(image, w.quad, big.mutable_view());
      resize_u8(big.view(), w.crop.mutable_view(), ResizeMode::kArea);
    } else {
      crop_quad_u8(image, w.quad, w.crop.mutable_view());
    }
  };
  pool_->parallel_for(0, static_cast<std::int64_t>(lines.size()), 2,
                      [&](std::int64_t lo, std::int64_t hi) {
                        for (std::int64_t i = lo; i < hi; ++i) {
                          crop_one(*lines[static_cast<std::size_t>(i)]);
                        }
                      });
  t.crop += ms_between(t0, Clock::now());
}

void Pipeline::recognize_lines(const LineWorks& lines, ColorOrder order, const RunOptions& o,
                               const CtcConstraint* constraint, StageTimings& t) const {
  const Recognizer& rec = *rec_;
  std::vector<LineWork*> all;
  for (const auto& w : lines) all.push_back(w.get());
  recognize(rec, all, order, false, o.rec_batch, o.top_k, constraint, t);
  for (LineWork* w : all) {
    w->read = std::move(w->candidate);
    w->by = &rec;
  }
  if (o.classify == ClassifyMode::kOff) return;
  std::vector<LineWork*> check;
  for (LineWork* w : all) {
    if (o.classify == ClassifyMode::kOn || w->read.confidence < kAutoClassifyBelow) {
      check.push_back(w);
    }
  }
  classify(check, order, t);
  std::vector<LineWork*> flipped;
  for (LineWork* w : check) {
    if (w->p180 > kClassifyThreshold) flipped.push_back(w);
  }
  // Pages are upside down as a whole: when most lines are, the doubtful rest are tried
  // turned too (the small classifier misses some).
  if (2 * flipped.size() > check.size()) {
    for (LineWork* w : check) {
      if (w->p180 <= kClassifyThreshold && w->read.confidence < kAutoClassifyBelow) {
        flipped.push_back(w);
      }
    }
  }
  const auto t0 = Clock::now();
  for (LineWork* w : flipped) w->crop180 = rotated_180(w->crop.view());
  StageTimings again;
  recognize(rec, flipped, order, true, o.rec_batch, o.top_k, constraint, again);
  // Upside down only when the turned line reads better: upright text stays upright.
  for (LineWork* w : flipped) {
    if (w->candidate.confidence > w->read.confidence) {
      w->read = std::move(w->candidate);
      w->rotated = true;
      w->quad = {w->quad[2], w->quad[3], w->quad[0], w->quad[1]};
    }
  }
  t.classify += ms_between(t0, Clock::now());
}

namespace {

/// RereadScope::kWords: the words of a doubtful line that hold its doubt are re-read alone
/// and spliced into the primary reading. Why: on the EHRI typewritten pages fast mode's gate
/// doubts 72 % of the tiny recogniser's lines, so whole-line re-reads made fast mode as slow
/// as the small pack (3.07 s a page either way, one thread), while the doubtful words are 50 %
/// of those lines' length. What it costs (benchmarks/accuracy.py, fast mode, 1 thread, CER %
/// lines -> words): uw3 0.34 -> 0.34, sroie 2.83 -> 2.86, tesseract 4.48 -> 4.49, fondue 0.41
/// -> 0.41, EHRI 4.31 -> 4.34, rendered pages equal: the small recogniser no longer corrects
/// the tiny one's confident errors in the words around, and a word keeps less of its line's
/// context. So whole lines stay the default and words are the throughput choice (the
/// OCRmyPDF plugin's).
///
/// Past this share of the line's length, the line is re-read whole: the spans would cost
/// about as much as the line, and read worse.
constexpr double kWordRereadMaxShare = 0.7;
/// A span is read with at least this many line heights of the line on each side, and only
/// what is read inside the span is kept: a word read alone loses its line's context (the
/// small recogniser read "over" at a line's start as "ovér", "U.S." as "Ú.S.").
constexpr double kSpanContext = 0.5;
/// ... and at least this many line heights in all (short words most of all need their
/// neighbours). Chosen on the tesseract, fondue-en and EHRI pages: 0, 4, 8 and 12 heights
/// with 0 to 3 heights of context; 8 and 0.5 lost the least against whole lines.
constexpr double kSpanMinRead = 8.0;

/// Whole words of a line (characters [first, last) of its reading) that the fallback
/// re-reads alone, from the middle of the gap before them to the middle of the gap after
/// (x0, x1: fractions 0..1 of the line's crop; the line's ends at its ends).
struct WordSpan {
  std::size_t first = 0, last = 0;
  double x0 = 0, x1 = 1;
  /// The columns read: the span and its context on each side (kSpanContext, kSpanMinRead),
  /// within the line, same unit.
  double read0 = 0, read1 = 1;
};

/// The spans of `read` that hold its doubt: words with a character below `threshold`, and
/// the words where a near miss above `gap_floor` (a character) or `space_floor` (a word
/// break) happened, each read with `context` (and at least `min_read` in all) of the line
/// around it (fractions of the line's crop); spans whose reads would overlap are one. Empty
/// when the doubt is not in a part of the line (one word, or reads of more than
/// kWordRereadMaxShare of its length): the line is then re-read whole.
std::vector<WordSpan> doubtful_spans(const CtcLine& read, int space, float threshold,
                                     float gap_floor, float space_floor, double context,
                                     double min_read) {
  const auto& chars = read.chars;
  struct Word {
    std::size_t first, last;
    bool doubtful = false;
  };
  std::vector<Word> words;
  for (std::size_t i = 0; i < chars.size();) {
    if (chars[i].cls == space) {
      ++i;
      continue;
    }
    Word w{i, i};
    while (w.last < chars.size() && chars[w.last].cls != space) {
      w.doubtful = w.doubtful || chars[w.last].confidence < threshold;
      ++w.last;
    }
    words.push_back(w);
    i = w.last;
  }
  if (words.size() < 2) return {};
  // A near miss belongs to the word around it; one in a gap between words, to both.
  for (const CtcDoubt& d : read.doubts) {
    if (d.p <= (d.space ? space_floor : gap_floor)) continue;
    for (std::size_t k = 0; k < words.size(); ++k) {
      const double a = chars[words[k].first].x0, b = chars[words[k].last - 1].x1;
      const bool before_next = k + 1 == words.size() || d.x < chars[words[k + 1].first].x0;
      const bool after_prev = k == 0 || d.x > chars[words[k - 1].last - 1].x1;
      if ((d.x >= a && d.x <= b) || (d.x > b && before_next) || (d.x < a && after_prev)) {
        words[k].doubtful = true;
      }
    }
  }
  // Runs of doubtful words, cut in the middle of the gaps around them; runs whose context
  // would overlap are read as one (with the words between them).
  std::vector<WordSpan> spans;
  for (std::size_t k = 0; k < words.size();) {
    if (!words[k].doubtful) {
      ++k;
      continue;
    }
    std::size_t end = k;
    while (end < words.size() && words[end].doubtful) ++end;
    WordSpan span{words[k].first, words[end - 1].last};
    if (k > 0) span.x0 = 0.5 * (chars[words[k - 1].last - 1].x1 + chars[span.first].x0);
    if (end < words.size()) span.x1 = 0.5 * (chars[span.last - 1].x1 + chars[words[end].first].x0);
    const double pad = std::max(context, 0.5 * (min_read - (span.x1 - span.x0)));
    span.read0 = std::max(0.0, span.x0 - pad);
    span.read1 = std::min(1.0, span.x1 + pad);
    if (!spans.empty() && spans.back().read1 >= span.read0) {
      WordSpan& previous = spans.back();
      previous.last = span.last;
      previous.x1 = span.x1;
      previous.read1 = span.read1;
    } else {
      spans.push_back(span);
    }
    k = end;
  }
  double share = 0;
  for (const WordSpan& span : spans) share += span.read1 - span.read0;
  if (spans.empty() || share > kWordRereadMaxShare) return {};
  return spans;
}

/// Columns [x0, x1) of `image`, copied.
Image columns(const ImageView& image, int x0, int x1) {
  Image out(x1 - x0, image.height, image.channels);
  const MutableImageView dst = out.mutable_view();
  for (int y = 0; y < image.height; ++y) {
    std::memcpy(dst.row(y), image.row(y) + static_cast<std::ptrdiff_t>(x0) * image.channels,
                dst.row_bytes());
  }
  return out;
}

/// `cls` of dictionary `from` in dictionary `to`, or -1.
int class_in(const Dictionary& from, const Dictionary& to, int cls) {
  return to.find(from.symbol(cls));
}

/// What a gate doubts: a line below `line` (its mean character confidence), one character
/// (spaces aside) below `character` (a confident mean can hide one doubtful character: an
/// accent read as its neighbour), a character or a word break the blank won over at more
/// than `gap` or `space_break` (CtcLine::gap_doubt, space_doubt), or a pattern it does not
/// match.
struct Gate {
  float line, character, gap, space_break;
};

bool gate_doubts(const CtcLine& read, const Gate& gate, int space) {
  if (read.confidence < gate.line || read.gap_doubt > gate.gap ||
      read.space_doubt > gate.space_break ||
      read.pattern_matched == std::optional<bool>(false)) {
    return true;
  }
  return std::any_of(read.chars.begin(), read.chars.end(), [&](const CtcChar& c) {
    return c.cls != space && c.confidence < gate.character;
  });
}

}  // namespace

void Pipeline::check_lines(const LineWorks& lines, ColorOrder order, const RunOptions& o,
                           const CtcConstraint* constraint, StageTimings& t) const {
  if (!check_) return;
  const float threshold = o.check_threshold.value_or(kDefaultCheckThreshold);
  const Gate gate{threshold, threshold * kCheckCharShare, kCheckNearMiss, kCheckNearMiss};
  const int space = rec_->dict.space_class();
  std::vector<LineWork*> doubted[2];  // upright, turned
  for (const auto& line : lines) {
    LineWork* w = line.get();
    if (gate_doubts(w->read, gate, space)) doubted[w->rotated ? 1 : 0].push_back(w);
  }
  for (int r = 0; r < 2; ++r) {
    recognize(*check_, doubted[r], order, r == 1, o.rec_batch, o.top_k, constraint, t);
    for (LineWork* w : doubted[r]) {
      w->read = std::move(w->candidate);
      w->by = check_.get();
      w->checked = true;
    }
  }
}

void Pipeline::reread_lines(const LineWorks& lines, ColorOrder order, const RunOptions& o,
                            const CtcConstraint* constraint, StageTimings& t) const {
  if (!fallback_) return;
  const float threshold = o.fallback_threshold.value_or(kDefaultFallbackThreshold);
  const Gate gate{threshold, threshold * kFallbackCharShare, kFallbackGapDoubt,
                  kFallbackSpaceDoubt};
  const Dictionary& primary = rec_->dict;
  const Dictionary& second = fallback_->dict;
  const int space = primary.space_class();
  // Lines re-read whole (upright, turned); and lines of which only some words are, with
  // those words' crops (one LineWork each, in the lines' order).
  std::vector<LineWork*> whole[2];
  std::vector<std::pair<LineWork*, std::vector<WordSpan>>> parted;
  LineWorks span_works;
  for (const auto& line : lines) {
    LineWork* w = line.get();
    // A line that matches no reading of the pattern may match the fallback's.
    const bool doubtful = gate_doubts(w->read, gate, space);
    // A confident line still goes (whole) when it holds a script the fallback reads better.
    if (!doubtful && !fallback_expresses_better(w->read.text(primary))) continue;
    // Words alone only for a doubtful line that no pattern or word list judges as a whole
    // (a character set masks each character alone, so it allows words), upright, in
    // scripts the primary reads as well, and whose every character kept has a class in
    // the fallback's dictionary.
    std::vector<WordSpan> spans;
    const bool judged_whole =
        constraint != nullptr && (constraint->has_pattern() || constraint->has_words());
    if (doubtful && o.reread == RereadScope::kWords && !judged_whole && !w->rotated &&
        !fallback_expresses_better(w->read.text(primary))) {
      const double height = static_cast<double>(w->crop.height()) / std::max(1, w->crop.width());
      spans = doubtful_spans(w->read, space, threshold, kFallbackGapDoubt, kFallbackSpaceDoubt,
                             kSpanContext * height, kSpanMinRead * height);
      const bool unmapped =
          std::any_of(w->read.chars.begin(), w->read.chars.end(),
                      [&](const CtcChar& c) { return class_in(primary, second, c.cls) < 0; });
      if (unmapped) spans.clear();
    }
    if (spans.empty()) {
      whole[w->rotated ? 1 : 0].push_back(w);
      continue;
    }
    const int width = w->crop.width();
    for (WordSpan& span : spans) {
      const int x0 = std::clamp(static_cast<int>(std::floor(span.read0 * width)), 0, width - 1);
      const int x1 = std::clamp(static_cast<int>(std::ceil(span.read1 * width)), x0 + 1, width);
      span.read0 = static_cast<double>(x0) / width;
      span.read1 = static_cast<double>(x1) / width;
      auto part = std::make_unique<LineWork>();
      part->crop = columns(w->crop.view(), x0, x1);
      span_works.push_back(std::move(part));
    }
    parted.emplace_back(w, std::move(spans));
  }
  for (int r = 0; r < 2; ++r) {
    if (r == 1) {
      for (LineWork* w : whole[1]) {
        if (w->crop180.empty()) w->crop180 = rotated_180(w->crop.view());
      }
    }
    std::vector<LineWork*> batch = whole[r];
    if (r == 0) {
      for (const auto& part : span_works) batch.push_back(part.get());
    }
    recognize(*fallback_, batch, order, r == 1, o.rec_batch, o.top_k, constraint, t);
    for (LineWork* w : whole[r]) {
      w->read = std::move(w->candidate);
      w->by = fallback_.get();
      w->fallback = true;
    }
  }
  // Splice: the primary reading's characters outside the spans (in the fallback's classes)
  // and the fallback's readings of the spans, placed along the line.
  std::size_t next_part = 0;
  for (auto& [w, spans] : parted) {
    const auto& chars = w->read.chars;
    CtcLine spliced;
    auto keep = [&](CtcChar c, int cls) {
      const bool is_space = cls == second.space_class();
      if (is_space && (spliced.chars.empty() || spliced.chars.back().cls == cls)) return;
      c.cls = cls;
      spliced.chars.push_back(std::move(c));
    };
    auto keep_primary = [&](std::size_t lo, std::size_t hi) {
      for (std::size_t i = lo; i < hi; ++i) {
        CtcChar c = chars[i];
        std::vector<std::pair<int, float>> alternatives;
        for (const auto& [cls, p] : c.alternatives) {
          const int mapped = class_in(primary, second, cls);
          if (mapped >= 0) alternatives.emplace_back(mapped, p);
        }
        c.alternatives = std::move(alternatives);
        keep(std::move(c), class_in(primary, second, chars[i].cls));
      }
    };
    std::size_t done = 0;
    for (const WordSpan& span : spans) {
      keep_primary(done, span.first);
      CtcLine& part = span_works[next_part++]->candidate;
      const double scale = span.read1 - span.read0;
      for (CtcChar& c : part.chars) {
        const double centre = span.read0 + 0.5 * (c.x0 + c.x1) * scale;
        if (centre < span.x0 || centre >= span.x1) continue;  // the context's
        c.x0 = static_cast<float>(std::max(span.x0, span.read0 + c.x0 * scale));
        c.x1 = static_cast<float>(std::min(span.x1, span.read0 + c.x1 * scale));
        const int cls = c.cls;
        keep(std::move(c), cls);
      }
      spliced.gap_doubt = std::max(spliced.gap_doubt, part.gap_doubt);
      spliced.space_doubt = std::max(spliced.space_doubt, part.space_doubt);
      done = span.last;
    }
    keep_primary(done, chars.size());
    while (!spliced.chars.empty() && spliced.chars.back().cls == second.space_class()) {
      spliced.chars.pop_back();
    }
    double sum = 0;
    for (const CtcChar& c : spliced.chars) sum += c.confidence;
    const auto count = static_cast<double>(spliced.chars.size());
    spliced.confidence = spliced.chars.empty() ? 0.f : static_cast<float>(sum / count);
    w->read = std::move(spliced);
    w->by = fallback_.get();
    w->fallback = true;
  }
}

void Pipeline::assemble_page(const LineWorks& lines, const WorkImage& work, const RunOptions& o,
                             PageResult& page) const {
  const auto t_layout = Clock::now();
  std::vector<const LineWork*> kept;
  std::vector<Quad> quads;
  for (const auto& w : lines) {
    if (w->read.chars.empty() || w->read.confidence < o.min_confidence) continue;
    kept.push_back(w.get());
    quads.push_back(w->quad);
  }
  const Layout layout = layout_lines(quads);
  if (!o.deskew) page.angle = layout.skew_degrees;
  for (const LayoutBlock& b : layout.blocks) {
    BlockResult block{b.x0, b.y0, b.x1, b.y1, b.lines};
    if (work.turn != 0) {
      const Quad q = work.to_input(
          {Point{b.x0, b.y0}, Point{b.x1, b.y0}, Point{b.x1, b.y1}, Point{b.x0, b.y1}});
      block.x0 = std::min({q[0].x, q[1].x, q[2].x, q[3].x});
      block.x1 = std::max({q[0].x, q[1].x, q[2].x, q[3].x});
      block.y0 = std::min({q[0].y, q[1].y, q[2].y, q[3].y});
      block.y1 = std::max({q[0].y, q[1].y, q[2].y, q[3].y});
    }
    page.blocks.push_back(std::move(block));
  }
  page.lines.reserve(kept.size());
  for (std::size_t k = 0; k < layout.order.size(); ++k) {
    const LineWork& w = *kept[static_cast<std::size_t>(layout.order[k])];
    page.lines.push_back(line_result(w, work, layout.block_of[k]));
  }
  page.timings.layout += ms_between(t_layout, Clock::now());
}

LineResult Pipeline::line_result(const LineWork& w, const WorkImage& work, int block) {
  const Dictionary& dict = w.by->dict;
  LineResult line;
  line.text = w.read.text(dict);
  line.confidence = w.read.confidence;
  line.quad = work.to_input(w.quad);
  line.det_score = w.det_score;
  line.block = block;
  line.rotated_180 = w.rotated;
  line.fallback = w.fallback;
  line.checked = w.checked;
  line.pattern_matched = w.read.pattern_matched;
  line.chars.reserve(w.read.chars.size());
  for (const CtcChar& c : w.read.chars) {
    CharResult cr;
    cr.text = dict.symbol(c.cls);
    cr.confidence = c.confidence;
    cr.x0 = c.x0;
    cr.x1 = c.x1;
    for (const auto& [cls, p] : c.alternatives) cr.alternatives.emplace_back(dict.symbol(cls), p);
    line.chars.push_back(std::move(cr));
  }
  // Words: runs of characters between spaces; their quads follow the line's edges.
  const int space = dict.space_class();
  const auto& chars = w.read.chars;
  for (std::size_t i = 0; i < chars.size();) {
    if (chars[i].cls == space) {
      ++i;
      continue;
    }
    std::size_t j = i;
    WordResult word;
    double conf = 0;
    while (j < chars.size() && chars[j].cls != space) {
      word.text += dict.symbol(chars[j].cls);
      conf += chars[j].confidence;
      ++j;
    }
    word.confidence = static_cast<float>(conf / static_cast<double>(j - i));
    const double a = chars[i].x0, b = chars[j - 1].x1;
    const Quad& q = w.quad;
    word.quad = work.to_input(
        {lerp(q[0], q[1], a), lerp(q[0], q[1], b), lerp(q[3], q[2], b), lerp(q[3], q[2], a)});
    line.words.push_back(std::move(word));
    i = j;
  }
  return line;
}

void Pipeline::warmup() const {
  {
    std::vector<float> x(3 * 64 * 64, 0.f);
    det_->run({TensorView{ElementType::kFloat32, x.data(), {1, 3, 64, 64}}});
  }
  for (const Recognizer* r : {rec_.get(), check_.get(), fallback_.get()}) {
    if (r == nullptr) continue;
    const Session& wide = r->wide.get();  // before the height: it may create the session
    std::vector<float> x(static_cast<std::size_t>(3) * r->height * 64, 0.f);
    const TensorView in{ElementType::kFloat32, x.data(), {1, 3, r->height, 64}};
    wide.run({in});
    if (r->narrow) r->narrow->get().run({in});
  }
  if (cls_) {
    std::vector<float> x(3 * 48 * kClsWidth, 0.f);
    cls_->run({TensorView{ElementType::kFloat32, x.data(), {1, 3, 48, kClsWidth}}});
  }
}

}  // namespace ocrai
