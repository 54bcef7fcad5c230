#pragma once
// Digit automata for bounded JSON numbers. Integers: exact for any bounds. Numbers: exact for
// integer-valued bounds (fractions handled); a non-integer bound is rounded inward (minimum 0.5
// acts as 1), and bounded numbers never use exponents — conservative, never allowing a value
// outside the bounds.
#include <optional>
#include <string>

#include "structured/grammar_node.h"

namespace sluice::structured {

// Digit caps where a schema sets no bound: a model can otherwise emit digits until max_tokens.
// 19 integer digits cover int64; 16 fraction digits cover a double's precision.
inline constexpr int kMaxIntegerDigits = 19;
inline constexpr int kMaxFractionDigits = 16;
inline constexpr int kMaxExponentDigits = 3;

// A bound as an exact decimal integer: sign and magnitude digits (no leading zeros).
struct DecimalInt {
  bool negative = false;
  std::string digits = "0";
};

struct NumberBound {
  DecimalInt value;
  bool inclusive = true;
};

// Integers n with lo <= n <= hi (absent: unbounded).
NodePtr integer_range(const std::optional<DecimalInt>& lo, const std::optional<DecimalInt>& hi);
// Numbers x with lo <(=) x <(=) hi; bound values must already be integers (see above).
NodePtr number_range(const std::optional<NumberBound>& lo, const std::optional<NumberBound>& hi);

// Helpers on decimal integers (exposed for tests).
int compare(const DecimalInt& a, const DecimalInt& b);
DecimalInt plus_one(const DecimalInt& a);
DecimalInt minus_one(const DecimalInt& a);

}  // namespace sluice::structured
