// Op table cases of attention: prepare_qkv (per-head norms, RoPE, cache write), and cache_write
// then paged_attention over shuffled block tables, mixing prefill chunks and decodes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>

#include "backend/reference/ref_ops.h"
#include "common/half.h"
#include "op_table.h"
#include "test_util.h"

namespace sluice::testing {
namespace {

struct Heads {
  int64_t heads, kv_heads, head_dim, block_size;
};
struct Seq {
  int32_t first_pos, num_tokens;  // tokens [first_pos, first_pos + num_tokens) are scheduled
};

// K/V values of unit variance (uniform, from a fast generator: long contexts need millions),
// rounded to f16: an f16 cache then holds what the reference's f32 cache holds, so the
// comparison measures the kernels' arithmetic only.
std::vector<float> kv_values(size_t count, uint64_t seed) {
  std::vector<float> x(count);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (float& f : x) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    f = f16_to_f32(f32_to_f16((static_cast<float>(s >> 40) / 16777216.0f - 0.5f) * 3.4641f));
  }
  return x;
}

// A flattened batch over a shuffled block table (block 0 left out, a few spare blocks).
struct Layout {
  int64_t num_blocks = 0, max_blocks = 0;
  std::vector<int32_t> tables, query_start = {0}, positions, slots, prefix_slots;
};
Layout make_layout(const std::vector<Seq>& seqs, int64_t bs) {
  Layout l;
  for (const Seq& s : seqs) {
    const int64_t blocks = (s.first_pos + s.num_tokens + bs - 1) / bs;
    l.num_blocks += blocks;
    l.max_blocks = std::max(l.max_blocks, blocks);
  }
  l.num_blocks += 6;
  std::vector<int32_t> ids(l.num_blocks - 1);
  std::iota(ids.begin(), ids.end(), 1);
  std::shuffle(ids.begin(), ids.end(), std::mt19937(7));
  l.tables.assign(seqs.size() * l.max_blocks, 0);
  size_t next = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    const int32_t len = seqs[s].first_pos + seqs[s].num_tokens;
    int32_t* table = &l.tables[s * l.max_blocks];
    for (int64_t b = 0; b < (len + bs - 1) / bs; ++b) table[b] = ids.at(next++);
    const auto slot = [&](int32_t p) { return table[p / bs] * int32_t(bs) + p % int32_t(bs); };
    for (int32_t p = 0; p < seqs[s].first_pos; ++p) l.prefix_slots.push_back(slot(p));
    for (int32_t p = seqs[s].first_pos; p < len; ++p) {
      l.positions.push_back(p);
      l.slots.push_back(slot(p));
    }
    l.query_start.push_back(static_cast<int32_t>(l.positions.size()));
  }
  return l;
}

// The earlier context and the new tokens' K/V go in through cache_write; attention reads them
// (also in batch-invariant mode: fixed splits, no tiles). CUDA's tiles (head_dim 64, 128, 256: for
// decode-only batches and prefill chunks of 8+ tokens) take f16 operands: ~5e-4 of error.
// window > 0: sliding-window attention (cache.window), on backends that support it.
// sinks: a random logit per head joins every softmax's denominator (cache.sinks; gpt-oss).
OpCase attention_case(const std::string& set, const std::vector<Seq>& seqs, const Heads& h,
                      int64_t window = 0, bool sinks = false) {
  const bool decodes_only =
      std::all_of(seqs.begin(), seqs.end(), [](const Seq& s) { return s.num_tokens == 1; });
  const bool tiled = (h.head_dim == 64 || h.head_dim == 128 || h.head_dim == 256) &&
                     (decodes_only || std::any_of(seqs.begin(), seqs.end(),
                                                  [](const Seq& s) { return s.num_tokens >= 8; }));
  // A window of 1 leaves one key per row: softmax weight exactly 1, the tiles' f16 rounding gone.
  const Bounds out{rel(1e-5), tiled ? rel(2e-3, window == 1 && !sinks ? 0.0 : 1e-6) : rel(1e-5)};
  OpCase c{"paged_attention",
           case_name(set, "_h", h.heads, "_kv", h.kv_heads, "_hd", h.head_dim, "_bs", h.block_size,
                     window > 0 ? "_w" + std::to_string(window) : "", sinks ? "_sinks" : ""),
           nullptr,
           {{"out", out, nullptr},
            {"out batch-invariant", all(rel(1e-5)), nullptr},
            {"k cache", all(exact()), nullptr},
            {"v cache", all(exact()), nullptr}},
           nullptr};
  if (window > 0) c.runs_on = [](const Backend& be) { return be.supports_window(); };
  if (decodes_only)
    c.checks.push_back(
        {"out, batch planned for a recorded step", {rel(1e-5), rel(tiled ? 2e-3 : 1e-5)}, nullptr});
  c.run = [=](BackendBuffers& b) -> Outputs {
    Backend& be = b.backend();
    const Layout l = make_layout(seqs, h.block_size);
    const int64_t n = static_cast<int64_t>(l.positions.size());
    const int64_t m = static_cast<int64_t>(l.prefix_slots.size());
    const int64_t kv_row = h.kv_heads * h.head_dim;
    const size_t cache_elems = l.num_blocks * h.block_size * kv_row;
    KvLayerView cache{b.poisoned_kv(cache_elems),
                      b.poisoned_kv(cache_elems),
                      l.num_blocks,
                      h.block_size,
                      h.kv_heads,
                      h.head_dim,
                      be.kv_dtype(),
                      window};
    if (sinks) cache.sinks = b.up(randn(h.heads, 11, 2.0f));
    be.cache_write(b.up(kv_values(m * kv_row, 6)), b.up(kv_values(m * kv_row, 7)), m,
                   b.up(l.prefix_slots), cache);
    be.cache_write(b.up(kv_values(n * kv_row, 4)), b.up(kv_values(n * kv_row, 5)), n, b.up(l.slots),
                   cache);

    AttentionBatch batch{static_cast<int64_t>(seqs.size()),
                         n,
                         *std::max_element(l.positions.begin(), l.positions.end()) + 1,
                         b.up(l.query_start),
                         b.up(l.positions),
                         b.up(l.tables),
                         l.max_blocks,
                         b.up(l.slots)};
    batch.host_query_start = l.query_start.data();
    batch.host_positions = l.positions.data();
    const size_t q_elems = n * h.heads * h.head_dim;
    const float* q = b.up(randn(q_elems, 3));
    const float scale = 1.0f / std::sqrt(static_cast<float>(h.head_dim));
    const auto attend = [&](const AttentionBatch& ab) {
      float* o = b.poisoned(q_elems);
      be.paged_attention(q, h.heads, cache, ab, scale, o);
      return b.down(o, q_elems);
    };
    Outputs outs = {attend(batch)};
    be.set_batch_invariant(true);
    outs.push_back(attend(batch));
    be.set_batch_invariant(false);
    outs.push_back(b.down_kv(cache.k, cache_elems));
    outs.push_back(b.down_kv(cache.v, cache_elems));
    if (decodes_only) {
      // Again (CUDA: the pieces' tickets were reset), and sized for the table's capacity with no
      // host copies, as a recorded decode step plans it.
      EXPECT_EQ(attend(batch), outs[0]) << "a second call";
      AttentionBatch recorded = batch;
      recorded.max_context = l.max_blocks * h.block_size;
      recorded.host_query_start = recorded.host_positions = nullptr;
      outs.push_back(attend(recorded));
    }
    return outs;
  };
  return c;
}

// Per-head norms (when given), RoPE and the cache write: q and k as the reference ops make them;
// the cache holds exactly the returned k and the given v (in its dtype) at the mapped slots
// (slot -1: padding, not written) and nothing elsewhere.
OpCase prepare_qkv_case(int64_t hd, bool norms, bool interleaved, int64_t rotary,
                        bool mrope = false, bool imrope = false) {
  OpCase c{"prepare_qkv",
           case_name("hd", hd, norms ? "_norms" : "", interleaved ? "_interleaved" : "_neox",
                     "_rot", rotary, mrope ? "_mrope" : "", imrope ? "_imrope" : ""),
           nullptr,
           {{"q", all(rel(1e-5)), nullptr}, {"k", all(rel(1e-5)), nullptr}},
           nullptr};
  c.run = [=](BackendBuffers& b) -> Outputs {
    Backend& be = b.backend();
    const int64_t n = 5, heads = 8, kv_heads = 2, block_size = 4, num_blocks = 6;
    const std::vector<int32_t> pos = {0, 3, 17, 200, 4000}, slots = {5, -1, 0, 22, 9};
    const auto v = randn(n * kv_heads * hd, 6);
    const int64_t row = kv_heads * hd, cache_elems = num_blocks * block_size * row;
    KvLayerView cache{b.poisoned_kv(cache_elems),
                      b.poisoned_kv(cache_elems),
                      num_blocks,
                      block_size,
                      kv_heads,
                      hd,
                      be.kv_dtype()};
    QkvInputs in;
    in.q = b.up(randn(n * heads * hd, 4)), in.k = b.up(randn(n * kv_heads * hd, 5));
    in.v = b.up(v);
    in.n = n, in.num_heads = heads, in.num_kv_heads = kv_heads, in.head_dim = hd;
    if (norms) in.q_norm = b.up(randn(hd, 7)), in.k_norm = b.up(randn(hd, 8));
    in.eps = 1e-6f;
    in.positions = b.up(pos);
    in.rope = RopeParams{rotary, 10000.0f, interleaved, nullptr};
    if (mrope) {  // planes t, h, w, e [4, n]: an image grid's rows and columns
      const std::vector<int32_t> planes = {0, 3, 3, 3, 9, 0, 3, 4, 4, 9,
                                           0, 3, 4, 3, 9, 0, 0, 0, 0, 9};
      in.positions = b.up(planes);
      const int32_t q = static_cast<int32_t>(rotary / 8);  // Qwen2-VL's split of rotary / 2
      in.rope.sections[0] = q, in.rope.sections[1] = in.rope.sections[2] = (rotary / 2 - q) / 2;
      in.rope.interleaved_sections = imrope;
    }
    std::vector<float> inv(rotary / 2);
    ref::default_inv_freq(in.rope, inv.data());
    in.rope.inv_freq = b.up(inv);
    in.slot_mapping = b.up(slots);
    be.prepare_qkv(in, cache);

    const Outputs out = {b.down(in.q, n * heads * hd), b.down(in.k, n * kv_heads * hd)};
    const auto kc = b.down_kv(cache.k, cache_elems), vc = b.down_kv(cache.v, cache_elems);
    const auto stored = [&](float f) {
      return be.kv_dtype() == KvDtype::F16 ? f16_to_f32(f32_to_f16(f)) : f;
    };
    for (int64_t slot = 0; slot < num_blocks * block_size; ++slot) {
      const auto it = std::find(slots.begin(), slots.end(), slot);
      for (int64_t j = 0; j < row; ++j) {
        if (it == slots.end()) {
          EXPECT_TRUE(std::isnan(kc[slot * row + j])) << "slot " << slot;
          if (!std::isnan(kc[slot * row + j])) return out;
          continue;
        }
        const int64_t t = it - slots.begin();
        EXPECT_EQ(kc[slot * row + j], stored(out[1][t * row + j])) << "slot " << slot;
        EXPECT_EQ(vc[slot * row + j], stored(v[t * row + j])) << "slot " << slot;
        if (kc[slot * row + j] != stored(out[1][t * row + j])) return out;
      }
    }
    return out;
  };
  return c;
}

}  // namespace

std::vector<OpCase> attention_cases() {
  std::vector<OpCase> cases;
  // Prefill chunks at nonzero offsets beside single-token decodes, over head layouts whose
  // head_dim (20, 112, 32) leaves vector lanes without a dim, and blocks of 1, 5 and 7 tokens.
  const std::vector<Seq> mixed = {{40, 1}, {13, 20}, {0, 1}, {0, 7}, {100, 1}, {31, 2}};
  for (const Heads& h : {Heads{6, 2, 64, 16}, Heads{4, 4, 32, 5}, Heads{9, 3, 64, 1},
                         Heads{8, 1, 128, 32}, Heads{2, 2, 20, 7}, Heads{4, 2, 112, 16}})
    cases.push_back(attention_case("mixed", mixed, h));
  std::vector<std::pair<std::string, std::vector<Seq>>> sets = {
      // Long contexts (CUDA: split-K partials + combine unless batch-invariant).
      {"long", {{40, 1}, {13, 20}, {0, 1}, {0, 7}, {300, 1}, {31, 2}, {0, 150}, {1500, 1}}},
      {"short", {{5, 1}, {0, 30}, {60, 3}}},  // <= 128: never split
      {"decodes", {{300, 1}, {1500, 1}, {40, 1}, {0, 1}, {700, 2}}},
      // Prefill chunks: partial tiles, chunks after a cached prefix, several key chunks.
      {"prefill", {{0, 200}, {100, 70}, {0, 9}, {500, 1}, {37, 64}, {3, 2}, {1000, 130}}},
      // Decode-only: contexts split into pieces, empty pieces, ends on chunk boundaries.
      {"few_decodes", {{300, 1}, {1500, 1}, {40, 1}, {0, 1}, {63, 1}, {64, 1}}},
      {"one_decode", {{2000, 1}}}};
  std::vector<Seq> many;  // 140 decodes fill a GPU with tiles of one token
  for (int i = 0; i < 140; ++i) many.push_back({(i * 37) % 300, 1});
  sets.push_back({"many_decodes", many});
  // head_dim 80 and 36 leave lanes without a dim; 36 is not a multiple of 8 (scalar K loads).
  for (const auto& [name, seqs] : sets)
    for (const Heads& h :
         {Heads{8, 2, 64, 16}, Heads{4, 4, 128, 32}, Heads{6, 1, 96, 5}, Heads{2, 2, 256, 16},
          Heads{16, 2, 128, 16}, Heads{4, 2, 80, 16}, Heads{2, 1, 36, 16}})
      cases.push_back(attention_case(name, seqs, h));
  // Sliding windows: shorter than a chunk, not a multiple of one, longer than some contexts.
  for (int64_t window : {1, 31, 100})
    for (const auto& [name, seqs] : {sets[0], sets[3]})
      for (const Heads& h : {Heads{8, 2, 64, 16}, Heads{6, 1, 96, 5}, Heads{8, 4, 256, 16}})
        cases.push_back(attention_case(name, seqs, h, window));
  // Attention sinks: every path (tiles, per token, split contexts and their merges), with and
  // without a window.
  for (const auto& [name, seqs] : {sets[0], sets[1], sets[2], sets[3], sets[4]})
    for (const Heads& h : {Heads{8, 2, 64, 16}, Heads{6, 1, 96, 5}})
      for (int64_t window : {0, 31}) cases.push_back(attention_case(name, seqs, h, window, true));
  for (int64_t hd : {64, 128})
    for (bool norms : {false, true})
      for (bool interleaved : {false, true})
        for (int64_t rotary : {hd, hd / 2})
          cases.push_back(prepare_qkv_case(hd, norms, interleaved, rotary));
  for (int64_t hd : {64, 128}) cases.push_back(prepare_qkv_case(hd, false, false, hd, true));
  for (int64_t hd : {64, 128})  // Qwen3-VL: q/k norms and interleaved M-RoPE
    cases.push_back(prepare_qkv_case(hd, true, false, hd, true, true));
  return cases;
}

}  // namespace sluice::testing
