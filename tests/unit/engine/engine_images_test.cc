// The engine with a vision tower (tiny Gemma 3 + a tiny random mmproj): an image's rows are the
// same however the prefill is chunked and whether they come from the caches; another picture
// behind the same placeholder tokens is another prompt; bad image inputs are refused; random
// image requests with aborts leak nothing and keep the encoder cache within its budget.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "../tiny_model.h"
#include "convert/synthetic_vision.h"
#include "engine/engine.h"
#include "engine_test_support.h"

namespace sluice {
namespace {

using testing::drain;

class EngineImagesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = testing::load_tiny_model("engine-images", "gemma3");
    ASSERT_TRUE(loaded) << loaded.error();
    model_ = loaded->release();
    mmproj_ = (std::filesystem::temp_directory_path() /
               ("sluice-engine-images-" + std::to_string(::getpid()) + ".gguf"))
                  .string();
    auto vc = vision_preset("tiny", model_->config().hidden_size);
    ASSERT_TRUE(vc) << vc.error();
    ASSERT_TRUE(write_synthetic_mmproj(*vc, {.seed = 3}, mmproj_));
  }
  static void TearDownTestSuite() { std::filesystem::remove(mmproj_); }

  static std::unique_ptr<Engine> engine(int32_t step_tokens = 0, int64_t encoder_cache = 64 << 20,
                                        int64_t kv_bytes = 64 << 20) {
    EngineConfig c;
    c.kv_cache_bytes = kv_bytes;
    c.num_threads = 2;
    c.deterministic = true;
    c.mmproj = mmproj_;
    c.encoder_cache_bytes = encoder_cache;
    if (step_tokens > 0) c.max_num_batched_tokens = step_tokens;
    auto e = Engine::create(*model_, c);
    EXPECT_TRUE(e) << e.error();
    return std::move(*e);
  }

  // A random picture (already normalized) and its key.
  static ImageInput picture(const Engine& e, uint64_t seed, int32_t offset) {
    const int64_t size = e.vision()->image_size();
    std::mt19937 rng(static_cast<uint32_t>(seed));
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> px(3 * size * size);
    for (float& v : px) v = u(rng);
    ImageInput im;
    im.offset = offset;
    im.num_tokens = static_cast<int32_t>(e.vision()->tokens_per_image());
    im.hash_lo = seed, im.hash_hi = seed * 7919;
    im.height = im.width = static_cast<int32_t>(size);
    im.pixels = [px] { return px; };
    return im;
  }

  // 40 prompt tokens with one image at [offset, offset + 16), greedy with logprobs.
  static EngineRequest ask(const Engine& e, const std::string& id, std::vector<ImageInput> ims,
                           uint32_t prompt_seed = 11) {
    std::mt19937 rng(prompt_seed);
    EngineRequest r = testing::request(id, testing::random_tokens(rng, 40, 1000));
    r.images = std::move(ims);
    r.params.max_tokens = 4;
    r.params.temperature = 0.0f;
    r.params.logprobs = 3;
    return r;
  }

  static testing::Result run(Engine& e, const EngineRequest& r) {
    auto s = e.submit(r);
    EXPECT_TRUE(s) << s.error();
    return drain(**s);
  }

  static inline Model* model_ = nullptr;
  static inline std::string mmproj_;
};

TEST_F(EngineImagesTest, SameOutputWhateverTheChunkingAndFromTheCaches) {
  auto whole = engine();
  const testing::Result ref = run(*whole, ask(*whole, "a", {picture(*whole, 1, 10)}));
  // 16-token steps take the image alone; 20-token steps stop before it, then take it whole.
  for (int32_t step : {16, 20}) {
    auto chunked = engine(step);
    const testing::Result r = run(*chunked, ask(*chunked, "a", {picture(*chunked, 1, 10)}));
    EXPECT_EQ(r.tokens, ref.tokens) << step;
    EXPECT_EQ(r.logprobs, ref.logprobs) << step;
  }
  const testing::Result again = run(*whole, ask(*whole, "b", {picture(*whole, 1, 10)}));
  EXPECT_EQ(again.stats.num_cached_tokens, 32);  // 40 prompt tokens: two full blocks of 16
  EXPECT_EQ(again.tokens, ref.tokens);
  EXPECT_EQ(again.logprobs, ref.logprobs);
  const EngineMetrics m = whole->metrics();
  EXPECT_EQ(m.images_encoded, 1);
  EXPECT_EQ(m.encoder_cache_entries, 1);
}

TEST_F(EngineImagesTest, AnotherPictureBehindTheSameTokensIsAnotherPrompt) {
  auto e = engine();
  const testing::Result a = run(*e, ask(*e, "a", {picture(*e, 1, 20)}));
  const testing::Result b = run(*e, ask(*e, "b", {picture(*e, 2, 20)}));
  EXPECT_EQ(b.stats.num_cached_tokens, 16);  // only the block before the image
  EXPECT_NE(a.logprobs, b.logprobs);
  EXPECT_EQ(e->metrics().images_encoded, 2);
}

TEST_F(EngineImagesTest, BadImageInputsAreRefused) {
  auto e = engine();
  auto refused = [&](EngineRequest r) {
    auto s = e->submit(std::move(r));
    return !s && s.request_error().param == "images";
  };
  EngineRequest wrong_count = ask(*e, "a", {picture(*e, 1, 10)});
  wrong_count.images[0].num_tokens = 3;
  EXPECT_TRUE(refused(wrong_count));
  EXPECT_TRUE(refused(ask(*e, "b", {picture(*e, 1, 10), picture(*e, 2, 20)})));  // overlapping
  EXPECT_TRUE(refused(ask(*e, "c", {picture(*e, 1, 30)})));  // past the prompt's end
  EngineRequest small = ask(*e, "d", {picture(*e, 1, 0)});
  small.images[0].height = 12;
  EXPECT_TRUE(refused(small));
  EngineConfig text_only;
  text_only.kv_cache_bytes = 16 << 20;
  auto plain = Engine::create(*model_, text_only);
  ASSERT_TRUE(plain);
  auto s = (*plain)->submit(ask(*e, "e", {picture(*e, 1, 0)}));
  EXPECT_FALSE(s);
}

TEST_F(EngineImagesTest, RandomImageRequestsWithAbortsLeakNothing) {
  const ModelConfig& c = model_->config();
  const int64_t budget = 3 * 16 * c.hidden_size * 4;  // three images' rows
  const int64_t block = KvStorage::bytes_per_block(c.num_layers, 16, c.num_kv_heads, c.head_dim);
  auto e = engine(64, budget, 9 * block);  // room for ~2 requests at once: preemptions
  std::mt19937 rng(5);
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (int i = 0; i < 120; ++i) {
    const int32_t offset = static_cast<int32_t>(rng() % 24);
    EngineRequest r = ask(*e, "q" + std::to_string(i), {picture(*e, 1 + rng() % 6, offset)},
                          static_cast<uint32_t>(rng() % 4));
    r.params.temperature = 1.0f;
    r.params.max_tokens = 1 + static_cast<int>(rng() % 24);
    auto s = e->submit(std::move(r));
    ASSERT_TRUE(s) << s.error();
    streams.push_back(*s);
    if (rng() % 4 == 0) e->abort("q" + std::to_string(rng() % (i + 1)));
  }
  for (auto& s : streams) drain(*s);
  const EngineMetrics m = e->metrics();
  EXPECT_EQ(m.kv_blocks_used, 0);
  EXPECT_EQ(m.num_running + m.num_waiting, 0);
  EXPECT_LE(m.encoder_cache_bytes, budget);
  EXPECT_GT(m.encoder_cache_hits, 0);
  EXPECT_GT(m.num_preemptions, 0);
}

}  // namespace
}  // namespace sluice
