// The CPU backend: SIMD kernels (cpu_kernels.h) driven by OpenMP over tiles of the output.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/ref_ops.h"
#include "backend/cpu/threading.h"
#include "common/assert.h"
#include "common/profile.h"

namespace sluice {
namespace {

using cpu::parallel_chunks;

constexpr int64_t kElemGrain = 16384;           // element-wise ops: elements per parallel chunk
constexpr size_t kTileWeightBytes = 128 << 10;  // weight rows per tile when n > 4 (stays in L2)

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
int64_t round_up(int64_t a, int64_t m) {
  return ceil_div(a, m) * m;
}

// Splits y[n, rows] into tiles (x rows [i0, i1) x weight rows [r0, r1)) and runs them in
// parallel. Decode (n <= 4): one contiguous slice of weight rows per thread. Batches: weight
// tiles of ~kTileWeightBytes, and n is split too when there are fewer row tiles than threads.
template <typename Fn>
void run_matmul_tiles(int threads, int64_t n, int64_t rows, size_t row_bytes, Fn&& fn) {
  // Multiples of 8 rows: the quantized kernels work on 8 (or 4) weight rows at a time.
  const int64_t per_thread = round_up(ceil_div(rows, threads), 8);
  int64_t rg = per_thread;
  if (n > 4) {
    rg = std::clamp<int64_t>(
        round_up(static_cast<int64_t>(kTileWeightBytes / std::max<size_t>(row_bytes, 1)), 8), 8,
        per_thread);
    // Equal tiles, a multiple of `threads` of them: the static schedule gives each thread the
    // same number of rows (5 tiles of 368 rows left one of two threads idle 40% of the time).
    rg = round_up(ceil_div(rows, round_up(ceil_div(rows, rg), threads)), 8);
  }
  const int64_t nr = ceil_div(rows, rg);
  int64_t ng = n;
  if (nr < threads && n > 4) ng = round_up(ceil_div(n, ceil_div(threads, nr)), 8);
  const int64_t nn = ceil_div(n, ng);
  // Serial for tiny problems: a parallel region costs more than it saves.
  const int nt =
      static_cast<double>(rows) * static_cast<double>(row_bytes) * n < 64 * 1024 ? 1 : threads;
  parallel_chunks(nt, nr * nn, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t ti = t / nr, tr = t % nr;
      fn(ti * ng, std::min(n, (ti + 1) * ng), tr * rg, std::min(rows, (tr + 1) * rg));
    }
  });
}

class CpuBackend final : public Backend {
 public:
  CpuBackend(int num_threads, bool int8_activations)
      : threads_(cpu::resolve_threads(num_threads)), int8_activations_(int8_activations) {}

  std::string name() const override { return "cpu"; }
  // Fixed per-row reduction orders in every kernel (tests/unit/backend/batch_invariance_test.cc).
  bool batch_invariant() const override { return true; }

  void matmul(const float* x, int64_t n, const Weight& w, float* y) override {
    if (n <= 0 || w.rows <= 0) return;
    const auto timed = op("matmul", n, [&] {
      return std::string(dtype_name(w.dtype)) + " " + std::to_string(w.rows) + "x" +
             std::to_string(w.cols);
    });
    if (int8_activations_ && w.dtype == DType::Q4G32) {
      matmul_quantized(x, n, w, y, xq8_, xg8_, cpu::quantize_act8_rows, cpu::pack_act8_groups,
                       cpu::matmul_q4_act8_tile);
    } else if (int8_activations_ && w.dtype == DType::Q8G32) {
      matmul_quantized(x, n, w, y, xq8_, xg8_, cpu::quantize_act8_rows, cpu::pack_act8_groups,
                       cpu::matmul_q8_act8_tile);
    } else if (is_quantized(w.dtype)) {
      // Q8G16 keeps int16 activations in int8 mode: its two groups of 16 each need their own
      // activation sum for the offset term, and BlockAct8 has one per 32.
      matmul_quantized(x, n, w, y, xq_, xg_, cpu::quantize_act_rows, cpu::pack_act_groups,
                       cpu::matmul_quant_tile);
    } else {
      run_matmul_tiles(threads_, n, w.rows, w.row_stride(),
                       [&](int64_t i0, int64_t i1, int64_t r0, int64_t r1) {
                         cpu::matmul_float_tile(x, i0, i1, w, r0, r1, y);
                       });
    }
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
    parallel_chunks(threads_for(n * row), n, std::max<int64_t>(1, kElemGrain / row),
                    [&](int64_t t0, int64_t t1) {
                      for (int64_t t = t0; t < t1; ++t) {
                        for (int64_t i = 0; i < half; ++i) {
                          const float angle = static_cast<float>(positions[t]) * freq[i];
                          cos_[t * half + i] = std::cos(angle);
                          sin_[t * half + i] = std::sin(angle);
                        }
                      }
                      cpu::rope_rows(x + t0 * row, t1 - t0, num_heads, head_dim,
                                     cos_.data() + t0 * half, sin_.data() + t0 * half, p.rotary_dim,
                                     p.interleaved);
                    });
  }

  void silu_mul(const float* gate, const float* up, int64_t count, float* out) override {
    const auto timed = op("silu_mul", 1);
    parallel_chunks(threads_for(count), count, kElemGrain, [&](int64_t b, int64_t e) {
      cpu::silu_mul_span(gate + b, up + b, e - b, out + b);
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
    // Tiles of up to kTileRows query rows (tokens x the heads of one KV head) share each K/V
    // chunk in cache; heads are split when whole groups would leave threads idle.
    constexpr int64_t kTileRows = 32;
    const int64_t tile_tokens = std::max<int64_t>(1, kTileRows / group);
    auto make_tiles = [&](int64_t heads_per_tile) {
      tiles_.clear();
      for (int64_t s = 0; s < batch.num_seqs; ++s)
        for (int64_t t = batch.query_start[s]; t < batch.query_start[s + 1]; t += tile_tokens)
          for (int64_t h = 0; h < num_heads; h += heads_per_tile)
            tiles_.push_back({s, t, std::min<int64_t>(t + tile_tokens, batch.query_start[s + 1]), h});
    };
    int64_t heads_per_tile = group;
    make_tiles(heads_per_tile);
    if (static_cast<int64_t>(tiles_.size()) < 4 * threads_ && group > 1) make_tiles(heads_per_tile = 1);
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
      args.scale = scale;
      cpu::attention_tile(args);
    });
  }

 private:
  // Quantized weights: activations quantized per block of 32 into xq [n, nb] (Act: int16 or
  // int8), packed in groups of 8 rows into xg [ng, nb] when the batch is large enough, then
  // the weight tiles.
  template <class Act, class Group>
  void matmul_quantized(const float* x, int64_t n, const Weight& w, float* y,
                        std::vector<Act>& xq_buf, std::vector<Group>& xg_buf,
                        void (*quantize)(const float*, int64_t, int64_t, int64_t, Act*),
                        void (*pack)(const Act*, int64_t, int64_t, int64_t, int64_t, Group*),
                        void (*tile)(const Act*, const Group*, int64_t, int64_t, const Weight&,
                                     int64_t, int64_t, float*)) {
    SLUICE_ASSERT(w.cols % kQuantBlock == 0, "quantized weight cols must be a multiple of 32");
    const int64_t nb = w.cols / kQuantBlock;
    const int nt = n * w.cols >= 4 * kElemGrain ? threads_ : 1;
    xq_buf.resize(static_cast<size_t>(n * nb));
    Act* xq = xq_buf.data();
    parallel_chunks(nt, n, 4, [&](int64_t i0, int64_t i1) { quantize(x, i0, i1, w.cols, xq); });
    const Group* xg = nullptr;
    if (cpu::quant_uses_groups(n)) {
      const int64_t ng = (n + 7) / 8;
      xg_buf.resize(static_cast<size_t>(ng * nb));
      Group* out = xg_buf.data();
      parallel_chunks(nt, ng, 1,
                      [&](int64_t g0, int64_t g1) { pack(xq, n, nb, g0, g1, out); });
      xg = out;
    }
    run_matmul_tiles(threads_, n, w.rows, w.row_stride(),
                     [&](int64_t i0, int64_t i1, int64_t r0, int64_t r1) {
                       tile(xq, xg, i0, i1, w, r0, r1, y);
                     });
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
  KvDtype kv_dtype_ = KvDtype::F32;
  bool profiling_ = profile::enabled();
  // Scratch reused across calls (the backend is driven by one engine thread).
  std::vector<BlockAct16> xq_;
  std::vector<cpu::ActGroup8> xg_;
  std::vector<BlockAct8> xq8_;
  std::vector<cpu::ActQuads8> xg8_;
  std::vector<float> cos_, sin_;
  struct AttentionTileItem {
    int64_t seq, t0, t1, h0;  // tokens [t0, t1) of sequence seq, heads from h0
  };
  std::vector<AttentionTileItem> tiles_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int num_threads, bool int8_activations) {
  return std::make_unique<CpuBackend>(num_threads, int8_activations);
}

}  // namespace sluice
