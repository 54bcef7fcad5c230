// read_decoder_pooling over sentence-transformers files as Qwen3-Embedding ships them, and
// DecoderPooling::check_dimensions (vLLM's is_matryoshka / matryoshka_dimensions rules).
#include "model/decoder_pooling.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "formats/gguf.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

class DecoderPoolingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-pooling-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "1_Pooling");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  void modules(bool normalize) {
    write("modules.json",
          R"([{"path": "", "type": "sentence_transformers.models.Transformer"},
              {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"})" +
              std::string(normalize ? R"(, {"path": "2_Normalize",
              "type": "sentence_transformers.models.Normalize"}])"
                                    : "]"));
  }
  fs::path dir_;
};

TEST_F(DecoderPoolingTest, Qwen3EmbeddingFiles) {
  modules(true);
  write("1_Pooling/config.json", R"({"pooling_mode_lasttoken": true, "pooling_mode_cls_token":
      false, "pooling_mode_mean_tokens": false})");
  write("config.json", R"({"architectures": ["Qwen3ForCausalLM"]})");
  auto p = read_decoder_pooling(dir_.string());
  ASSERT_TRUE(p) << p.error();
  EXPECT_TRUE(p->declared);
  EXPECT_TRUE(p->normalize);
  EXPECT_FALSE(p->matryoshka);
  EXPECT_NE(p->check_dimensions(64, 1024).find("fixed 1024 dimensions"), std::string::npos);
}

TEST_F(DecoderPoolingTest, DefaultsWithoutFiles) {
  auto p = read_decoder_pooling(dir_.string());
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->declared);
  EXPECT_TRUE(p->normalize);
  auto gguf = read_decoder_pooling((dir_ / "model.gguf").string());  // not a directory
  ASSERT_TRUE(gguf);
  EXPECT_FALSE(gguf->declared);
}

TEST_F(DecoderPoolingTest, NoNormalizeModule) {
  modules(false);
  write("1_Pooling/config.json", R"({"pooling_mode_lasttoken": true})");
  auto p = read_decoder_pooling(dir_.string());
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->normalize);
}

TEST_F(DecoderPoolingTest, OtherPoolingIsAnError) {
  modules(true);
  write("1_Pooling/config.json", R"({"pooling_mode_mean_tokens": true})");
  auto p = read_decoder_pooling(dir_.string());
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().find("pooling_mode_mean_tokens"), std::string::npos) << p.error();
}

TEST_F(DecoderPoolingTest, MatryoshkaFromConfig) {
  write("config.json", R"({"is_matryoshka": true})");
  auto any = read_decoder_pooling(dir_.string());
  ASSERT_TRUE(any);
  EXPECT_TRUE(any->matryoshka);
  EXPECT_EQ(any->check_dimensions(1, 256), "");
  EXPECT_EQ(any->check_dimensions(256, 256), "");
  EXPECT_NE(any->check_dimensions(257, 256).find("[1, 256]"), std::string::npos);
  EXPECT_NE(any->check_dimensions(0, 256).find("[1, 256]"), std::string::npos);
  write("config.json", R"({"matryoshka_dimensions": [64, 128]})");
  auto listed = read_decoder_pooling(dir_.string());
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->matryoshka);
  EXPECT_EQ(listed->check_dimensions(128, 256), "");
  EXPECT_NE(listed->check_dimensions(100, 256).find("one of the model's matryoshka_dimensions (64, "
                                                    "128)"),
            std::string::npos);
}

TEST_F(DecoderPoolingTest, GgufPoolingType) {
  for (uint32_t type : {3u, 1u}) {  // llama.cpp's LAST, MEAN
    GgufWriter w;
    w.add_string("general.architecture", "qwen3");
    w.add_uint32("qwen3.pooling_type", type);
    const std::string path = (dir_ / "m.gguf").string();
    ASSERT_TRUE(w.write(path));
    auto p = read_decoder_pooling(path);
    ASSERT_TRUE(p) << p.error();
    EXPECT_EQ(p->declared, type == 3);
  }
}

}  // namespace
}  // namespace sluice
