// The CPU backend: SIMD kernels (cpu_kernels.h) driven by OpenMP over tiles of the output.
#include "backend/cpu/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/encoder_kernels.h"
#include "backend/cpu/expert_products.h"
#include "backend/cpu/matmul_tiles.h"
#include "backend/cpu/recurrent_kernels.h"
#include "backend/cpu/threading.h"
#include "backend/cpu/vision_kernels.h"
#include "backend/expert_groups.h"
#include "backend/reference/ref_ops.h"
#include "common/assert.h"
#include "common/env.h"
#include "common/profile.h"

namespace sluice {
namespace {

using cpu::parallel_chunks;

constexpr int64_t kElemGrain = 16384;  // element-wise ops: elements per parallel chunk
int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

using cpu::MatmulTile;
using cpu::plan_matmul_tiles;
using cpu::run_matmul_tiles;

class CpuBackend final : public Backend {
 public:
  CpuBackend(int num_threads, bool int8_activations, const cpu::QuantPaths& paths)
      : threads_(cpu::resolve_threads(num_threads)),
        int8_activations_(int8_activations),
        paths_(paths) {}

  std::string name() const override { return "cpu"; }
  // No 6-bit kernels: Q6G16 is read as Q8G16 (the same values).
  Weight place(const Weight& w) override { return w.dtype == DType::Q6G16 ? q6g16_to_q8g16(w) : w; }
  // Fixed per-row reduction orders in every kernel (tests/unit/backend/batch_invariance_test.cc).
  bool batch_invariant() const override { return true; }

  void matmul(const float* x, int64_t n, const Weight& w, float* y) override {
    if (n <= 0 || w.rows <= 0) return;
    const auto timed = op("matmul", n, [&] {
      return std::string(dtype_name(w.dtype)) + " " + std::to_string(w.rows) + "x" +
             std::to_string(w.cols);
    });
    if (is_quantized(w.dtype)) {
      const Product p{&w, y};
      with_quantized_kernel(w.dtype,
                            [&](auto&&... kernel) { matmul_quantized(x, n, &p, 1, kernel...); });
    } else {
      run_matmul_tiles(threads_, n, w.rows, w.row_stride(),
                       [&](int64_t i0, int64_t i1, int64_t r0, int64_t r1) {
                         cpu::matmul_float_tile(x, i0, i1, w, r0, r1, y);
                       });
    }
  }

  // Quantized products of one dtype and width (q/k/v, gate/up) share one activation
  // quantization and one parallel region over all their tiles (the same tile kernels, so the
  // same bits as separate products).
  void matmul_many(const float* x, int64_t n, const Product* ps, int count) override {
    bool shared = count > 1 && n > 0 && is_quantized(ps[0].w->dtype);
    for (int i = 1; i < count && shared; ++i)
      shared = ps[i].w->dtype == ps[0].w->dtype && ps[i].w->cols == ps[0].w->cols;
    if (!shared) return Backend::matmul_many(x, n, ps, count);
    const auto timed = op("matmul_many", n, [&] {
      std::string d = dtype_name(ps[0].w->dtype);
      for (int i = 0; i < count; ++i) d += (i ? "+" : " ") + std::to_string(ps[i].w->rows);
      return d + "x" + std::to_string(ps[0].w->cols);
    });
    with_quantized_kernel(ps[0].w->dtype,
                          [&](auto&&... kernel) { matmul_quantized(x, n, ps, count, kernel...); });
    add_product_biases(n, ps, count);
  }

  // Expert products of a decode step run in one parallel region (below); larger steps take
  // Backend's defaults (one matmul per expert, through the batched kernels). Backend's
  // matmul_experts_glu comes here after its GLU.
  void matmul_experts(const float* x, bool x_per_slot, int64_t n, const Weight* experts,
                      int64_t num_experts, const int32_t* ids, int64_t k, float* y) override {
    const ExpertProduct p{experts, nullptr, y};
    if (!experts_in_one_region(x, x_per_slot, n, &p, 1, num_experts, ids, k))
      Backend::matmul_experts(x, x_per_slot, n, experts, num_experts, ids, k, y);
  }
  void matmul_experts_many(const float* x, int64_t n, const ExpertProduct* ps, int count,
                           int64_t num_experts, const int32_t* ids, int64_t k,
                           float* scratch) override {
    if (!experts_in_one_region(x, false, n, ps, count, num_experts, ids, k))
      Backend::matmul_experts_many(x, n, ps, count, num_experts, ids, k, scratch);
  }
  void embedding(const Weight& table, const int32_t* ids, int64_t n, float* out) override {
    const auto timed = op("embedding", n);
    for (int64_t i = 0; i < n; ++i)
      SLUICE_ASSERT(ids[i] >= 0 && ids[i] < table.rows, "embedding id out of range");
    parallel_chunks(n * table.cols >= kElemGrain ? threads_ : 1, n, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) dequantize_row(table, ids[i], out + i * table.cols);
    });
  }

  void rms_norm(const float* x, int64_t n, int64_t dim, const float* weight, float eps,
                float* y) override {
    const auto timed = op("rms_norm", n);
    parallel_chunks(threads_for(n * dim), n, std::max<int64_t>(1, kElemGrain / dim),
                    [&](int64_t i0, int64_t i1) {
                      cpu::rms_norm_rows(x + i0 * dim, i1 - i0, dim, weight, eps, y + i0 * dim);
                    });
  }

  void rope(float* x, int64_t n, int64_t num_heads, int64_t head_dim, const int32_t* positions,
            const RopeParams& p) override {
    const auto timed = op("rope", n);
    const int64_t half = p.rotary_dim / 2;
    SLUICE_ASSERT(p.rotary_dim <= head_dim && p.rotary_dim % 2 == 0, "bad rotary_dim");
    if (half == 0 || n == 0) return;
    std::vector<float> default_freq;
    const float* freq = p.inv_freq;
    if (!freq) {
      default_freq.resize(static_cast<size_t>(half));
      ref::default_inv_freq(p, default_freq.data());
      freq = default_freq.data();
    }
    cos_.resize(static_cast<size_t>(n * half));  // [n, half]
    sin_.resize(cos_.size());
    const int64_t row = num_heads * head_dim;
    parallel_chunks(
        threads_for(n * row), n, std::max<int64_t>(1, kElemGrain / row),
        [&](int64_t t0, int64_t t1) {
          for (int64_t t = t0; t < t1; ++t) {
            for (int64_t i = 0; i < half; ++i) {
              const float angle = static_cast<float>(positions[p.plane_of(i) * n + t]) * freq[i];
              cos_[t * half + i] = std::cos(angle);
              sin_[t * half + i] = std::sin(angle);
            }
          }
          cpu::rope_rows(x + t0 * row, t1 - t0, num_heads, head_dim, cos_.data() + t0 * half,
                         sin_.data() + t0 * half, p.rotary_dim, p.interleaved);
        });
  }

  void silu_mul(const float* gate, const float* up, int64_t count, float* out) override {
    const auto timed = op("silu_mul", 1);
    parallel_chunks(threads_for(count), count, kElemGrain, [&](int64_t b, int64_t e) {
      cpu::silu_mul_span(gate + b, up + b, e - b, out + b);
    });
  }

  void gelu_mul(const float* gate, const float* up, int64_t count, float* out) override {
    const auto timed = op("gelu_mul", 1);
    parallel_chunks(threads_for(count), count, kElemGrain, [&](int64_t b, int64_t e) {
      cpu::gelu_mul_span(gate + b, up + b, e - b, out + b);
    });
  }

  void swiglu_clamped(const float* gate, const float* up, int64_t count, float alpha, float limit,
                      float* out) override {
    const auto timed = op("swiglu_clamped", 1);
    parallel_chunks(threads_for(count), count, kElemGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const float g = std::min(gate[i], limit), u = std::clamp(up[i], -limit, limit);
        out[i] = (u + 1.0f) * g / (1.0f + std::exp(-alpha * g));
      }
    });
  }

  void scale(float* x, int64_t count, float s) override {
    const auto timed = op("scale", 1);
    parallel_chunks(threads_for(count), count, kElemGrain,
                    [&](int64_t b, int64_t e) { cpu::scale_span(x + b, e - b, s); });
  }

  void argmax_rows(const float* x, int64_t rows, int64_t cols, int32_t* out) override {
    const auto timed = op("argmax_rows", rows);
    parallel_chunks(threads_for(rows * cols), rows, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        out[i] = static_cast<int32_t>(cpu::argmax_row(x + i * cols, cols));
    });
  }

  void add(float* x, const float* y, int64_t count) override {
    const auto timed = op("add", 1);
    parallel_chunks(threads_for(count), count, kElemGrain,
                    [&](int64_t b, int64_t e) { cpu::add_span(x + b, y + b, e - b); });
  }

  void add_bias(float* x, int64_t n, int64_t dim, const float* bias) override {
    const auto timed = op("add_bias", n);
    parallel_chunks(
        threads_for(n * dim), n, std::max<int64_t>(1, kElemGrain / dim),
        [&](int64_t i0, int64_t i1) { cpu::add_bias_rows(x + i0 * dim, i1 - i0, dim, bias); });
  }

  void layer_norm(const float* x, int64_t n, int64_t dim, const float* weight, const float* bias,
                  float eps, float* y) override {
    const auto timed = op("layer_norm", n);
    parallel_chunks(threads_for(n * dim), n, std::max<int64_t>(1, kElemGrain / dim),
                    [&](int64_t i0, int64_t i1) {
                      cpu::layer_norm_rows(x + i0 * dim, i1 - i0, dim, weight, bias, eps,
                                           y + i0 * dim);
                    });
  }

  void gelu_erf(const float* x, int64_t count, float* out) override {
    const auto timed = op("gelu_erf", 1);
    parallel_chunks(threads_for(count * 8), count, kElemGrain / 8,
                    [&](int64_t b, int64_t e) { cpu::gelu_erf_span(x + b, e - b, out + b); });
  }

  // Each (sequence, head)'s K and V laid out once (in parallel), then work items of (sequence,
  // head, block of kAttnRows query rows) shared out over the threads.
  void bidirectional_attention(const float* q, const float* k, const float* v, int64_t num_heads,
                               int64_t head_dim, const SequenceBatch& batch, float scale,
                               float* out) override {
    const auto timed = op("bidirectional_attention", batch.num_tokens);
    constexpr int64_t kAttnRows = cpu::kMaxAttentionRows;
    struct Head {
      int64_t b, e, h;
      size_t at;  // its layout's offset in attn_heads_
    };
    std::vector<Head> heads;
    struct Item {
      int64_t head, t0, t1;
    };
    std::vector<Item> items;
    size_t floats = 0;
    for (int64_t s = 0; s < batch.num_seqs; ++s) {
      const int64_t b = batch.query_start[s], e = batch.query_start[s + 1];
      const auto layout = cpu::bidirectional_head_layout(e - b, head_dim);
      for (int64_t h = 0; h < num_heads; ++h) {
        for (int64_t t = b; t < e; t += kAttnRows)
          items.push_back({static_cast<int64_t>(heads.size()), t, std::min(e, t + kAttnRows)});
        heads.push_back({b, e, h, floats});
        floats += static_cast<size_t>(layout.floats);
      }
    }
    if (attn_heads_.size() < floats) attn_heads_.resize(floats);
    const int64_t row = num_heads * head_dim;
    parallel_chunks(threads_for(batch.num_tokens * row), static_cast<int64_t>(heads.size()), 1,
                    [&](int64_t i0, int64_t i1) {
                      for (int64_t i = i0; i < i1; ++i)
                        cpu::bidirectional_attention_prepare(k, v, row, head_dim, heads[i].h,
                                                             heads[i].b, heads[i].e,
                                                             attn_heads_.data() + heads[i].at);
                    });
    const int64_t scratch = cpu::bidirectional_head_layout(batch.max_len, head_dim).scratch;
    parallel_chunks(threads_, static_cast<int64_t>(items.size()), 1, [&](int64_t i0, int64_t i1) {
      std::vector<float> buf(static_cast<size_t>(scratch));
      for (int64_t i = i0; i < i1; ++i) {
        const Head& hd = heads[items[i].head];
        cpu::bidirectional_attention_rows(q, row, head_dim, hd.h, hd.b, hd.e, items[i].t0,
                                          items[i].t1, scale, attn_heads_.data() + hd.at,
                                          buf.data(), out);
      }
    });
  }

  void pool_rows(const float* x, int64_t dim, const SequenceBatch& batch, Pooling mode,
                 float* out) override {
    const auto timed = op("pool_rows", batch.num_seqs);
    parallel_chunks(threads_for(batch.num_tokens * dim), batch.num_seqs, 1,
                    [&](int64_t s0, int64_t s1) {
                      for (int64_t s = s0; s < s1; ++s)
                        cpu::pool_sequence(x, dim, batch.query_start[s], batch.query_start[s + 1],
                                           mode, out + s * dim);
                    });
  }

  void l2_normalize(float* x, int64_t n, int64_t dim) override {
    const auto timed = op("l2_normalize", n);
    cpu::l2_normalize_rows(x, n, dim);
  }

  void gelu_tanh(const float* x, int64_t count, float* out) override {
    const auto timed = op("gelu_tanh", 1);
    parallel_chunks(threads_for(count * 4), count, kElemGrain / 4,
                    [&](int64_t b, int64_t e) { cpu::gelu_tanh_span(x + b, e - b, out + b); });
  }

  void avg_pool_2d(const float* x, int64_t height, int64_t width, int64_t dim, int64_t kernel,
                   float* out) override {
    SLUICE_ASSERT(kernel > 0 && height % kernel == 0 && width % kernel == 0,
                  "avg_pool_2d: the grid must be a multiple of the kernel");
    const auto timed = op("avg_pool_2d", height * width);
    const int64_t rows = (height / kernel) * (width / kernel);
    parallel_chunks(threads_for(height * width * dim), rows, 1, [&](int64_t r0, int64_t r1) {
      cpu::avg_pool_rows(x, width, dim, kernel, r0, r1, out);
    });
  }

  // Work items of (sequence, tile of channels).
  void causal_conv1d_silu(const float* x, int64_t channels, const float* weight, int64_t kernel,
                          float* state, const RecurrentBatch& batch, float* out) override {
    SLUICE_ASSERT(kernel >= 1 && kernel <= cpu::kMaxConvKernel, "conv kernel size out of range");
    const auto timed = op("causal_conv1d_silu", batch.num_tokens);
    constexpr int64_t kConvChannels = cpu::kConvTile;
    const int64_t blocks = ceil_div(channels, kConvChannels), hist = kernel - 1;
    parallel_chunks(threads_for(batch.num_tokens * channels * kernel), batch.num_seqs * blocks, 1,
                    [&](int64_t i0, int64_t i1) {
                      for (int64_t i = i0; i < i1; ++i) {
                        const int64_t s = i / blocks, c0 = i % blocks * kConvChannels;
                        cpu::conv1d_silu_channels(
                            x, channels, weight, kernel,
                            state + int64_t{batch.state_slots[s]} * hist * channels,
                            batch.fresh[s] != 0, batch.query_start[s], batch.query_start[s + 1], c0,
                            std::min(channels, c0 + kConvChannels), out);
                      }
                    });
  }

  // Per-token inputs (normalized q/k, gates) first, then work items of (sequence, value head,
  // block of kDeltaColumns columns), each over all of its sequence's tokens.
  void gated_delta_rule(const float* qkv, const float* a, const float* b, const float* a_neg,
                        const float* dt_bias, const DeltaNetShape& shape, float* state,
                        const RecurrentBatch& batch, float* out) override {
    const auto timed = op("gated_delta_rule", batch.num_tokens);
    constexpr int64_t kDeltaColumns = 64;
    const int64_t n = batch.num_tokens, hv = shape.num_v_heads, dv = shape.head_v_dim;
    const int64_t qk_row = 2 * shape.num_k_heads * shape.head_k_dim;
    delta_inputs_.resize(static_cast<size_t>(n * (qk_row + 2 * hv)));
    float* qk = delta_inputs_.data();  // [n, 2, Hk, dk]
    float* gates = qk + n * qk_row;    // [n, Hv, 2]
    parallel_chunks(threads_for(n * qk_row), n, std::max<int64_t>(1, kElemGrain / qk_row),
                    [&](int64_t t0, int64_t t1) {
                      cpu::delta_rule_inputs(qkv, a, b, a_neg, dt_bias, shape, t0, t1, qk, gates);
                    });
    const int64_t blocks = ceil_div(dv, kDeltaColumns), per_seq = hv * blocks;
    const bool share = n * hv * shape.head_k_dim * dv >= 16 * kElemGrain;
    cpu::parallel_items_dynamic(share ? threads_ : 1, batch.num_seqs * per_seq, [&](int64_t i) {
      const int64_t s = i / per_seq, h = i % per_seq / blocks, j0 = i % blocks * kDeltaColumns;
      float* slot = state + int64_t{batch.state_slots[s]} * shape.state_floats();
      cpu::delta_rule_columns(qk, gates, qkv, shape, h, batch.query_start[s],
                              batch.query_start[s + 1], j0, std::min(dv, j0 + kDeltaColumns),
                              batch.fresh[s] != 0, slot + h * shape.head_k_dim * dv, out);
    });
  }

  void sigmoid_mul(float* x, const float* gate, int64_t n, int64_t dim, int64_t gate_dim) override {
    const auto timed = op("sigmoid_mul", n);
    parallel_chunks(
        threads_for(n * dim), n, std::max<int64_t>(1, kElemGrain / dim),
        [&](int64_t r0, int64_t r1) { cpu::sigmoid_mul_rows(x, gate, r0, r1, dim, gate_dim); });
  }

  void gather_rows(const float* x, const int32_t* rows, int64_t m, int64_t dim,
                   float* out) override {
    ref::gather_rows(x, rows, m, dim, out);
  }
  void cache_write(const float* k, const float* v, int64_t n, const int32_t* slot_mapping,
                   const KvLayerView& cache) override {
    const auto timed = op("cache_write", n);
    if (cache.dtype == KvDtype::F32) return ref::cache_write(k, v, n, slot_mapping, cache);
    const int64_t row = cache.num_kv_heads * cache.head_dim;
    for (int64_t t = 0; t < n; ++t) {
      const int64_t slot = slot_mapping[t];
      if (slot < 0) continue;  // padding token
      SLUICE_ASSERT(slot < cache.num_blocks * cache.block_size, "slot out of range");
      cpu::f32_to_f16_span(k + t * row, row, cache.k_f16() + slot * row);
      cpu::f32_to_f16_span(v + t * row, row, cache.v_f16() + slot * row);
    }
  }
  KvDtype kv_dtype() const override { return kv_dtype_; }
  bool set_kv_dtype(KvDtype t) override {
    kv_dtype_ = t;  // the attention kernel reads f32 and f16 caches
    return true;
  }

  void paged_attention(const float* q, int64_t num_heads, const KvLayerView& cache,
                       const AttentionBatch& batch, float scale, float* out) override {
    SLUICE_ASSERT(num_heads % cache.num_kv_heads == 0,
                  "num_heads must be a multiple of num_kv_heads");
    const auto timed = op("paged_attention", batch.num_tokens,
                          [&] { return batch.num_tokens == batch.num_seqs ? "decode" : "mixed"; });
    const int64_t group = num_heads / cache.num_kv_heads;
    const int64_t hd = cache.head_dim;
    // Tiles of up to kTileRows / group tokens x all heads (each position's K/V row read whole,
    // one run of memory), else x the heads of one KV head, else x one head: the widest that
    // leaves no thread idle. Each tile's rows share every K/V chunk while it is in cache, so
    // where a batch still makes enough tiles of all heads they take up to kMaxTileRows rows:
    // each chunk is then read and widened by fewer tiles (bench/kernels/attention_bench.cc,
    // Qwen3.5-0.8B shape: a 457-token chunk at 10k positions 397 -> 335 ms, 256 at 4k 82-90 ->
    // 68-71). A row's sums do not depend on its tile.
    constexpr int64_t kTileRows = 32, kMaxTileRows = 256;
    const int64_t enough = 4 * threads_;
    auto token_tiles = [&](int64_t tokens) {  // tiles of all heads
      int64_t n = 0;
      for (int64_t s = 0; s < batch.num_seqs; ++s)
        n += (batch.query_start[s + 1] - batch.query_start[s] + tokens - 1) / tokens;
      return n;
    };
    int64_t tile_tokens = std::max<int64_t>(1, kTileRows / group);
    if (whole_seq_attention_tiles_ && num_heads > group)
      while (2 * tile_tokens * group <= kMaxTileRows && token_tiles(2 * tile_tokens) >= enough)
        tile_tokens *= 2;
    int64_t heads_per_tile = 0;
    auto make_tiles = [&](int64_t heads) {  // true when no thread is left idle
      heads_per_tile = heads;
      tiles_.clear();
      for (int64_t s = 0; s < batch.num_seqs; ++s)
        for (int64_t t = batch.query_start[s]; t < batch.query_start[s + 1]; t += tile_tokens)
          for (int64_t h = 0; h < num_heads; h += heads)
            tiles_.push_back(
                {s, t, std::min<int64_t>(t + tile_tokens, batch.query_start[s + 1]), h});
      return static_cast<int64_t>(tiles_.size()) >= enough;
    };
    // Tiles of a KV head's heads also when they split evenly over the threads (one sequence's
    // decode step): their rows share each chunk's K/V loads and widening.
    auto even = [&] {
      const auto t = static_cast<int64_t>(tiles_.size());
      return t >= threads_ && t % threads_ == 0;
    };
    const bool whole = whole_seq_attention_tiles_ && num_heads > group && make_tiles(num_heads);
    if (!whole && !make_tiles(group) && group > 1 && !even()) make_tiles(1);
    const int64_t token_stride = num_heads * hd;
    cpu::parallel_items_dynamic(threads_, static_cast<int64_t>(tiles_.size()), [&](int64_t i) {
      const AttentionTileItem& tile = tiles_[i];
      cpu::AttentionTileArgs args;
      args.q = q + tile.t0 * token_stride + tile.h0 * hd;
      args.out = out + tile.t0 * token_stride + tile.h0 * hd;
      args.token_stride = token_stride;
      args.num_tokens = tile.t1 - tile.t0;
      args.num_heads = heads_per_tile;
      args.positions = batch.positions + tile.t0;
      args.cache = &cache;
      args.block_table = batch.block_tables + tile.seq * batch.max_blocks_per_seq;
      args.kvh = tile.h0 / group;
      args.sinks = cache.sinks ? cache.sinks + tile.h0 : nullptr;
      args.heads_per_kv = std::min(group, heads_per_tile);
      args.scale = scale;
      cpu::attention_tile(args);
    });
  }

 private:
  // f(xq buffer, xg buffer, quantize, pack, tile, rows per group): the activation format and
  // kernels of a quantized dtype. Q8G16 keeps int16 activations in int8 mode: its two groups of
  // 16 each need their own activation sum for the offset term, and BlockAct8 has one per 32.
  template <class F>
  void with_quantized_kernel(DType t, F&& f) {
    // Q4G32R8 is loaded where reads_rows8 (cpu_optional_dtypes): never with AMX.
    const bool r8 = t == DType::Q4G32R8;
    const bool int8 =
        int8_activations_ && (t == DType::Q4G32 || t == DType::Q8G32 || t == DType::Q4G32R8);
    if (int8 && paths_.amx && !r8)
      f(xq8_, xt8_, cpu::quantize_act8_rows, cpu::pack_act8_tiles16, cpu::matmul_act8_tile_amx, 16);
    else if (int8)
      f(xq8_, xg8_, cpu::quantize_act8_rows, cpu::pack_act8_groups, cpu::matmul_act8_tile, 8);
    else if (paths_.amx && !r8)
      f(xq_, xt_, cpu::quantize_act_rows, cpu::pack_act_tiles16, cpu::matmul_quant_tile_amx, 16);
    else
      f(xq_, xg_, cpu::quantize_act_rows, cpu::pack_act_groups, cpu::matmul_quant_tile, 8);
  }

  // Quantized weights of one width: activations quantized per block of 32 into xq [n, nb] (Act:
  // int16 or int8), packed in groups of `group` rows into xg [ng, nb] when the batch is large
  // enough, then the weight tiles of every product: one product's with a static schedule, several
  // products' (uneven tiles) with a dynamic one.
  template <class Act, class Group>
  void matmul_quantized(const float* x, int64_t n, const Product* ps, int count,
                        std::vector<Act>& xq_buf, std::vector<Group>& xg_buf,
                        void (*quantize)(const float*, int64_t, int64_t, int64_t, Act*),
                        void (*pack)(const Act*, int64_t, int64_t, int64_t, int64_t, Group*),
                        void (*tile)(const cpu::QuantPaths&, const Act*, const Group*, int64_t,
                                     int64_t, const Weight&, int64_t, int64_t, float*),
                        int64_t group) {
    const int64_t cols = ps[0].w->cols;
    SLUICE_ASSERT(cols % kQuantBlock == 0, "quantized weight cols must be a multiple of 32");
    const int64_t nb = cols / kQuantBlock;
    const int nt = n * cols >= cpu::kQuantInParallel ? threads_ : 1;
    xq_buf.resize(static_cast<size_t>(n * nb));
    Act* xq = xq_buf.data();
    parallel_chunks(nt, n, 4, [&](int64_t i0, int64_t i1) { quantize(x, i0, i1, cols, xq); });
    const Group* xg = nullptr;
    if (cpu::quant_uses_groups(n)) {
      const int64_t ng = (n + group - 1) / group;
      xg_buf.resize(static_cast<size_t>(ng * nb));
      Group* out = xg_buf.data();
      parallel_chunks(nt, ng, 1, [&](int64_t g0, int64_t g1) { pack(xq, n, nb, g0, g1, out); });
      xg = out;
    }
    if (count == 1) {
      const Weight& w = *ps[0].w;
      run_matmul_tiles(
          threads_, n, w.rows, w.row_stride(),
          [&](int64_t i0, int64_t i1, int64_t r0, int64_t r1) {
            tile(paths_, xq, xg, i0, i1, w, r0, r1, ps[0].y);
          },
          group);
      return;
    }
    tiles_many_.clear();
    bool share = false;
    for (int i = 0; i < count; ++i)
      share |= plan_matmul_tiles(threads_, n, ps[i].w->rows, ps[i].w->row_stride(), i, tiles_many_,
                                 group);
    cpu::parallel_items_dynamic(
        share ? threads_ : 1, static_cast<int64_t>(tiles_many_.size()), [&](int64_t t) {
          const MatmulTile& m = tiles_many_[t];
          tile(paths_, xq, xg, m.i0, m.i1, *ps[m.prod].w, m.r0, m.r1, ps[m.prod].y);
        });
  }

  // The expert products of a decode step in one parallel region (cpu/expert_products.h), or
  // false (nothing done) where Backend's defaults run them.
  bool experts_in_one_region(const float* x, bool x_per_slot, int64_t n, const ExpertProduct* ps,
                             int count, int64_t num_experts, const int32_t* ids, int64_t k) {
    const Weight& w0 = ps[0].experts[0];
    // More than 4 slots an expert on average (prefills): one batched matmul per expert.
    if (!is_quantized(w0.dtype) || n <= 0 || n * k > num_experts * 4) return false;
    for (int i = 1; i < count; ++i)
      if (ps[i].experts[0].dtype != w0.dtype || ps[i].experts[0].cols != w0.cols) return false;
    const ExpertGroups g = group_by_expert(ids, n * k, num_experts);
    const auto timed = op("matmul_experts", n, [&] {
      return std::string(dtype_name(w0.dtype)) + " " + std::to_string(count) + "x" +
             std::to_string(w0.rows) + "x" + std::to_string(w0.cols);
    });
    with_quantized_kernel(w0.dtype, [&](auto&&... kernel) {
      cpu::expert_products_one_region(paths_, threads_, x, x_per_slot, n, ps, count, g, k, experts_,
                                      kernel...);
    });
    for (int p = 0; p < count; ++p) {  // each slot's expert bias, added as the defaults add it
      const int64_t rows = ps[p].experts[0].rows;
      if (ps[p].bias)
        for (int64_t s = 0; s < n * k; ++s)
          for (int64_t r = 0; r < rows; ++r) ps[p].y[s * rows + r] += ps[p].bias[ids[s] * rows + r];
    }
    return true;
  }

  int threads_for(int64_t elems) const { return elems >= 2 * kElemGrain ? threads_ : 1; }
  // SLUICE_PROFILE: wall time of one op; `detail` is only built when profiling is on.
  template <typename Detail = std::string (*)()>
  profile::WallScope op(const char* name, int64_t n, Detail detail = nullptr) const {
    if (!profiling_) return {};
    std::string d;
    if constexpr (!std::is_pointer_v<Detail>) d = detail();
    return profile::WallScope(profile::op_key(name, n, d));
  }

  int threads_;
  bool int8_activations_;
  cpu::QuantPaths paths_;  // which batched quantized kernels run (the same bits whichever)
  KvDtype kv_dtype_ = KvDtype::F16;  // --kv-cache-dtype f32 for an exact cache
  bool profiling_ = profile::enabled();
  // SLUICE_CPU_ATTN_WHOLE_SEQ=0: attention tiles never span KV heads (an A/B switch).
  bool whole_seq_attention_tiles_ = env::enabled(env::Switch::kCpuAttnWholeSeq);
  // Scratch reused across calls (the backend is driven by one engine thread).
  std::vector<BlockAct16> xq_;
  std::vector<cpu::ActGroup8> xg_;
  std::vector<cpu::ActTile16> xt_;
  std::vector<BlockAct8> xq8_;
  std::vector<cpu::ActQuads8> xg8_;
  std::vector<cpu::ActTile16Int8> xt8_;
  std::vector<float> cos_, sin_;
  std::vector<float> delta_inputs_;  // gated_delta_rule: normalized q/k and gates per token
  std::vector<float> attn_heads_;    // bidirectional_attention: each (sequence, head)'s K^T, V
  struct AttentionTileItem {
    int64_t seq, t0, t1, h0;  // tokens [t0, t1) of sequence seq, heads from h0
  };
  std::vector<AttentionTileItem> tiles_;
  std::vector<MatmulTile> tiles_many_;
  cpu::ExpertScratch experts_;  // experts_in_one_region's
};

}  // namespace

OptionalDTypes cpu_optional_dtypes() {
  OptionalDTypes d;
  d.q4g32_rows8 = cpu::reads_rows8(cpu::default_quant_paths());
  return d;
}

std::unique_ptr<Backend> make_cpu_backend(int num_threads, bool int8_activations) {
  return cpu::make_cpu_backend(num_threads, int8_activations, cpu::default_quant_paths());
}

std::unique_ptr<Backend> cpu::make_cpu_backend(int num_threads, bool int8_activations,
                                               const QuantPaths& paths) {
  return std::make_unique<CpuBackend>(num_threads, int8_activations, paths);
}

}  // namespace sluice
