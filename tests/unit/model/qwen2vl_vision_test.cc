// Qwen2-VL / Qwen2.5-VL vision towers (model/vision/): the clip.* keys their converter writes,
// the patch order, attention windows and output permutation (qwen2vl_layout, qwen2vl_batch),
// and the loader's layouts (the two patch-conv frames summed).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "model/load/quant_import.h"
#include "model/vision/patchify.h"
#include "model/vision/qwen2vl_batch.h"
#include "model/vision/qwen2vl_layout.h"
#include "model/vision/vision_config.h"
#include "model/vision/vision_weights.h"
#include "vision_test_util.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> iota_bytes(int64_t n, float start = 0.0f) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
  std::vector<uint8_t> b(n * sizeof(float));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// A Qwen2.5-VL mmproj of width H = 64 (4 heads of 16), MLP 136, 2 layers, every 2nd global, as
// the converter writes it; `edit` may skip a key or tensor, or add and overwrite keys.
class Qwen2vlFileTest : public ::testing::Test {
 protected:
  static constexpr int64_t H = 64, F = 136, P = 14;
  struct Edit {
    std::string skip;                        // a key or tensor not to write
    std::function<void(GgufWriter&)> extra;  // more keys (a repeated key replaces the value)
    bool qwen2 = false;                      // Qwen2-VL: LayerNorms with bias, fc1/fc2
  };

  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("qwen2vl_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result<std::unique_ptr<GgufFile>> write(const Edit& e) {
    GgufWriter w;
    auto u32 = [&](const std::string& key, uint32_t v) {
      if (key != e.skip) w.add_uint32(key, v);
    };
    w.add_string("general.architecture", "clip");
    if (e.skip != "clip.projector_type")
      w.add_string("clip.projector_type", e.qwen2 ? "qwen2vl_merger" : "qwen2.5vl_merger");
    w.add_bool("clip.has_vision_encoder", true);
    u32("clip.vision.projection_dim", 3584);
    u32("clip.vision.image_size", 560);
    u32("clip.vision.patch_size", P);
    u32("clip.vision.embedding_length", H);
    u32("clip.vision.feed_forward_length", e.qwen2 ? 1536 : F);  // Qwen2-VL: the text width
    u32("clip.vision.block_count", 2);
    u32("clip.vision.attention.head_count", 4);
    w.add_float32_array("clip.vision.image_mean", {0.48145466f, 0.4578275f, 0.40821073f});
    w.add_float32_array("clip.vision.image_std", {0.26862954f, 0.26130258f, 0.27577711f});
    w.add_float32("clip.vision.attention.layer_norm_epsilon", 1e-6f);
    if (!e.qwen2) {
      if (e.skip != "clip.use_silu") w.add_bool("clip.use_silu", true);
      u32("clip.vision.n_wa_pattern", 2);
    }
    if (e.extra) e.extra(w);
    for (const auto& [name, shape] : tensors(e.qwen2)) {
      if (name == e.skip) continue;
      int64_t n = 1;
      for (int64_t d : shape) n *= d;
      w.add_tensor(name, GgufType::F32, shape,
                   iota_bytes(n, name == "v.patch_embd.weight.1" ? 1000.0f : 0.0f));
    }
    const std::string path = (dir_ / "mmproj.gguf").string();
    EXPECT_TRUE(w.write(path));
    return GgufFile::open(path);
  }

  Result<VisionConfig> read() { return read(Edit{"", nullptr, false}); }
  Result<VisionConfig> read(const Edit& e) {
    SLUICE_ASSIGN_OR_RETURN(file_, write(e));
    return read_vision_config(*file_);
  }

  static std::vector<std::pair<std::string, std::vector<int64_t>>> tensors(bool qwen2) {
    const int64_t M = 4 * H;
    std::vector<std::pair<std::string, std::vector<int64_t>>> t = {
        {"v.patch_embd.weight", {P, P, 3, H}},
        {"v.patch_embd.weight.1", {P, P, 3, H}},
        {"v.post_ln.weight", {H}},
        {"mm.0.weight", {M, M}},
        {"mm.0.bias", {M}},
        {"mm.2.weight", {M, 3584}},
        {"mm.2.bias", {3584}}};
    if (qwen2) t.push_back({"v.post_ln.bias", {H}});
    for (int i = 0; i < 2; ++i) {
      const std::string p = "v.blk." + std::to_string(i) + ".";
      for (const char* n : {"ln1", "ln2"}) {
        t.push_back({p + n + ".weight", {H}});
        if (qwen2) t.push_back({p + n + ".bias", {H}});
      }
      for (const char* n : {"attn_q", "attn_k", "attn_v", "attn_out"}) {
        t.push_back({p + n + ".weight", {H, H}});
        t.push_back({p + n + ".bias", {H}});
      }
      const int64_t f = qwen2 ? 4 * H : F;
      std::vector<std::string> ups = {"ffn_up"};
      if (!qwen2) ups.push_back("ffn_gate");
      for (const std::string& n : ups) {
        t.push_back({p + n + ".weight", {H, f}});
        t.push_back({p + n + ".bias", {f}});
      }
      t.push_back({p + "ffn_down.weight", {f, H}});
      t.push_back({p + "ffn_down.bias", {H}});
    }
    return t;
  }

  fs::path dir_;
  std::unique_ptr<GgufFile> file_;
};

using testing::expect_error;

TEST_F(Qwen2vlFileTest, Qwen25vlConfig) {
  auto c = read();
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->projector, ProjectorType::kQwen25VL);
  EXPECT_TRUE(c->dynamic_resolution());
  EXPECT_EQ(c->head_dim, 16);
  EXPECT_EQ(c->intermediate_size, F);
  EXPECT_EQ(c->merge_size, 2);
  EXPECT_EQ(c->size_multiple(), 28);
  EXPECT_EQ(c->window_size, 112);
  EXPECT_EQ(c->full_attention_every, 2);
  EXPECT_TRUE(c->windowed_layer(0));
  EXPECT_FALSE(c->windowed_layer(1));
  EXPECT_EQ(c->min_pixels, 8 * 28 * 28);
  EXPECT_EQ(c->max_pixels, 4096 * 28 * 28);
  EXPECT_EQ(c->tokens_for(224, 308), 8 * 11);
  EXPECT_EQ(c->tokens_per_image(), 400);  // the 560 px default
  EXPECT_EQ(c->size_error(56, 84), "");
  EXPECT_NE(c->size_error(56, 70).find("multiples of 28"), std::string::npos);
  EXPECT_NE(c->size_error(0, 28).find("multiples of 28"), std::string::npos);
}

TEST_F(Qwen2vlFileTest, Qwen2vlTakesTheMlpWidthFromTheTensors) {
  auto c = read({"", nullptr, true});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->projector, ProjectorType::kQwen2VL);
  EXPECT_EQ(c->intermediate_size, 4 * H);  // not feed_forward_length's 1536
  EXPECT_EQ(c->full_attention_every, 0);
  EXPECT_FALSE(c->windowed_layer(0));
}

TEST_F(Qwen2vlFileTest, OmniVisionProjectorIsQwen25vl) {
  auto c = read({"", [](GgufWriter& w) { w.add_string("clip.projector_type", "qwen2.5o"); }});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->projector, ProjectorType::kQwen25VL);
}

TEST_F(Qwen2vlFileTest, InvalidFilesAreNamedErrors) {
  expect_error(read({"clip.vision.n_wa_pattern", nullptr}), "clip.vision.n_wa_pattern");
  expect_error(read({"clip.use_silu", nullptr}), "clip.use_silu");
  expect_error(read({"", [](GgufWriter& w) { w.add_bool("clip.use_gelu", true); }}),
               "clip.use_gelu is set");
  expect_error(read({"", [](GgufWriter& w) { w.add_bool("clip.use_silu", true); }, true}),
               "quick GELU");
  expect_error(read({"", [](GgufWriter& w) { w.add_uint32("clip.vision.spatial_merge_size", 3); }}),
               "spatial_merge_size 3");
  expect_error(
      read({"", [](GgufWriter& w) { w.add_uint32("clip.vision.attention.head_count", 32); }}),
      "head size 2 is not a multiple of 4");
  expect_error(read({"v.blk.0.ffn_down.weight", nullptr}),
               "missing tensor 'v.blk.0.ffn_down.weight'");
  expect_error(read({"clip.vision.block_count", nullptr}), "clip.vision.block_count");
}

TEST_F(Qwen2vlFileTest, WeightsSumThePatchFramesAndCheckShapes) {
  auto c = read();
  ASSERT_TRUE(c.ok()) << c.error();
  auto w = load_vision_weights(*file_, *c);
  ASSERT_TRUE(w.ok()) << w.error();
  // frame 0 holds i, frame 1 holds 1000 + i at flat index i: the sum 1000 + 2i.
  ASSERT_EQ(w->patch_embed.dtype, DType::F32);
  EXPECT_EQ(w->patch_embed.rows, H);
  EXPECT_EQ(w->patch_embed.cols, 3 * P * P);
  const float* conv = reinterpret_cast<const float*>(w->patch_embed.data);
  EXPECT_EQ(conv[5 * 588 + 7], 1000.0f + 2.0f * (5 * 588 + 7));
  EXPECT_EQ(w->layers[0].w_gate.rows, F);
  EXPECT_EQ(w->merger_fc1.cols, 4 * H);
  EXPECT_EQ(w->merger_fc2.rows, 3584);
  // RoPE: the first quarter of the pairs by row, the second by column, 10000^(-4j/16).
  const float* fy = reinterpret_cast<const float*>(w->rope_freq_y.data);
  const float* fx = reinterpret_cast<const float*>(w->rope_freq_x.data);
  ASSERT_EQ(w->rope_freq_y.cols, 8);
  EXPECT_FLOAT_EQ(fy[1], 0.1f);
  EXPECT_EQ(fy[4], 0.0f);
  EXPECT_EQ(fx[3], 0.0f);
  EXPECT_FLOAT_EQ(fx[4], 1.0f);
  EXPECT_FLOAT_EQ(fx[6], 0.01f);

  // Videos: the frames side by side, row h = [frame 0's row h, frame 1's row h].
  ASSERT_EQ(w->patch_embed_video.dtype, DType::F32);
  EXPECT_EQ(w->patch_embed_video.rows, H);
  EXPECT_EQ(w->patch_embed_video.cols, 2 * 3 * P * P);
  const float* video = reinterpret_cast<const float*>(w->patch_embed_video.data);
  EXPECT_EQ(video[5 * 1176 + 7], 5.0f * 588 + 7);
  EXPECT_EQ(video[5 * 1176 + 588 + 7], 1000.0f + 5 * 588 + 7);

  auto no_second = read({"v.patch_embd.weight.1", nullptr});
  ASSERT_TRUE(no_second.ok()) << no_second.error();
  auto one = load_vision_weights(*file_, *no_second);
  ASSERT_TRUE(one.ok()) << one.error();
  EXPECT_EQ(reinterpret_cast<const float*>(one->patch_embed.data)[9], 9.0f);
  EXPECT_EQ(one->patch_embed_video.data, nullptr);  // one frame: no video

  auto no_gate = read({"v.blk.1.ffn_gate.weight", nullptr});
  ASSERT_TRUE(no_gate.ok()) << no_gate.error();
  auto bad = load_vision_weights(*file_, *no_gate);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("missing tensor 'v.blk.1.ffn_gate.weight'"), std::string::npos)
      << bad.error();
}

// ---------------------------------------------------------------- layout

TEST(Qwen2vlLayout, OneWindowKeepsMergeUnitsInRasterOrder) {
  const Qwen2vlLayout l = qwen2vl_layout(4, 6, 2, 0);
  ASSERT_EQ(l.pos_y.size(), 24u);
  // unit (0, 0): patches (0,0) (0,1) (1,0) (1,1); then unit (0, 1) from (0,2).
  EXPECT_EQ((std::vector<int32_t>(l.pos_y.begin(), l.pos_y.begin() + 8)),
            (std::vector<int32_t>{0, 0, 1, 1, 0, 0, 1, 1}));
  EXPECT_EQ((std::vector<int32_t>(l.pos_x.begin(), l.pos_x.begin() + 8)),
            (std::vector<int32_t>{0, 1, 0, 1, 2, 3, 2, 3}));
  EXPECT_EQ(l.pos_y[12], 2);  // unit (1, 0)
  EXPECT_EQ(l.pos_x[12], 0);
  EXPECT_EQ(l.window_start, (std::vector<int32_t>{0, 24}));
  EXPECT_EQ(l.token_row, (std::vector<int32_t>{0, 1, 2, 3, 4, 5}));
}

TEST(Qwen2vlLayout, WindowsOfFourUnitsWithPartialEdges) {
  // 12 x 20 patches = 6 x 10 units; windows of 4 x 4 units: 2 rows x 3 columns of windows of
  // 16, 16, 8 and 8, 8, 4 units.
  const Qwen2vlLayout l = qwen2vl_layout(12, 20, 2, 4);
  EXPECT_EQ(l.window_start, (std::vector<int32_t>{0, 64, 128, 160, 192, 224, 240}));
  const int64_t units_w = 10;
  EXPECT_EQ(l.token_row[0 * units_w + 4], 16);  // the first unit of window 1
  EXPECT_EQ(l.token_row[0 * units_w + 8], 32);  // of window 2
  EXPECT_EQ(l.token_row[1 * units_w + 0], 4);   // second row of window 0
  EXPECT_EQ(l.token_row[4 * units_w + 0], 40);  // window 3 (second row of windows)
  EXPECT_EQ(l.token_row[5 * units_w + 9], 59);  // the last unit
  std::vector<int32_t> sorted = l.token_row;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int32_t> iota(60);
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_EQ(sorted, iota);
  // Row r of unit k (in encoder order) is patch (2 uy + r / 2, 2 ux + r % 2) of that unit.
  for (int64_t uy = 0; uy < 6; ++uy)
    for (int64_t ux = 0; ux < units_w; ++ux)
      for (int64_t r = 0; r < 4; ++r) {
        const size_t row = static_cast<size_t>(l.token_row[uy * units_w + ux] * 4 + r);
        EXPECT_EQ(l.pos_y[row], 2 * uy + r / 2);
        EXPECT_EQ(l.pos_x[row], 2 * ux + r % 2);
      }
}

TEST(Qwen2vlBatch, ImagesFollowEachOtherWithTheirOwnWindowsAndTokens) {
  VisionConfig c;
  c.projector = ProjectorType::kQwen25VL;
  c.patch_size = 1, c.merge_size = 2, c.window_size = 4, c.full_attention_every = 2;
  // Two images, 2x4 and 6x2 pixels (patches of 1): 1x2 and 3x1 units, windows of 2x2 units.
  const std::vector<ImageSize> sizes = {{2, 4}, {6, 2}};
  std::vector<float> pixels(3 * 8 + 3 * 12);
  std::iota(pixels.begin(), pixels.end(), 0.0f);
  const Qwen2vlBatch b = qwen2vl_batch(c, pixels.data(), sizes);
  EXPECT_EQ(b.image_start, (std::vector<int32_t>{0, 8, 20}));
  EXPECT_EQ(b.window_start, (std::vector<int32_t>{0, 8, 16, 20}));
  EXPECT_EQ(b.max_image_rows, 12);
  EXPECT_EQ(b.max_window_rows, 8);
  EXPECT_EQ(b.token_rows, (std::vector<int32_t>{0, 1, 2, 3, 4}));
  ASSERT_EQ(b.patches.size(), 20u * 3);
  // Row 1 is patch (0, 1) of image 0: channels at 0*8 + 1, 1*8 + 1, 2*8 + 1.
  EXPECT_EQ((std::vector<float>(b.patches.begin() + 3, b.patches.begin() + 6)),
            (std::vector<float>{1, 9, 17}));
  // Row 8 is patch (0, 0) of image 1 (pixels from 24), row 19 its patch (5, 1).
  EXPECT_EQ(b.patches[8 * 3 + 1], 24.0f + 12.0f);
  EXPECT_EQ(b.pos_y[19], 5);
  EXPECT_EQ(b.pos_x[19], 1);
  EXPECT_EQ(b.patches[19 * 3 + 2], 24.0f + 2 * 12 + 5 * 2 + 1);

  c.full_attention_every = 0;  // no windowed layers: one window per image
  EXPECT_EQ(qwen2vl_batch(c, pixels.data(), sizes).window_start, (std::vector<int32_t>{0, 8, 20}));
}

TEST(Patchify, PatchAtCopiesChannelPlanesInConvOrder) {
  // [3, 2, 4] pixels, patches of 2: patch (0, 1) is columns 2..3 of both rows of each plane.
  std::vector<float> pixels(24);
  std::iota(pixels.begin(), pixels.end(), 0.0f);
  const int32_t py[] = {0}, px[] = {1};
  std::vector<float> out(12);
  patchify_at(pixels.data(), 2, 4, 2, py, px, 1, out.data());
  EXPECT_EQ(out, (std::vector<float>{2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23}));
}

TEST(Patchify, FramesAtPutEachFramesPatchSideBySide) {
  // Two frames [3, 2, 4] (the second = the first + 100), patches of 2: patch (0, 1).
  std::vector<float> frames(48);
  for (int i = 0; i < 48; ++i) frames[i] = static_cast<float>(i % 24 + (i >= 24 ? 100 : 0));
  const int32_t py[] = {0}, px[] = {1};
  std::vector<float> out(24);
  patchify_frames_at(frames.data(), 2, 2, 4, 2, py, px, 1, out.data());
  const std::vector<float> first = {2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23};
  EXPECT_EQ(std::vector<float>(out.begin(), out.begin() + 12), first);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(out[12 + i], first[i] + 100);
}

TEST(Qwen2vlBatch, VideoPatchesPairFramesAndEachPairIsAnImage) {
  VisionConfig c;
  c.projector = ProjectorType::kQwen2VL;
  c.patch_size = 1, c.merge_size = 2;
  // Two temporal patches of 2x2 frames (4 frames [3, 2, 2]): pixel value = 100 * frame + index.
  std::vector<float> frames(4 * 12);
  for (int i = 0; i < 48; ++i) frames[i] = static_cast<float>(100 * (i / 12) + i % 12);
  const std::vector<ImageSize> sizes(2, ImageSize{2, 2});
  const Qwen2vlBatch b = qwen2vl_batch(c, frames.data(), sizes, 2);
  EXPECT_EQ(b.image_start, (std::vector<int32_t>{0, 4, 8}));
  EXPECT_EQ(b.token_rows, (std::vector<int32_t>{0, 1}));
  ASSERT_EQ(b.patches.size(), 8u * 6);
  // Row 5 is patch (0, 1) of the second pair: frames 2 and 3, channels (c * 4 + 1).
  EXPECT_EQ((std::vector<float>(b.patches.begin() + 30, b.patches.begin() + 36)),
            (std::vector<float>{201, 205, 209, 301, 305, 309}));
}

}  // namespace
}  // namespace sluice
