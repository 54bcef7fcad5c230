// Op table cases of the weight formats: matmul (every dtype, the shapes of each kernel path),
// matmul_many, the folded norms and residual adds, embedding.
#include <cmath>
#include <string>

#include "backend/reference/ref_ops.h"
#include "op_table.h"
#include "test_util.h"

namespace sluice::testing {
namespace {

struct Shape {
  int64_t n, rows, cols;
};

const DType kFloatTypes[] = {DType::F32, DType::F16, DType::BF16};
const DType kQuantTypes[] = {DType::Q4G32, DType::Q8G32, DType::Q8G16, DType::MXFP4, DType::Q6G16};

// CPU: f32 math (fp32 summation order only); quantized weights take int16 activations, whose
// rounding (at most max|x|/65534 per element) stays < 1e-4 of the float reference.
Bound cpu_bound(DType t) {
  return rel(is_quantized(t) ? 1e-4 : 1e-5);
}
// CUDA's weight-streaming kernel takes up to 4 rows of quantized weights, 8 of float ones.
bool cuda_streams(DType t, int64_t n) {
  return n <= (is_quantized(t) ? 4 : 8);
}
// CUDA: f32 math on the weight-streaming kernel (quantized: int16 activations), 16-bit operands
// on the tensor-core path (quantized: qgemm).
Bound cuda_bound(DType t, int64_t n) {
  if (cuda_streams(t, n)) return rel(is_quantized(t) ? 1e-4 : 1e-5);
  return rel(t == DType::F32 ? 1e-5 : t == DType::BF16 ? 1e-2 : 2e-3);
}
Bounds matmul_bounds(DType t, int64_t n) {
  return {cpu_bound(t), cuda_bound(t, n)};
}

std::string shape_name(DType t, const Shape& s) {
  return case_name(dtype_name(t), "_n", s.n, "_", s.rows, "x", s.cols);
}

std::vector<float> product(BackendBuffers& b, const Weight& w, const float* x, int64_t n) {
  float* y = b.poisoned(n * w.rows);
  b.backend().matmul(x, n, b.backend().place(w), y);
  return b.down(y, n * w.rows);
}

// x . w^T on int16-quantized activations (ref::quantize_act_row), exact integer block dots.
std::vector<float> act16_product(const Weight& w, const std::vector<float>& x, int64_t n) {
  std::vector<BlockAct16> xq(n * w.cols / 32);
  for (int64_t i = 0; i < n; ++i)
    ref::quantize_act_row(x.data() + i * w.cols, w.cols, &xq[i * w.cols / 32]);
  std::vector<float> y(n * w.rows);
  ref::matmul_act16(xq.data(), n, w, y.data());
  return y;
}

// Seeds: weight w_seed, input x_seed (each list keeps the seeds its bounds were first met on).
OpCase matmul_case(DType t, const Shape& s, uint32_t w_seed, uint32_t x_seed) {
  const auto weight = [=] { return random_weight(t, s.rows, s.cols, w_seed); };
  const auto input = [=] { return randn(s.n * s.cols, x_seed); };
  OpCase c{"matmul",
           case_name(shape_name(t, s), "_w", w_seed, "_x", x_seed),
           nullptr,
           {{"y", matmul_bounds(t, s.n), nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    const auto y = product(b, weight(), b.up(input()), s.n);
    return is_quantized(t) ? Outputs{y, y} : Outputs{y};
  };
  // Quantized: against the int16 reference on the same quantized activations only the fp32
  // summation order differs (CPU; CUDA's weight-streaming kernel).
  if (is_quantized(t))
    c.checks.push_back({"y vs the int16-activation reference",
                        {rel(1e-5), cuda_streams(t, s.n) ? rel(1e-5) : unchecked(), unchecked()},
                        [=] { return act16_product(weight(), input(), s.n); }});
  return c;
}

void add_matmul_cases(std::vector<OpCase>& cases) {
  const DType every_type[] = {DType::F32,   DType::F16,   DType::BF16,  DType::Q4G32,
                              DType::Q8G32, DType::Q8G16, DType::MXFP4, DType::Q6G16};
  // Every dtype: weight-streaming and batched shapes.
  for (DType t : every_type)
    for (const Shape& s :
         {Shape{1, 67, 256}, Shape{2, 16, 64}, Shape{3, 37, 96}, Shape{5, 130, 512},
          Shape{8, 33, 1024}, Shape{9, 64, 256}, Shape{33, 96, 192}, Shape{70, 260, 128}})
      cases.push_back(matmul_case(t, s, 7 + s.rows, 11 + s.n));
  // Float weights: column counts that are not a multiple of 32 (generic kernels), tails.
  for (DType t : kFloatTypes) {
    for (const Shape& s : {Shape{1, 1, 8}, Shape{1, 64, 576}, Shape{3, 37, 100}, Shape{4, 64, 64},
                           Shape{5, 130, 256}, Shape{9, 17, 1000}})
      cases.push_back(matmul_case(t, s, 7 + s.rows, 11 + s.n));
    cases.push_back(matmul_case(t, {3, 19, 20}, 3, 4));
  }
  for (DType t : kQuantTypes) {
    // Few rows and partial blocks of rows and columns.
    for (const Shape& s : {Shape{1, 1, 32}, Shape{1, 64, 576}, Shape{2, 33, 96}, Shape{4, 64, 256},
                           Shape{5, 130, 512}, Shape{13, 40, 1024}, Shape{64, 72, 128}})
      cases.push_back(matmul_case(t, s, 3 + s.rows + s.cols, 17 + s.n));
    // Units split unevenly between warps (448 per row), partial row blocks, many row blocks.
    for (int64_t n : {1, 3, 8})
      for (const Shape& s : {Shape{n, 70, 4096}, Shape{n, 37, 14336}, Shape{n, 9001, 256}})
        cases.push_back(matmul_case(t, s, 21 + n, 31 + n));
    // gpt-oss's width: 2880 = 90 blocks, 64 columns past a multiple of 128.
    for (int64_t n : {1, 2, 3, 4, 7})
      for (const Shape& s : {Shape{n, 45, 2880}, Shape{n, 2880, 2880}})
        cases.push_back(matmul_case(t, s, 41 + n, 51 + n));
    // Batched products (CUDA: qgemm) with partial token and row tiles and split K.
    for (const Shape& s : {Shape{9, 128, 64}, Shape{16, 200, 4096}, Shape{31, 1000, 1024},
                           Shape{64, 384, 2048}, Shape{100, 136, 576}, Shape{513, 256, 512}})
      cases.push_back(matmul_case(t, s, 90 + s.n, 91 + s.rows));
  }
}

// Products sharing their input: each output as its own matmul's (mixed dtypes included).
void add_matmul_many_cases(std::vector<OpCase>& cases) {
  const int64_t cols = 512, rows[] = {96, 24, 37};
  const std::vector<std::vector<DType>> sets = {{DType::Q4G32, DType::Q4G32, DType::Q4G32},
                                                {DType::BF16, DType::BF16},
                                                {DType::Q4G32, DType::Q8G16, DType::Q4G32},
                                                {DType::MXFP4, DType::MXFP4, DType::Q8G32}};
  for (int64_t n : {1, 5, 8, 40})
    for (size_t set = 0; set < sets.size(); ++set) {
      const auto dts = sets[set];
      OpCase c{"matmul_many", case_name("set", set, "_n", n), nullptr, {}, nullptr};
      for (size_t i = 0; i < dts.size(); ++i)
        c.checks.push_back({case_name("y", i), matmul_bounds(dts[i], n), nullptr});
      c.run = [=](BackendBuffers& b) {
        std::vector<Weight> ws;
        std::vector<Backend::Product> ps;
        for (size_t i = 0; i < dts.size(); ++i)
          ws.push_back(b.backend().place(random_weight(dts[i], rows[i], cols, 60 + i)));
        for (size_t i = 0; i < dts.size(); ++i)  // the second product adds a bias
          ps.push_back(
              {&ws[i], b.poisoned(n * rows[i]), i == 1 ? b.up(randn(rows[i], 70)) : nullptr});
        b.backend().matmul_many(b.up(randn(n * cols, 50 + n)), n, ps.data(),
                                static_cast<int>(ps.size()));
        Outputs out;
        for (size_t i = 0; i < ps.size(); ++i) out.push_back(b.down(ps[i].y, n * rows[i]));
        return out;
      };
      cases.push_back(std::move(c));
    }
}

// matmul_many_normed, matmul_add and matmul_add_gated against the ops they stand for (norm,
// silu, products, bias, add; the reference backend runs Backend's plain paths), at the batch sizes
// the CUDA backend folds them at, two products sharing one launch (or, of two quantized dtypes,
// one quantization of the activations: tb).
OpCase folded_case(DType t, int64_t n, int64_t cols, int64_t rows_a, int64_t rows_b,
                   DType tb = DType::F32) {
  if (tb == DType::F32) tb = t;
  // CUDA folds where its weight-streaming kernel takes the rows; else the GEMMs' bounds.
  const Bounds tol = {cpu_bound(t), cuda_bound(t, n)};
  OpCase c{"folded_norms",
           case_name(dtype_name(t), tb != t ? std::string("_") + dtype_name(tb) : "", "_n", n, "_",
                     rows_a, "x", cols),
           nullptr,
           {{"matmul_many_normed y0", tol, nullptr},
            {"matmul_many_normed y1", tol, nullptr},
            {"x left as it was", all(exact()), nullptr},
            {"matmul_add", tol, nullptr},
            {"matmul_add_gated", tol, nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    Backend& be = b.backend();
    const Weight wa = be.place(random_weight(t, rows_a, cols, 21));
    const Weight wb = be.place(random_weight(tb, rows_b, cols, 22));
    auto x = randn(n * cols, 23 + n);
    for (float& e : x) e *= 3.0f;  // rms far from 1: a missing scale shows
    float* dx = b.up(x);
    float* ya = b.poisoned(n * rows_a);
    float* yb = b.poisoned(n * rows_b);
    const float* bias = b.up(randn(rows_a, 27));  // a's products add a bias (in the store)
    const Backend::Product ps[] = {{&wa, ya, bias}, {&wb, yb}};
    be.matmul_many_normed(dx, n, b.up(randn(cols, 24)), 1e-5f, b.poisoned(n * cols), ps, 2);
    Outputs out = {b.down(ya, n * rows_a), b.down(yb, n * rows_b), b.down(dx, n * cols)};
    const auto res = randn(n * rows_a, 25);
    float* y = b.up(res);
    be.matmul_add(dx, n, wa, bias, y, b.poisoned(n * rows_a));
    out.push_back(b.down(y, n * rows_a));
    y = b.up(res);
    be.matmul_add_gated(b.up(x), b.up(randn(n * cols, 26)), n, wa, y, b.poisoned(n * rows_a));
    out.push_back(b.down(y, n * rows_a));
    return out;
  };
  return c;
}

void add_folded_cases(std::vector<OpCase>& cases) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q4G32, DType::Q8G16})
    for (int64_t n : {1, 2, 3, 8}) cases.push_back(folded_case(t, n, 1024, 260, 67));
  for (DType t : {DType::F16, DType::Q4G32, DType::Q8G32, DType::Q8G16, DType::MXFP4})  // gpt-oss
    for (int64_t n : {2, 3, 4}) cases.push_back(folded_case(t, n, 2880, 640, 64));
  cases.push_back(folded_case(DType::F32, 3, 96, 40, 24));
  for (int64_t n : {1, 3})  // Qwen3's q/k in Q4_K beside v in Q6_K
    cases.push_back(folded_case(DType::Q4G32, n, 1024, 260, 67, DType::Q8G16));
}

void add_embedding_cases(std::vector<OpCase>& cases) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q4G32, DType::Q8G32, DType::Q8G16,
                  DType::MXFP4}) {
    OpCase c{"embedding",
             case_name(dtype_name(t), "_50x96"),
             nullptr,
             {{"rows", all(exact()), nullptr}},
             nullptr};
    c.run = [=](BackendBuffers& b) -> Outputs {
      const std::vector<int32_t> ids = {0, 49, 7, 7, 23, 3, 17};
      float* out = b.poisoned(ids.size() * 96);
      b.backend().embedding(b.backend().place(random_weight(t, 50, 96, 3)), b.up(ids),
                            static_cast<int64_t>(ids.size()), out);
      return {b.down(out, ids.size() * 96)};
    };
    cases.push_back(std::move(c));
  }
}

}  // namespace

std::vector<OpCase> matmul_cases() {
  std::vector<OpCase> cases;
  add_matmul_cases(cases);
  add_matmul_many_cases(cases);
  add_folded_cases(cases);
  add_embedding_cases(cases);
  return cases;
}

}  // namespace sluice::testing
