// Op table cases of the row and element-wise ops: rms_norm, add_rms_norm, add_normed_rms_norm,
// rope, silu_mul, gelu_mul, scale, add, add_bias, gather_rows.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "backend/reference/ref_ops.h"
#include "op_table.h"
#include "test_util.h"

namespace sluice::testing {
namespace {

std::string n_by(int64_t n, int64_t dim) {
  return case_name("n", n, "_", dim);
}

// y, and y again with y aliasing x.
OpCase rms_norm_case(int64_t n, int64_t dim, float eps, Bounds bounds) {
  OpCase c{"rms_norm",
           n_by(n, dim) + (eps < 1e-5f ? "_eps1e-6" : ""),
           nullptr,
           {{"y", bounds, nullptr}, {"y in place", bounds, nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    const auto x = randn(n * dim, 1 + dim, 2.0f);
    const float* w = b.up(randn(dim, 2 + dim));
    float* y = b.poisoned(n * dim);
    b.backend().rms_norm(b.up(x), n, dim, w, eps, y);
    float* inplace = b.up(x);
    b.backend().rms_norm(inplace, n, dim, w, eps, inplace);
    return {b.down(y, n * dim), b.down(inplace, n * dim)};
  };
  return c;
}

// The fused residual add and norm (the output aliasing the residual, as in the model), and the
// same bits as add then rms_norm on the same backend.
OpCase add_rms_norm_case(int64_t n, int64_t dim) {
  OpCase c{"add_rms_norm",
           n_by(n, dim),
           nullptr,
           {{"x + r", all(exact()), nullptr}, {"y", all(rel(1e-5)), nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    Backend& be = b.backend();
    const auto x = randn(n * dim, 1), r = randn(n * dim, 2);
    const float* w = b.up(randn(dim, 3));
    float* x1 = b.up(x);
    float* r1 = b.up(r);
    be.add_rms_norm(x1, r1, n, dim, w, 1e-5f, r1);
    float* x2 = b.up(x);
    float* y2 = b.poisoned(n * dim);
    be.add(x2, b.up(r), n * dim);
    be.rms_norm(x2, n, dim, w, 1e-5f, y2);
    Outputs out = {b.down(x1, n * dim), b.down(r1, n * dim)};
    EXPECT_EQ(out[0], b.down(x2, n * dim)) << "fused add vs add";
    EXPECT_EQ(out[1], b.down(y2, n * dim)) << "fused norm vs rms_norm";
    return out;
  };
  return c;
}

// x += rms_norm(r) then y = rms_norm(x) (y aliasing r, as in Gemma 3), or the add alone
// (no weight); the same bits as rms_norm then add_rms_norm (or add) on the same backend.
OpCase add_normed_rms_norm_case(int64_t n, int64_t dim, bool next_norm) {
  OpCase c{"add_normed_rms_norm",
           n_by(n, dim) + (next_norm ? "" : "_add_only"),
           nullptr,
           {{"x + norm(r)", all(rel(1e-5)), nullptr}},
           nullptr};
  if (next_norm) c.checks.push_back({"y", all(rel(1e-5)), nullptr});
  c.run = [=](BackendBuffers& b) -> Outputs {
    Backend& be = b.backend();
    const auto x = randn(n * dim, 4), r = randn(n * dim, 5, 3.0f);
    const float* rw = b.up(randn(dim, 6));
    const float* w = next_norm ? b.up(randn(dim, 7)) : nullptr;
    float* x1 = b.up(x);
    float* r1 = b.up(r);
    be.add_normed_rms_norm(x1, r1, rw, n, dim, w, 1e-6f, r1);
    float* x2 = b.up(x);
    float* r2 = b.up(r);
    be.rms_norm(r2, n, dim, rw, 1e-6f, r2);
    if (w)
      be.add_rms_norm(x2, r2, n, dim, w, 1e-6f, r2);
    else
      be.add(x2, r2, n * dim);
    Outputs out = {b.down(x1, n * dim)};
    EXPECT_EQ(out[0], b.down(x2, n * dim)) << "fused vs rms_norm then add";
    if (w) {
      out.push_back(b.down(r1, n * dim));
      EXPECT_EQ(out[1], b.down(r2, n * dim)) << "fused vs rms_norm then add_rms_norm";
    }
    return out;
  };
  return c;
}

struct RopeCase {
  int64_t n, head_dim, rotary_dim;
  bool interleaved;
  float theta, freq_scale;  // freq_scale > 0: inv_freq given (the default ones scaled); 0: null
};

// In place on x[n, 5 heads, head_dim]. (Rotation keeps the norm: |rel_l2(got, x) - rel_l2(want,
// x)| <= rel_l2(got, want), so the bound also bounds the change of the rotated length.)
OpCase rope_case(const RopeCase& rc, Bounds bounds) {
  const int64_t heads = 5;
  OpCase c{"rope",
           case_name("n", rc.n, "_hd", rc.head_dim, "_rot", rc.rotary_dim,
                     rc.interleaved ? "_interleaved" : "_neox",
                     rc.freq_scale > 0 ? "_freq" : "_theta", int(rc.theta)),
           nullptr,
           {{"x", bounds, nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    std::vector<int32_t> pos(rc.n);
    for (int64_t i = 0; i < rc.n; ++i) pos[i] = static_cast<int32_t>((i * 977) % 9000);
    if (rc.n == 7) pos = {0, 1, 5, 100, 7, 4095, 2};
    RopeParams p{rc.rotary_dim, rc.theta, rc.interleaved, nullptr};
    if (rc.freq_scale > 0) {
      std::vector<float> freq(rc.rotary_dim / 2);
      ref::default_inv_freq(p, freq.data());
      for (auto& f : freq) f *= rc.freq_scale;
      p.inv_freq = b.up(freq);
    }
    float* x = b.up(randn(rc.n * heads * rc.head_dim, 9));
    b.backend().rope(x, rc.n, heads, rc.head_dim, b.up(pos), p);
    return {b.down(x, rc.n * heads * rc.head_dim)};
  };
  return c;
}

// M-RoPE on x[n, 3 heads, head_dim] at positions [4, n] of an image grid (t fixed, h by row,
// w by column) after text; a second pass with t = h = w on the same x must equal plain rope
// bit for bit (text tokens of a Qwen2-VL model are exactly Qwen2's).
// imrope: Qwen3-VL's interleaved sections (RopeParams::interleaved_sections).
OpCase mrope_case(int64_t n, int64_t head_dim, std::array<int32_t, 4> sections, bool interleaved,
                  bool imrope = false) {
  const int64_t heads = 3;
  OpCase c{"rope",
           case_name("mrope_n", n, "_hd", head_dim, "_sec", sections[0], "_", sections[1], "_",
                     sections[2], "_", sections[3], interleaved ? "_interleaved" : "_neox",
                     imrope ? "_imrope" : ""),
           nullptr,
           {{"x", all(rel(1e-5)), nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    std::vector<int32_t> pos(4 * n);  // planes t, h, w, e
    for (int64_t t = 0; t < n; ++t) {
      const bool image = t >= 3 && t < n - 2;  // a 4-wide grid from token 3
      const int32_t p0 = 3, k = static_cast<int32_t>(t - 3);
      pos[t] = image ? p0 : static_cast<int32_t>(t < 3 ? t : t + 50);
      pos[n + t] = image ? p0 + k / 4 : pos[t];
      pos[2 * n + t] = image ? p0 + k % 4 : pos[t];
      pos[3 * n + t] = image ? 0 : pos[t] + 1000;
    }
    RopeParams p{head_dim, 1e6f, interleaved, nullptr};
    std::copy(sections.begin(), sections.end(), p.sections);
    p.interleaved_sections = imrope;
    const auto x0 = randn(n * heads * head_dim, 12);
    float* x = b.up(x0);
    b.backend().rope(x, n, heads, head_dim, b.up(pos), p);
    const Outputs out = {b.down(x, n * heads * head_dim)};

    std::vector<int32_t> text(4 * n), plain(n);  // t = h = w = e: a text-only prompt
    for (int64_t t = 0; t < n; ++t)
      plain[t] = static_cast<int32_t>(t * 31 % 500),
      text[t] = text[n + t] = text[2 * n + t] = text[3 * n + t] = plain[t];
    float *xm = b.up(x0), *xp = b.up(x0);
    b.backend().rope(xm, n, heads, head_dim, b.up(text), p);
    b.backend().rope(xp, n, heads, head_dim, b.up(plain),
                     RopeParams{head_dim, 1e6f, interleaved, nullptr});
    EXPECT_EQ(b.down(xm, n * heads * head_dim), b.down(xp, n * heads * head_dim))
        << "M-RoPE at t = h = w differs from rope";
    return out;
  };
  return c;
}

// silu(gate) * up (also in place over gate) and x += y; gate with extremes past 10 elements.
OpCase silu_add_case(int64_t count, Bounds silu) {
  OpCase c{"silu_mul_add",
           case_name("count", count),
           nullptr,
           {{"silu_mul", silu, nullptr},
            {"silu_mul in place", silu, nullptr},
            {"add", all(exact()), nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    Backend& be = b.backend();
    auto g = randn(count, 1, 4.0f);
    if (count > 10) g[3] = -200.0f, g[4] = 200.0f, g[5] = 0.0f;
    const float* u = b.up(randn(count, 2));
    float* out = b.poisoned(count);
    be.silu_mul(b.up(g), u, count, out);
    float* inplace = b.up(g);
    be.silu_mul(inplace, u, count, inplace);
    float* sum = b.up(g);
    be.add(sum, u, count);
    return {b.down(out, count), b.down(inplace, count), b.down(sum, count)};
  };
  return c;
}

// gelu_tanh(gate) * up (also in place over gate) and x *= s; gate with extremes past 10.
OpCase gelu_scale_case(int64_t count) {
  OpCase c{"gelu_mul_scale",
           case_name("count", count),
           nullptr,
           {{"gelu_mul", all(rel(1e-5)), nullptr},
            {"gelu_mul in place", all(rel(1e-5)), nullptr},
            {"scale", all(exact()), nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    Backend& be = b.backend();
    auto g = randn(count, 3, 3.0f);
    if (count > 10) g[3] = -200.0f, g[4] = 200.0f, g[5] = 0.0f, g[6] = -1e-30f;
    const float* u = b.up(randn(count, 4));
    float* out = b.poisoned(count);
    be.gelu_mul(b.up(g), u, count, out);
    float* inplace = b.up(g);
    be.gelu_mul(inplace, u, count, inplace);
    float* scaled = b.up(g);
    be.scale(scaled, count, 25.298221f);
    return {b.down(out, count), b.down(inplace, count), b.down(scaled, count)};
  };
  return c;
}

// gpt-oss's clamped SwiGLU (also in place over gate); gate and up past the limit both ways.
OpCase swiglu_clamped_case(int64_t count) {
  OpCase c{"swiglu_clamped",
           case_name("count", count),
           nullptr,
           {{"out", all(rel(1e-5)), nullptr}, {"out in place", all(rel(1e-5)), nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    Backend& be = b.backend();
    auto g = randn(count, 5, 6.0f), u = randn(count, 6, 6.0f);
    if (count > 10) g[3] = -200.0f, g[4] = 200.0f, u[5] = 50.0f, u[6] = -50.0f;
    const float* up = b.up(u);
    float* out = b.poisoned(count);
    be.swiglu_clamped(b.up(g), up, count, 1.702f, 7.0f, out);
    float* inplace = b.up(g);
    be.swiglu_clamped(inplace, up, count, 1.702f, 7.0f, inplace);
    return {b.down(out, count), b.down(inplace, count)};
  };
  return c;
}

OpCase add_bias_case(int64_t n, int64_t dim) {
  OpCase c{"add_bias", n_by(n, dim), nullptr, {{"x", all(exact()), nullptr}}, nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    float* x = b.up(randn(n * dim, 5));
    b.backend().add_bias(x, n, dim, b.up(randn(dim, 4)));
    return {b.down(x, n * dim)};
  };
  return c;
}

OpCase gather_rows_case() {
  OpCase c{"gather_rows", "3_of_7x320", nullptr, {{"rows", all(exact()), nullptr}}, nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    const int64_t dim = 320;
    float* out = b.poisoned(3 * dim);
    b.backend().gather_rows(b.up(randn(7 * dim, 1)), b.up(std::vector<int32_t>{6, 0, 3}), 3, dim,
                            out);
    return {b.down(out, 3 * dim)};
  };
  return c;
}

}  // namespace

std::vector<OpCase> elementwise_cases() {
  std::vector<OpCase> cases;
  for (int64_t dim : {1, 7, 64, 576, 2049})
    for (int64_t n : {1, 3, 40}) cases.push_back(rms_norm_case(n, dim, 1e-5f, all(rel(1e-5))));
  cases.push_back(rms_norm_case(7, 320, 1e-6f, {rel(1e-5), rel(1e-6)}));
  cases.push_back(add_rms_norm_case(5, 576));
  for (int64_t dim : {64, 640, 2560})
    for (int64_t n : {1, 13}) cases.push_back(add_normed_rms_norm_case(n, dim, true));
  cases.push_back(add_normed_rms_norm_case(3, 640, false));
  const RopeCase ropes[] = {{37, 64, 64, false, 5e5f, 0.7f}, {37, 64, 64, true, 5e5f, 0.7f},
                            {37, 128, 64, false, 5e5f, 0},   {37, 96, 32, true, 5e5f, 0},
                            {37, 6, 6, false, 5e5f, 0.7f},   {37, 6, 6, true, 5e5f, 0.7f},
                            {37, 80, 80, true, 5e5f, 0.7f},  {37, 80, 80, false, 5e5f, 0}};
  for (const RopeCase& r : ropes) cases.push_back(rope_case(r, all(rel(1e-5))));
  for (bool interleaved : {false, true})
    for (int64_t rotary : {64, 32})
      cases.push_back(rope_case({7, 64, rotary, interleaved, 1e4f, 1.0f}, {rel(1e-5), rel(1e-6)}));
  cases.push_back(mrope_case(17, 128, {16, 24, 24, 0}, false));  // Qwen2-VL 7B
  cases.push_back(mrope_case(17, 64, {8, 12, 12, 0}, false));    // the tiny preset
  cases.push_back(mrope_case(9, 64, {4, 6, 4, 2}, false));       // sections wrap; plane e
  cases.push_back(mrope_case(9, 32, {2, 3, 3, 0}, true));
  cases.push_back(mrope_case(17, 128, {24, 20, 20, 0}, false, true));  // Qwen3-VL
  cases.push_back(mrope_case(9, 64, {4, 6, 4, 2}, false, true));       // imrope's plane e
  for (int64_t count : {1, 7, 64, 1000, 100003})
    cases.push_back(silu_add_case(count, all(rel(1e-5))));
  cases.push_back(silu_add_case(7 * 320, {rel(1e-5), rel(1e-6)}));
  for (int64_t count : {1, 7, 64, 1000, 100003}) cases.push_back(gelu_scale_case(count));
  for (int64_t count : {1, 7, 64, 1000, 100003}) cases.push_back(swiglu_clamped_case(count));
  for (int64_t dim : {3, 64, 896}) cases.push_back(add_bias_case(50, dim));
  cases.push_back(add_bias_case(7, 320));
  cases.push_back(gather_rows_case());
  return cases;
}

}  // namespace sluice::testing
