#pragma once
// Kernels of the CPU backend. Each works on a slice of the problem and is called from
// cpu_backend.cc, which owns the threading. Shapes: x [n, cols], y [n, w.rows] (row stride w.rows).
#include <cstdint>

#include "backend/backend.h"
#include "backend/quant_blocks.h"

namespace sluice::cpu {

// Which quantized-dot implementation runs (AVX2 when the CPU has it, else scalar).
enum class QuantKernel { Scalar, Avx2 };
QuantKernel quant_kernel();
// Forces a kernel (tests); Avx2 is ignored when the CPU lacks it. Returns the previous one.
QuantKernel set_quant_kernel(QuantKernel k);

// The integer dot of the batched int8 kernels: vpmaddubsw (plain AVX2) or vpdpbusd.
enum class Dot8 { Maddubs, VexVnni, EvexVnni };

// Which batched quantized kernels run, chosen once per backend and passed to every tile: each
// choice gives the same bits (tests and benchmarks switch one off to compare).
struct QuantPaths {
  bool avx512 = false;        // 512-bit registers, vpdpwssd / vpdpbusd (AVX512-VNNI)
  bool amx = false;           // AMX tiles (AMX-INT8), for batches of 16 rows
  Dot8 dot8 = Dot8::Maddubs;  // the 256-bit integer dots (vpdpbusd / vpdpwssd with VNNI)
};
// Every path the CPU has, less SLUICE_CPU_AVX512=0 / SLUICE_CPU_AMX=0.
QuantPaths default_quant_paths();
// Whether matmul_act8_tile and matmul_quant_tile run Q4G32R8 weights with `paths` (vpdpbusd and
// vpdpwssd, no AMX).
bool reads_rows8(const QuantPaths& paths);

// xq[i, b] for rows [i0, i1) of x; same rounding as ref::quantize_act_row.
void quantize_act_rows(const float* x, int64_t i0, int64_t i1, int64_t cols, BlockAct16* xq);

// One block of 8 activation rows, transposed for the batched quantized kernel (lanes = rows).
struct alignas(64) ActGroup8 {
  int32_t q[16][8];  // [pair p][row]: q[2p] | q[2p + 1] << 16
  float d[8];
  float sum[3][8];  // sum[0], sum[1], sum[0] + sum[1]
};
static_assert(sizeof(ActGroup8) == 640);

// Batches of at least this many rows use the batched kernel, fed by pack_act_groups.
constexpr int64_t kQuantGroupMinRows = 5;
bool quant_uses_groups(int64_t n);
// xg[g, b] for groups [g0, g1) of 8 rows of xq [n, nb] (rows >= n zero); xg is [ceil(n/8), nb].
void pack_act_groups(const BlockAct16* xq, int64_t n, int64_t nb, int64_t g0, int64_t g1,
                     ActGroup8* xg);

// y[i, r] for i in [i0, i1), r in [r0, r1): quantized weights against int16 activations.
// xg: pack_act_groups of all rows when quant_uses_groups(n) (then i0 % 8 == 0), else null.
void matmul_quant_tile(const QuantPaths& paths, const BlockAct16* xq, const ActGroup8* xg,
                       int64_t i0, int64_t i1, const Weight& w, int64_t r0, int64_t r1, float* y);
// matmul_quant_tile of Q4G32R8 weights (whole groups of 8 rows), bit-equal to their Q4G32.
void matmul_quant_tile_interleaved(const QuantPaths& paths, const BlockAct16* xq,
                                   const ActGroup8* xg, int64_t i0, int64_t i1, const Weight& w,
                                   int64_t r0, int64_t r1, float* y);

// The batched int16-activation kernel runs on AMX tiles (paths.amx) where the CPU has AMX-INT8
// and Linux grants the tile state (SLUICE_CPU_AMX=0 keeps the AVX-512 kernels): the same bits.

// One block of 16 activation rows as AMX B tiles: each int16 q split into bytes, q = 256 * hi
// + lo, laid out [k quad][row][4 bytes] (the tiles' byte-quad layout).
struct alignas(64) ActTile16 {
  uint8_t lo[8][64];
  int8_t hi[8][64];
  float d[16];
  float sum[3][16];  // sum[0], sum[1], sum[0] + sum[1]
};
static_assert(sizeof(ActTile16) == 1280);
// xt[g, b] for groups [g0, g1) of 16 rows of xq [n, nb] (rows >= n zero); xt is [ceil(n/16), nb].
void pack_act_tiles16(const BlockAct16* xq, int64_t n, int64_t nb, int64_t g0, int64_t g1,
                      ActTile16* xt);
// matmul_quant_tile with AMX tiles (xt from pack_act_tiles16, then i0 % 16 == 0; null: the
// few-rows kernel).
void matmul_quant_tile_amx(const QuantPaths& paths, const BlockAct16* xq, const ActTile16* xt,
                           int64_t i0, int64_t i1, const Weight& w, int64_t r0, int64_t r1,
                           float* y);

// The int8 mode's batched kernels (Q4G32, Q8G32) on AMX tiles, where paths.amx: one tile
// product per block, the same bits as matmul_act8_tile.
struct alignas(64) ActTile16Int8 {
  int8_t q[8][64];  // [k quad][row][4 bytes]
  float d[16];
  float sum[16];
};
static_assert(sizeof(ActTile16Int8) == 640);
void pack_act8_tiles16(const BlockAct8* xq, int64_t n, int64_t nb, int64_t g0, int64_t g1,
                       ActTile16Int8* xt);
void matmul_act8_tile_amx(const QuantPaths& paths, const BlockAct8* xq, const ActTile16Int8* xt,
                          int64_t i0, int64_t i1, const Weight& w, int64_t r0, int64_t r1,
                          float* y);

// int8 activations for Q4G32 and Q8G32 weights (the backend's int8 mode): the same shape of API.
// Output per row, in every path:  acc = fma(float(S), dw * dx, acc); acc = fma(ow, sum, acc).
void quantize_act8_rows(const float* x, int64_t i0, int64_t i1, int64_t cols, BlockAct8* xq);
// One block of 8 activation rows for the batched int8 kernel (lanes = rows).
struct alignas(64) ActQuads8 {
  int32_t q[8][8];  // [quad p][row]: bytes q[4p .. 4p+3]
  float d[8];
  float sum[8];
};
static_assert(sizeof(ActQuads8) == 320);
void pack_act8_groups(const BlockAct8* xq, int64_t n, int64_t nb, int64_t g0, int64_t g1,
                      ActQuads8* xg);
// Q4G32 or Q8G32 weights (Q8G16 stays on int16 activations); the batched kernels use
// paths.dot8 and paths.avx512.
void matmul_act8_tile(const QuantPaths& paths, const BlockAct8* xq, const ActQuads8* xg, int64_t i0,
                      int64_t i1, const Weight& w, int64_t r0, int64_t r1, float* y);

// y[i, r] for i in [i0, i1), r in [r0, r1): F32/F16/BF16 weights, f32 activations.
void matmul_float_tile(const float* x, int64_t i0, int64_t i1, const Weight& w, int64_t r0,
                       int64_t r1, float* y);

// Row-wise / element-wise ops on slices.
void rms_norm_rows(const float* x, int64_t n, int64_t dim, const float* weight, float eps,
                   float* y);
// cos/sin tables are [n, rotary_dim/2].
void rope_rows(float* x, int64_t n, int64_t num_heads, int64_t head_dim, const float* cos_t,
               const float* sin_t, int64_t rotary_dim, bool interleaved);
void silu_mul_span(const float* gate, const float* up, int64_t count, float* out);
// out = gelu_tanh(gate) * up; up null: gelu_tanh(gate) alone (out may alias gate).
void gelu_mul_span(const float* gate, const float* up, int64_t count, float* out);
void scale_span(float* x, int64_t count, float s);
void add_span(float* x, const float* y, int64_t count);
void add_bias_rows(float* x, int64_t n, int64_t dim, const float* bias);
// The first index of the max of x[0, n), NaN skipped; 0 when every value is -inf or NaN.
int64_t argmax_row(const float* x, int64_t n);
// out[i] = x[i] as IEEE half bits, rounded to nearest even (common/half.h's f32_to_f16).
void f32_to_f16_span(const float* x, int64_t count, uint16_t* out);

// Attention for a tile of query rows: tokens [0, num_tokens) of one sequence x heads
// [0, num_heads), reading KV heads kvh.. (heads_per_kv query heads each). Row (i, h) is q[i *
// token_stride + h * head_dim] (out likewise) = softmax(q . K[0..positions[i]]^T * scale) V, K/V
// read through block_table. A row's result is the same bit for bit whatever tile it is computed in.
struct AttentionTileArgs {
  const float* q = nullptr;
  float* out = nullptr;
  int64_t token_stride = 0;  // floats between consecutive tokens' rows
  int64_t num_tokens = 0;
  int64_t num_heads = 0;
  const int32_t* positions = nullptr;  // [num_tokens]
  const KvLayerView* cache = nullptr;
  const int32_t* block_table = nullptr;
  int64_t kvh = 0;           // KV head of rows [0, heads_per_kv)
  int64_t heads_per_kv = 1;  // row h reads KV head kvh + h / heads_per_kv
  float scale = 1.0f;
  const float* sinks = nullptr;  // [num_heads] sink logit of row h's head (null: none)
};
void attention_tile(const AttentionTileArgs& args);

}  // namespace sluice::cpu
