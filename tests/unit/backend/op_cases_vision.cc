// Op table cases of the vision ops: gelu_tanh, avg_pool_2d.
#include <string>

#include "backend/reference/ref_ops.h"
#include "op_table.h"
#include "test_util.h"

namespace sluice::testing {
namespace {

// out, out in place, and out against GeGLU's gelu (gelu_mul with up = 1): one tanh GELU.
OpCase gelu_tanh_case(int64_t count) {
  const auto x = randn(count, 61, 3.0f);
  auto geglu = [=] {
    std::vector<float> out(count);
    ref::gelu_mul(x.data(), std::vector<float>(count, 1.0f).data(), count, out.data());
    return out;
  };
  OpCase c{"gelu_tanh",
           case_name("n", count),
           nullptr,
           {{"out", all(rel(1e-6)), nullptr},
            {"in place", all(rel(1e-6)), nullptr},
            {"out vs gelu_mul(x, 1)", {rel(1e-6), rel(1e-6), rel(1e-7)}, geglu}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    float* out = b.poisoned(count);
    b.backend().gelu_tanh(b.up(x), count, out);
    float* inplace = b.up(x);
    b.backend().gelu_tanh(inplace, count, inplace);
    const auto got = b.down(out, count);
    return {got, b.down(inplace, count), got};
  };
  return c;
}

// out; with kernel 1 also out == x bit for bit (a copy).
OpCase avg_pool_case(int64_t height, int64_t width, int64_t dim, int64_t kernel) {
  const int64_t m = (height / kernel) * (width / kernel);
  const auto x = randn(height * width * dim, 71 + dim, 2.0f);
  std::vector<Check> checks{{"out", all(rel(1e-6)), nullptr}};
  if (kernel == 1) checks.push_back({"copy", all(exact()), [=] { return x; }});
  OpCase c{"avg_pool_2d", case_name(height, "x", width, "_d", dim, "_k", kernel), nullptr, checks,
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    float* out = b.poisoned(m * dim);
    b.backend().avg_pool_2d(b.up(x), height, width, dim, kernel, out);
    const auto got = b.down(out, m * dim);
    if (kernel == 1) return {got, got};
    return {got};
  };
  return c;
}

}  // namespace

std::vector<OpCase> vision_cases() {
  std::vector<OpCase> cases;
  for (int64_t count : {1, 7, 1000, 100003}) cases.push_back(gelu_tanh_case(count));
  cases.push_back(avg_pool_case(4, 4, 3, 1));
  cases.push_back(avg_pool_case(8, 8, 5, 2));
  cases.push_back(avg_pool_case(8, 12, 33, 4));
  cases.push_back(avg_pool_case(16, 16, 64, 16));
  cases.push_back(avg_pool_case(64, 64, 1152, 4));  // Gemma 3: 4096 patches -> 256 tokens
  return cases;
}

}  // namespace sluice::testing
