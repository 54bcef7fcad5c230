// The op table (op_table.h) on every backend present, one test per backend kind and case: the
// reference (against the checks with a want() of their own), the CPU backend at 1, 2 and all
// threads and with the scalar quantized kernels, and CUDA where this build has it and a GPU is
// visible (skipped otherwise); each output compared with the reference backend's on the same data.
#include "op_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "backend/cpu/cpu_kernels.h"
#include "test_util.h"

namespace sluice::testing {

// Test parameters print by name.
void PrintTo(BackendKind k, std::ostream* os) {
  *os << (k == BackendKind::Cpu ? "cpu" : k == BackendKind::Cuda ? "cuda" : "reference");
}

namespace {

struct BackendVariant {
  const char* name;
  BackendKind kind;
  int threads;        // CPU
  bool scalar_quant;  // CPU: the scalar quantized kernels instead of the AVX2 ones
};
const BackendVariant kVariants[] = {{"reference", BackendKind::Reference, 0, false},
                                    {"cpu1", BackendKind::Cpu, 1, false},
                                    {"cpu2", BackendKind::Cpu, 2, false},
                                    {"cpu", BackendKind::Cpu, 0, false},
                                    {"cpu1_scalar", BackendKind::Cpu, 1, true},
                                    {"cpu2_scalar", BackendKind::Cpu, 2, true},
                                    {"cuda", BackendKind::Cuda, 0, false}};

const std::vector<OpCase>& op_cases() {
  static const auto* cases = [] {
    auto* all = new std::vector<OpCase>;
    for (auto* family : {matmul_cases, elementwise_cases, attention_cases, sampling_cases,
                         moe_cases, encoder_cases, recurrent_cases, vision_cases})
      for (OpCase& c : family()) all->push_back(std::move(c));
    return all;
  }();
  return *cases;
}

// One backend per variant for the whole run (made on first use, never freed: a CUDA backend
// must not outlive the driver at exit).
Backend* backend_of(size_t v) {
  static auto* made = new std::map<size_t, std::unique_ptr<Backend>>;
  auto& be = (*made)[v];
  if (!be) {
    const BackendVariant& var = kVariants[v];
    if (var.kind == BackendKind::Reference) be = make_reference_backend();
    if (var.kind == BackendKind::Cpu) be = make_cpu_backend(var.threads);
    if (var.kind == BackendKind::Cuda) {
      auto r = make_backend("cuda", 0);
      if (r.ok()) be = std::move(r.value());
    }
  }
  return be.get();
}

// Case i on the reference backend: its outputs (the "reference" variant's results), kept for the
// case's other variants, which run right after it.
const Outputs& reference_outputs(size_t i) {
  static auto* last = new std::pair<size_t, Outputs>(SIZE_MAX, Outputs{});
  if (last->first != i) {
    BackendBuffers b(*backend_of(0));
    *last = {i, op_cases()[i].run(b)};
  }
  return last->second;
}

bool uses_quantized_kernels(const OpCase& c) {
  return c.op == "matmul" || c.op == "matmul_many" || c.op == "folded_norms" ||
         c.op == "matmul_experts";
}

void expect_within(const std::vector<float>& got, const std::vector<float>& want, const Bound& b,
                   const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  if (b.max_abs >= 0) {
    for (size_t i = 0; i < got.size(); ++i)
      if (std::isfinite(want[i])) {
        ASSERT_NEAR(got[i], want[i], b.max_abs) << what << " at " << i;
      }
    return;
  }
  if (b.max_rel_l2 == 0) {
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_TRUE(got[i] == want[i] || (std::isnan(got[i]) && std::isnan(want[i])))
          << what << " at " << i << ": " << got[i] << " vs " << want[i];
    return;
  }
  for (size_t i = 0; i < got.size(); ++i)
    if (std::isfinite(want[i])) {
      ASSERT_TRUE(std::isfinite(got[i])) << what << " at " << i;
    }
  const double err = rel_l2(got, want);
  EXPECT_LT(err, b.max_rel_l2) << what;
  if (b.min_rel_l2 > 0) {
    EXPECT_GT(err, b.min_rel_l2) << what << " (the path that rounds otherwise did not run)";
  }
}

// The scalar quantized kernels while alive (when asked for).
class QuantKernelScope {
 public:
  explicit QuantKernelScope(bool scalar) : on_(scalar) {
    if (on_) prev_ = cpu::set_quant_kernel(cpu::QuantKernel::Scalar);
  }
  ~QuantKernelScope() {
    if (on_) cpu::set_quant_kernel(prev_);
  }

 private:
  bool on_;
  cpu::QuantKernel prev_ = cpu::QuantKernel::Scalar;
};

// Case i on variant v, each output against the reference's (or its check's own want()).
void check_variant(size_t v, size_t i) {
  const OpCase& c = op_cases()[i];
  const Outputs& ref = reference_outputs(i);
  const bool is_reference = kVariants[v].kind == BackendKind::Reference;
  Outputs ran;
  if (!is_reference) {
    const QuantKernelScope kernels(kVariants[v].scalar_quant);
    BackendBuffers b(*backend_of(v));
    ran = c.run(b);
  }
  // The reference itself: only the checks with a want() of their own say anything of it.
  const Outputs& got = is_reference ? ref : ran;
  ASSERT_EQ(got.size(), c.checks.size());
  ASSERT_EQ(ref.size(), c.checks.size());
  for (size_t k = 0; k < c.checks.size(); ++k) {
    const Check& check = c.checks[k];
    const Bound& bound = check.bounds.of(kVariants[v].kind);
    if (!bound.checked) continue;
    const std::string what = c.op + " " + c.name + ": " + check.what;
    if (check.want) {
      expect_within(got[k], check.want(), bound, what);
    } else {
      expect_within(got[k], ref[k], bound, what);
    }
  }
}

// One test per (backend kind, case): the case on every variant of that kind.
class OpTable : public ::testing::TestWithParam<std::tuple<BackendKind, size_t>> {};

TEST_P(OpTable, MatchesTheReference) {
  const auto [kind, i] = GetParam();
  if (kind == BackendKind::Cuda && !cuda_available())
    GTEST_SKIP() << "no CUDA GPU here (needs a -DSLUICE_CUDA=ON build on a GPU machine)";
  const OpCase& c = op_cases()[i];
  for (size_t v = 0; v < std::size(kVariants); ++v) {
    if (kVariants[v].kind != kind || (kVariants[v].scalar_quant && !uses_quantized_kernels(c)))
      continue;
    Backend* be = backend_of(v);
    ASSERT_NE(be, nullptr) << kVariants[v].name;
    if (c.runs_on && !c.runs_on(*be)) GTEST_SKIP() << be->name() << " does not offer " << c.op;
    SCOPED_TRACE(kVariants[v].name);
    check_variant(v, i);
  }
}

std::string test_name(const ::testing::TestParamInfo<std::tuple<BackendKind, size_t>>& info) {
  const OpCase& c = op_cases()[std::get<1>(info.param)];
  std::string name = ::testing::PrintToString(std::get<0>(info.param)) + "_" + c.op + "_" + c.name;
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
}

// Case by case (the reference's outputs are made once per case), every kind.
std::vector<std::tuple<BackendKind, size_t>> table() {
  std::vector<std::tuple<BackendKind, size_t>> params;
  for (size_t i = 0; i < op_cases().size(); ++i)
    for (BackendKind k : {BackendKind::Reference, BackendKind::Cpu, BackendKind::Cuda})
      params.emplace_back(k, i);
  return params;
}

INSTANTIATE_TEST_SUITE_P(Backends, OpTable, ::testing::ValuesIn(table()), test_name);

}  // namespace
}  // namespace sluice::testing
