// Transcriptions of ggml's dequantize_row_* (ggml-quants.c): same formulas, same f32 order.
#include "convert/ggml_dequant.h"

#include <cstring>

#include "common/half.h"
#include "model/load/quant_import_ggml.h"

namespace sluice {

namespace {

template <typename B>
B block_at(const uint8_t* p, int64_t i) {
  B b;
  std::memcpy(&b, p + i * sizeof(B), sizeof(B));
  return b;
}

float h(uint16_t v) {
  return f16_to_f32(v);
}

// Q4_K / Q5_K super-block (qh null for Q4_K): y = (d*sc) * q - (dmin*m) per sub-block of 32.
void k_quant(uint16_t d16, uint16_t dmin16, const uint8_t* scales, const uint8_t* qs,
             const uint8_t* qh, float* y) {
  const float d = h(d16), dmin = h(dmin16);
  for (int j = 0; j < 8; ++j) {
    int sc, m;
    ggml::k4_scale_min(scales, j, &sc, &m);
    const float d1 = d * sc, m1 = dmin * m;
    const uint8_t* q = qs + 32 * (j / 2);
    for (int l = 0; l < 32; ++l) {
      int v = (j % 2 == 0) ? (q[l] & 15) : (q[l] >> 4);
      if (qh) v |= ((qh[l] >> j) & 1) << 4;
      y[32 * j + l] = d1 * v - m1;
    }
  }
}

}  // namespace

bool ggml_dequantize_row(const GgufTensorInfo& t, int64_t cols, int64_t row, float* y) {
  int64_t block_elems = 0, block_bytes = 0;
  if (!gguf_type_block(t.type, &block_elems, &block_bytes)) return false;
  const uint8_t* p = t.data + row * (cols / block_elems) * block_bytes;
  const int64_t nb = cols / block_elems;
  switch (t.type) {
    case GgufType::F32:
      std::memcpy(y, p, cols * 4);
      return true;
    case GgufType::F16:
    case GgufType::BF16:
      for (int64_t i = 0; i < cols; ++i) {
        uint16_t v;
        std::memcpy(&v, p + 2 * i, 2);
        y[i] = t.type == GgufType::F16 ? f16_to_f32(v) : bf16_to_f32(v);
      }
      return true;
    case GgufType::Q4_0:
      for (int64_t i = 0; i < nb; ++i, y += 32) {
        const auto b = block_at<ggml::BlockQ4_0>(p, i);
        for (int j = 0; j < 16; ++j) {
          y[j] = ((b.qs[j] & 15) - 8) * h(b.d);
          y[j + 16] = ((b.qs[j] >> 4) - 8) * h(b.d);
        }
      }
      return true;
    case GgufType::Q4_1:
      for (int64_t i = 0; i < nb; ++i, y += 32) {
        const auto b = block_at<ggml::BlockQ4_1>(p, i);
        for (int j = 0; j < 16; ++j) {
          y[j] = (b.qs[j] & 15) * h(b.d) + h(b.m);
          y[j + 16] = (b.qs[j] >> 4) * h(b.d) + h(b.m);
        }
      }
      return true;
    case GgufType::Q8_0:
      for (int64_t i = 0; i < nb; ++i, y += 32) {
        const auto b = block_at<ggml::BlockQ8_0>(p, i);
        for (int j = 0; j < 32; ++j) y[j] = b.qs[j] * h(b.d);
      }
      return true;
    case GgufType::Q4_K:
      for (int64_t i = 0; i < nb; ++i, y += 256) {
        const auto b = block_at<ggml::BlockQ4_K>(p, i);
        k_quant(b.d, b.dmin, b.scales, b.qs, nullptr, y);
      }
      return true;
    case GgufType::Q5_K:
      for (int64_t i = 0; i < nb; ++i, y += 256) {
        const auto b = block_at<ggml::BlockQ5_K>(p, i);
        k_quant(b.d, b.dmin, b.scales, b.qs, b.qh, y);
      }
      return true;
    case GgufType::Q6_K:
      for (int64_t i = 0; i < nb; ++i, y += 256) {
        const auto b = block_at<ggml::BlockQ6_K>(p, i);
        const float d = h(b.d);
        for (int e = 0; e < 256; ++e) {
          const int n = e / 128, k = (e % 128) / 32, l = e % 32;
          const uint8_t lq = b.ql[64 * n + l + 32 * (k & 1)];
          const int lo = k < 2 ? (lq & 15) : (lq >> 4);
          const int hi = (b.qh[32 * n + l] >> (2 * k)) & 3;
          y[e] = d * b.scales[e / 16] * ((lo | (hi << 4)) - 32);
        }
      }
      return true;
    default:
      return false;
  }
}

}  // namespace sluice
