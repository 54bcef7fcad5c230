#pragma once
// The op table: one list of op cases (every Backend op, the shapes and weight formats it must
// cover, its error bounds) that op_table_test.cc runs on every backend present, each compared
// with the reference backend's results on the same random data (as llama.cpp's test-backend-ops).
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend_buffers.h"

namespace sluice::testing {

enum class BackendKind { Reference, Cpu, Cuda };

// How close an output must be to the expected one: relative L2 error below max_rel_l2 (0: equal
// bit for bit, NaN where NaN is expected) and, when min_rel_l2 > 0, at least that (proof that a
// path rounding otherwise ran); or, when max_abs >= 0, |got - want| per finite expected element.
struct Bound {
  double max_rel_l2 = 0.0;
  double min_rel_l2 = 0.0;
  double max_abs = -1.0;
  bool checked = true;
};
inline Bound exact() {
  return {};
}
inline Bound rel(double max, double min = 0.0) {
  return {max, min};
}
inline Bound abs_err(double max) {
  return {0.0, 0.0, max};
}
inline Bound unchecked() {
  return {0.0, 0.0, -1.0, false};
}

// One bound per backend kind (the reference backend is compared with itself: only checks with
// their own want() need a bound for it).
struct Bounds {
  Bound cpu, cuda, reference = exact();
  const Bound& of(BackendKind k) const {
    return k == BackendKind::Cpu ? cpu : k == BackendKind::Cuda ? cuda : reference;
  }
};
inline Bounds all(Bound b) {
  return {b, b};
}

using Outputs = std::vector<std::vector<float>>;

// What output i of a case is compared with: the reference backend's output i, or want() when
// given (a second reference computed on the host, e.g. on int16-quantized activations).
struct Check {
  std::string what;
  Bounds bounds;
  std::function<std::vector<float>()> want;
};

struct OpCase {
  std::string op;    // the Backend op ("matmul")
  std::string name;  // shape and formats ("Q4G32_n5_130x512")
  // Makes the case's data (from fixed seeds), runs the op on a backend, returns one host copy per
  // check. It may also assert properties of that one backend (a second call gives the same bits).
  std::function<Outputs(BackendBuffers&)> run;
  std::vector<Check> checks;
  std::function<bool(const Backend&)> runs_on;  // null: every backend
};

// A case name from its parts: case_name("n", 3, "_", 576) == "n3_576".
template <typename... Parts>
std::string case_name(const Parts&... parts) {
  std::ostringstream s;
  (s << ... << parts);
  return s.str();
}

std::vector<OpCase> matmul_cases();       // matmul, matmul_many, folded norms, embedding
std::vector<OpCase> elementwise_cases();  // norms, rope, activations, adds, gather_rows
std::vector<OpCase> attention_cases();    // prepare_qkv, cache_write, paged_attention
std::vector<OpCase> sampling_cases();     // argmax_rows, sample_rows
std::vector<OpCase> moe_cases();          // moe_route, matmul_experts, moe_combine
std::vector<OpCase> encoder_cases();      // layer_norm, gelu_erf, bidirectional_attention, pooling
std::vector<OpCase> recurrent_cases();    // causal_conv1d_silu, gated_delta_rule, sigmoid_mul
std::vector<OpCase> vision_cases();       // gelu_tanh, avg_pool_2d

// argmax_rows input [rows >= 5, cols]: random rows with a tie (row 0: cols/2 and cols-1), NaN
// before the maximum (row 1), only -inf and NaN (row 2), two +inf (row 3: cols/3 and cols-1),
// all equal (row 4).
std::vector<float> argmax_rows_input(int64_t rows, int64_t cols, uint32_t seed);

}  // namespace sluice::testing
