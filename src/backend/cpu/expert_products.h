#pragma once
// The CPU backend's expert products for decode steps: x's rows quantized once, each expert's
// slots gathered into adjacent rows (and packed for the batched kernels where an expert has as
// many as they take), then every (product, expert) tile in one parallel region, instead of one
// matmul (its own quantization and parallel region) per expert. The tiles and kernels are those
// one matmul per expert runs, so the bits are the same.
#include <cstdint>
#include <cstring>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/matmul_tiles.h"
#include "backend/expert_groups.h"
#include "common/assert.h"

namespace sluice::cpu {

// Reused between calls: a (product, expert) item's weight, its first grouped row and its rows
// of y (the products' rows, expert by expert), its packed groups (null: none), the items' tiles.
struct ExpertScratch {
  struct Item {
    const Weight* w;
    int64_t first;
    float* y;
    int64_t groups;  // first of the expert's packed groups, or -1
  };
  std::vector<Item> items;
  std::vector<MatmulTile> tiles;
  std::vector<float> y;
  std::vector<int64_t> first_group;  // per expert
};

// ps[count]'s rows of slots t*k+j (x row t, or row t*k+j when x_per_slot), experts grouped by g;
// the arguments after `sc` are CpuBackend::with_quantized_kernel's for the experts' dtype. xq
// holds x's rows, then the slots' rows expert by expert. Biases are the caller's.
template <class Act, class Group>
void expert_products_one_region(const QuantPaths& paths, int threads, const float* x,
                                bool x_per_slot, int64_t n, const Backend::ExpertProduct* ps,
                                int count, const ExpertGroups& g, int64_t k, ExpertScratch& sc,
                                std::vector<Act>& xq_buf, std::vector<Group>& xg_buf,
                                void (*quantize)(const float*, int64_t, int64_t, int64_t, Act*),
                                void (*pack)(const Act*, int64_t, int64_t, int64_t, int64_t,
                                             Group*),
                                void (*tile)(const QuantPaths&, const Act*, const Group*, int64_t,
                                             int64_t, const Weight&, int64_t, int64_t, float*),
                                int64_t group) {
  const int64_t slots = n * k, cols = ps[0].experts[0].cols, nb = cols / kQuantBlock;
  SLUICE_ASSERT(cols % kQuantBlock == 0, "quantized weight cols must be a multiple of 32");
  const int64_t nx = x_per_slot ? slots : n;  // x's rows
  xq_buf.resize(static_cast<size_t>((nx + slots) * nb));
  Act* xq = xq_buf.data();
  parallel_chunks(nx * cols >= kQuantInParallel ? threads : 1, nx, 4,
                  [&](int64_t i0, int64_t i1) { quantize(x, i0, i1, cols, xq); });
  Act* grouped = xq + nx * nb;  // [slots, nb], expert by expert
  for (int64_t i = 0; i < slots; ++i) {
    const int64_t src = x_per_slot ? g.order[i] : g.order[i] / k;
    std::memcpy(grouped + i * nb, xq + src * nb, sizeof(Act) * nb);
  }
  const int64_t num_experts = static_cast<int64_t>(g.start.size()) - 1;
  // Experts with rows enough for the batched kernels: their rows packed as one matmul packs them.
  std::vector<int64_t>& first_group = sc.first_group;
  first_group.assign(static_cast<size_t>(num_experts), -1);
  int64_t groups = 0;
  for (int64_t e = 0; e < num_experts; ++e) {
    const int64_t m = g.start[e + 1] - g.start[e];
    if (m > 0 && quant_uses_groups(m)) first_group[e] = groups, groups += (m + group - 1) / group;
  }
  xg_buf.resize(static_cast<size_t>(groups * nb));
  for (int64_t e = 0; e < num_experts; ++e)
    if (first_group[e] >= 0) {
      const int64_t m = g.start[e + 1] - g.start[e];
      pack(grouped + g.start[e] * nb, m, nb, 0, (m + group - 1) / group,
           xg_buf.data() + first_group[e] * nb);
    }
  int64_t y_floats = 0;
  for (int p = 0; p < count; ++p) y_floats += slots * ps[p].experts[0].rows;
  sc.y.resize(static_cast<size_t>(y_floats));
  sc.items.clear();
  sc.tiles.clear();
  bool share = false;
  float* y = sc.y.data();
  for (int p = 0; p < count; ++p) {  // each (product, expert) tiled as one matmul over its rows
    const int64_t rows = ps[p].experts[0].rows;
    for (int64_t e = 0; e < num_experts; ++e) {
      const int64_t a = g.start[e], m = g.start[e + 1] - a;
      if (m == 0) continue;
      const Weight& w = ps[p].experts[e];
      share |= plan_matmul_tiles(threads, m, rows, w.row_stride(),
                                 static_cast<int>(sc.items.size()), sc.tiles, group);
      sc.items.push_back({&w, a, y + a * rows, first_group[e]});
    }
    y += slots * rows;
  }
  parallel_items_dynamic(
      share ? threads : 1, static_cast<int64_t>(sc.tiles.size()), [&](int64_t t) {
        const MatmulTile& m = sc.tiles[t];
        const ExpertScratch::Item& it = sc.items[m.prod];
        const Group* xg = it.groups >= 0 ? xg_buf.data() + it.groups * nb : nullptr;
        tile(paths, grouped + it.first * nb, xg, m.i0, m.i1, *it.w, m.r0, m.r1, it.y);
      });
  y = sc.y.data();
  for (int p = 0; p < count; ++p) {  // back to slot order
    const int64_t rows = ps[p].experts[0].rows;
    for (int64_t i = 0; i < slots; ++i)
      std::memcpy(ps[p].y + g.order[i] * rows, y + i * rows, sizeof(float) * rows);
    y += slots * rows;
  }
}

}  // namespace sluice::cpu
