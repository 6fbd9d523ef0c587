// SPDX-License-Identifier: MIT
#include "ocrai/ctc.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "kernels/argmax_kernels.h"
#include "kernels/simd.h"
#include "ocrai/cpu.h"
#include "ocrai/errors.h"

namespace ocrai {
namespace {

/// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0) {
    n = 2;
    cp = b & 0x1Fu;
  } else if ((b & 0xF0) == 0xE0) {
    n = 3;
    cp = b & 0x0Fu;
  } else if ((b & 0xF8) == 0xF0) {
    n = 4;
    cp = b & 0x07u;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3Fu);
  }
  // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
  static constexpr std::uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

/// ASCII punctuation, symbols and the space end words; letters and digits of every script
/// (and the rest of Unicode) make them up.
bool separator_cp(std::uint32_t cp) {
  return cp < 128 && !((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
                       (cp >= 'A' && cp <= 'Z'));
}

using ArgmaxRow = std::int32_t (*)(const float*, int, float*);

ArgmaxRow select_argmax() {
  switch (active_target()) {
#if OCRAI_HAVE_AVX512
    case SimdTarget::kAvx512: return kernels::avx512::argmax_row;
#endif
#if OCRAI_HAVE_AVX2
    case SimdTarget::kAvx2: return kernels::avx2::argmax_row;
#endif
    default: return kernels::scalar::argmax_row;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Dictionary

Dictionary Dictionary::from_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw ModelError("cannot open dictionary file " + path);
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) throw ModelError("cannot read dictionary file " + path);
  return from_text(text.str(), path);
}

Dictionary Dictionary::from_text(std::string_view text, const std::string& name) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  Dictionary dict;
  dict.name_ = name;
  dict.symbols_.emplace_back();  // class 0: the CTC blank
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++line_no;
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (std::size_t i = 0; i < line.size();) {
      const std::size_t n = utf8_length(line, i);
      if (n == 0) {
        throw ModelError("dictionary " + name + " is not valid UTF-8 (line " +
                         std::to_string(line_no) + ")");
      }
      i += n;
    }
    dict.symbols_.emplace_back(line);
    pos = eol + 1;
  }
  if (dict.symbols_.size() == 1) throw ModelError("dictionary " + name + " is empty");
  dict.symbols_.emplace_back(" ");  // the last class: the space
  // Reverse order so that a symbol listed twice maps to its first class.
  for (int cls = dict.num_classes() - 1; cls >= 1; --cls) {
    dict.index_[dict.symbols_[static_cast<std::size_t>(cls)]] = cls;
  }
  dict.class_info_.resize(dict.symbols_.size());
  for (int cls = 1; cls < dict.num_classes(); ++cls) {
    // Digits and word ends are single ASCII code points, and such a symbol (valid UTF-8,
    // checked above) is one byte: no symbol needs decoding.
    const std::string& symbol = dict.symbol(cls);
    if (symbol.size() != 1) continue;
    const auto cp = static_cast<unsigned char>(symbol[0]);
    ClassInfo& info = dict.class_info_[static_cast<std::size_t>(cls)];
    info.digit = cp >= '0' && cp <= '9';
    info.ends_word = separator_cp(cp);
  }
  for (const auto& [letter, digit] : {std::pair{"l", "1"}, {"I", "1"}, {"O", "0"}, {"o", "0"}}) {
    const int cls = dict.find(letter);
    const int digit_cls = dict.find(digit);
    if (cls > 0 && digit_cls > 0) {
      dict.class_info_[static_cast<std::size_t>(cls)].lookalike_of = digit_cls;
    }
  }
  return dict;
}

int Dictionary::find(std::string_view symbol) const {
  auto it = index_.find(std::string(symbol));
  return it == index_.end() ? -1 : it->second;
}

void Dictionary::check_model_classes(std::int64_t model_classes,
                                     const std::string& model_name) const {
  if (model_classes != num_classes()) {
    throw ModelError("dictionary " + name_ + " does not match recognition model " + model_name +
                     ": the model has " + std::to_string(model_classes) +
                     " classes, the dictionary gives " + std::to_string(num_classes()) +
                     " (blank + " + std::to_string(num_classes() - 2) + " lines + space)");
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

std::string CtcLine::text(const Dictionary& dict) const {
  std::string s;
  for (const auto& c : chars) s += dict.symbol(c.cls);
  return s;
}

void argmax_rows_f32(const float* data, int rows, int cols, std::ptrdiff_t row_stride,
                     std::int32_t* index, float* value) {
  if (rows < 0 || cols < 1 || row_stride < cols) {
    throw std::invalid_argument("argmax_rows_f32: need rows >= 0, cols >= 1, stride >= cols");
  }
  if (rows > 0 && (data == nullptr || index == nullptr || value == nullptr)) {
    throw std::invalid_argument("argmax_rows_f32: null pointer");
  }
  const ArgmaxRow argmax = select_argmax();
  for (int r = 0; r < rows; ++r) index[r] = argmax(data + r * row_stride, cols, value + r);
}

namespace {

/// A line's probabilities as a decoder reads them: with a mask, each step's probability of an
/// allowed class divided by the step's sum over the allowed classes.
class StepProbs {
 public:
  StepProbs(const float* probs, std::ptrdiff_t row_stride, int valid_steps,
            const CtcConstraint* mask)
      : probs_(probs), stride_(row_stride), mask_(mask != nullptr && mask->masks() ? mask : nullptr) {
    if (mask_ == nullptr) return;
    scale_.resize(static_cast<std::size_t>(valid_steps));
    // Rows are probabilities (a softmax): with few classes masked, the allowed mass is what
    // the denied ones leave, a pass over the few instead of over every class.
    const bool few = mask_->masks_few();
    for (int t = 0; t < valid_steps; ++t) {
      const float* r = row(t);
      double sum = few ? 1.0 : 0.0;
      for (const std::int32_t c : few ? mask_->denied_classes() : mask_->allowed_classes()) {
        if (r[c] > 0) sum += few ? -static_cast<double>(r[c]) : r[c];  // NaN counts nothing
      }
      scale_[static_cast<std::size_t>(t)] = sum > 1e-30 ? static_cast<float>(1.0 / sum) : 0.f;
    }
  }
  const float* row(int t) const { return probs_ + static_cast<std::ptrdiff_t>(t) * stride_; }
  /// Factor that renormalises step t (1 without a mask).
  float scale(int t) const { return mask_ ? scale_[static_cast<std::size_t>(t)] : 1.f; }
  float p(int t, int cls) const { return row(t)[cls] * scale(t); }
  const CtcConstraint* mask() const { return mask_; }

 private:
  const float* probs_;
  std::ptrdiff_t stride_;
  const CtcConstraint* mask_;
  std::vector<float> scale_;
};

/// Steps [start, end] that read one character.
struct Run {
  int cls, start, end, peak;
  float conf;
};

/// Index of the largest allowed class at row `r` (from `from` on in the allowed list), and
/// its value; ties go to the first, NaN never wins; -inf and `fallback` when there is none.
int masked_argmax(const float* r, const std::vector<std::int32_t>& allowed, std::size_t from,
                  int fallback, float* value) {
  int best = fallback;
  float v = -std::numeric_limits<float>::infinity();
  for (std::size_t i = from; i < allowed.size(); ++i) {
    const float x = r[allowed[i]];
    if (x > v) {
      v = x;
      best = allowed[i];
    }
  }
  *value = v;
  return best;
}

/// Reads the look-alike letters of numbers as digits (see kDigitLookalikeFloor). A number is
/// a word (runs between classes that end words, Dictionary::ends_word) of digits and
/// look-alikes only, with a digit: "l938", "2l", "l00o" are numbers; "H2O", "CO2", "0lga"
/// and "l4th" are words and keep their letters. Its look-alikes whose digit is allowed and
/// likely enough become it.
void read_numbers_whole(std::vector<Run>& runs, const StepProbs& sp, const Dictionary& dict) {
  auto lookalike = [&](const Run& r) { return dict.lookalike_digit(r.cls) >= 0; };
  if (std::none_of(runs.begin(), runs.end(), lookalike)) return;
  auto separator = [&](const Run& r) { return dict.ends_word(r.cls); };
  for (auto word = runs.begin(); word != runs.end();) {
    if (separator(*word)) {
      ++word;
      continue;
    }
    const auto end = std::find_if(word, runs.end(), separator);
    const bool number =
        std::any_of(word, end, [&](const Run& r) { return dict.is_digit(r.cls); }) &&
        std::all_of(word, end, [&](const Run& r) { return dict.is_digit(r.cls) || lookalike(r); });
    for (auto r = word; number && r != end; ++r) {
      const int digit = dict.lookalike_digit(r->cls);
      if (digit < 0 || (sp.mask() && !sp.mask()->allowed(digit))) continue;
      if (sp.p(r->peak, digit) >= kDigitLookalikeFloor) r->cls = digit;
    }
    word = end;
  }
}

/// Turns runs (outer spaces included) into a line: spaces stripped, positions, confidences
/// and alternatives.
CtcLine assemble(std::vector<Run> runs, const StepProbs& sp, int valid_steps, int classes,
                 const Dictionary& dict, int top_k, CtcLine line) {
  line.chars.clear();
  line.confidence = 0.f;
  // Leading and trailing spaces carry nothing.
  const int space = dict.space_class();
  std::size_t first = 0, last = runs.size();
  while (first < last && runs[first].cls == space) ++first;
  while (last > first && runs[last - 1].cls == space) --last;
  if (first == last) return line;
  runs = std::vector<Run>(runs.begin() + static_cast<std::ptrdiff_t>(first),
                          runs.begin() + static_cast<std::ptrdiff_t>(last));

  const std::size_t n = runs.size();
  std::vector<double> centre(n);
  for (std::size_t i = 0; i < n; ++i) centre[i] = 0.5 * (runs[i].start + runs[i].end + 1);
  const double half_pitch =
      n >= 2 ? 0.5 * (centre[n - 1] - centre[0]) / static_cast<double>(n - 1) : 0.0;
  const double steps_d = valid_steps;
  line.chars.resize(n);
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    CtcChar& ch = line.chars[i];
    ch.cls = runs[i].cls;
    ch.confidence = runs[i].conf;
    ch.peak_step = runs[i].peak;
    double a = i == 0 ? (n >= 2 ? centre[0] - half_pitch : runs[0].start)
                      : 0.5 * (centre[i - 1] + centre[i]);
    double b = i + 1 == n ? (n >= 2 ? centre[i] + half_pitch : runs[i].end + 1)
                          : 0.5 * (centre[i] + centre[i + 1]);
    a = std::clamp(a, 0.0, steps_d);
    b = std::clamp(b, 0.0, steps_d);
    ch.x0 = static_cast<float>(a / steps_d);
    ch.x1 = static_cast<float>(b / steps_d);
    sum += ch.confidence;
    if (top_k > 0) {
      const float* row = sp.row(ch.peak_step);
      const float scale = sp.scale(ch.peak_step);
      std::vector<std::pair<int, float>> all;
      all.reserve(static_cast<std::size_t>(classes - 1));
      if (sp.mask()) {
        for (const std::int32_t c : sp.mask()->allowed_classes()) {
          if (c != 0 && !std::isnan(row[c])) all.emplace_back(c, row[c] * scale);
        }
      } else {
        for (int c = 1; c < classes; ++c) {
          if (!std::isnan(row[c])) all.emplace_back(c, row[c]);
        }
      }
      const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(top_k), all.size());
      // Highest probability first; equal ones in class order.
      std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end(),
                        [](const auto& x, const auto& y) {
                          return x.second > y.second || (x.second == y.second && x.first < y.first);
                        });
      ch.alternatives.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k));
    }
  }
  line.confidence = static_cast<float>(sum / static_cast<double>(n));
  return line;
}

void check_decode_args(int steps, int classes, std::ptrdiff_t row_stride, int valid_steps,
                       const Dictionary& dict, int top_k, const char* who) {
  if (classes != dict.num_classes()) {
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(classes) +
                                " classes, dictionary " + dict.name() + " has " +
                                std::to_string(dict.num_classes()));
  }
  if (steps < 0 || valid_steps < 0 || valid_steps > steps || row_stride < classes) {
    throw std::invalid_argument(std::string(who) + ": need 0 <= valid_steps <= steps and "
                                "row_stride >= classes");
  }
  if (top_k < 0) throw std::invalid_argument(std::string(who) + ": top_k must be >= 0");
}

}  // namespace

CtcLine ctc_greedy_decode(const float* probs, int steps, int classes, std::ptrdiff_t row_stride,
                          int valid_steps, const Dictionary& dict, int top_k, bool measure_gaps,
                          const CtcConstraint* mask) {
  check_decode_args(steps, classes, row_stride, valid_steps, dict, top_k, "ctc_greedy_decode");
  if (mask != nullptr && mask->num_classes() != classes) {
    throw std::invalid_argument("ctc_greedy_decode: the constraint was compiled for another "
                                "dictionary");
  }
  CtcLine line;
  if (valid_steps == 0) return line;
  if (probs == nullptr) throw std::invalid_argument("ctc_greedy_decode: null probabilities");
  const StepProbs sp(probs, row_stride, valid_steps, mask);

  std::vector<std::int32_t> best(static_cast<std::size_t>(valid_steps));
  std::vector<float> value(static_cast<std::size_t>(valid_steps));
  if (sp.mask()) {
    // Only the allowed classes compete; values renormalised over them.
    const CtcConstraint& m = *sp.mask();
    const ArgmaxRow argmax = select_argmax();
    for (int t = 0; t < valid_steps; ++t) {
      float v = 0;
      // With few classes masked the plain (SIMD) argmax is usually allowed already.
      int c = m.masks_few() ? argmax(sp.row(t), classes, &v) : -1;
      if (c < 0 || !m.allowed(c)) c = masked_argmax(sp.row(t), m.allowed_classes(), 0, 0, &v);
      best[static_cast<std::size_t>(t)] = c;
      value[static_cast<std::size_t>(t)] = v * sp.scale(t);
    }
  } else {
    argmax_rows_f32(probs, valid_steps, classes, row_stride, best.data(), value.data());
  }

  // Runs of one non-blank class become characters.
  std::vector<Run> runs;
  int prev = 0;
  for (int t = 0; t < valid_steps; ++t) {
    const int c = best[static_cast<std::size_t>(t)];
    const float p = value[static_cast<std::size_t>(t)];
    if (c != 0 && c == prev) {
      Run& r = runs.back();
      r.end = t;
      if (p > r.conf) {
        r.conf = p;
        r.peak = t;
      }
    } else if (c != 0) {
      runs.push_back({c, t, t, t, p});
    }
    prev = c;
  }
  if (measure_gaps && classes > 2) {
    // At each blank step, the best non-blank class that is not a neighbour's character.
    const ArgmaxRow argmax = select_argmax();
    const int space_cls = dict.space_class();
    const bool space_ok = sp.mask() == nullptr || sp.mask()->allowed(space_cls);
    std::size_t next_run = 0;  // first run starting after t
    for (int t = 0; t < valid_steps; ++t) {
      while (next_run < runs.size() && runs[next_run].start <= t) ++next_run;
      if (best[static_cast<std::size_t>(t)] != 0) continue;
      float p = 0.f;
      int c = 0;
      if (sp.mask()) {
        // The allowed list starts with the blank; what follows are the other classes.
        c = masked_argmax(sp.row(t), sp.mask()->allowed_classes(), 1, 0, &p);
        p *= sp.scale(t);
        if (c == 0) continue;
      } else {
        c = 1 + argmax(sp.row(t) + 1, classes - 1, &p);
      }
      const bool before = next_run > 0 && runs[next_run - 1].cls == c;
      const bool after = next_run < runs.size() && runs[next_run].cls == c;
      const float x = (static_cast<float>(t) + 0.5f) / static_cast<float>(valid_steps);
      if (c != space_cls && !before && !after) {
        line.gap_doubt = std::max(line.gap_doubt, p);
        if (p > kDoubtMarkFloor) line.doubts.push_back({x, p, false});
      }
      // A space only counts between two characters: at the ends it would be stripped.
      const bool inside = next_run > 0 && next_run < runs.size();
      if (space_ok && inside && space_cls > 0 && runs[next_run - 1].cls != space_cls &&
          runs[next_run].cls != space_cls) {
        const float q = sp.p(t, space_cls);
        line.space_doubt = std::max(line.space_doubt, q);
        if (q > kDoubtMarkFloor) line.doubts.push_back({x, q, true});
      }
    }
  }
  read_numbers_whole(runs, sp, dict);
  return assemble(std::move(runs), sp, valid_steps, classes, dict, top_k, std::move(line));
}

// ---------------------------------------------------------------------------------------------
// Reading control

void CharDfa::check() const {
  if (states < 1 || columns < 0) throw std::invalid_argument("pattern automaton has no states");
  if (table.size() != static_cast<std::size_t>(states) * static_cast<std::size_t>(columns) ||
      accepting.size() != static_cast<std::size_t>(states)) {
    throw std::invalid_argument("pattern automaton: the table must be states x columns and "
                                "accepting one per state");
  }
  for (const std::int32_t next : table) {
    if (next < -1 || next >= states) {
      throw std::invalid_argument("pattern automaton: a transition leads to state " +
                                  std::to_string(next) + " of " + std::to_string(states));
    }
  }
  for (const auto& [cp, col] : column_of) {
    if (col < 0 || col >= columns) {
      throw std::invalid_argument("pattern automaton: character U+" + std::to_string(cp) +
                                  " has column " + std::to_string(col));
    }
  }
}

namespace {

/// Appends the code points of UTF-8 `s` (valid, as dictionaries and Python strs are).
void append_code_points(std::string_view s, std::vector<std::uint32_t>& cps) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = std::max<std::size_t>(1, utf8_length(s, i));
    const auto b = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1Fu) : n == 3 ? (b & 0x0Fu) : (b & 0x07u);
    for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3Fu);
    cps.push_back(cp);
    i += n;
  }
}

}  // namespace

std::vector<std::uint32_t> utf8_code_points(std::string_view s) {
  std::vector<std::uint32_t> cps;
  append_code_points(s, cps);
  return cps;
}

std::string utf8_encode(std::uint32_t cp) {
  std::string utf8;
  if (cp < 0x80) {
    utf8 += static_cast<char>(cp);
  } else if (cp < 0x800) {
    utf8 += static_cast<char>(0xC0 | (cp >> 6));
    utf8 += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    utf8 += static_cast<char>(0xE0 | (cp >> 12));
    utf8 += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    utf8 += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    utf8 += static_cast<char>(0xF0 | (cp >> 18));
    utf8 += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    utf8 += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    utf8 += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return utf8;
}

CtcConstraint CtcConstraint::compile(const ReadingSpec& spec, const Dictionary& dict) {
  CtcConstraint c;
  const int classes = dict.num_classes();
  c.classes_ = classes;
  c.word_weight_ = spec.word_weight;
  // The code points of every class, flat (one allocation, not one per class: a run
  // compiles this for 18,710 classes of PP-OCRv6 small).
  struct CodePoints {
    const std::uint32_t* first;
    std::size_t n;
    const std::uint32_t* begin() const { return first; }
    const std::uint32_t* end() const { return first + n; }
    bool empty() const { return n == 0; }
    std::size_t size() const { return n; }
    std::uint32_t operator[](std::size_t i) const { return first[i]; }
  };
  std::vector<std::uint32_t> flat;
  std::vector<std::size_t> offset(static_cast<std::size_t>(classes) + 1, 0);
  flat.reserve(static_cast<std::size_t>(classes));
  for (int k = 1; k < classes; ++k) {
    offset[static_cast<std::size_t>(k)] = flat.size();
    append_code_points(dict.symbol(k), flat);
  }
  offset[static_cast<std::size_t>(classes)] = flat.size();
  auto cps_of = [&](int k) {
    const std::size_t a = offset[static_cast<std::size_t>(k)];
    const std::size_t b = k + 1 < classes ? offset[static_cast<std::size_t>(k) + 1] : flat.size();
    return CodePoints{flat.data() + a, b - a};
  };
  // Which characters the dictionary reads at all: only asked for the allow list and words.
  std::vector<bool> known;
  if (spec.allow || !spec.words.empty()) {
    known.assign(0x110000, false);
    for (std::uint32_t cp : flat) {
      if (cp < 0x110000) known[cp] = true;
    }
  }
  auto knows = [&](std::uint32_t cp) { return cp < known.size() && known[cp]; };
  auto in = [](const std::vector<std::uint32_t>& sorted, std::uint32_t cp) {
    return std::binary_search(sorted.begin(), sorted.end(), cp);
  };
  std::vector<std::uint32_t> allow, deny = spec.deny;
  if (spec.allow) allow = *spec.allow;
  std::sort(allow.begin(), allow.end());
  std::sort(deny.begin(), deny.end());
  for (std::uint32_t cp : allow) {
    if (!knows(cp)) c.missing_allowed_.push_back(cp);
  }

  c.allowed_.assign(static_cast<std::size_t>(classes), 0);
  c.allowed_[0] = 1;
  const bool sets = spec.allow || !deny.empty();
  for (int k = 1; k < classes; ++k) {
    const CodePoints sym = cps_of(k);
    bool ok = !sym.empty();  // an empty dictionary line reads nothing: never emitted
    for (std::size_t i = 0; sets && i < sym.size(); ++i) {
      ok = ok && (!spec.allow || in(allow, sym[i])) && !in(deny, sym[i]);
    }
    c.allowed_[static_cast<std::size_t>(k)] = ok ? 1 : 0;
    c.masks_ = c.masks_ || !ok;
  }
  for (int k = 0; k < classes; ++k) {
    (c.allowed_[static_cast<std::size_t>(k)] ? c.allowed_list_ : c.denied_list_).push_back(k);
  }

  if (spec.pattern) {
    const CharDfa& p = *spec.pattern;
    p.check();
    c.dfa_states_ = p.states;
    c.accepting_ = p.accepting;
    c.dfa_.assign(static_cast<std::size_t>(p.states) * static_cast<std::size_t>(classes), -1);
    std::vector<std::uint8_t> live(static_cast<std::size_t>(classes), 0);
    for (int k = 1; k < classes; ++k) {
      if (!c.allowed(k)) continue;
      const CodePoints sym = cps_of(k);
      // Most classes hold a character the pattern never takes: no transition anywhere.
      if (sym.empty() || p.column_of.find(sym[0]) == p.column_of.end()) continue;
      for (int s = 0; s < p.states; ++s) {
        int st = s;
        for (std::uint32_t cp : sym) {
          const auto it = p.column_of.find(cp);
          st = it == p.column_of.end()
                   ? -1
                   : p.table[static_cast<std::size_t>(st) * static_cast<std::size_t>(p.columns) +
                             static_cast<std::size_t>(it->second)];
          if (st < 0) break;
        }
        c.dfa_[static_cast<std::size_t>(s) * static_cast<std::size_t>(classes) +
               static_cast<std::size_t>(k)] = st;
        if (st >= 0) live[static_cast<std::size_t>(k)] = 1;
      }
    }
    for (int k = 1; k < classes; ++k) {
      if (live[static_cast<std::size_t>(k)]) c.search_classes_.push_back(k);
    }
    // Can an accepting state be reached over the allowed classes?
    std::vector<std::uint8_t> seen(static_cast<std::size_t>(p.states), 0);
    std::vector<int> todo{0};
    seen[0] = 1;
    c.pattern_can_match_ = false;
    while (!todo.empty()) {
      const int s = todo.back();
      todo.pop_back();
      if (c.accepting(s)) c.pattern_can_match_ = true;
      for (const int k : c.search_classes_) {
        const int n = c.next(s, k);
        if (n >= 0 && !seen[static_cast<std::size_t>(n)]) {
          seen[static_cast<std::size_t>(n)] = 1;
          todo.push_back(n);
        }
      }
    }
  } else {
    c.search_classes_.assign(c.allowed_list_.begin() + 1, c.allowed_list_.end());
  }

  // The words: a trie over classes, each word cut at separators into the parts the decoder
  // will see between them.
  c.trie_.emplace_back();
  for (const std::string& word : spec.words) {
    const auto wcps = utf8_code_points(word);
    std::vector<std::vector<int>> parts(1);
    bool usable = true;
    for (std::uint32_t cp : wcps) {
      if (separator_cp(cp)) {
        if (!parts.back().empty()) parts.emplace_back();
        continue;
      }
      const int k = dict.find(utf8_encode(cp));
      if (k < 0) {
        if (!knows(cp)) c.missing_word_chars_.push_back(cp);
        usable = false;
      } else if (!c.allowed(k)) {
        usable = false;  // a word the character set rules out cannot be read
      } else {
        parts.back().push_back(k);
      }
    }
    if (!usable) continue;
    for (const auto& part : parts) {
      if (part.empty()) continue;
      int node = 0;
      for (int k : part) {
        int next = c.trie_next(node, k);
        if (next < 0) {
          next = static_cast<int>(c.trie_.size());
          c.trie_[static_cast<std::size_t>(node)].next.emplace_back(k, next);
          c.trie_.emplace_back();
        }
        node = next;
      }
      c.trie_[static_cast<std::size_t>(node)].terminal = true;
    }
  }
  std::sort(c.missing_word_chars_.begin(), c.missing_word_chars_.end());
  c.missing_word_chars_.erase(std::unique(c.missing_word_chars_.begin(), c.missing_word_chars_.end()),
                              c.missing_word_chars_.end());
  return c;
}

int CtcConstraint::trie_next(int node, int cls) const {
  for (const auto& [k, n] : trie_[static_cast<std::size_t>(node)].next) {
    if (k == cls) return n;
  }
  return -1;
}

bool CtcConstraint::matches(const std::vector<int>& classes) const {
  if (!has_pattern()) return true;
  int state = 0;
  for (int k : classes) {
    state = next(state, k);
    if (state < 0) return false;
  }
  return accepting(state);
}

namespace {

/// Candidates a step offers the beams beyond this many are dropped, least probable first.
constexpr std::size_t kMaxStepCandidates = 24;
/// Classes below this (renormalised) probability at a step are not tried there: a reading
/// through one costs over 9 nats, more than a word list's pull on a short word.
constexpr float kMinCandidateProb = 1e-4f;
/// With at most this many classes to try (a pattern or an allow list), every one is tried
/// down to kMinNarrowProb: a pattern must be able to reach the '0' the model put far below
/// the 'O' it saw.
constexpr std::size_t kNarrowSearch = 64;
constexpr float kMinNarrowProb = 1e-8f;

/// A reading the pattern search finds may cost at most this many nats per character (and
/// kMinSearchBudget in all) against the best path: each character about e^5 = 150 times less
/// likely than what the model read, on average. Measured with PP-OCRv6 small on the SROIE
/// amount lines (the amount pattern) and rendered look-alike fields: every reading that
/// fixed a field cost 0.1-19 nats ("B8-Z2" read as "88-22": 19); forcing the pattern onto
/// lines that hold no such field cost 64-330 nats ("TOTAL" as "10": 64).
constexpr double kSearchCostPerChar = 5.0;
constexpr double kMinSearchBudget = 20.0;

/// A prefix of the beam search: a node of the tree of readings tried.
struct Prefix {
  int parent = -1;
  int cls = 0;              ///< last class (0 at the root)
  int dfa = 0;              ///< automaton state after the whole prefix; -1: none
  int anchor = 0;           ///< automaton state after its last character that is not a space
  bool text = false;        ///< whether it holds a character other than the space
  int lex = 0;              ///< trie node of the word being read; -1: not a listed word
  float word_bonus = 0;     ///< what the word being read has earned so far
  double gain = 1;          ///< exp(bonus change) that extending the parent by cls brings
  int first_child = -1, next_sibling = -1;
  int stamp = -1, slot = -1;  ///< where it sits in the next step's beams
};

struct Beam {
  int node;
  double pb, pnb;  ///< probability of the prefix ending in a blank / in its last class
  double total() const { return pb + pnb; }
};

class PrefixSearch {
 public:
  PrefixSearch(const StepProbs& sp, int valid_steps, const Dictionary& dict,
               const CtcConstraint& c, int beam_width)
      : sp_(sp),
        steps_(valid_steps),
        dict_(dict),
        c_(c),
        space_(dict.space_class()),
        width_(beam_width),
        classes_(dict.num_classes()),
        argmax_(select_argmax()) {}

  /// The best reading the constraint admits (outer spaces included), or nothing.
  std::optional<std::vector<int>> run() {
    nodes_.clear();
    nodes_.emplace_back();
    std::vector<Beam> beams{{0, 1.0, 0.0}}, next;
    std::vector<std::pair<int, float>> cands;
    for (int t = 0; t < steps_; ++t) {
      const float* row = sp_.row(t);
      const float scale = sp_.scale(t);
      cands.clear();
      const auto& search = c_.search_classes();
      if (search.size() <= kNarrowSearch) {
        for (const std::int32_t k : search) {
          const float p = row[k] * scale;
          if (p >= kMinNarrowProb) cands.emplace_back(k, p);
        }
      } else {
        // Most steps are sure of one class (often the blank): when it leaves less than the
        // floor to the rest, it is the only candidate, found by the SIMD argmax.
        float top = 0;
        const int best = argmax_(row, classes_, &top);
        if (1.0f - top < kMinCandidateProb) {
          if (best != 0 && c_.allowed(best) && top * scale >= kMinCandidateProb) {
            cands.emplace_back(best, top * scale);
          }
        } else {
          for (const std::int32_t k : search) {
            const float p = row[k] * scale;
            if (p >= kMinCandidateProb) cands.emplace_back(k, p);
          }
        }
      }
      if (cands.size() > kMaxStepCandidates) {
        std::nth_element(cands.begin(), cands.begin() + kMaxStepCandidates, cands.end(),
                         [](const auto& a, const auto& b) { return a.second > b.second; });
        cands.resize(kMaxStepCandidates);
      }
      const double blank = std::max(0.f, row[0] * scale);
      next.clear();
      auto slot = [&](int node) -> Beam& {
        Prefix& n = nodes_[static_cast<std::size_t>(node)];
        if (n.stamp != t) {
          n.stamp = t;
          n.slot = static_cast<int>(next.size());
          next.push_back({node, 0.0, 0.0});
        }
        return next[static_cast<std::size_t>(n.slot)];
      };
      for (const Beam& b : beams) {
        const int node = b.node;
        const int last = nodes_[static_cast<std::size_t>(node)].cls;
        {
          Beam& same = slot(node);
          same.pb += b.total() * blank;
          if (last != 0) same.pnb += b.pnb * std::max(0.f, row[last] * scale);
        }
        for (const auto& [k, p] : cands) {
          const int child = extend(node, k);
          if (child < 0) continue;
          const double gain = nodes_[static_cast<std::size_t>(child)].gain;
          Beam& e = slot(child);
          e.pnb += (k == last ? b.pb : b.total()) * p * gain;
        }
      }
      const std::size_t keep = std::min<std::size_t>(static_cast<std::size_t>(width_), next.size());
      std::partial_sort(next.begin(), next.begin() + static_cast<std::ptrdiff_t>(keep), next.end(),
                        [](const Beam& a, const Beam& b) { return a.total() > b.total(); });
      next.resize(keep);
      // Keep the numbers in range: only their ratios matter.
      const double top = next.empty() ? 0.0 : next[0].total();
      if (!(top > 0)) return std::nullopt;
      for (Beam& b : next) {
        b.pb /= top;
        b.pnb /= top;
      }
      beams.swap(next);
    }
    int best = -1;
    double best_score = 0;
    for (const Beam& b : beams) {
      const Prefix& n = nodes_[static_cast<std::size_t>(b.node)];
      if (c_.has_pattern() && !c_.accepting(n.anchor)) continue;
      // A word left unfinished gives back what it earned.
      const bool listed = n.lex > 0 && c_.trie_terminal(n.lex);
      const double score = b.total() * (listed ? 1.0 : std::exp(-static_cast<double>(n.word_bonus)));
      if (best < 0 || score > best_score) {
        best = b.node;
        best_score = score;
      }
    }
    if (best < 0) return std::nullopt;
    std::vector<int> labels;
    for (int n = best; n > 0; n = nodes_[static_cast<std::size_t>(n)].parent) {
      labels.push_back(nodes_[static_cast<std::size_t>(n)].cls);
    }
    std::reverse(labels.begin(), labels.end());
    return labels;
  }

 private:
  /// The child of `node` by class `k`, made on first use; -1 when the pattern refuses it.
  int extend(int node, int k) {
    for (int ch = nodes_[static_cast<std::size_t>(node)].first_child; ch >= 0;
         ch = nodes_[static_cast<std::size_t>(ch)].next_sibling) {
      if (nodes_[static_cast<std::size_t>(ch)].cls == k) return ch;
    }
    const Prefix& p = nodes_[static_cast<std::size_t>(node)];
    Prefix n;
    n.parent = node;
    n.cls = k;
    n.text = p.text;
    n.dfa = p.dfa;
    n.anchor = p.anchor;
    if (c_.has_pattern()) {
      if (k == space_ && !p.text) {
        // Leading spaces are stripped: the automaton has not started.
      } else if (k == space_) {
        // Inner or trailing: the automaton reads it; trailing ones are stripped, so the
        // prefix lives on while the text before them is accepted.
        n.dfa = p.dfa >= 0 ? c_.next(p.dfa, k) : -1;
        if (n.dfa < 0 && !c_.accepting(p.anchor)) return -1;
      } else {
        if (p.dfa < 0) return -1;
        n.dfa = c_.next(p.dfa, k);
        if (n.dfa < 0) return -1;
        n.anchor = n.dfa;
      }
    }
    n.text = p.text || k != space_;
    double delta = 0;
    if (c_.has_words()) {
      if (dict_.ends_word(k)) {
        const bool listed = p.lex > 0 && c_.trie_terminal(p.lex);
        if (!listed) delta = -p.word_bonus;
        n.lex = 0;
        n.word_bonus = 0;
      } else {
        const int lex = p.lex >= 0 ? c_.trie_next(p.lex, k) : -1;
        if (lex >= 0) {
          n.lex = lex;
          n.word_bonus = p.word_bonus + c_.word_weight();
          delta = c_.word_weight();
        } else {
          n.lex = -1;
          n.word_bonus = 0;
          delta = -p.word_bonus;
        }
      }
    } else {
      n.lex = -1;
    }
    n.gain = std::exp(delta);
    n.next_sibling = p.first_child;
    const int id = static_cast<int>(nodes_.size());
    nodes_.push_back(n);
    nodes_[static_cast<std::size_t>(node)].first_child = id;
    return id;
  }

  const StepProbs& sp_;
  int steps_;
  const Dictionary& dict_;
  const CtcConstraint& c_;
  int space_;
  int width_;
  int classes_;
  ArgmaxRow argmax_;
  std::vector<Prefix> nodes_;
};

/// The runs of the best CTC alignment (Viterbi) of `labels` with the steps.
std::vector<Run> align(const StepProbs& sp, int valid_steps, const std::vector<int>& labels,
                       double* log_prob) {
  const int n = static_cast<int>(labels.size());
  const int states = 2 * n + 1;  // blank, l0, blank, l1, ..., blank
  auto label = [&](int s) { return s % 2 == 0 ? 0 : labels[static_cast<std::size_t>(s / 2)]; };
  auto logp = [&](int t, int s) {
    return std::log(std::max(1e-30, static_cast<double>(sp.p(t, label(s)))));
  };
  constexpr double kNone = -std::numeric_limits<double>::infinity();
  std::vector<double> cur(static_cast<std::size_t>(states), kNone), nxt(cur.size());
  std::vector<std::uint8_t> back(static_cast<std::size_t>(valid_steps) * cur.size(), 0);
  cur[0] = logp(0, 0);
  if (states > 1) cur[1] = logp(0, 1);
  for (int t = 1; t < valid_steps; ++t) {
    for (int s = 0; s < states; ++s) {
      double best = cur[static_cast<std::size_t>(s)];
      std::uint8_t from = 0;
      if (s >= 1 && cur[static_cast<std::size_t>(s - 1)] > best) {
        best = cur[static_cast<std::size_t>(s - 1)];
        from = 1;
      }
      if (s >= 2 && s % 2 == 1 && label(s) != label(s - 2) &&
          cur[static_cast<std::size_t>(s - 2)] > best) {
        best = cur[static_cast<std::size_t>(s - 2)];
        from = 2;
      }
      nxt[static_cast<std::size_t>(s)] = best == kNone ? kNone : best + logp(t, s);
      back[static_cast<std::size_t>(t) * cur.size() + static_cast<std::size_t>(s)] = from;
    }
    cur.swap(nxt);
  }
  int s = states - 1;
  if (states > 1 && cur[static_cast<std::size_t>(states - 2)] > cur[static_cast<std::size_t>(s)]) {
    s = states - 2;
  }
  *log_prob = cur[static_cast<std::size_t>(s)];
  std::vector<int> path(static_cast<std::size_t>(valid_steps));
  for (int t = valid_steps - 1; t >= 0; --t) {
    path[static_cast<std::size_t>(t)] = s;
    if (t > 0) s -= back[static_cast<std::size_t>(t) * cur.size() + static_cast<std::size_t>(s)];
  }
  std::vector<Run> runs(static_cast<std::size_t>(n), Run{0, -1, -1, -1, -1.f});
  for (int t = 0; t < valid_steps; ++t) {
    const int st = path[static_cast<std::size_t>(t)];
    if (st % 2 == 0) continue;
    Run& r = runs[static_cast<std::size_t>(st / 2)];
    const float p = sp.p(t, label(st));
    if (r.start < 0) r.start = t;
    r.end = t;
    r.cls = label(st);
    if (p > r.conf) {
      r.conf = p;
      r.peak = t;
    }
  }
  return runs;
}

}  // namespace

CtcLine ctc_constrained_decode(const float* probs, int steps, int classes,
                               std::ptrdiff_t row_stride, int valid_steps, const Dictionary& dict,
                               const CtcConstraint& constraint, int top_k, bool measure_gaps,
                               int beam_width) {
  check_decode_args(steps, classes, row_stride, valid_steps, dict, top_k,
                    "ctc_constrained_decode");
  if (beam_width < 1) throw std::invalid_argument("ctc_constrained_decode: beam_width must be >= 1");
  CtcLine greedy = ctc_greedy_decode(probs, steps, classes, row_stride, valid_steps, dict, top_k,
                                     measure_gaps, &constraint);
  if (!constraint.has_pattern() && !constraint.has_words()) return greedy;
  if (constraint.has_pattern()) {
    std::vector<int> read;
    read.reserve(greedy.chars.size());
    for (const CtcChar& ch : greedy.chars) read.push_back(ch.cls);
    const bool matched = constraint.matches(read);
    greedy.pattern_matched = matched;
    // A reading that matches stands as it is; so does everything when nothing can match.
    if ((matched && !constraint.has_words()) || !constraint.pattern_can_match()) return greedy;
  }
  if (valid_steps == 0) return greedy;
  const StepProbs sp(probs, row_stride, valid_steps, &constraint);
  PrefixSearch search(sp, valid_steps, dict, constraint, beam_width);
  const std::optional<std::vector<int>> labels = search.run();
  if (!labels) return greedy;  // pattern_matched stays false
  CtcLine line;
  line.gap_doubt = greedy.gap_doubt;
  line.space_doubt = greedy.space_doubt;
  line.doubts = greedy.doubts;
  if (constraint.has_pattern()) line.pattern_matched = true;
  if (labels->empty()) return line;
  double aligned = 0;
  std::vector<Run> runs = align(sp, valid_steps, *labels, &aligned);
  for (const Run& r : runs) {
    if (r.start < 0) return greedy;  // cannot happen for a reading the search found
  }
  // What the reading costs against the best path over the allowed classes, in nats.
  double best_path = 0;
  const ArgmaxRow argmax = select_argmax();
  for (int t = 0; t < valid_steps; ++t) {
    float v = 0;
    const CtcConstraint& m = constraint;
    int c = !m.masks() || m.masks_few() ? argmax(sp.row(t), classes, &v) : -1;
    if (c < 0 || !m.allowed(c)) c = masked_argmax(sp.row(t), m.allowed_classes(), 0, 0, &v);
    best_path += std::log(std::max(1e-30, static_cast<double>(v * sp.scale(t))));
  }
  line.search_cost = static_cast<float>(std::max(0.0, best_path - aligned));
  // A pattern makes the search find *some* matching reading on any line ("04" for "Thank
  // you"); one far less likely than what the model saw is no reading of the line.
  const double budget =
      std::max(kMinSearchBudget, kSearchCostPerChar * static_cast<double>(labels->size()));
  if (constraint.has_pattern() && line.search_cost > budget) return greedy;
  return assemble(std::move(runs), sp, valid_steps, classes, dict, top_k, std::move(line));
}

}  // namespace ocrai
