#include "model/blocks/deepstack.h"

#include "common/assert.h"

namespace sluice::blocks {

bool deepstack_after(const ForwardContext& f, int64_t layer) {
  return f.s.deepstack != nullptr && layer < f.config.num_deepstack_layers;
}

void add_deepstack(const ForwardContext& f, Residual& r, int64_t layer, const float* next_norm) {
  const int64_t H = f.config.hidden_size, R = f.s.deepstack_rows;
  const float* slice = f.s.deepstack + layer * R * H;  // [R, hidden]
  int64_t at = 0;
  for (const EmbeddingSplice& sp : f.s.splices) {
    r.add_rows(sp.row, slice + at * H, sp.count);
    at += sp.count;
  }
  SLUICE_ASSERT(at == R, "deepstack rows for every spliced row");
  if (next_norm) r.normalize(next_norm);
}

}  // namespace sluice::blocks
