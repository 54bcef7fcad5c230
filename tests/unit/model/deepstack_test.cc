// Qwen3-VL's deepstack through ModelRunner (a tiny random `qwen3vl` GGUF, CPU, f32 KV cache):
// a prompt with one image of wide rows gives the same logits in one step as in steps that cut
// the image, with another sequence in the same batch (the second step starts inside the image,
// so its splice and deepstack slices start mid-image); zeroing the slices changes the logits.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "convert/model_writer.h"
#include "convert/synthetic_model.h"
#include "engine/mrope_positions.h"
#include "model/kv_layout.h"
#include "model/model_runner.h"
#include "tokenizer/tokenizer.h"

namespace sluice {
namespace {

constexpr int32_t kPrompt = 20, kBlock = 4;
constexpr ImageGrid kImage{4, 3, 4};  // 12 image rows at tokens [4, 16)

std::unique_ptr<Model> tiny_qwen3vl() {
  namespace fs = std::filesystem;
  const std::string path =
      (fs::temp_directory_path() / ("sluice-deepstack-" + std::to_string(::getpid()) + ".gguf"))
          .string();
  WriteOptions w;
  w.format = OutputFormat::kGgufF16;
  const char* testdata = std::getenv("SLUICE_TESTDATA");  // Qwen3's (byte-level BPE) tokenizer
  w.tokenizer_path =
      (testdata ? std::string(testdata) : std::string(SLUICE_SOURCE_DIR) + "/../shared/testdata") +
      "/tokenizers/qwen3/tokenizer.json";
  auto tok = load_tokenizer_json(w.tokenizer_path);
  EXPECT_TRUE(tok) << tok.error();
  if (!tok) return nullptr;
  auto c = preset_config("tiny", "qwen3vl", (*tok)->vocab_size());
  EXPECT_TRUE(c) << c.error();
  if (!c) return nullptr;
  const Status written = write_model(
      *c, model_tensor_specs(*c), [&](const TensorSpec& t) { return synthetic_tensor(t, *c, 5); },
      w, path);
  EXPECT_TRUE(written) << written.message();
  auto model = Model::load(path);
  fs::remove(path);
  EXPECT_TRUE(model) << model.error();
  return model ? std::move(*model) : nullptr;
}

// One sequence's part of a step: tokens [begin, end) of `tokens`, KV blocks from `first_block`.
struct Part {
  const std::vector<int32_t>* tokens;
  int32_t begin, end, first_block;
  bool image;  // the prompt's image lies at kImage
};

class DeepstackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = tiny_qwen3vl();
    ASSERT_TRUE(model_);
    be_ = make_cpu_backend(2);
    ASSERT_TRUE(be_->set_kv_dtype(KvDtype::F32));
    const ModelConfig& c = model_->config();
    ASSERT_EQ(c.num_deepstack_layers, 3);
    std::mt19937 rng(7);
    std::normal_distribution<float> g(0.0f, 0.5f);
    rows_.resize(int64_t{kImage.rows} * kImage.cols * c.image_embedding_width());
    for (float& v : rows_) v = g(rng);
    std::uniform_int_distribution<int32_t> id(3, 1000);
    for (int32_t i = 0; i < kPrompt; ++i) prompt_.push_back(id(rng)), other_.push_back(id(rng));
  }

  // Runs one step over the parts; the logits of each part's last token.
  std::vector<std::vector<float>> step(ModelRunner& runner, KvStorage& kv,
                                       const std::vector<Part>& parts, const float* rows) {
    const ModelConfig& c = model_->config();
    const int64_t W = c.image_embedding_width(), table = kPrompt / kBlock;
    ForwardBatch b;
    b.max_blocks_per_seq = table;
    b.query_start = {0};
    std::array<std::vector<int32_t>, 4> planes;
    for (const Part& p : parts) {
      const int32_t row0 = static_cast<int32_t>(b.tokens.size());
      for (int32_t i = p.begin; i < p.end; ++i) {
        b.tokens.push_back((*p.tokens)[i]);
        b.positions.push_back(i);
        b.slot_mapping.push_back(p.first_block * kBlock + i);
      }
      std::vector<ImageGrid> grids;
      if (p.image) grids.push_back(kImage);
      append_mrope_positions(grids, p.begin, p.end, planes);
      const int32_t from = std::max(p.begin, kImage.offset);
      const int32_t to = std::min(p.end, kImage.offset + kImage.rows * kImage.cols);
      if (p.image && from < to)
        b.splices.push_back(
            {row0 + from - p.begin, to - from, rows + (from - kImage.offset) * W, W});
      for (int32_t i = 0; i < table; ++i) b.block_tables.push_back(p.first_block + i);
      b.query_start.push_back(static_cast<int32_t>(b.tokens.size()));
      b.logit_rows.push_back(static_cast<int32_t>(b.tokens.size()) - 1);
    }
    for (const auto& plane : planes)
      b.rope_positions.insert(b.rope_positions.end(), plane.begin(), plane.end());
    runner.run(b, kv);
    const float* logits = runner.host_logits();
    std::vector<std::vector<float>> out;
    for (size_t i = 0; i < parts.size(); ++i)
      out.emplace_back(logits + i * c.vocab_size, logits + (i + 1) * c.vocab_size);
    return out;
  }

  std::unique_ptr<KvStorage> cache() {
    const ModelConfig& c = model_->config();
    return std::make_unique<KvStorage>(*be_, KvLayout::of(c, false), 2 * kPrompt / kBlock + 2,
                                       kBlock, c.num_kv_heads, c.head_dim);
  }

  std::unique_ptr<Model> model_;
  std::unique_ptr<Backend> be_;
  std::vector<float> rows_;  // [12, hidden * 4]
  std::vector<int32_t> prompt_, other_;
};

double deepstack_rel_l2(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0, n = 0;
  for (size_t i = 0; i < a.size(); ++i) d += (a[i] - b[i]) * (a[i] - b[i]), n += b[i] * b[i];
  return std::sqrt(d / n);
}

TEST_F(DeepstackTest, ChunksThatCutTheImageInAMixedBatchMatchOneStep) {
  ModelRunner runner(*model_, *be_);
  auto kv = cache();
  // Blocks 1..5: the image prompt; 6..10: a text sequence beside it (block 0 is the null block).
  const auto whole = step(runner, *kv, {{&prompt_, 0, kPrompt, 1, true}}, rows_.data())[0];
  auto kv2 = cache();
  step(runner, *kv2, {{&prompt_, 0, 9, 1, true}, {&other_, 0, 6, 6, false}}, rows_.data());
  const auto chunked = step(
      runner, *kv2, {{&other_, 6, 13, 6, false}, {&prompt_, 9, kPrompt, 1, true}}, rows_.data())[1];
  EXPECT_LT(deepstack_rel_l2(chunked, whole), 1e-5);

  std::vector<float> flat = rows_;  // the deepstack slices zeroed
  const int64_t H = model_->config().hidden_size, W = model_->config().image_embedding_width();
  for (size_t r = 0; r < flat.size() / W; ++r) std::fill_n(flat.begin() + r * W + H, W - H, 0.0f);
  auto kv3 = cache();
  const auto plain = step(runner, *kv3, {{&prompt_, 0, kPrompt, 1, true}}, flat.data())[0];
  EXPECT_GT(deepstack_rel_l2(plain, whole), 1e-2);
}

}  // namespace
}  // namespace sluice
