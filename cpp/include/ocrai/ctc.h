// SPDX-License-Identifier: MIT
#pragma once
/// Recognition dictionaries, greedy CTC decoding and reading control.
///
/// A recogniser with a CTC head outputs, for every step along the line, one probability per
/// class: class 0 is the CTC blank, classes 1..n are the dictionary's lines in file order,
/// and class n+1 is the space. `Dictionary` owns that table; `ctc_greedy_decode` turns one
/// line's probabilities into characters with confidences, positions and alternatives.
///
/// Reading control: a `ReadingSpec` says, in characters, what a reading may contain (an
/// allow list, a deny list, a pattern as a character automaton, a word list). It knows no
/// model; `CtcConstraint::compile` turns it into classes of one dictionary (a class mask, the
/// automaton as a dense table over the classes, a trie of the words), once per run and
/// recogniser. `ctc_constrained_decode` then reads a line under it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ocrai {

/// The UTF-8 bytes of one Unicode code point (dictionary symbols are UTF-8 strings).
std::string utf8_encode(std::uint32_t cp);

/// The code points of UTF-8 `s` (valid, as dictionary symbols and the readings made of them
/// are; a byte that starts no valid sequence counts as one code point).
std::vector<std::uint32_t> utf8_code_points(std::string_view s);

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
  /// Whether class `cls` is a digit 0-9.
  bool is_digit(int cls) const { return class_info_[static_cast<std::size_t>(cls)].digit; }
  /// The digit class that class `cls` is a look-alike of ('l' and 'I' for '1', 'O' and 'o'
  /// for '0'), or -1 (another class, or a dictionary without that digit).
  int lookalike_digit(int cls) const {
    return class_info_[static_cast<std::size_t>(cls)].lookalike_of;
  }
  /// Whether class `cls` ends a word: the space, and a symbol that is one ASCII punctuation
  /// mark or symbol. Letters and digits of every script (and the rest of Unicode) make words
  /// up; so does a symbol of several code points.
  bool ends_word(int cls) const { return class_info_[static_cast<std::size_t>(cls)].ends_word; }
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
  /// What the decoder asks of each class, looked up once per character read.
  struct ClassInfo {
    bool digit = false, ends_word = false;
    int lookalike_of = -1;  ///< the digit class a look-alike letter stands for
  };
  std::vector<ClassInfo> class_info_;  ///< one per class, the blank's all false
};

/// A letter that looks like a digit (Dictionary::lookalike_digit) and stands in a number (a
/// word of digits and look-alikes only) is read as the digit when the recogniser gave the
/// digit at least this probability at the letter's peak: typewriters had no key for 1
/// (typists typed 'l'), and a recogniser that reads the 'l' it sees cannot tell. On EHRI's
/// typewritten pages 56 letters 'l' were read next to a digit, all but one standing for a
/// 1 ("l938", "2l.", "l00o"); '1' was the runner-up at each, at 0.01 to 0.48 at 53 of them
/// (the other three: 0.002 to 0.004). The one that was no 1 was the 'l' of "Olga" read as
/// "0lga", a word and not a number.
inline constexpr float kDigitLookalikeFloor = 0.01f;

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

/// A near miss of the greedy reading at one blank step (see CtcLine::doubts).
struct CtcDoubt {
  float x = 0.f;       ///< the step's centre along the line, as a fraction 0..1
  float p = 0.f;       ///< the probability of the character (or space) the blank won over
  bool space = false;  ///< true: a word break (space_doubt); false: a character (gap_doubt)
};

/// Near misses below this probability are not kept in CtcLine::doubts: far below the
/// pipeline's re-read thresholds (0.05), and most blank steps have one.
inline constexpr float kDoubtMarkFloor = 0.02f;

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
  /// With `measure_gaps`: where along the line (fractions 0..1 of the text's length) the
  /// near misses measured by gap_doubt and space_doubt happened, each step whose probability
  /// is above kDoubtMarkFloor, so that a re-read can be limited to the words around them.
  std::vector<CtcDoubt> doubts;
  /// With a pattern: whether the reading matches it (false: nothing the model could read
  /// matched, and this is the reading without the pattern). Unset without a pattern.
  std::optional<bool> pattern_matched;
  /// With a pattern or words, when the beam search chose the reading: how much less likely
  /// its best alignment is than the best path over the allowed classes, in nats. 0 otherwise.
  float search_cost = 0.f;
  /// The text: the symbols of `chars` concatenated.
  std::string text(const Dictionary& dict) const;
};

/// A deterministic automaton over characters (a compiled pattern). Characters fall into
/// `columns` classes of equivalence: `column_of` gives each character's column (a character
/// it does not list has no transition). `table` holds states x columns next states, -1 for
/// none; state 0 is the start.
struct CharDfa {
  std::unordered_map<std::uint32_t, int> column_of;
  int columns = 0;
  int states = 0;
  std::vector<std::int32_t> table;
  std::vector<std::uint8_t> accepting;  ///< one per state
  std::string source;                   ///< the pattern's text, for messages
  /// Throws std::invalid_argument unless the sizes agree and every entry is in range.
  void check() const;
};

/// What a reading may contain, in characters (code points), independent of any model.
struct ReadingSpec {
  std::optional<std::vector<std::uint32_t>> allow;  ///< unset: every character
  std::vector<std::uint32_t> deny;
  std::shared_ptr<const CharDfa> pattern;  ///< the whole line must match it; null: none
  std::vector<std::string> words;          ///< readings are drawn toward these
  float word_weight = 1.0f;                ///< log-probability bonus per character of a word
  bool constrains() const { return allow || !deny.empty() || pattern || !words.empty(); }
};

/// A ReadingSpec compiled against one dictionary. Immutable; shared by the lines of a run.
class CtcConstraint {
 public:
  /// Classes whose every character is allowed and none denied stay; the blank always does.
  /// The pattern becomes a table over the dictionary's classes (a symbol of several
  /// characters walks the automaton through each); the words a trie over classes (a word
  /// with a character this dictionary lacks is left out). Never throws on characters the
  /// dictionary lacks: `missing_*` list them, so that a pipeline of several recognisers can
  /// tell whether any of them can read them.
  static CtcConstraint compile(const ReadingSpec& spec, const Dictionary& dict);

  /// True when some class is masked out.
  bool masks() const { return masks_; }
  bool allowed(int cls) const { return allowed_[static_cast<std::size_t>(cls)] != 0; }
  /// The allowed classes in order, the blank first.
  const std::vector<std::int32_t>& allowed_classes() const { return allowed_list_; }
  /// The classes masked out, in order.
  const std::vector<std::int32_t>& denied_classes() const { return denied_list_; }
  /// True when most classes are allowed: a step's allowed mass is then 1 minus the denied
  /// mass, and the plain argmax usually lands on an allowed class.
  bool masks_few() const { return denied_list_.size() * 2 < static_cast<std::size_t>(classes_); }
  bool has_pattern() const { return dfa_states_ > 0; }
  /// The state after reading class `cls` in `state`, or -1.
  int next(int state, int cls) const {
    return dfa_[static_cast<std::size_t>(state) * static_cast<std::size_t>(classes_) +
                static_cast<std::size_t>(cls)];
  }
  bool accepting(int state) const { return accepting_[static_cast<std::size_t>(state)] != 0; }
  /// Whether some reading of allowed classes takes the automaton to an accepting state.
  bool pattern_can_match() const { return pattern_can_match_; }
  bool has_words() const { return trie_.size() > 1; }
  float word_weight() const { return word_weight_; }
  /// Trie node reached from `node` by class `cls`, or -1. Node 0 is the root.
  int trie_next(int node, int cls) const;
  bool trie_terminal(int node) const { return trie_[static_cast<std::size_t>(node)].terminal; }
  /// Characters of the allow list no class of the dictionary reads.
  const std::vector<std::uint32_t>& missing_allowed() const { return missing_allowed_; }
  /// Characters of the words the dictionary lacks.
  const std::vector<std::uint32_t>& missing_word_chars() const { return missing_word_chars_; }
  /// Whether the reading `classes` (outer spaces stripped) matches the pattern.
  bool matches(const std::vector<int>& classes) const;
  /// The classes the beam search tries at each step: allowed, not the blank, and (with a
  /// pattern) with a transition from some state.
  const std::vector<std::int32_t>& search_classes() const { return search_classes_; }
  int num_classes() const { return classes_; }

 private:
  struct TrieNode {
    std::vector<std::pair<int, int>> next;  ///< (class, node), sorted by class
    bool terminal = false;
  };
  int classes_ = 0;
  bool masks_ = false;
  std::vector<std::uint8_t> allowed_;
  std::vector<std::int32_t> allowed_list_, denied_list_;
  int dfa_states_ = 0;
  std::vector<std::int32_t> dfa_;  ///< states x classes
  std::vector<std::uint8_t> accepting_;
  bool pattern_can_match_ = true;
  std::vector<TrieNode> trie_;
  std::vector<std::int32_t> search_classes_;
  float word_weight_ = 1.0f;
  std::vector<std::uint32_t> missing_allowed_, missing_word_chars_;
};

/// Beams the constrained decoder keeps per step.
inline constexpr int kDefaultBeamWidth = 16;

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
///
/// In numbers, letters that look like digits become those digits (kDigitLookalikeFloor):
/// in a word of digits and look-alikes only ("l00o" -> "1000"; not "H2O", "CO2" or
/// "l4th"), each look-alike whose digit is allowed and at or above the floor where the
/// letter peaks; its confidence stays the letter's.
///
/// With a `mask` (a constraint whose classes are not all allowed), every step reads only the
/// allowed classes, their probabilities divided by the step's sum over them: confidences,
/// gap doubts and alternatives are then over what is allowed.
CtcLine ctc_greedy_decode(const float* probs, int steps, int classes, std::ptrdiff_t row_stride,
                          int valid_steps, const Dictionary& dict, int top_k,
                          bool measure_gaps = false, const CtcConstraint* mask = nullptr);

/// Decoding under a constraint: the greedy reading over the allowed classes when there is no
/// pattern and no word list. Otherwise a CTC prefix beam search (`beam_width` beams) whose
/// prefixes follow the pattern's automaton (a prefix the automaton refuses is dropped; the
/// result must end in an accepting state, outer spaces aside) and earn the word weight for
/// every character of a listed word. A greedy reading that already matches the pattern is
/// kept as it is when there is no word list, so matching lines never change. When no prefix
/// matches, or when the best match is far less likely than the model's own reading (over 5
/// nats a character: ctc.cc says why), the greedy reading over the allowed classes comes back
/// with pattern_matched false. The chosen text's characters are placed by its best CTC alignment (Viterbi), so
/// confidences and positions mean what the greedy decoder's do.
CtcLine ctc_constrained_decode(const float* probs, int steps, int classes,
                               std::ptrdiff_t row_stride, int valid_steps, const Dictionary& dict,
                               const CtcConstraint& constraint, int top_k,
                               bool measure_gaps = false, int beam_width = kDefaultBeamWidth);

/// Index and value of the largest of `cols` floats in each of `rows` rows (row r starts at
/// data + r * row_stride): the SIMD kernel behind the decoder. Ties go to the first index;
/// NaN never wins; a row with no number above -inf gives index 0 and -inf.
void argmax_rows_f32(const float* data, int rows, int cols, std::ptrdiff_t row_stride,
                     std::int32_t* index, float* value);

}  // namespace ocrai
