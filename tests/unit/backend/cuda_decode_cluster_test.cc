// A split attention context's pieces merge in a thread-block cluster (the default) or through
// partials and a ticket (SLUICE_CUDA_DECODE_CLUSTER=0): each output element is merged with the
// same arithmetic in piece order either way, so every paged_attention case of the op table
// gives the same bits on both. Skips without a GPU.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "backend/backend.h"
#include "cuda_fixture.h"
#include "op_table.h"

namespace sluice {
namespace {

std::unique_ptr<Backend> backend_with_cluster(const char* value) {
  setenv("SLUICE_CUDA_DECODE_CLUSTER", value, 1);
  auto be = make_backend("cuda", 0);
  unsetenv("SLUICE_CUDA_DECODE_CLUSTER");
  return be.ok() ? std::move(be.value()) : nullptr;
}

TEST_F(CudaOps, ClusterMergedPiecesGiveTheSameBitsAsTickets) {
  auto cluster = backend_with_cluster("1"), ticket = backend_with_cluster("0");
  ASSERT_NE(cluster, nullptr);
  ASSERT_NE(ticket, nullptr);
  int compared = 0;
  for (const testing::OpCase& c : testing::attention_cases()) {
    if (c.op != "paged_attention") continue;
    testing::BackendBuffers cluster_buffers(*cluster), ticket_buffers(*ticket);
    const testing::Outputs tickets = c.run(ticket_buffers), clusters = c.run(cluster_buffers);
    ASSERT_EQ(tickets.size(), clusters.size()) << c.name;
    for (size_t i = 0; i < tickets.size(); ++i) {  // bits, so unwritten NaN rows compare equal
      ASSERT_EQ(tickets[i].size(), clusters[i].size()) << c.name;
      EXPECT_EQ(
          std::memcmp(tickets[i].data(), clusters[i].data(), tickets[i].size() * sizeof(float)), 0)
          << c.name << " output " << i;
    }
    ++compared;
  }
  EXPECT_GT(compared, 50);
}

}  // namespace
}  // namespace sluice
