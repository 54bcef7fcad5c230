// Importers: GGUF tensors and MLX affine-quantized tensors -> Weight of the internal family.
#include "model/load/quant_import.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "backend/quant_blocks.h"
#include "common/half.h"
#include "model/load/quant_import_ggml.h"

namespace sluice {
namespace {

template <typename B>
B load_block(const uint8_t* p) {
  B b;
  std::memcpy(&b, p, sizeof(B));
  return b;
}

uint16_t h(float f) {
  return f32_to_f16(f);
}
float f(uint16_t v) {
  return f16_to_f32(v);
}

// Packs 32 codes 0..15 into Q4G32 nibbles (element j and j+16 share byte j).
void pack_q4(const uint8_t* codes, BlockQ4G32* out) {
  for (int j = 0; j < 16; ++j)
    out->codes[j] = static_cast<uint8_t>((codes[j] & 15) | ((codes[j + 16] & 15) << 4));
}

// Converts each input block (bytes in_bytes, elements in_elems) of every row into
// in_elems/32 output blocks of type Out, rows in parallel.
template <typename Out, typename Fn>
Weight convert(DType dtype, const uint8_t* data, int64_t rows, int64_t cols, int64_t in_elems,
               size_t in_bytes, Fn&& fn) {
  std::vector<uint8_t> bytes(static_cast<size_t>(rows) * row_bytes(dtype, cols));
  auto* out = reinterpret_cast<Out*>(bytes.data());
  const int64_t per_row = cols / in_elems, out_per_in = in_elems / kQuantBlock;
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 20))
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < per_row; ++b) {
      const int64_t i = r * per_row + b;
      fn(data + static_cast<size_t>(i) * in_bytes, out + i * out_per_in);
    }
  return Weight::from_owned(dtype, rows, cols, std::move(bytes));
}

Weight import_q4_0(const uint8_t* d, int64_t rows, int64_t cols) {
  return convert<BlockQ4G32>(DType::Q4G32, d, rows, cols, 32, sizeof(ggml::BlockQ4_0),
                             [](const uint8_t* p, BlockQ4G32* o) {
                               const auto b = load_block<ggml::BlockQ4_0>(p);
                               o->scale = b.d;
                               o->offset = h(-8.0f * f(b.d));  // exact in half
                               std::memcpy(o->codes, b.qs, 16);
                             });
}

// Q5_0 / Q5_1: 5-bit codes into Q8G32.
template <typename B>
Weight import_q5(const uint8_t* d, int64_t rows, int64_t cols) {
  return convert<BlockQ8G32>(DType::Q8G32, d, rows, cols, 32, sizeof(B),
                             [](const uint8_t* p, BlockQ8G32* o) {
                               const auto b = load_block<B>(p);
                               uint32_t qh;
                               std::memcpy(&qh, b.qh, 4);
                               constexpr bool has_min = std::is_same_v<B, ggml::BlockQ5_1>;
                               for (int j = 0; j < 16; ++j) {
                                 const int lo = (b.qs[j] & 15) | (((qh >> j) & 1) << 4);
                                 const int hi = (b.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
                                 o->codes[j] = static_cast<int8_t>(has_min ? lo : lo - 16);
                                 o->codes[j + 16] = static_cast<int8_t>(has_min ? hi : hi - 16);
                               }
                               o->scale = b.d;
                               if constexpr (has_min) {
                                 o->offset = b.m;
                               } else {
                                 o->offset = 0;
                               }
                             });
}

Weight import_q8_0(const uint8_t* d, int64_t rows, int64_t cols) {
  return convert<BlockQ8G32>(DType::Q8G32, d, rows, cols, 32, sizeof(ggml::BlockQ8_0),
                             [](const uint8_t* p, BlockQ8G32* o) {
                               const auto b = load_block<ggml::BlockQ8_0>(p);
                               o->scale = b.d;
                               o->offset = 0;
                               std::memcpy(o->codes, b.qs, 32);
                             });
}

// An MXFP4 tensor's scale exponents: "" when every block's is usable, else what is wrong.
std::string mxfp4_scale_error(const uint8_t* d, int64_t rows, int64_t cols) {
  const int64_t blocks = rows * (cols / 32);
  for (int64_t i = 0; i < blocks; ++i) {
    const int e = d[i * sizeof(ggml::BlockMxfp4)];
    if (e == 255) return "block " + std::to_string(i) + " has a NaN scale (255): corrupted data";
    if (e - 127 > 16)  // the tensor-core paths take 2^(e - 128) as a half
      return "block " + std::to_string(i) + " has scale 2^" + std::to_string(e - 127) +
             " (at most 2^16 is supported)";
  }
  return "";
}

Weight import_q4_k(const uint8_t* d, int64_t rows, int64_t cols) {
  return convert<BlockQ4G32>(DType::Q4G32, d, rows, cols, 256, sizeof(ggml::BlockQ4_K),
                             [](const uint8_t* p, BlockQ4G32* o) {
                               const auto b = load_block<ggml::BlockQ4_K>(p);
                               const float dd = f(b.d), dm = f(b.dmin);
                               for (int j = 0; j < 8; ++j) {
                                 int sc, m;
                                 ggml::k4_scale_min(b.scales, j, &sc, &m);
                                 o[j].scale = h(dd * static_cast<float>(sc));
                                 o[j].offset = h(-dm * static_cast<float>(m));
                                 const uint8_t* q = b.qs + 32 * (j / 2);
                                 uint8_t codes[32];
                                 for (int l = 0; l < 32; ++l)
                                   codes[l] = (j % 2 == 0) ? (q[l] & 15) : (q[l] >> 4);
                                 pack_q4(codes, &o[j]);
                               }
                             });
}

Weight import_q5_k(const uint8_t* d, int64_t rows, int64_t cols) {
  return convert<BlockQ8G32>(DType::Q8G32, d, rows, cols, 256, sizeof(ggml::BlockQ5_K),
                             [](const uint8_t* p, BlockQ8G32* o) {
                               const auto b = load_block<ggml::BlockQ5_K>(p);
                               const float dd = f(b.d), dm = f(b.dmin);
                               for (int j = 0; j < 8; ++j) {
                                 int sc, m;
                                 ggml::k4_scale_min(b.scales, j, &sc, &m);
                                 o[j].scale = h(dd * static_cast<float>(sc));
                                 o[j].offset = h(-dm * static_cast<float>(m));
                                 const uint8_t* q = b.qs + 32 * (j / 2);
                                 for (int l = 0; l < 32; ++l) {
                                   const int lo = (j % 2 == 0) ? (q[l] & 15) : (q[l] >> 4);
                                   const int hi = (b.qh[l] >> j) & 1;
                                   o[j].codes[l] = static_cast<int8_t>(lo | (hi << 4));
                                 }
                               }
                             });
}

// Element e of a Q6_K block as its signed code, q - 32 in [-32, 31].
int q6_k_code(const ggml::BlockQ6_K& b, int e) {
  const int n = e / 128, k = (e % 128) / 32, l = e % 32;
  const uint8_t lq = b.ql[64 * n + l + 32 * (k & 1)];
  const int lo = k < 2 ? (lq & 15) : (lq >> 4);
  const int hi = (b.qh[32 * n + l] >> (2 * k)) & 3;
  return (lo | (hi << 4)) - 32;
}

// A code into either block Q6_K imports to (offsets stay 0: convert() zeroes the blocks).
void set_q6_code(BlockQ8G16& o, int j, int code) {
  o.codes[j] = static_cast<int8_t>(code);
}
void set_q6_code(BlockQ6G16& o, int j, int code) {
  q6g16_set_code(o, j, code);
}

// Q6_K into Q8G16 or (the same values in 6-bit codes) Q6G16.
template <typename Out>
Weight import_q6_k(DType dtype, const uint8_t* d, int64_t rows, int64_t cols) {
  return convert<Out>(dtype, d, rows, cols, 256, sizeof(ggml::BlockQ6_K),
                      [](const uint8_t* p, Out* o) {
                        const auto b = load_block<ggml::BlockQ6_K>(p);
                        const float dd = f(b.d);
                        for (int e = 0; e < 256; ++e)
                          set_q6_code(o[e / 32], e % 32, q6_k_code(b, e));
                        for (int g = 0; g < 16; ++g)
                          o[g / 2].scale[g % 2] = h(dd * static_cast<float>(b.scales[g]));
                      });
}

struct GgufBlock {
  int64_t elems = 0;
  size_t bytes = 0;
};
GgufBlock gguf_block(GgufType t) {
  switch (t) {
    case GgufType::F32:
      return {1, 4};
    case GgufType::F16:
    case GgufType::BF16:
      return {1, 2};
    case GgufType::Q4_0:
      return {32, sizeof(ggml::BlockQ4_0)};
    case GgufType::Q4_1:
      return {32, sizeof(ggml::BlockQ4_1)};
    case GgufType::Q5_0:
      return {32, sizeof(ggml::BlockQ5_0)};
    case GgufType::Q5_1:
      return {32, sizeof(ggml::BlockQ5_1)};
    case GgufType::Q8_0:
      return {32, sizeof(ggml::BlockQ8_0)};
    case GgufType::Q4_K:
      return {256, sizeof(ggml::BlockQ4_K)};
    case GgufType::Q5_K:
      return {256, sizeof(ggml::BlockQ5_K)};
    case GgufType::Q6_K:
      return {256, sizeof(ggml::BlockQ6_K)};
    case GgufType::MXFP4:
      return {32, sizeof(ggml::BlockMxfp4)};
    default:
      return {};
  }
}

}  // namespace

Result<Weight> import_gguf_tensor(const GgufTensorInfo& t, int64_t rows, int64_t cols,
                                  OptionalDTypes dtypes) {
  auto fail = [&](const std::string& what) {
    return Status::error("gguf",
                         "tensor '" + t.name + "' (" + gguf_type_name(t.type) + "): " + what);
  };
  const GgufBlock blk = gguf_block(t.type);
  if (blk.elems == 0) return fail("unsupported tensor type");
  if (rows <= 0 || cols <= 0) return fail("empty shape");
  int64_t elems = 1;
  for (int64_t s : t.shape) elems *= s;
  if (elems != rows * cols)
    return fail("has " + std::to_string(elems) + " elements, expected " + std::to_string(rows) +
                " x " + std::to_string(cols));
  if (cols % blk.elems != 0)
    return fail("row length " + std::to_string(cols) + " is not a multiple of the block size " +
                std::to_string(blk.elems));
  const size_t need = static_cast<size_t>(rows * (cols / blk.elems)) * blk.bytes;
  if (t.data == nullptr || t.nbytes < need)
    return fail("data holds " + std::to_string(t.nbytes) + " bytes, expected " +
                std::to_string(need));
  switch (t.type) {
    case GgufType::F32:
      return Weight::from_mapped(DType::F32, rows, cols, t.data);
    case GgufType::F16:
      return Weight::from_mapped(DType::F16, rows, cols, t.data);
    case GgufType::BF16:
      return Weight::from_mapped(DType::BF16, rows, cols, t.data);
    case GgufType::Q4_1:
      static_assert(sizeof(ggml::BlockQ4_1) == sizeof(BlockQ4G32));
      return Weight::from_mapped(DType::Q4G32, rows, cols, t.data);  // same bytes
    case GgufType::Q4_0:
      return import_q4_0(t.data, rows, cols);
    case GgufType::Q5_0:
      return import_q5<ggml::BlockQ5_0>(t.data, rows, cols);
    case GgufType::Q5_1:
      return import_q5<ggml::BlockQ5_1>(t.data, rows, cols);
    case GgufType::Q8_0:
      return import_q8_0(t.data, rows, cols);
    case GgufType::Q4_K:
      return import_q4_k(t.data, rows, cols);
    case GgufType::Q5_K:
      return import_q5_k(t.data, rows, cols);
    case GgufType::Q6_K:
      return dtypes.q6g16 ? import_q6_k<BlockQ6G16>(DType::Q6G16, t.data, rows, cols)
                          : import_q6_k<BlockQ8G16>(DType::Q8G16, t.data, rows, cols);
    case GgufType::MXFP4:
      if (const std::string bad = mxfp4_scale_error(t.data, rows, cols); !bad.empty())
        return fail(bad);
      static_assert(sizeof(ggml::BlockMxfp4) == sizeof(BlockMxfp4));
      return Weight::from_mapped(DType::MXFP4, rows, cols, t.data);  // same bytes
    default:
      return fail("unsupported tensor type");
  }
}

Result<Weight> rows8_if_picked(Result<Weight> w, int64_t rows, OptionalDTypes dtypes) {
  if (!w || !dtypes.q4g32_rows8 || w->dtype != DType::Q4G32 || rows % 8 != 0) return w;
  return q4g32_to_rows8(*w);
}

Result<Weight> import_mxfp4_ocp(const uint8_t* blocks, const uint8_t* scales, int64_t rows,
                                int64_t cols) {
  if (cols % 32 != 0)
    return Status::error("mxfp4", std::to_string(cols) + " columns are not a multiple of 32");
  // Into GGUF's block order (low nibbles elements 0..15, high nibbles 16..31): BlockMxfp4.
  const int64_t n = rows * (cols / 32);
  std::vector<uint8_t> gguf(static_cast<size_t>(n) * sizeof(BlockMxfp4));
  for (int64_t b = 0; b < n; ++b) {
    uint8_t* out = &gguf[b * sizeof(BlockMxfp4)];
    const uint8_t* in = blocks + b * 16;
    uint8_t codes[32];
    for (int k = 0; k < 16; ++k) codes[2 * k] = in[k] & 15, codes[2 * k + 1] = in[k] >> 4;
    out[0] = scales[b];
    for (int j = 0; j < 16; ++j) out[1 + j] = static_cast<uint8_t>(codes[j] | codes[j + 16] << 4);
  }
  if (const std::string bad = mxfp4_scale_error(gguf.data(), rows, cols); !bad.empty())
    return Status::error("mxfp4", bad);
  return Weight::from_owned(DType::MXFP4, rows, cols, std::move(gguf));
}

namespace {

float load_scale(const void* p, MlxScaleType st, int64_t i) {
  switch (st) {
    case MlxScaleType::F32: {
      float v;
      std::memcpy(&v, static_cast<const uint8_t*>(p) + 4 * i, 4);
      return v;
    }
    case MlxScaleType::F16:
    case MlxScaleType::BF16: {
      uint16_t v;
      std::memcpy(&v, static_cast<const uint8_t*>(p) + 2 * i, 2);
      return st == MlxScaleType::F16 ? f16_to_f32(v) : bf16_to_f32(v);
    }
  }
  return 0.0f;
}

}  // namespace

Result<Weight> import_mlx_quantized(const uint32_t* packed, const void* scales, const void* biases,
                                    MlxScaleType scale_type, int bits, int group_size, int64_t rows,
                                    int64_t cols) {
  if (bits != 4 && bits != 8)
    return Status::error("mlx", std::to_string(bits) + "-bit codes are not supported (4, 8)");
  if (group_size != 32 && group_size != 64 && group_size != 128)
    return Status::error(
        "mlx", "group size " + std::to_string(group_size) + " is not supported (32, 64, 128)");
  if (rows <= 0 || cols <= 0 || cols % group_size != 0)
    return Status::error("mlx", "row length " + std::to_string(cols) +
                                    " is not a multiple of the group size " +
                                    std::to_string(group_size));
  if (!packed || !scales || !biases) return Status::error("mlx", "missing tensor data");
  const DType dtype = bits == 4 ? DType::Q4G32 : DType::Q8G32;
  std::vector<uint8_t> bytes(static_cast<size_t>(rows) * row_bytes(dtype, cols));
  const int64_t words_per_row = cols * bits / 32, groups_per_row = cols / group_size;
  const int64_t nb = cols / kQuantBlock;
  const uint32_t mask = (1u << bits) - 1;
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 20))
  for (int64_t r = 0; r < rows; ++r) {
    const uint32_t* pw = packed + r * words_per_row;
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t g = r * groups_per_row + b * kQuantBlock / group_size;
      const float s = load_scale(scales, scale_type, g), bias = load_scale(biases, scale_type, g);
      uint8_t codes[32];
      for (int j = 0; j < 32; ++j) {
        const int64_t c = b * kQuantBlock + j;
        uint32_t word;
        std::memcpy(&word, pw + c * bits / 32, 4);  // tensor data may be unaligned
        codes[j] = static_cast<uint8_t>((word >> ((c % (32 / bits)) * bits)) & mask);
      }
      if (bits == 4) {
        auto* o = reinterpret_cast<BlockQ4G32*>(bytes.data()) + r * nb + b;
        o->scale = f32_to_f16(s);
        o->offset = f32_to_f16(bias);
        pack_q4(codes, o);
      } else {
        // w = s*q + bias = s*(q - 128) + (bias + 128 s)
        auto* o = reinterpret_cast<BlockQ8G32*>(bytes.data()) + r * nb + b;
        o->scale = f32_to_f16(s);
        o->offset = f32_to_f16(bias + 128.0f * s);
        for (int j = 0; j < 32; ++j) o->codes[j] = static_cast<int8_t>(codes[j] - 128);
      }
    }
  }
  return Weight::from_owned(dtype, rows, cols, std::move(bytes));
}

}  // namespace sluice
