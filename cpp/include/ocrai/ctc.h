// SPDX-License-Identifier: MIT
#pragma once
/// Recognition dictionaries and greedy CTC decoding.
///
/// A recogniser with a CTC head outputs, for every step along the line, one probability per
/// class: class 0 is the CTC blank, classes 1..n are the dictionary's lines in file order,
/// and class n+1 is the space. `Dictionary` owns that table; `ctc_greedy_decode` turns one
/// line's probabilities into characters with confidences, positions and alternatives.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ocrai {

/// The symbol table of a CTC recogniser. Immutable after construction; copyable.
class Dictionary {
 public:
  /// Reads a UTF-8 file with one symbol a line (LF or CRLF line ends, an optional BOM).
  /// Throws ModelError naming the file when it is missing, unreadable, empty or not UTF-8.
  static Dictionary from_file(const std::string& path);
  /// The same from text in memory; `name` stands for the file in messages.
  static Dictionary from_text(std::string_view text, const std::string& name);

  /// Number of model classes: blank + one per line + the final space.
  int num_classes() const { return static_cast<int>(symbols_.size()); }
  /// The UTF-8 text of class `cls`: "" for the blank, " " for the final class.
  const std::string& symbol(int cls) const { return symbols_[static_cast<std::size_t>(cls)]; }
  /// The class of `symbol`, or -1. A symbol listed twice maps to its first line.
  int find(std::string_view symbol) const;
  /// The class of the space symbol (the last one).
  int space_class() const { return num_classes() - 1; }
  /// The file (or name) the dictionary came from.
  const std::string& name() const { return name_; }

  /// Throws ModelError naming both the model and this dictionary unless the model has
  /// exactly num_classes() output classes.
  void check_model_classes(std::int64_t model_classes, const std::string& model_name) const;

 private:
  Dictionary() = default;
  std::string name_;
  std::vector<std::string> symbols_;
  std::unordered_map<std::string, int> index_;
};

/// One decoded character.
struct CtcChar {
  int cls = 0;             ///< its class in the dictionary (never the blank)
  float confidence = 0.f;  ///< the highest probability of the class over its steps
  float x0 = 0.f;          ///< start along the line, as a fraction 0..1 of the text's length
  float x1 = 0.f;          ///< end along the line, same unit
  int peak_step = 0;       ///< the step where its probability is highest
  /// The top-k classes at peak_step, blank excluded, most probable first (the character's
  /// own class is one of them); empty unless top_k > 0.
  std::vector<std::pair<int, float>> alternatives;
};

/// One decoded line.
struct CtcLine {
  std::vector<CtcChar> chars;  ///< leading and trailing spaces removed
  float confidence = 0.f;      ///< mean of the chars' confidences; 0 when there is none
  /// With `measure_gaps`: over the steps where the blank wins, the highest probability of the
  /// step's best other class when that is neither the space nor the character just before
  /// or after the step: how close the reading came to one more character (a dropped '.',
  /// say). 0 otherwise.
  float gap_doubt = 0.f;
  /// With `measure_gaps`: over the steps between two characters (neither a space) where the
  /// blank wins, the highest probability of the space: how close the reading came to a
  /// word break it did not make ("total:" for "total :"). 0 otherwise.
  float space_doubt = 0.f;
  /// The text: the symbols of `chars` concatenated.
  std::string text(const Dictionary& dict) const;
};

/// Greedy (best path) CTC decoding of one line.
///
/// `probs` holds `steps` rows of `classes` probabilities (row r starts at probs + r *
/// row_stride). Only the first `valid_steps` rows are read: the rest is padding of a batch.
/// Each step's best class (the first one on ties; NaN never wins) is taken; runs of the same
/// class merge into one character, blanks separate runs and are dropped. Positions: a
/// character's centre is the middle of its run; neighbours meet halfway between centres, and
/// the first and last characters extend half the mean spacing outwards (a lone character:
/// its run), all clamped to the valid steps and divided by `valid_steps`.
/// Throws std::invalid_argument on inconsistent sizes.
CtcLine ctc_greedy_decode(const float* probs, int steps, int classes, std::ptrdiff_t row_stride,
                          int valid_steps, const Dictionary& dict, int top_k,
                          bool measure_gaps = false);

/// Index and value of the largest of `cols` floats in each of `rows` rows (row r starts at
/// data + r * row_stride): the SIMD kernel behind the decoder. Ties go to the first index;
/// NaN never wins; a row with no number above -inf gives index 0 and -inf.
void argmax_rows_f32(const float* data, int rows, int cols, std::ptrdiff_t row_stride,
                     std::int32_t* index, float* value);

}  // namespace ocrai
