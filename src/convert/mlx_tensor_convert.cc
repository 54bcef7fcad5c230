// GGUF tensor -> MLX tensors: exact block repacking (Q4_1, Q4_0, Q8_0), float passthrough, or an
// explicitly allowed lossy requantization; every result is dequantized again and compared.
#include "convert/mlx_tensor_convert.h"

#include <cmath>
#include <cstring>

#include "common/half.h"
#include "convert/ggml_dequant.h"
#include "convert/quantize.h"
#include "model/load/quant_import.h"
#include "model/load/quant_import_ggml.h"

namespace sluice {
namespace {

constexpr int64_t kGroup = 32;

// An MLX affine matrix with its group parameters still as (exact) f32 values.
struct Affine {
  int bits = 4;
  std::vector<float> scales, biases;  // [rows, cols/32]
  std::vector<uint32_t> packed;       // [rows, cols*bits/32]
};

template <typename B>
B load_block(const uint8_t* p) {
  B b;
  std::memcpy(&b, p, sizeof(B));
  return b;
}

// 32 codes into `bits` MLX words: element k sits at bit (k % per_word) * bits of word k / per_word.
void pack_group(const uint8_t* codes, int bits, uint32_t* words) {
  const int per_word = 32 / bits;
  for (int w = 0; w < bits; ++w) {
    uint32_t v = 0;
    for (int k = 0; k < per_word; ++k)
      v |= static_cast<uint32_t>(codes[w * per_word + k]) << (k * bits);
    words[w] = v;
  }
}

uint32_t unpack_code(const uint32_t* words, int bits, int64_t k) {
  const int per_word = 32 / bits;
  return (words[k / per_word] >> ((k % per_word) * bits)) & ((1u << bits) - 1);
}

int64_t source_row(const std::vector<int64_t>& order, int64_t r) {
  return order.empty() ? r : order[r];
}

// Every group of every row through fn(block, &scale, &bias, codes[32]).
template <typename Block, typename Fn>
Affine repack(const GgufTensorInfo& t, int bits, int64_t rows, int64_t cols,
              const std::vector<int64_t>& order, Fn&& fn) {
  Affine a;
  a.bits = bits;
  const int64_t groups = cols / kGroup;
  a.scales.resize(rows * groups);
  a.biases.resize(rows * groups);
  a.packed.resize(rows * cols * bits / 32);
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row = t.data + source_row(order, r) * groups * sizeof(Block);
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t i = r * groups + g;
      uint8_t codes[32];
      fn(load_block<Block>(row + g * sizeof(Block)), &a.scales[i], &a.biases[i], codes);
      pack_group(codes, bits, &a.packed[i * bits]);
    }
  }
  return a;
}

void nibbles(const uint8_t* qs, uint8_t* codes) {
  for (int j = 0; j < 16; ++j) {
    codes[j] = qs[j] & 15;
    codes[j + 16] = qs[j] >> 4;
  }
}

Affine repack_exact(const GgufTensorInfo& t, int64_t rows, int64_t cols,
                    const std::vector<int64_t>& order) {
  switch (t.type) {
    case GgufType::Q4_1:
      return repack<ggml::BlockQ4_1>(t, 4, rows, cols, order,
                                     [](const ggml::BlockQ4_1& b, float* s, float* o, uint8_t* q) {
                                       *s = f16_to_f32(b.d);
                                       *o = f16_to_f32(b.m);
                                       nibbles(b.qs, q);
                                     });
    case GgufType::Q4_0:
      return repack<ggml::BlockQ4_0>(t, 4, rows, cols, order,
                                     [](const ggml::BlockQ4_0& b, float* s, float* o, uint8_t* q) {
                                       *s = f16_to_f32(b.d);
                                       *o = -8.0f * *s;  // d*(q-8) = d*q + (-8d)
                                       nibbles(b.qs, q);
                                     });
    default:  // Q8_0: d*q = d*(q+128) + (-128d)
      return repack<ggml::BlockQ8_0>(t, 8, rows, cols, order,
                                     [](const ggml::BlockQ8_0& b, float* s, float* o, uint8_t* q) {
                                       *s = f16_to_f32(b.d);
                                       *o = -128.0f * *s;
                                       for (int j = 0; j < 32; ++j)
                                         q[j] = static_cast<uint8_t>(b.qs[j] + 128);
                                     });
  }
}

bool exact_in(float v, const std::string& dtype) {
  if (std::isnan(v) || dtype == "F32") return true;
  const float back = dtype == "F16" ? f16_to_f32(f32_to_f16(v)) : bf16_to_f32(f32_to_bf16(v));
  return back == v;
}

bool all_exact_in(const std::vector<float>& v, const std::string& dtype) {
  for (float x : v)
    if (!exact_in(x, dtype)) return false;
  return true;
}

std::vector<uint8_t> encode(const std::vector<float>& v, const std::string& dtype) {
  if (dtype == "F32") {
    std::vector<uint8_t> b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    return b;
  }
  std::vector<uint8_t> b(v.size() * 2);
  for (size_t i = 0; i < v.size(); ++i) {
    const uint16_t h = dtype == "F16" ? f32_to_f16(v[i]) : f32_to_bf16(v[i]);
    std::memcpy(b.data() + 2 * i, &h, 2);
  }
  return b;
}

// What a reader gets back from encode(v, dtype).
std::vector<float> decode(const std::vector<float>& v, const std::string& dtype) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    out[i] = dtype == "F32"   ? v[i]
             : dtype == "F16" ? f16_to_f32(f32_to_f16(v[i]))
                              : bf16_to_f32(f32_to_bf16(v[i]));
  return out;
}

// Input values (ggml's dequantization) in output row order: [rows, cols].
std::vector<float> dequantized(const GgufTensorInfo& src, int64_t rows, int64_t cols,
                               const std::vector<int64_t>& order) {
  std::vector<float> v(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    ggml_dequantize_row(src, cols, source_row(order, r), v.data() + r * cols);
  return v;
}

struct Compare {
  double diff2 = 0, ref2 = 0, max_abs = 0;
  bool exact = true;
  void add(const float* ref, const float* got, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      const double d = static_cast<double>(got[i]) - ref[i];
      diff2 += d * d;
      ref2 += static_cast<double>(ref[i]) * ref[i];
      max_abs = std::max(max_abs, std::fabs(d));
      if (!(got[i] == ref[i])) exact = false;
    }
  }
  void fill(MlxTensorResult* r) const {
    r->exact = exact;
    r->rel_l2 = ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
    r->max_abs = max_abs;
  }
};

// MLX's dequantization, w = scale * q + bias, in f32 on the stored (decoded) scales/biases.
void check_affine(const GgufTensorInfo& src, const Affine& a, const std::vector<float>& scales,
                  const std::vector<float>& biases, int64_t rows, int64_t cols,
                  const std::vector<int64_t>& order, MlxTensorResult* out) {
  Compare cmp;
  std::vector<float> ref(cols), got(cols);
  const int64_t groups = cols / kGroup, words = cols * a.bits / 32;
  for (int64_t r = 0; r < rows; ++r) {
    ggml_dequantize_row(src, cols, source_row(order, r), ref.data());
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t g = r * groups + c / kGroup;
      const auto q = static_cast<float>(unpack_code(a.packed.data() + r * words, a.bits, c));
      got[c] = scales[g] * q + biases[g];
    }
    cmp.add(ref.data(), got.data(), cols);
  }
  cmp.fill(out);
}

std::vector<uint8_t> words_bytes(const std::vector<uint32_t>& w) {
  std::vector<uint8_t> b(w.size() * 4);
  std::memcpy(b.data(), w.data(), b.size());
  return b;
}

Affine requantize(const std::vector<float>& v, int64_t rows, int64_t cols, int bits) {
  const MlxQuantized q = quantize_to_mlx(v.data(), rows, cols, bits, kGroup, MlxScaleType::F16);
  Affine a;
  a.bits = bits;
  a.packed = q.packed;
  a.scales.resize(q.scales.size() / 2);
  a.biases.resize(a.scales.size());
  for (size_t i = 0; i < a.scales.size(); ++i) {
    uint16_t s, b;
    std::memcpy(&s, q.scales.data() + 2 * i, 2);
    std::memcpy(&b, q.biases.data() + 2 * i, 2);
    a.scales[i] = f16_to_f32(s);
    a.biases[i] = f16_to_f32(b);
  }
  return a;
}

bool is_float(GgufType t) {
  return t == GgufType::F32 || t == GgufType::F16 || t == GgufType::BF16;
}
bool is_exact_quant(GgufType t) {
  return t == GgufType::Q4_0 || t == GgufType::Q4_1 || t == GgufType::Q8_0;
}

}  // namespace

std::vector<int64_t> unpermute_rope_rows(int64_t num_heads, int64_t head_dim) {
  std::vector<int64_t> order(num_heads * head_dim);
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < num_heads; ++h)
    for (int64_t s = 0; s < 2; ++s)
      for (int64_t i = 0; i < half; ++i)
        order[h * head_dim + s * half + i] = h * head_dim + 2 * i + s;
  return order;
}

Result<MlxTensorResult> gguf_tensor_to_mlx(const GgufTensorInfo& t, const std::string& name,
                                           int64_t rows, int64_t cols, const MlxTensorOptions& o) {
  auto fail = [&](const std::string& what) {
    return Status::error("convert",
                         "tensor '" + t.name + "' (" + gguf_type_name(t.type) + "): " + what);
  };
  if (!o.row_order.empty() && static_cast<int64_t>(o.row_order.size()) != rows)
    return fail("row order has the wrong length");
  int64_t block_elems = 0, block_bytes = 0;
  if (!gguf_type_block(t.type, &block_elems, &block_bytes)) return fail("unsupported tensor type");
  if (rows <= 0 || cols <= 0 || cols % block_elems != 0)
    return fail("row length " + std::to_string(cols) + " is not a multiple of the block size");
  if (t.data == nullptr ||
      t.nbytes < static_cast<size_t>(rows * (cols / block_elems) * block_bytes))
    return fail("holds fewer bytes than its shape needs");
  const GgufTensorInfo& src = t;
  const std::string base = name.substr(0, name.rfind(".weight"));
  const bool quantized = !is_float(t.type);
  MlxTensorResult out;

  if (o.quantized_matrix && quantized) {
    const bool exact_map = is_exact_quant(t.type);
    if (!exact_map && !o.allow_lossy)
      return fail(
          "has no exact MLX layout (MLX groups are 32 wide with one scale and bias each); "
          "pass --allow-lossy to requantize it to MLX " +
          std::string(t.type == GgufType::Q4_K ? "4" : "8") + "-bit (not lossless)");
    const Affine a = exact_map ? repack_exact(t, rows, cols, o.row_order)
                               : requantize(dequantized(src, rows, cols, o.row_order), rows, cols,
                                            t.type == GgufType::Q4_K ? 4 : 8);
    // Half holds every ggml half scale; a derived bias (-8d, -128d) may overflow it: then F32.
    out.dtype = all_exact_in(a.scales, "F16") && all_exact_in(a.biases, "F16") ? "F16" : "F32";
    const std::vector<float> s = decode(a.scales, out.dtype), b = decode(a.biases, out.dtype);
    check_affine(src, a, s, b, rows, cols, o.row_order, &out);
    out.bits = a.bits;
    const int64_t groups = cols / kGroup;
    out.tensors.push_back(
        {base + ".weight", "U32", {rows, cols * a.bits / 32}, words_bytes(a.packed)});
    out.tensors.push_back(
        {base + ".scales", out.dtype, {rows, groups}, encode(a.scales, out.dtype)});
    out.tensors.push_back(
        {base + ".biases", out.dtype, {rows, groups}, encode(a.biases, out.dtype)});
  } else {
    const std::vector<float> v = dequantized(src, rows, cols, o.row_order);
    if (o.float_dtype == "auto") {
      out.dtype = all_exact_in(v, "F16") ? "F16" : all_exact_in(v, "BF16") ? "BF16" : "F32";
    } else if (o.float_dtype == "F16" || o.float_dtype == "BF16" || o.float_dtype == "F32") {
      out.dtype = o.float_dtype;
    } else {
      return fail("unknown float dtype '" + o.float_dtype + "' (auto, F16, BF16, F32)");
    }
    Compare cmp;
    const std::vector<float> back = decode(v, out.dtype);
    cmp.add(v.data(), back.data(), rows * cols);
    cmp.fill(&out);
    std::vector<int64_t> shape =
        o.quantized_matrix ? std::vector<int64_t>{rows, cols} : std::vector<int64_t>{rows * cols};
    out.tensors.push_back({name, out.dtype, shape, encode(v, out.dtype)});
  }
  if (!out.exact && !o.allow_lossy)
    return fail("values change when written as " + out.dtype + " (rel-L2 " +
                std::to_string(out.rel_l2) + "); pass --allow-lossy to accept");
  return out;
}

}  // namespace sluice
