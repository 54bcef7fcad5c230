// A Qwen2.5-VL tower's videos (VisionTower::encode_video) on make-model's tiny random tower: a
// still clip (two equal frames) is the image; an odd count repeats its last frame; temporal
// patches are independent of each other (and of how the tower batches them); the two frames of
// a patch are not interchangeable (each has its own half of the Conv3d).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <vector>

#include "backend/backend.h"
#include "convert/synthetic_vision.h"
#include "model/vision/vision_tower.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

class Qwen2vlVideoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::path(::testing::TempDir()) / ("qwen2vl_video_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    auto c = vision_preset("qwen25vl-tiny", 32);
    ASSERT_TRUE(c.ok()) << c.error();
    const std::string path = (dir_ / "mmproj.gguf").string();
    ASSERT_TRUE(write_synthetic_mmproj(*c, {.matrix_type = GgufType::F32, .seed = 7}, path));
    auto be = make_backend("cpu", 1);
    ASSERT_TRUE(be.ok()) << be.error();
    backend_ = be->release();
    auto t = VisionTower::load(path, *backend_);
    ASSERT_TRUE(t.ok()) << t.error();
    tower_ = t->release();
  }
  static void TearDownTestSuite() {
    delete tower_;
    delete backend_;
    fs::remove_all(dir_);
  }

  // Random normalized frames [count, 3, size.height, size.width].
  static std::vector<float> frames(int64_t count, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(static_cast<size_t>(count * 3 * kSize.height * kSize.width));
    for (float& x : v) x = d(rng);
    return v;
  }
  static std::vector<float> video(const std::vector<float>& f) {
    const int64_t n = static_cast<int64_t>(f.size()) / kFrameFloats;
    std::vector<float> out(static_cast<size_t>(tower_->tokens_for_video(n, kSize) * dim()));
    tower_->encode_video(f.data(), n, kSize, out.data());
    return out;
  }
  static int64_t dim() { return tower_->embedding_dim(); }

  // 2 x 3 merged tokens (one attention window of the tiny tower).
  static constexpr ImageSize kSize{56, 84};
  static constexpr int64_t kFrameFloats = 3 * 56 * 84;
  static inline fs::path dir_;
  static inline Backend* backend_ = nullptr;
  static inline VisionTower* tower_ = nullptr;
};

double video_rel_l2(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (double{a[i]} - b[i]) * (double{a[i]} - b[i]);
    den += double{b[i]} * b[i];
  }
  return std::sqrt(num / den);
}

TEST_F(Qwen2vlVideoTest, TakesVideoWithTokensPerFramePair) {
  ASSERT_TRUE(tower_->takes_video());
  EXPECT_EQ(tower_->tokens_for_video(1, kSize), 6);
  EXPECT_EQ(tower_->tokens_for_video(4, kSize), 12);
  EXPECT_EQ(tower_->tokens_for_video(5, kSize), 18);
}

TEST_F(Qwen2vlVideoTest, AStillClipIsTheImage) {
  std::vector<float> one = frames(1, 1), two = one;
  two.insert(two.end(), one.begin(), one.end());
  std::vector<float> image(static_cast<size_t>(tower_->tokens_for(kSize) * dim()));
  tower_->encode(one.data(), std::vector<ImageSize>{kSize}, image.data());
  const std::vector<float> clip = video(two);
  ASSERT_EQ(clip.size(), image.size());
  // W0 a + W1 a against (W0 + W1) a: equal up to float rounding.
  EXPECT_LT(video_rel_l2(clip, image), 1e-5);
  EXPECT_EQ(video(one), clip);  // one frame is padded with itself
}

TEST_F(Qwen2vlVideoTest, AnOddCountRepeatsItsLastFrame) {
  std::vector<float> three = frames(3, 2), four = three;
  four.insert(four.end(), three.end() - kFrameFloats, three.end());
  EXPECT_EQ(video(three), video(four));
}

TEST_F(Qwen2vlVideoTest, TemporalPatchesAreIndependent) {
  // Ten frames: five patches, more than the tower encodes at once.
  const std::vector<float> ten = frames(10, 3);
  const std::vector<float> all = video(ten);
  const int64_t per_patch = tower_->tokens_for(kSize) * dim();
  ASSERT_EQ(static_cast<int64_t>(all.size()), 5 * per_patch);
  for (int64_t p = 0; p < 5; ++p) {
    const std::vector<float> pair(ten.begin() + 2 * p * kFrameFloats,
                                  ten.begin() + (2 * p + 2) * kFrameFloats);
    EXPECT_EQ(video(pair),
              std::vector<float>(all.begin() + p * per_patch, all.begin() + (p + 1) * per_patch))
        << "patch " << p;
  }
}

TEST_F(Qwen2vlVideoTest, TheTwoFramesOfAPatchAreNotInterchangeable) {
  const std::vector<float> ab = frames(2, 4);
  std::vector<float> ba(ab.begin() + kFrameFloats, ab.end());
  ba.insert(ba.end(), ab.begin(), ab.begin() + kFrameFloats);
  EXPECT_GT(video_rel_l2(video(ab), video(ba)), 1e-2);
}

}  // namespace
}  // namespace sluice
