// Models loaded with Q4G32R8 (what a CPU load picks where its kernels run: cpu_optional_dtypes)
// give the Q4G32 load's tokens and logprobs bit for bit in both activation modes, dense and MoE,
// from MLX 4-bit directories and GGUF Q4_0 files, one request at a time and batched.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "../tiny_model.h"
#include "backend/backend.h"
#include "engine/engine.h"
#include "engine_test_support.h"

namespace sluice {
namespace {

using testing::request;
using testing::run_all;

TEST(Rows8Engine, SameOutputsAsQ4G32) {
  const std::pair<const char*, OutputFormat> cases[] = {{"llama", OutputFormat::kMlx4},
                                                        {"qwen3moe", OutputFormat::kMlx4},
                                                        {"qwen3moe", OutputFormat::kGgufQ4_0}};
  for (const auto& [arch, format] : cases) {
    const std::string file =
        std::string(arch) + (format == OutputFormat::kMlx4 ? " mlx4" : " gguf");
    auto plain = testing::load_tiny_model("rows8", arch, {}, format);
    auto rows8 = testing::load_tiny_model("rows8", arch, {.q4g32_rows8 = true}, format);
    ASSERT_TRUE(plain) << file << ": " << plain.error();
    ASSERT_TRUE(rows8) << file << ": " << rows8.error();
    std::mt19937 rng(7);
    std::vector<EngineRequest> reqs;
    for (int i = 0; i < 6; ++i) {
      EngineRequest r =
          request("r" + std::to_string(i),
                  testing::random_tokens(rng, 4 + 9 * i, (*plain)->config().vocab_size));
      r.params.temperature = 0.0f;
      r.params.max_tokens = 10;
      r.params.ignore_eos = true;
      r.params.logprobs = 2;
      reqs.push_back(r);
    }
    for (bool int8 : {true, false}) {
      const std::string what = file + (int8 ? " int8" : " int16");
      EngineConfig c;
      c.device = "cpu";
      c.cpu_int8_activations = int8;
      c.kv_cache_bytes = 64 << 20;
      c.num_threads = 2;
      auto want_engine = Engine::create(**plain, c);
      auto engine = Engine::create(**rows8, c);
      ASSERT_TRUE(want_engine && engine);
      const auto want = run_all(**want_engine, reqs);
      const auto got = run_all(**engine, reqs);
      for (size_t i = 0; i < reqs.size(); ++i) {
        EXPECT_EQ(got[i].tokens, want[i].tokens) << what << " batched, request " << i;
        EXPECT_EQ(got[i].logprobs, want[i].logprobs) << what << " batched, request " << i;
        const auto alone = run_all(**engine, {reqs[i]});
        EXPECT_EQ(alone[0].logprobs, want[i].logprobs) << what << " alone, request " << i;
      }
    }
  }
}

}  // namespace
}  // namespace sluice
