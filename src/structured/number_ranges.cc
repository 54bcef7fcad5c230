#include "structured/number_ranges.h"

#include <algorithm>

namespace sluice::structured {

namespace {

// Magnitude helpers: non-negative digit strings without leading zeros.
int compare_mag(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

std::string inc_mag(std::string a) {
  int i = static_cast<int>(a.size()) - 1;
  while (i >= 0 && a[i] == '9') a[i--] = '0';
  if (i < 0) return "1" + a;
  ++a[i];
  return a;
}

std::string dec_mag(std::string a) {  // a >= 1
  int i = static_cast<int>(a.size()) - 1;
  while (a[i] == '0') a[i--] = '9';
  --a[i];
  if (a.size() > 1 && a[0] == '0') a.erase(0, 1);
  return a;
}

NodePtr digits_class(char lo, char hi) {
  return byte_range(uint8_t(lo), uint8_t(hi));
}
NodePtr any_digits(int n) {
  return repeat(digits_class('0', '9'), n, n);
}

// Same-length digit strings a <= b.
NodePtr same_len(const std::string& a, const std::string& b) {
  const size_t n = a.size();
  if (n == 0) return sequence({});
  if (a == b) return literal(a);
  if (a[0] == b[0]) return sequence({literal(a.substr(0, 1)), same_len(a.substr(1), b.substr(1))});
  const std::string zeros(n - 1, '0'), nines(n - 1, '9');
  std::vector<NodePtr> alts;
  char start = a[0], end = b[0];
  if (a.substr(1) != zeros) {
    alts.push_back(sequence({literal(a.substr(0, 1)), same_len(a.substr(1), nines)}));
    ++start;
  }
  if (b.substr(1) != nines) {
    alts.push_back(sequence({literal(b.substr(0, 1)), same_len(zeros, b.substr(1))}));
    --end;
  }
  if (start <= end) alts.push_back(sequence({digits_class(start, end), any_digits(int(n) - 1)}));
  return alts.size() == 1 ? alts[0] : choice(std::move(alts));
}

// Magnitudes in [a, b] (b empty: unbounded), written without leading zeros.
NodePtr mag_range(const std::string& a, const std::string& b) {
  if (!b.empty() && compare_mag(a, b) > 0) return nothing();
  std::vector<NodePtr> alts;
  const size_t la = a.size();
  const size_t lb = b.empty() ? la : b.size();
  for (size_t len = la; len <= lb; ++len) {
    const std::string lo = len == la ? a : "1" + std::string(len - 1, '0');
    const std::string hi = (!b.empty() && len == lb) ? b : std::string(len, '9');
    alts.push_back(same_len(lo, hi));
  }
  if (b.empty() && la < kMaxIntegerDigits)  // any longer magnitude, up to the digit cap
    alts.push_back(sequence(
        {digits_class('1', '9'), repeat(digits_class('0', '9'), int(la), kMaxIntegerDigits - 1)}));
  return alts.size() == 1 ? alts[0] : choice(std::move(alts));
}

NodePtr any_fraction() {
  return sequence({literal("."), repeat(digits_class('0', '9'), 1, kMaxFractionDigits)});
}
NodePtr zero_fraction() {
  return sequence({literal("."), repeat(literal("0"), 1, kMaxFractionDigits)});
}
NodePtr nonzero_fraction() {
  return sequence({literal("."), repeat(digits_class('0', '9'), 0, kMaxFractionDigits - 1),
                   digits_class('1', '9'),
                   repeat(digits_class('0', '9'), 0, kMaxFractionDigits - 1)});
}

// Non-negative decimal magnitudes m with lo <(=) m <(=) hi (hi digits empty: unbounded).
NodePtr mag_number(const std::string& lo, bool lo_incl, const std::string& hi, bool hi_incl) {
  std::vector<NodePtr> alts;
  const int cmp = hi.empty() ? -1 : compare_mag(lo, hi);
  if (cmp > 0) return nothing();
  if (cmp == 0) {
    if (lo_incl && hi_incl) return sequence({literal(lo), optional(zero_fraction())});
    return nothing();
  }
  // Integer part == lo.
  alts.push_back(sequence({literal(lo), lo_incl ? optional(any_fraction()) : nonzero_fraction()}));
  // Integer parts strictly between: any fraction.
  const std::string inner_lo = inc_mag(lo);
  if (hi.empty() || compare_mag(inner_lo, hi) < 0)
    alts.push_back(
        sequence({mag_range(inner_lo, hi.empty() ? "" : dec_mag(hi)), optional(any_fraction())}));
  // Integer part == hi: only a zero fraction, and only if inclusive.
  if (!hi.empty() && hi_incl) alts.push_back(sequence({literal(hi), optional(zero_fraction())}));
  return choice(std::move(alts));
}

}  // namespace

int compare(const DecimalInt& a, const DecimalInt& b) {
  const bool az = a.digits == "0", bz = b.digits == "0";
  const bool an = a.negative && !az, bn = b.negative && !bz;
  if (an != bn) return an ? -1 : 1;
  const int c = compare_mag(a.digits, b.digits);
  return an ? -c : c;
}

DecimalInt plus_one(const DecimalInt& a) {
  if (a.negative && a.digits != "0") {
    DecimalInt r{true, dec_mag(a.digits)};
    if (r.digits == "0") r.negative = false;
    return r;
  }
  return {false, inc_mag(a.digits)};
}

DecimalInt minus_one(const DecimalInt& a) {
  if (!a.negative && a.digits != "0") return {false, dec_mag(a.digits)};
  return {true, inc_mag(a.digits)};
}

NodePtr integer_range(const std::optional<DecimalInt>& lo, const std::optional<DecimalInt>& hi) {
  if (lo && hi && compare(*lo, *hi) > 0) return nothing();
  const DecimalInt zero{false, "0"}, minus1{true, "1"};
  std::vector<NodePtr> alts;
  // n >= 0: magnitudes [max(lo, 0), hi].
  if (!hi || compare(*hi, zero) >= 0) {
    const std::string a = (lo && compare(*lo, zero) > 0) ? lo->digits : "0";
    alts.push_back(mag_range(a, hi ? hi->digits : ""));
  }
  // n < 0: magnitudes [max(-hi, 1), -lo].
  if (!lo || compare(*lo, minus1) <= 0) {
    const std::string a = (hi && compare(*hi, minus1) <= 0) ? hi->digits : "1";
    alts.push_back(sequence({literal("-"), mag_range(a, lo ? lo->digits : "")}));
  }
  return alts.size() == 1 ? alts[0] : choice(std::move(alts));
}

NodePtr number_range(const std::optional<NumberBound>& lo, const std::optional<NumberBound>& hi) {
  const DecimalInt zero{false, "0"};
  std::vector<NodePtr> alts;
  // x >= 0 part.
  const bool hi_nonneg =
      !hi || compare(hi->value, zero) > 0 || (compare(hi->value, zero) == 0 && hi->inclusive);
  if (hi_nonneg) {
    std::string a = "0";
    bool a_incl = true;
    if (lo && compare(lo->value, zero) >= 0) a = lo->value.digits, a_incl = lo->inclusive;
    alts.push_back(mag_number(a, a_incl, hi ? hi->value.digits : "", hi ? hi->inclusive : true));
  }
  // x < 0 part: magnitude m = -x in (0 or -hi, -lo]; "-0" is never produced.
  const bool lo_neg = !lo || compare(lo->value, zero) < 0;
  if (lo_neg) {
    std::string a = "0";
    bool a_incl = false;
    if (hi && compare(hi->value, zero) < 0) a = hi->value.digits, a_incl = hi->inclusive;
    alts.push_back(sequence({literal("-"), mag_number(a, a_incl, lo ? lo->value.digits : "",
                                                      lo ? lo->inclusive : true)}));
  }
  if (alts.empty()) return nothing();
  return alts.size() == 1 ? alts[0] : choice(std::move(alts));
}

}  // namespace sluice::structured
