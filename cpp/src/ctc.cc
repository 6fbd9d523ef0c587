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

CtcLine ctc_greedy_decode(const float* probs, int steps, int classes, std::ptrdiff_t row_stride,
                          int valid_steps, const Dictionary& dict, int top_k, bool measure_gaps) {
  if (classes != dict.num_classes()) {
    throw std::invalid_argument("ctc_greedy_decode: " + std::to_string(classes) +
                                " classes, dictionary " + dict.name() + " has " +
                                std::to_string(dict.num_classes()));
  }
  if (steps < 0 || valid_steps < 0 || valid_steps > steps || row_stride < classes) {
    throw std::invalid_argument("ctc_greedy_decode: need 0 <= valid_steps <= steps and "
                                "row_stride >= classes");
  }
  if (top_k < 0) throw std::invalid_argument("ctc_greedy_decode: top_k must be >= 0");
  CtcLine line;
  if (valid_steps == 0) return line;
  if (probs == nullptr) throw std::invalid_argument("ctc_greedy_decode: null probabilities");

  std::vector<std::int32_t> best(static_cast<std::size_t>(valid_steps));
  std::vector<float> value(static_cast<std::size_t>(valid_steps));
  argmax_rows_f32(probs, valid_steps, classes, row_stride, best.data(), value.data());

  // Runs of one non-blank class become characters.
  struct Run {
    int cls, start, end, peak;
    float conf;
  };
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
    std::size_t next_run = 0;  // first run starting after t
    for (int t = 0; t < valid_steps; ++t) {
      while (next_run < runs.size() && runs[next_run].start <= t) ++next_run;
      if (best[static_cast<std::size_t>(t)] != 0) continue;
      float p = 0.f;
      const int c = 1 + argmax(probs + static_cast<std::ptrdiff_t>(t) * row_stride + 1,
                               classes - 1, &p);
      const bool before = next_run > 0 && runs[next_run - 1].cls == c;
      const bool after = next_run < runs.size() && runs[next_run].cls == c;
      if (c != space_cls && !before && !after && p > line.gap_doubt) line.gap_doubt = p;
      // A space only counts between two characters: at the ends it would be stripped.
      const bool inside = next_run > 0 && next_run < runs.size();
      if (inside && space_cls > 0 && runs[next_run - 1].cls != space_cls &&
          runs[next_run].cls != space_cls) {
        const float q = probs[static_cast<std::ptrdiff_t>(t) * row_stride + space_cls];
        if (q > line.space_doubt) line.space_doubt = q;
      }
    }
  }
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
      const float* row = probs + static_cast<std::ptrdiff_t>(ch.peak_step) * row_stride;
      std::vector<std::pair<int, float>> all;
      all.reserve(static_cast<std::size_t>(classes - 1));
      for (int c = 1; c < classes; ++c) {
        if (!std::isnan(row[c])) all.emplace_back(c, row[c]);
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

}  // namespace ocrai
