// SPDX-License-Identifier: MIT
#pragma once
/// The end-to-end OCR pipeline: one image in, lines and words in reading order out.
///
/// Ownership model: a `Pipeline` owns its model sessions (detector, recogniser, optional line
/// classifier and fallback recogniser), their dictionaries and a thread pool, and keeps the
/// ORT runtime alive through the sessions. It is complete after construction and immutable
/// afterwards, so `run` may be called from several threads at once. A run's buffers (detector
/// input, line crops, batch tensors) belong to that run and are freed when it returns.
///
/// Threads: one budget, `threads`, covers everything a run does: ORT's intra-op threads of
/// each session (inter-op 1, no spinning: spinning made detection 1.7x slower on 2 cores)
/// and the pool that crops lines and runs recognition batches side by side on one-thread
/// sessions (leftover batches use a second session of the model with every thread). The
/// stages never overlap within one run, so one run never exceeds the budget. Concurrent runs
/// are not queued: measured on 2 cores, two or four threads sharing a pipeline got the same
/// throughput as one thread running the pages in turn (3.04-3.08 s vs 3.16 s for six pages,
/// 3-5 % more CPU), so a semaphore would only add latency.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ocrai/color.h"
#include "ocrai/ctc.h"
#include "ocrai/detect.h"
#include "ocrai/geometry.h"
#include "ocrai/image.h"
#include "ocrai/runtime.h"

namespace ocrai {

class ThreadPool;

/// The model files of a pipeline; empty strings mean "none".
struct PipelineModels {
  std::string det_model;           ///< DB text detector (required)
  std::string rec_model;           ///< CTC recogniser (required)
  std::string rec_dict;            ///< its dictionary (required)
  std::string cls_model;           ///< 0/180-degree line classifier
  std::string fallback_rec_model;  ///< recogniser that re-reads lines the first one cannot
  std::string fallback_rec_dict;   ///< its dictionary (required with fallback_rec_model)
  /// A recogniser of the first one's classes (its dictionary) that re-reads, whole, the
  /// lines the first one reads below the check gate (RunOptions::check_threshold), before
  /// the fallback's gate: the fp32 model an int8 first recogniser was derived from.
  std::string check_rec_model;
  /// Create the fallback and check recognisers' sessions at their first re-read (which then
  /// checks the model, throwing ModelError there), not with the pipeline: a pipeline whose
  /// lines are all read surely never pays for them (about 80 ms and 33 MB for PP-OCRv6
  /// small).
  bool fallback_on_first_use = false;
};

/// Whether lines are checked for being upside down. A line the classifier finds upside down
/// is read turned as well and the more confident reading is kept, so upright text stays
/// upright; when most checked lines are upside down, the doubtful rest are tried turned too.
enum class ClassifyMode {
  kOff,   ///< never (the default)
  kOn,    ///< every line goes through the classifier
  kAuto,  ///< only lines read with confidence below kAutoClassifyBelow
};

/// Optional binarization before detection and recognition.
enum class BinarizeMode { kNone, kOtsu, kSauvola };

/// Boxes grow by this unclip ratio in the pipeline (the models ship with 1.4): the same
/// readings on the rendered pages of every language, on tight line spacing and on the
/// development pages, with recognition inputs 7 % narrower (a recogniser's cost is linear
/// in width). Another PP-OCRv6 runtime uses 1.6 for these models too.
inline constexpr float kPipelineUnclipRatio = 1.6f;

/// DbOptions with the pipeline's defaults.
inline DbOptions pipeline_db_options() {
  DbOptions o;
  o.unclip_ratio = kPipelineUnclipRatio;
  o.split_joined_lines = true;
  return o;
}

/// What the fallback recogniser re-reads of a line the gate doubts.
enum class RereadScope {
  kLines,  ///< the whole line (the default)
  kWords,  ///< the doubtful words only, with some of the line around them, spliced into the
           ///< primary reading: faster where most lines are doubtful, a little less accurate
           ///< (see pipeline.cc, kWordRereadMaxShare)
};

/// Per-run options (A.1 of the team brief). `validate` checks them against a pipeline.
struct RunOptions {
  bool detect = true;      ///< false: the image is one text line (cut to its ink)
  /// With detection, a line-like image on a plain background whose ink is one line of text
  /// and nothing else (ink.h, lone_text_line) is read as that line without the detector.
  bool lone_line = true;
  int det_max_side = 960;  ///< the detector input's long side is at most this (>= 32)
  /// det_thresh, box_thresh, unclip_ratio. The pipeline unclips by kPipelineUnclipRatio
  /// unless told otherwise.
  DbOptions db = pipeline_db_options();
  ClassifyMode classify = ClassifyMode::kOff;
  bool deskew = false;  ///< estimate the page skew and read the page rotated upright
  BinarizeMode binarize = BinarizeMode::kNone;  ///< read a black-and-white copy
  int rec_batch = 8;                            ///< most lines in one recognition batch
  /// Lines read below this confidence go to the fallback recogniser; unset: the default
  /// (kDefaultFallbackThreshold) when there is a fallback, none otherwise.
  std::optional<float> fallback_threshold;
  /// Lines read below this confidence, or with a character below kCheckCharShare of it or
  /// a near miss above kCheckNearMiss, are re-read by the check recogniser; unset:
  /// kDefaultCheckThreshold when there is one.
  std::optional<float> check_threshold;
  RereadScope reread = RereadScope::kLines;  ///< see RereadScope and reread_lines
  int top_k = 0;             ///< alternatives per character (0: none)
  float min_confidence = 0;  ///< lines read below this are dropped
  /// What readings may contain (character sets, a pattern, words); null: anything. Compiled
  /// against each recogniser's dictionary once per run.
  std::shared_ptr<const ReadingSpec> reading;
};

/// Fallback threshold used when a pipeline has a fallback recogniser and the run names none.
/// A line goes to the fallback when its confidence is below the threshold, when one of its
/// characters (spaces aside) is below kFallbackCharShare times the threshold, or when it
/// holds a character from a Unicode block (128 code points) in which the fallback dictionary
/// has symbols that the primary one lacks (e.g. Japanese read by a model without kana).
///
/// The tiny recogniser's extra errors on receipt lines are mostly confident ones: dropped
/// spaces ("cash:" for "cash :"), dropped '.' and ':', l/1 and o/0. The thresholds below were
/// chosen on the development sets (../shared/data) so that fast mode reads as well as the
/// small pack alone: on SROIE lines, 0.9 / 0.2 / no space check re-read 30 % of the lines and
/// left CER at 3.28 % (small alone 2.83 %); 0.95 / 0.05 / 0.05 re-read 44 % and reach 2.83 %.
/// Clean pages re-read few lines (a fifth of the tesseract pages' lines), so fast mode keeps
/// most of its speed where the tiny recogniser is sure.
inline constexpr float kDefaultFallbackThreshold = 0.95f;
inline constexpr float kFallbackCharShare = 5.0f / 6.0f;
/// A line also goes to the fallback when a character it did not read came this close
/// (CtcLine::gap_doubt: a '.' or ':' the blank won over).
inline constexpr float kFallbackGapDoubt = 0.05f;
/// ... or when a word break it did not make came this close (CtcLine::space_doubt).
inline constexpr float kFallbackSpaceDoubt = 0.05f;
/// Check threshold used when a pipeline has a check recogniser and the run names none. The
/// check re-reads with the fp32 recogniser that an int8 first one was derived from (the
/// first one's own model, cheap next to the fallback), so its gate doubts more than the
/// fallback's: the tiny int8 recogniser's errors that its fp32 model does not make are
/// mostly confident ones, which pass the fallback's gate ("Actually." for "Actually," on
/// UW3 at 0.988; "htp://" on FoNDUE at 0.992 with an 'h' at 0.84; "Salesperson" for
/// "Salesperson:" on SROIE, the ':' a near miss under 0.05).
///
/// Chosen on the development sets (benchmarks/accuracy.py, fast mode, every set, errors
/// against fast mode in fp32: tesseract 388, uw3-lines 8, sroie 442, EHRI 3754, FoNDUE 243)
/// and the dense page of bench_pipeline (40 lines; its time against fast mode in fp32, 2
/// threads, interleaved):
/// - line 0.99, characters 5/6 of it, near misses 0.05 (the fallback's gate): 388, 8, 443,
///   3755, 249; 2 lines checked;
/// - characters 0.9 of it: 387, 8, 443, 3755, 241; 3 lines checked, 0.74x the time;
/// - characters 0.9, near misses 0.03 (the choice): 387, 8, 442, 3755, 242; 6 lines
///   checked, 0.79x the time. EHRI's one more error is "Gunt her." read by int8 at 0.995,
///   its space at 0.94;
/// - characters 0.95, near misses 0.02: 387, 8, 442, 3755, 243; 20 lines checked, and the
///   fp32 model's reading replaces right int8 ones ("http:/" on FoNDUE).
inline constexpr float kDefaultCheckThreshold = 0.99f;
inline constexpr float kCheckCharShare = 0.9f;
inline constexpr float kCheckNearMiss = 0.03f;

/// With ClassifyMode::kAuto, lines read below this confidence are classified.
inline constexpr float kAutoClassifyBelow = 0.9f;
/// Lines the classifier finds more likely upside down than not are read turned as well, and
/// the reading with the higher confidence is kept: the classifier alone flips upright lines
/// (it cost a peer 16 % CER on clean pages), so it only proposes.
inline constexpr float kClassifyThreshold = 0.5f;

struct CharResult {
  std::string text;
  float confidence = 0;
  float x0 = 0, x1 = 0;  ///< position along the line, fractions 0..1 of its length
  std::vector<std::pair<std::string, float>> alternatives;
};

struct WordResult {
  std::string text;
  float confidence = 0;
  Quad quad{};
};

struct LineResult {
  std::string text;
  float confidence = 0;  ///< mean character confidence; 0 when empty
  Quad quad{};           ///< page coordinates, clockwise from the text's top-left
  float det_score = 1;
  int block = 0;
  bool rotated_180 = false;
  bool fallback = false;  ///< read by the fallback recogniser
  bool checked = false;   ///< re-read by the check recogniser (and kept unless `fallback`)
  /// With a pattern: whether the text matches it (false: nothing did, the text is the
  /// reading without the pattern). Unset without a pattern.
  std::optional<bool> pattern_matched;
  std::vector<CharResult> chars;
  std::vector<WordResult> words;
};

struct BlockResult {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  std::vector<int> lines;  ///< indices into PageResult::lines
};

/// Wall-clock milliseconds per stage. Stages that run on several threads at once (crop,
/// recognize, decode) share their phase's wall time in proportion to their thread time.
struct StageTimings {
  double preprocess = 0, detect = 0, postprocess = 0, crop = 0, classify = 0, recognize = 0,
         decode = 0, layout = 0, total = 0;
};

struct PageResult {
  int width = 0, height = 0;
  double angle = 0;               ///< skew in degrees, CCW positive, measured from the line boxes
  bool deskewed = false;          ///< coordinates are in input-image space either way
  std::vector<LineResult> lines;  ///< reading order
  std::vector<BlockResult> blocks;
  StageTimings timings;
  std::string det_model, rec_model, cls_model, check_model, fallback_model;  ///< "" when not used
};

class Pipeline {
 public:
  /// Loads every model now (a recogniser's second, one-thread session waits for the first
  /// run that uses it). Throws ModelError naming the file when one is missing, corrupt or
  /// does not have the inputs and outputs of its role, or when a dictionary does not match its
  /// recogniser's class count (naming both); std::invalid_argument for threads < 1 or a
  /// fallback model without a dictionary.
  Pipeline(std::shared_ptr<OrtRuntime> runtime, const PipelineModels& models, int threads);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  /// Reads one image (1, 3 or 4 channels; `order` says which colour comes first). Thread-safe.
  /// Throws std::invalid_argument for an empty image or options this pipeline cannot honour,
  /// InferenceError when a model fails.
  PageResult run(const ImageView& image, ColorOrder order, const RunOptions& options) const;

  /// Creates every session and runs each once on a tiny input, so that the first real run
  /// is not slower.
  void warmup() const;

  /// Throws std::invalid_argument naming the option when `options` are out of range or need a
  /// model this pipeline does not have.
  void validate(const RunOptions& options) const;

  int threads() const { return threads_; }
  /// ORT sessions created so far: some are created by the first run that needs them (see
  /// pipeline.cc, Recognizer).
  int sessions_created() const;
  bool has_classifier() const { return cls_ != nullptr; }
  bool has_fallback() const { return fallback_ != nullptr; }
  bool has_check() const { return check_ != nullptr; }

 private:
  struct Recognizer;  ///< a recognition model, its dictionary and its line height
  struct LineWork;    ///< one text line on its way through the stages
  /// The image the stages after preprocessing read (the input, or a deskewed and/or binarized
  /// copy) and its way back to the input's coordinates.
  struct WorkImage;
  /// A run's lines, in the order the detector found them.
  using LineWorks = std::vector<std::unique_ptr<LineWork>>;

  // The stages of `run`, in order. Each adds its time to the StageTimings fields named.

  /// Preprocess: `input` -> the work image (deskewed and/or binarized as the options say);
  /// sets page.angle and page.deskewed when deskewing. Time: preprocess.
  WorkImage preprocess(const ImageView& input, ColorOrder order, const RunOptions& options,
                       PageResult& page) const;
  /// Locate lines: the work image -> its text lines as quads in work-image coordinates (the
  /// detector on the inked area, coarse pass first for line-like images; without detection,
  /// or when a line-like image is one lone line of text (ink.h, lone_text_line), the image's
  /// ink and its margin, or the whole image); sets page.det_model when the detector found
  /// them. Time: preprocess, detect, postprocess.
  LineWorks locate_lines(const ImageView& image, ColorOrder order, const RunOptions& options,
                         PageResult& page) const;
  /// Crop: each line's quad -> its crop, rectified to the recogniser's height (tall lines
  /// turned a quarter first). Time: crop.
  void crop_lines(const ImageView& image, const RunOptions& options, const LineWorks& lines,
                  StageTimings& t) const;
  /// Recognise: crops -> each line's reading by the primary recogniser; with classify, lines
  /// found upside down are read turned as well and the more confident reading kept.
  /// Time: crop, recognize, decode; classify for the classifier and the turned readings.
  void recognize_lines(const LineWorks& lines, ColorOrder order, const RunOptions& options,
                       const CtcConstraint* constraint, StageTimings& t) const;
  /// Check: readings the check gate doubts -> replaced by the check recogniser's (the same
  /// classes), read whole (nothing without a check recogniser). Time: crop, recognize, decode.
  void check_lines(const LineWorks& lines, ColorOrder order, const RunOptions& options,
                   const CtcConstraint* constraint, StageTimings& t) const;
  /// Re-read: readings the fallback gate doubts -> replaced by the fallback recogniser's,
  /// whole or (RereadScope::kWords) in the doubtful words only (nothing without a
  /// fallback). Time: crop, recognize, decode.
  void reread_lines(const LineWorks& lines, ColorOrder order, const RunOptions& options,
                    const CtcConstraint* constraint, StageTimings& t) const;
  /// Layout: readings -> page.lines (kept lines in reading order, with characters and words),
  /// page.blocks and, without deskew, page.angle, in input coordinates. Time: layout.
  void assemble_page(const LineWorks& lines, const WorkImage& work, const RunOptions& options,
                     PageResult& page) const;

  // Helpers of the stages.

  /// One read line as a result in input coordinates, in layout block `block`.
  static LineResult line_result(const LineWork& line, const WorkImage& work, int block);
  void recognize(const Recognizer& rec, const std::vector<LineWork*>& lines, ColorOrder order,
                 bool rotated, int batch, int top_k, const CtcConstraint* constraint,
                 StageTimings& t) const;
  /// The run's reading spec compiled for the primary and the fallback recogniser (null where
  /// there is nothing to constrain). Throws std::invalid_argument when a character of the
  /// allow list or of the words is read by none of the recognisers, or when the pattern can
  /// match nothing they read.
  std::pair<std::unique_ptr<CtcConstraint>, std::unique_ptr<CtcConstraint>> compile_reading(
      const RunOptions& options) const;
  void classify(const std::vector<LineWork*>& lines, ColorOrder order, StageTimings& t) const;
  bool fallback_expresses_better(const std::string& text) const;
  std::vector<TextBox> detect_pass(const ImageView& image, ColorOrder order, double scale,
                                   const DbOptions& db, StageTimings& t, DbStats* stats) const;

  std::shared_ptr<OrtRuntime> runtime_;
  int threads_ = 1;
  std::unique_ptr<Session> det_;
  std::unique_ptr<Recognizer> rec_;
  std::unique_ptr<Session> cls_;
  std::unique_ptr<Recognizer> check_;
  std::unique_ptr<Recognizer> fallback_;
  std::unique_ptr<ThreadPool> pool_;
  /// Blocks of 128 code points where the fallback dictionary has symbols the primary lacks.
  std::vector<bool> fallback_blocks_;
  std::string det_name_, cls_name_;
};

}  // namespace ocrai
