// make-model's Qwen3-VL vision towers (convert/synthetic_vision.h) read back by the mmproj
// loader (model/vision/): the converter's keys, DeepStack layers, the fused qkv split by rows.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "convert/synthetic_vision.h"
#include "formats/gguf.h"
#include "model/vision/vision_config.h"
#include "model/vision/vision_weights.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

class SyntheticQwen3vlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("qwen3vl_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The preset written as F32 and opened.
  std::unique_ptr<GgufFile> written(const std::string& preset, int64_t layers = 0) {
    auto c = vision_preset(preset, 64);
    EXPECT_TRUE(c.ok());
    if (layers) {
      c->num_layers = layers;
      std::erase_if(c->deepstack_layers, [&](int64_t i) { return i >= layers; });
    }
    MmprojWriteOptions o;
    o.matrix_type = GgufType::F32;
    const std::string path = (dir_ / (preset + ".gguf")).string();
    EXPECT_TRUE(write_synthetic_mmproj(*c, o, path));
    auto f = GgufFile::open(path);
    EXPECT_TRUE(f.ok());
    return std::move(*f);
  }

  fs::path dir_;
};

TEST_F(SyntheticQwen3vlTest, TinyConfigReadsBack) {
  auto f = written("qwen3vl-tiny");
  auto c = read_vision_config(*f);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->projector, ProjectorType::kQwen3VL);
  EXPECT_TRUE(c->dynamic_resolution());
  EXPECT_EQ(c->size_multiple(), 32);
  EXPECT_EQ(c->deepstack_layers, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(c->num_deepstack(), 2);
  EXPECT_EQ(c->token_width(), 3 * 64);
  EXPECT_EQ(c->position_grid, 6);
  EXPECT_EQ(c->intermediate_size, 200);
  EXPECT_EQ(c->head_dim, 24);
  EXPECT_EQ(c->min_pixels, 8 * 32 * 32);
  EXPECT_EQ(c->max_pixels, 4096 * 32 * 32);
  EXPECT_EQ(c->tokens_for(64, 96), 6);
}

TEST_F(SyntheticQwen3vlTest, RealShapes) {
  auto eight = vision_preset("qwen3vl-8b", 4096);
  ASSERT_TRUE(eight.ok());
  EXPECT_EQ(eight->hidden_size, 1152);
  EXPECT_EQ(eight->intermediate_size, 4304);
  EXPECT_EQ(eight->num_layers, 27);
  EXPECT_EQ(eight->head_dim, 72);
  EXPECT_EQ(eight->position_grid, 48);
  EXPECT_EQ(eight->image_size, 768);
  EXPECT_EQ(eight->deepstack_layers, (std::vector<int64_t>{8, 16, 24}));
  EXPECT_EQ(eight->token_width(), 4 * 4096);
  auto four = vision_preset("qwen3vl-4b", 2560);
  ASSERT_TRUE(four.ok());
  EXPECT_EQ(four->hidden_size, 1024);
  EXPECT_EQ(four->num_layers, 24);
  EXPECT_EQ(four->deepstack_layers, (std::vector<int64_t>{5, 11, 17}));
}

TEST_F(SyntheticQwen3vlTest, FewerLayersKeepTheDeepstackLayersTheyHave) {
  auto f = written("qwen3vl-tiny", 2);
  auto c = read_vision_config(*f);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->deepstack_layers, (std::vector<int64_t>{0}));
  EXPECT_EQ(c->token_width(), 2 * 64);
}

TEST_F(SyntheticQwen3vlTest, WeightsSplitQkvByRowsAndLoadEachDeepstackMerger) {
  auto f = written("qwen3vl-tiny");
  auto c = read_vision_config(*f);
  ASSERT_TRUE(c.ok()) << c.error();
  auto w = load_vision_weights(*f, *c);
  ASSERT_TRUE(w.ok()) << w.error();
  const GgufTensorInfo* qkv = f->tensor("v.blk.1.attn_qkv.weight");
  ASSERT_NE(qkv, nullptr);
  const int64_t Q = c->q_dim(), H = c->hidden_size;
  const float* fused = reinterpret_cast<const float*>(qkv->data);
  const VisionLayerWeights& L = w->layers[1];
  ASSERT_EQ(L.wk.rows, Q);
  ASSERT_EQ(L.wk.cols, H);
  // k's row 3 is row Q + 3 of the fused matrix
  EXPECT_EQ(std::memcmp(L.wk.row(3), fused + (Q + 3) * H, H * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(L.wv.row(0), fused + 2 * Q * H, H * sizeof(float)), 0);
  ASSERT_EQ(w->deepstack.size(), 2u);
  EXPECT_EQ(w->deepstack[1].fc1.rows, 4 * H);
  EXPECT_EQ(w->deepstack[1].fc2.rows, 64);
  EXPECT_EQ(w->position_embed.rows, 36);
  EXPECT_EQ(w->patch_bias.cols, H);
}

}  // namespace
}  // namespace sluice
