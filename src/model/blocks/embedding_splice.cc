#include "model/blocks/embedding_splice.h"

#include "common/assert.h"

namespace sluice::blocks {

void splice_embeddings(const ForwardContext& f) {
  const int64_t H = f.config.hidden_size;
  for (const EmbeddingSplice& sp : f.s.splices) {
    SLUICE_ASSERT(sp.row >= 0 && sp.count > 0 && sp.row + sp.count <= f.s.n && sp.src,
                  "an embedding splice within the step's rows");
    SLUICE_ASSERT(sp.width == 0 || sp.width == H, "spliced rows of the hidden size");
    f.be.to_device(f.s.x + sp.row * H, sp.src,
                   static_cast<size_t>(sp.count * H) * sizeof(float));  // [count, hidden]
  }
}

}  // namespace sluice::blocks
