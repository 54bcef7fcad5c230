// Models loaded with Q4G32R8 (what a CPU load for the int8 mode picks: cpu_optional_dtypes)
// give the Q4G32 load's tokens and logprobs bit for bit in that mode, dense and MoE, from MLX
// 4-bit directories and GGUF Q4_0 files, one request at a time and batched.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <vector>

#include "../tiny_model.h"
#include "backend/backend.h"
#include "engine/engine.h"
#include "engine_test_support.h"

namespace sluice {
namespace {

using testing::request;
using testing::run_all;

// make-model's tiny `arch` as a GGUF Q4_0 file (Qwen3's byte-level BPE tokenizer: GGUF does not
// take the MLX tiny model's byte-fallback one), loaded with `dtypes`.
sluice::Result<std::unique_ptr<Model>> tiny_gguf_q4_0(const std::string& arch,
                                                      OptionalDTypes dtypes) {
  namespace fs = std::filesystem;
  const std::string path = (fs::temp_directory_path() /
                            ("sluice-rows8-" + arch + "-" + std::to_string(::getpid()) + ".gguf"))
                               .string();
  WriteOptions w;
  w.format = OutputFormat::kGgufQ4_0;
  const char* testdata = std::getenv("SLUICE_TESTDATA");
  w.tokenizer_path =
      (testdata ? std::string(testdata) : std::string(SLUICE_SOURCE_DIR) + "/../shared/testdata") +
      "/tokenizers/qwen3/tokenizer.json";
  SLUICE_ASSIGN_OR_RETURN(auto tok, load_tokenizer_json(w.tokenizer_path));
  SLUICE_ASSIGN_OR_RETURN(const ModelConfig c, preset_config("tiny", arch, tok->vocab_size()));
  SLUICE_RETURN_IF_ERROR(write_model(
      c, model_tensor_specs(c), [&](const TensorSpec& t) { return synthetic_tensor(t, c, 5); }, w,
      path));
  auto model = Model::load(path, dtypes);
  fs::remove(path);
  return model;
}

TEST(Rows8Engine, SameOutputsAsQ4G32) {
  using Loader = std::function<sluice::Result<std::unique_ptr<Model>>(OptionalDTypes)>;
  const std::pair<const char*, Loader> cases[] = {
      {"llama mlx4",
       [](OptionalDTypes d) { return testing::load_tiny_model("rows8", "llama", d); }},
      {"qwen3moe mlx4",
       [](OptionalDTypes d) { return testing::load_tiny_model("rows8", "qwen3moe", d); }},
      {"qwen3moe gguf q4_0", [](OptionalDTypes d) { return tiny_gguf_q4_0("qwen3moe", d); }},
  };
  for (const auto& [what, load] : cases) {
    auto plain = load({});
    auto rows8 = load(OptionalDTypes{.q4g32_rows8 = true});
    ASSERT_TRUE(plain) << what << ": " << plain.error();
    ASSERT_TRUE(rows8) << what << ": " << rows8.error();
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
    EngineConfig c;
    c.device = "cpu";
    c.cpu_int8_activations = true;
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

}  // namespace
}  // namespace sluice
