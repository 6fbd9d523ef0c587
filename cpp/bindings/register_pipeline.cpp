// SPDX-License-Identifier: MIT
// ocrai._core.pipeline: the end-to-end Pipeline (A.1 of the team brief) and the building blocks
// it is made of (DB post-processing, dictionaries, CTC decoding, layout), exposed so that the
// tests can check each one exactly.
#include <climits>
#include <thread>
#include <cmath>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "ocrai/cpu.h"
#include "ocrai/ctc.h"
#include "ocrai/detect.h"
#include "ocrai/ink.h"
#include "ocrai/layout.h"
#include "ocrai/parallel.h"
#include "ocrai/pipeline.h"
#include "ocrai/runtime.h"

namespace ocrai::bindings {
namespace {

py::list point_pairs(const Quad& q) {
  py::list pts;
  for (const Point& p : q) {
    py::list xy;
    xy.append(p.x);
    xy.append(p.y);
    pts.append(xy);
  }
  return pts;
}

/// A C-contiguous float32 array of `ndim` dimensions, else TypeError/ValueError.
py::array_t<float> float_array(const py::array& a, int ndim, const char* what) {
  if (!py::isinstance<py::array_t<float>>(a)) {
    throw py::type_error(std::string(what) + ": expected a float32 array, got dtype " +
                         py::str(static_cast<py::object>(a.dtype())).cast<std::string>());
  }
  if (a.ndim() != ndim) {
    throw py::value_error(std::string(what) + ": expected " + std::to_string(ndim) +
                          " dimensions, got " + std::to_string(a.ndim()));
  }
  if (!(a.flags() & py::array::c_style)) {
    throw py::value_error(std::string(what) + ": must be C-contiguous; pass np.ascontiguousarray");
  }
  return py::reinterpret_borrow<py::array_t<float>>(a);
}

std::vector<Quad> quads_of(const py::array& a, const char* what) {
  auto arr = float_array(a, 3, what);
  if (arr.shape(1) != 4 || arr.shape(2) != 2) {
    throw py::value_error(std::string(what) + ": expected shape (n, 4, 2)");
  }
  std::vector<Quad> quads(static_cast<std::size_t>(arr.shape(0)));
  const float* d = arr.data();
  for (std::size_t i = 0; i < quads.size(); ++i) {
    for (std::size_t k = 0; k < 4; ++k) quads[i][k] = {d[i * 8 + k * 2], d[i * 8 + k * 2 + 1]};
  }
  return quads;
}

py::dict char_dict(const CtcChar& c, const Dictionary& dict) {
  py::dict d;
  d["text"] = dict.symbol(c.cls);
  d["confidence"] = c.confidence;
  d["x0"] = c.x0;
  d["x1"] = c.x1;
  py::list alts;
  for (const auto& [cls, p] : c.alternatives) {
    py::list pair;
    pair.append(dict.symbol(cls));
    pair.append(p);
    alts.append(pair);
  }
  d["alternatives"] = alts;
  return d;
}


// --- options and results of Pipeline.run ------------------------------------------------------

[[noreturn]] void bad_option(const std::string& key, const std::string& want,
                             const py::handle& value) {
  throw py::value_error("option '" + key + "' must be " + want + ", got " +
                        py::repr(value).cast<std::string>());
}

bool as_bool(const std::string& key, const py::handle& v) {
  if (!py::isinstance<py::bool_>(v)) bad_option(key, "a bool", v);
  return v.cast<bool>();
}

int as_int(const std::string& key, const py::handle& v) {
  if (py::isinstance<py::bool_>(v) || !py::isinstance<py::int_>(v)) bad_option(key, "an int", v);
  int overflow = 0;  // Python ints beyond 64 bits set it instead of raising
  const long long x = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
  if (overflow != 0 || x < INT32_MIN || x > INT32_MAX) bad_option(key, "an int in range", v);
  return static_cast<int>(x);
}

float as_float(const std::string& key, const py::handle& v) {
  if (py::isinstance<py::bool_>(v) || !(py::isinstance<py::float_>(v) || py::isinstance<py::int_>(v))) {
    bad_option(key, "a number", v);
  }
  const double x = v.cast<double>();
  if (!std::isfinite(x)) bad_option(key, "a finite number", v);
  return static_cast<float>(x);
}

std::string as_str(const std::string& key, const py::handle& v) {
  if (!py::isinstance<py::str>(v)) bad_option(key, "a str", v);
  return v.cast<std::string>();
}

std::vector<std::uint32_t> code_points_of(const std::string& key, const py::handle& v) {
  if (!py::isinstance<py::str>(v)) bad_option(key, "a str of characters", v);
  std::vector<std::uint32_t> cps;
  for (const py::handle ch : v) cps.push_back(static_cast<std::uint32_t>(PyUnicode_ReadChar(ch.ptr(), 0)));
  return cps;
}

/// The native form of a compiled pattern (ocrai.reading.compile_pattern): a dict with the
/// pattern's "source", the "alphabet" (a str), each alphabet character's column ("columns",
/// int32), the "table" (int32, states x columns, -1: none) and "accepting" (one bool a state).
std::shared_ptr<const CharDfa> char_dfa(const py::handle& v) {
  if (!py::isinstance<py::dict>(v)) bad_option("pattern", "a compiled pattern dict", v);
  const auto d = py::reinterpret_borrow<py::dict>(v);
  for (const char* k : {"source", "alphabet", "columns", "table", "accepting"}) {
    if (!d.contains(k)) bad_option("pattern", std::string("a dict with '") + k + "'", v);
  }
  using I32 = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;
  const auto columns = I32::ensure(d["columns"]);
  const auto table = I32::ensure(d["table"]);
  const auto accepting = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(
      d["accepting"]);
  if (!columns || !table || !accepting || columns.ndim() != 1 || table.ndim() != 2 ||
      accepting.ndim() != 1) {
    bad_option("pattern", "columns (n,), table (states, columns) and accepting (states,) arrays", v);
  }
  auto dfa = std::make_shared<CharDfa>();
  dfa->source = py::repr(d["source"]).cast<std::string>();
  const std::vector<std::uint32_t> alphabet = code_points_of("pattern alphabet", d["alphabet"]);
  if (static_cast<py::ssize_t>(alphabet.size()) != columns.shape(0)) {
    bad_option("pattern", "one column per alphabet character", v);
  }
  dfa->states = static_cast<int>(table.shape(0));
  dfa->columns = static_cast<int>(table.shape(1));
  dfa->table.assign(table.data(), table.data() + table.size());
  dfa->accepting.assign(accepting.data(), accepting.data() + accepting.size());
  for (std::size_t i = 0; i < alphabet.size(); ++i) dfa->column_of[alphabet[i]] = columns.data()[i];
  dfa->check();
  return dfa;
}

/// Collects the reading-control options (allow, deny, pattern, words, word_weight).
struct ReadingOptions {
  ReadingSpec spec;
  bool take(const std::string& key, const py::handle& v) {
    if (key == "allow") {
      if (!v.is_none()) spec.allow = code_points_of(key, v);
    } else if (key == "deny") {
      if (!v.is_none()) spec.deny = code_points_of(key, v);
    } else if (key == "pattern") {
      if (!v.is_none()) spec.pattern = char_dfa(v);
    } else if (key == "words") {
      if (!v.is_none()) {
        if (!py::isinstance<py::list>(v) && !py::isinstance<py::tuple>(v)) {
          bad_option(key, "a list of str", v);
        }
        for (const py::handle w : v) spec.words.push_back(as_str(key, w));
      }
    } else if (key == "word_weight") {
      spec.word_weight = as_float(key, v);
    } else {
      return false;
    }
    return true;
  }
  std::shared_ptr<const ReadingSpec> get() const {
    if (!spec.constrains() && spec.word_weight == ReadingSpec{}.word_weight) return nullptr;
    return std::make_shared<const ReadingSpec>(spec);
  }
};

std::shared_ptr<const ReadingSpec> reading_spec(const py::object& allow, const py::object& deny,
                                                const py::object& pattern,
                                                const py::object& words, float word_weight) {
  ReadingOptions reading;
  reading.take("allow", allow);
  reading.take("deny", deny);
  reading.take("pattern", pattern);
  reading.take("words", words);
  reading.spec.word_weight = word_weight;
  return std::make_shared<const ReadingSpec>(reading.spec);
}

RunOptions parse_options(const py::object& options) {
  RunOptions o;
  if (options.is_none()) return o;
  ReadingOptions reading;
  if (!py::isinstance<py::dict>(options)) {
    throw py::type_error("options must be a dict or None, got " +
                         py::str(py::type::of(options).attr("__name__")).cast<std::string>());
  }
  for (auto item : py::reinterpret_borrow<py::dict>(options)) {
    if (!py::isinstance<py::str>(item.first)) {
      throw py::value_error("option names must be str, got " +
                            py::repr(item.first).cast<std::string>());
    }
    const auto key = item.first.cast<std::string>();
    const py::handle v = item.second;
    if (key == "detect") {
      o.detect = as_bool(key, v);
    } else if (key == "lone_line") {
      o.lone_line = as_bool(key, v);
    } else if (key == "det_max_side") {
      o.det_max_side = as_int(key, v);
    } else if (key == "det_thresh") {
      o.db.thresh = as_float(key, v);
    } else if (key == "box_thresh") {
      o.db.box_thresh = as_float(key, v);
    } else if (key == "unclip_ratio") {
      o.db.unclip_ratio = as_float(key, v);
    } else if (key == "classify") {
      const std::string mode = as_str(key, v);
      if (mode == "off") {
        o.classify = ClassifyMode::kOff;
      } else if (mode == "on") {
        o.classify = ClassifyMode::kOn;
      } else if (mode == "auto") {
        o.classify = ClassifyMode::kAuto;
      } else {
        bad_option(key, "'off', 'on' or 'auto'", v);
      }
    } else if (key == "deskew") {
      o.deskew = as_bool(key, v);
    } else if (key == "binarize") {
      const std::string mode = as_str(key, v);
      if (mode == "none") {
        o.binarize = BinarizeMode::kNone;
      } else if (mode == "otsu") {
        o.binarize = BinarizeMode::kOtsu;
      } else if (mode == "sauvola") {
        o.binarize = BinarizeMode::kSauvola;
      } else {
        bad_option(key, "'none', 'otsu' or 'sauvola'", v);
      }
    } else if (key == "rec_batch") {
      o.rec_batch = as_int(key, v);
    } else if (key == "fallback_threshold") {
      if (!v.is_none()) o.fallback_threshold = as_float(key, v);
    } else if (key == "check_threshold") {
      if (!v.is_none()) o.check_threshold = as_float(key, v);
    } else if (key == "reread") {
      const std::string scope = as_str(key, v);
      if (scope == "words") {
        o.reread = RereadScope::kWords;
      } else if (scope == "lines") {
        o.reread = RereadScope::kLines;
      } else {
        bad_option(key, "'words' or 'lines'", v);
      }
    } else if (key == "top_k") {
      o.top_k = as_int(key, v);
    } else if (key == "min_confidence") {
      o.min_confidence = as_float(key, v);
    } else if (!reading.take(key, v)) {
      throw py::value_error("unknown option '" + key +
                            "'; known: detect, lone_line, det_max_side, det_thresh, box_thresh, "
                            "unclip_ratio, classify, deskew, binarize, rec_batch, "
                            "fallback_threshold, check_threshold, reread, top_k, "
                            "min_confidence, allow, deny, pattern, words, word_weight");
    }
  }
  o.reading = reading.get();
  return o;
}

py::object name_or_none(const std::string& s) {
  if (s.empty()) return py::none();
  return py::str(s);
}

py::dict page_dict(const PageResult& page) {
  py::dict d;
  d["width"] = page.width;
  d["height"] = page.height;
  d["angle"] = page.angle;
  d["deskewed"] = page.deskewed;
  py::list lines;
  for (const LineResult& l : page.lines) {
    py::dict ld;
    ld["text"] = l.text;
    ld["confidence"] = l.confidence;
    ld["quad"] = point_pairs(l.quad);
    ld["det_score"] = l.det_score;
    ld["block"] = l.block;
    ld["rotated_180"] = l.rotated_180;
    ld["model"] = l.fallback ? "fallback" : "primary";
    ld["checked"] = l.checked;
    ld["pattern_matched"] = l.pattern_matched ? py::object(py::bool_(*l.pattern_matched)) : py::none();
    py::list chars;
    for (const CharResult& c : l.chars) {
      py::dict cd;
      cd["text"] = c.text;
      cd["confidence"] = c.confidence;
      cd["x0"] = c.x0;
      cd["x1"] = c.x1;
      py::list alts;
      for (const auto& [sym, p] : c.alternatives) {
        py::list pair;
        pair.append(sym);
        pair.append(p);
        alts.append(pair);
      }
      cd["alternatives"] = alts;
      chars.append(cd);
    }
    ld["chars"] = chars;
    py::list words;
    for (const WordResult& w : l.words) {
      py::dict wd;
      wd["text"] = w.text;
      wd["confidence"] = w.confidence;
      wd["quad"] = point_pairs(w.quad);
      words.append(wd);
    }
    ld["words"] = words;
    lines.append(ld);
  }
  d["lines"] = lines;
  py::list blocks;
  for (const BlockResult& b : page.blocks) {
    py::dict bd;
    bd["bbox"] = std::vector<float>{b.x0, b.y0, b.x1, b.y1};
    bd["lines"] = b.lines;
    blocks.append(bd);
  }
  d["blocks"] = blocks;
  const StageTimings& t = page.timings;
  py::dict td;
  td["preprocess"] = t.preprocess;
  td["detect"] = t.detect;
  td["postprocess"] = t.postprocess;
  td["crop"] = t.crop;
  td["classify"] = t.classify;
  td["recognize"] = t.recognize;
  td["decode"] = t.decode;
  td["layout"] = t.layout;
  td["total"] = t.total;
  d["timings"] = td;
  py::dict md;
  md["det"] = name_or_none(page.det_model);
  md["rec"] = page.rec_model;
  md["cls"] = name_or_none(page.cls_model);
  md["check"] = name_or_none(page.check_model);
  md["fallback"] = name_or_none(page.fallback_model);
  d["models"] = md;
  return d;
}

/// The Python-facing pipeline. close() may come from any thread while run() is in flight on
/// another: run() copies the shared_ptr under the mutex before releasing the GIL, so the
/// native pipeline is destroyed only when the last run that uses it returns.
class PyPipeline {
 public:
  PyPipeline(const std::string& det_model, const std::string& rec_model,
             const std::string& rec_dict, const std::optional<std::string>& cls_model,
             const std::optional<std::string>& fallback_rec_model,
             const std::optional<std::string>& fallback_rec_dict,
             const std::optional<std::string>& check_rec_model, int threads,
             bool fallback_on_first_use)
      : threads_(threads) {
    PipelineModels models;
    models.det_model = det_model;
    models.rec_model = rec_model;
    models.rec_dict = rec_dict;
    models.cls_model = cls_model.value_or("");
    models.fallback_rec_model = fallback_rec_model.value_or("");
    models.fallback_rec_dict = fallback_rec_dict.value_or("");
    models.check_rec_model = check_rec_model.value_or("");
    models.fallback_on_first_use = fallback_on_first_use;
    if (threads < 1 || threads > kMaxThreads) {
      throw py::value_error("threads must be in [1, " + std::to_string(kMaxThreads) + "], got " +
                            std::to_string(threads));
    }
    auto runtime = OrtRuntime::current();
    if (!runtime) {
      throw py::value_error("ONNX Runtime is not loaded; call ocrai._runtime.load() first");
    }
    py::gil_scoped_release nogil;  // loading models is pure C++ and takes a while
    pipeline_ = std::make_shared<const Pipeline>(std::move(runtime), models, threads);
  }

  std::shared_ptr<const Pipeline> get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!pipeline_) throw py::value_error("the pipeline is closed");
    return pipeline_;
  }

  py::dict run(const py::array& image, const std::string& order, const py::object& options) const {
    auto pipeline = get();
    const ImageView view = image_view(image, "image");
    const ColorOrder co = color_order(order);
    const RunOptions o = parse_options(options);
    PageResult page;
    {
      // `image` keeps the pixels alive and `pipeline` the models; no Python object is touched.
      py::gil_scoped_release nogil;
      page = pipeline->run(view, co, o);
    }
    return page_dict(page);
  }

  void warmup() const {
    auto pipeline = get();
    py::gil_scoped_release nogil;  // pure C++; `pipeline` holds the models
    pipeline->warmup();
  }

  void close() {
    std::shared_ptr<const Pipeline> dropped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      dropped.swap(pipeline_);
    }
    py::gil_scoped_release nogil;  // destroying sessions frees large buffers
    dropped.reset();
  }

  bool closed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return !pipeline_;
  }

  int threads() const { return threads_; }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Pipeline> pipeline_;
  int threads_;
};

}  // namespace

void register_pipeline(py::module_& m) {
  py::class_<PyPipeline>(m, "Pipeline", R"pbdoc(The end-to-end OCR pipeline over one set of models.)pbdoc")
      .def(py::init<const std::string&, const std::string&, const std::string&,
                    const std::optional<std::string>&, const std::optional<std::string>&,
                    const std::optional<std::string>&, const std::optional<std::string>&, int,
                    bool>(),
           py::kw_only(), py::arg("det_model"), py::arg("rec_model"), py::arg("rec_dict"),
           py::arg("cls_model") = py::none(), py::arg("fallback_rec_model") = py::none(),
           py::arg("fallback_rec_dict") = py::none(), py::arg("check_rec_model") = py::none(),
           py::arg("threads") = 1,
           py::arg("fallback_on_first_use") = false,
           R"pbdoc(Loads every model now (GIL released). A missing or corrupt file raises
ModelError naming it; a dictionary that does not match its recogniser raises ModelError
naming both files. check_rec_model (read with rec_dict) re-reads the lines the first
recogniser doubts, before the fallback's gate. With fallback_on_first_use the fallback's and
the check's models are loaded and checked by the first run that re-reads a line with them
(which raises those errors then); the fallback's dictionary is read now.)pbdoc")
      .def("run", &PyPipeline::run, py::arg("image"), py::arg("order") = "rgb",
           py::arg("options") = py::none(),
           R"pbdoc(Reads a uint8 image (H, W) or (H, W, 3|4) with the GIL released and returns
the page dict: lines and words in reading order, blocks, timings, models.)pbdoc")
      .def("warmup", &PyPipeline::warmup,
           R"pbdoc(Runs every model once on a tiny input.)pbdoc")
      .def("close", &PyPipeline::close,
           R"pbdoc(Releases the models now; idempotent. Runs in flight finish first; later
calls raise ValueError("the pipeline is closed").)pbdoc")
      .def_property_readonly("closed", &PyPipeline::closed)
      .def_property_readonly("threads", &PyPipeline::threads)
      .def_property_readonly(
          "sessions_created",
          [](const PyPipeline& p) { return p.get()->sessions_created(); },
          R"pbdoc(ONNX Runtime sessions created so far: the detector and one session per
recogniser with the pipeline, a recogniser's one-thread session by the first run that pairs
batches up (never a single line), or by warmup.)pbdoc");

  m.def(
      "_thread_pool_check",
      [](int threads, std::int64_t count, std::int64_t grain, std::int64_t fail_at, int callers) {
        std::vector<std::int64_t> hits(static_cast<std::size_t>(std::max<std::int64_t>(count, 0)));
        std::vector<std::string> errors(static_cast<std::size_t>(std::max(callers, 1)));
        {
          py::gil_scoped_release nogil;  // plain C++ threads over the vectors above
          ThreadPool pool(threads);
          auto call = [&](int caller) {
            try {
              pool.parallel_for(0, count, grain, [&](std::int64_t lo, std::int64_t hi) {
                for (std::int64_t i = lo; i < hi; ++i) {
                  if (i == fail_at) throw std::invalid_argument("item " + std::to_string(i));
                  __atomic_add_fetch(&hits[static_cast<std::size_t>(i)], 1, __ATOMIC_RELAXED);
                }
              });
            } catch (const std::invalid_argument& e) {
              errors[static_cast<std::size_t>(caller)] = e.what();
            }
          };
          std::vector<std::thread> others;
          for (int c = 1; c < callers; ++c) others.emplace_back(call, c);
          call(0);
          for (auto& t : others) t.join();
        }
        return py::make_tuple(hits, errors);
      },
      py::arg("threads"), py::arg("count"), py::arg("grain"), py::arg("fail_at") = -1,
      py::arg("callers") = 1,
      R"pbdoc(Test-only: `callers` threads each run parallel_for over [0, count) with `grain`
on one ThreadPool(threads), counting visits per item (an item visited by every caller reads
`callers`); item `fail_at` throws. Returns (visits, each caller's error message or "").)pbdoc");

  // --- building blocks -------------------------------------------------------------------
  m.def(
      "db_postprocess",
      [](const py::array& prob, std::optional<int> valid_width, std::optional<int> valid_height,
         std::optional<int> page_width, std::optional<int> page_height, float thresh,
         float box_thresh, float unclip_ratio, float min_size, int max_candidates,
         bool split_joined_lines) {
        auto map = float_array(prob, 2, "prob");
        const int h = static_cast<int>(map.shape(0)), w = static_cast<int>(map.shape(1));
        const int vw = valid_width.value_or(w), vh = valid_height.value_or(h);
        DbOptions o;
        o.thresh = thresh;
        o.box_thresh = box_thresh;
        o.unclip_ratio = unclip_ratio;
        o.min_size = min_size;
        o.max_candidates = max_candidates;
        o.split_joined_lines = split_joined_lines;
        std::vector<TextBox> boxes;
        {
          // Reads the array kept alive by `map`; no Python object is touched.
          py::gil_scoped_release nogil;
          boxes = db_postprocess(map.data(), w, h, w, vw, vh, page_width.value_or(vw),
                                 page_height.value_or(vh), o);
        }
        py::list out;
        for (const TextBox& b : boxes) out.append(py::make_tuple(point_pairs(b.quad), b.score));
        return out;
      },
      py::arg("prob"), py::kw_only(), py::arg("valid_width") = py::none(),
      py::arg("valid_height") = py::none(), py::arg("page_width") = py::none(),
      py::arg("page_height") = py::none(), py::arg("thresh") = 0.2f,
      py::arg("box_thresh") = 0.45f, py::arg("unclip_ratio") = 1.4f, py::arg("min_size") = 3.0f,
      py::arg("max_candidates") = 3000, py::arg("split_joined_lines") = false,
      R"pbdoc(DB post-processing of a (H, W) float32 probability map: a list of (quad, score),
quads clockwise from the text's top-left in page coordinates. The valid region (default the
whole map) maps onto page_width x page_height (default the valid size). split_joined_lines:
regions cut where their rows fall nearly empty between two lines (the pipeline's setting).)pbdoc");

  m.def(
      "min_area_rect",
      [](const py::array& points) {
        auto arr = float_array(points, 2, "points");
        if (arr.shape(1) != 2 || arr.shape(0) < 1) {
          throw py::value_error("points: expected shape (n, 2) with n >= 1");
        }
        std::vector<Point> pts(static_cast<std::size_t>(arr.shape(0)));
        for (std::size_t i = 0; i < pts.size(); ++i) {
          pts[i] = {arr.data()[2 * i], arr.data()[2 * i + 1]};
        }
        const RotatedRect r = min_area_rect(convex_hull(pts));
        const Quad q = order_quad(r.corners());
        // Side lengths along the ordered quad: top edge, then right edge.
        const bool turned = std::abs((q[1].x - q[0].x) * r.ux + (q[1].y - q[0].y) * r.uy) <
                            0.5 * r.width;
        return py::make_tuple(point_pairs(q), turned ? r.height : r.width,
                              turned ? r.width : r.height);
      },
      py::arg("points"),
      R"pbdoc(The least-area rectangle around (n, 2) float32 points: (quad, width, height),
the quad clockwise from the corner whose outgoing edge points most nearly to +x; width is
the length of its first edge, height of its second.)pbdoc");

  m.def(
      "argmax_rows",
      [](const py::array& data) {
        auto arr = float_array(data, 2, "data");
        const auto rows = static_cast<int>(arr.shape(0)), cols = static_cast<int>(arr.shape(1));
        py::array_t<std::int32_t> index(rows);
        py::array_t<float> value(rows);
        std::int32_t* ip = index.mutable_data();
        float* vp = value.mutable_data();
        {
          py::gil_scoped_release nogil;  // plain C++ on arrays held above
          argmax_rows_f32(arr.data(), rows, cols, cols, ip, vp);
        }
        return py::make_tuple(index, value);
      },
      py::arg("data"),
      R"pbdoc(Per-row argmax of a (rows, cols) float32 array with the active SIMD target:
(indices int32, values float32). Ties go to the first index; NaN never wins.)pbdoc");

  py::class_<Dictionary>(m, "Dictionary", R"pbdoc(A CTC recogniser's symbol table.)pbdoc")
      .def(py::init([](const std::string& path) {
             py::gil_scoped_release nogil;  // file reading, pure C++
             return Dictionary::from_file(path);
           }),
           py::arg("path"))
      .def_static("from_text", &Dictionary::from_text, py::arg("text"), py::arg("name"),
                  R"pbdoc(A dictionary from text in memory; name stands for the file.)pbdoc")
      .def_property_readonly("num_classes", &Dictionary::num_classes)
      .def_property_readonly("name", &Dictionary::name)
      .def("symbol",
           [](const Dictionary& d, int cls) {
             if (cls < 0 || cls >= d.num_classes()) throw py::index_error("class out of range");
             return d.symbol(cls);
           },
           py::arg("cls"))
      .def("find", [](const Dictionary& d, const std::string& s) { return d.find(s); },
           py::arg("symbol"))
      .def("check_model_classes", &Dictionary::check_model_classes, py::arg("model_classes"),
           py::arg("model_name"));

  py::class_<CtcConstraint, std::shared_ptr<CtcConstraint>>(
      m, "CtcConstraint",
      R"pbdoc(Reading control compiled against one dictionary (see ctc_decode).)pbdoc")
      .def(py::init([](const Dictionary& dict, const py::object& allow, const py::object& deny,
                       const py::object& pattern, const py::object& words, float word_weight) {
             const auto spec = reading_spec(allow, deny, pattern, words, word_weight);
             py::gil_scoped_release nogil;  // plain C++ over the dictionary
             return std::make_shared<CtcConstraint>(CtcConstraint::compile(*spec, dict));
           }),
           py::arg("dictionary"), py::kw_only(), py::arg("allow") = py::none(),
           py::arg("deny") = py::none(), py::arg("pattern") = py::none(),
           py::arg("words") = py::none(), py::arg("word_weight") = 1.0f)
      .def_property_readonly("masks", &CtcConstraint::masks)
      .def_property_readonly("pattern_can_match", &CtcConstraint::pattern_can_match);

  m.def(
      "ctc_decode",
      [](const py::array& probs, const Dictionary& dict, std::optional<int> valid_steps,
         int top_k, bool measure_gaps, const py::object& allow, const py::object& deny,
         const py::object& pattern, const py::object& words, float word_weight,
         int beam_width, std::shared_ptr<CtcConstraint> compiled) {
        auto arr = float_array(probs, 2, "probs");
        const int steps = static_cast<int>(arr.shape(0)), classes = static_cast<int>(arr.shape(1));
        const auto spec = reading_spec(allow, deny, pattern, words, word_weight);
        if (compiled && spec->constrains()) {
          throw py::value_error("ctc_decode: pass either a compiled constraint or allow, deny, "
                                "pattern and words");
        }
        std::shared_ptr<const CtcConstraint> constraint = compiled;
        CtcLine line;
        {
          py::gil_scoped_release nogil;  // plain C++ on the array held above
          if (!constraint && spec->constrains()) {
            constraint = std::make_shared<const CtcConstraint>(CtcConstraint::compile(*spec, dict));
          }
          if (constraint) {
            line = ctc_constrained_decode(arr.data(), steps, classes, classes,
                                          valid_steps.value_or(steps), dict, *constraint, top_k,
                                          measure_gaps, beam_width);
          } else {
            line = ctc_greedy_decode(arr.data(), steps, classes, classes,
                                     valid_steps.value_or(steps), dict, top_k, measure_gaps);
          }
        }
        py::dict d;
        d["text"] = line.text(dict);
        d["confidence"] = line.confidence;
        d["gap_doubt"] = line.gap_doubt;
        d["space_doubt"] = line.space_doubt;
        d["pattern_matched"] =
            line.pattern_matched ? py::object(py::bool_(*line.pattern_matched)) : py::none();
        d["search_cost"] = line.search_cost;
        py::list chars;
        for (const CtcChar& c : line.chars) chars.append(char_dict(c, dict));
        d["chars"] = chars;
        return d;
      },
      py::arg("probs"), py::arg("dictionary"), py::kw_only(), py::arg("valid_steps") = py::none(),
      py::arg("top_k") = 0, py::arg("measure_gaps") = false, py::arg("allow") = py::none(),
      py::arg("deny") = py::none(), py::arg("pattern") = py::none(),
      py::arg("words") = py::none(), py::arg("word_weight") = 1.0f,
      py::arg("beam_width") = kDefaultBeamWidth, py::arg("constraint") = nullptr,
      R"pbdoc(CTC decoding of one line's (steps, classes) float32 probabilities:
{"text", "confidence", "gap_doubt", "space_doubt", "pattern_matched", "chars": [{"text",
"confidence", "x0", "x1", "alternatives"}]}. Greedy without reading control. gap_doubt (with
measure_gaps): the highest probability a character other than its neighbours reaches at a step
the blank wins. space_doubt (with measure_gaps): the highest probability the space reaches at
such a step between two characters that are not spaces. allow/deny (str): the characters a
reading may use / not use (probabilities renormalised over the allowed classes); pattern: a
compiled pattern (ocrai.reading.compile_pattern) the whole reading must match, by a
constrained beam search of beam_width beams; words: a list the reading is drawn toward, by
word_weight per character of a listed word; constraint: the same compiled once
(CtcConstraint), for many lines. pattern_matched: None without a pattern. search_cost: how
much less likely (in nats) the beam search's reading is than the best path, 0 when it did not
choose it.)pbdoc");

  m.def(
      "layout_lines",
      [](const py::array& quads, float gutter, float column_min_width, float paragraph_gap) {
        const std::vector<Quad> q = quads_of(quads, "quads");
        LayoutOptions o;
        o.gutter = gutter;
        o.column_min_width = column_min_width;
        o.paragraph_gap = paragraph_gap;
        Layout l;
        {
          py::gil_scoped_release nogil;  // plain C++ on copies
          l = layout_lines(q, o);
        }
        py::dict d;
        d["order"] = l.order;
        d["block_of"] = l.block_of;
        py::list blocks;
        for (const LayoutBlock& b : l.blocks) {
          py::dict bd;
          bd["bbox"] = std::vector<float>{b.x0, b.y0, b.x1, b.y1};
          bd["lines"] = b.lines;
          blocks.append(bd);
        }
        d["blocks"] = blocks;
        d["skew"] = l.skew_degrees;
        return d;
      },
      py::arg("quads"), py::kw_only(), py::arg("gutter") = LayoutOptions{}.gutter,
      py::arg("column_min_width") = LayoutOptions{}.column_min_width,
      py::arg("paragraph_gap") = LayoutOptions{}.paragraph_gap,
      R"pbdoc(Reading order of (n, 4, 2) float32 line quads: {"order", "block_of", "blocks":
[{"bbox", "lines"}], "skew"}; order[k] is the box read k-th, blocks list reading positions.)pbdoc");

  m.def(
      "ink_bounds",
      [](const py::array& image, int tolerance, int give_up_height) {
        const ImageView view = image_view(image, "image");
        PixelRect r;
        {
          py::gil_scoped_release nogil;  // reads the array held by the caller
          r = ink_bounds(view, tolerance, give_up_height);
        }
        return py::make_tuple(r.x0, r.y0, r.x1, r.y1);
      },
      py::arg("image"), py::kw_only(), py::arg("tolerance"), py::arg("give_up_height") = 0,
      R"pbdoc((x0, y0, x1, y1): the smallest box around the pixels of a uint8 image (gray, 3 or
4 channels) that differ from its plain background by more than `tolerance` in a channel. The
background is the per-channel median of the border; the whole image when under 95 % of the
border is within `tolerance` of it, (0, 0, 0, 0) when there is no ink. give_up_height: the whole
image once the ink spans that many rows (0: never).)pbdoc");

  m.def(
      "lone_text_line",
      [](const py::array& image, int tolerance) {
        const ImageView view = image_view(image, "image");
        PixelRect r;
        {
          py::gil_scoped_release nogil;  // reads the array held by the caller
          r = lone_text_line(view, tolerance);
        }
        return py::make_tuple(r.x0, r.y0, r.x1, r.y1);
      },
      py::arg("image"), py::kw_only(), py::arg("tolerance"),
      R"pbdoc((x0, y0, x1, y1): the ink of a uint8 image (as ink_bounds) when it is one
horizontal line of text on a plain background and nothing else, the pipeline's reason to read
it without the detector; (0, 0, 0, 0) otherwise.)pbdoc");
}

}  // namespace ocrai::bindings
