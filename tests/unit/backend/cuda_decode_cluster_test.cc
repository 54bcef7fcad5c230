// A split attention context's pieces merge in a thread-block cluster (SLUICE_CUDA_DECODE_CLUSTER
// =1) or through partials and a ticket (the default): each output element is merged with the
// same arithmetic in piece order either way, so every paged_attention case of the op table
// gives the same bits on both. Skips without a GPU.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#include "backend/backend.h"
#include "cuda_fixture.h"
#include "op_table.h"

namespace sluice {
namespace {

std::unique_ptr<Backend> cluster_backend() {
  setenv("SLUICE_CUDA_DECODE_CLUSTER", "1", 1);
  auto be = make_backend("cuda", 0);
  unsetenv("SLUICE_CUDA_DECODE_CLUSTER");
  return be.ok() ? std::move(be.value()) : nullptr;
}

TEST_F(CudaOps, ClusterMergedPiecesGiveTheSameBitsAsTickets) {
  auto cluster = cluster_backend();
  ASSERT_NE(cluster, nullptr);
  int compared = 0;
  for (const testing::OpCase& c : testing::attention_cases()) {
    if (c.op != "paged_attention") continue;
    testing::BackendBuffers cluster_buffers(*cluster);
    const testing::Outputs tickets = c.run(*buffers_), clusters = c.run(cluster_buffers);
    ASSERT_EQ(tickets.size(), clusters.size()) << c.name;
    for (size_t i = 0; i < tickets.size(); ++i) EXPECT_EQ(tickets[i], clusters[i]) << c.name;
    ++compared;
  }
  EXPECT_GT(compared, 50);
}

}  // namespace
}  // namespace sluice
