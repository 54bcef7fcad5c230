// GGUF reader/writer: round trips, every metadata value type, and the real vocab files.
#include "formats/gguf.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "test_util.h"

namespace sluice {
namespace {

using testing::TempDir;

std::vector<uint8_t> pattern_bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(seed + i * 7);
  return out;
}

TEST(GgufTest, WriterRoundTrip) {
  TempDir dir;
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_uint32("llama.block_count", 4000000000u);
  w.add_int32("llama.offset", -7);
  w.add_float32("llama.rope.freq_base", 10000.5f);
  w.add_bool("general.flag", true);
  w.add_string_array("tokenizer.ggml.tokens", {"a", "", "hello world", "\xe2\x96\x81x"});
  w.add_float32_array("tokenizer.ggml.scores", {0.5f, -1.25f});
  w.add_int32_array("tokenizer.ggml.token_type", {1, 2, -3});
  w.add_int32_array("empty", {});
  w.add_tensor("f32", GgufType::F32, {4, 3}, pattern_bytes(48, 1));
  w.add_tensor("f16", GgufType::F16, {5}, pattern_bytes(10, 2));
  w.add_tensor("bf16", GgufType::BF16, {3, 1, 2}, pattern_bytes(12, 3));
  w.add_tensor("q8", GgufType::Q8_0, {64, 2}, pattern_bytes(4 * 34, 4));
  w.add_tensor("q40", GgufType::Q4_0, {32}, pattern_bytes(18, 5));
  w.add_tensor("q41", GgufType::Q4_1, {32, 1, 1, 2}, pattern_bytes(40, 6));
  w.add_tensor("q4k", GgufType::Q4_K, {512}, pattern_bytes(288, 7));
  w.add_tensor("q5k", GgufType::Q5_K, {256, 3}, pattern_bytes(3 * 176, 8));
  w.add_tensor("q6k", GgufType::Q6_K, {256}, pattern_bytes(210, 9));
  const std::string path = dir.file("rt.gguf");
  ASSERT_TRUE(w.write(path).is_ok());

  auto r = GgufFile::open(path);
  ASSERT_TRUE(r.ok()) << r.error();
  const GgufFile& f = **r;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.path(), path);
  EXPECT_EQ(f.metadata().size(), 9u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("llama.block_count"), 4000000000);
  EXPECT_EQ(f.get_int("llama.offset"), -7);
  EXPECT_EQ(f.get_float("llama.rope.freq_base"), 10000.5);
  EXPECT_EQ(f.get_float("llama.offset"), -7.0);  // integers read as floats
  EXPECT_EQ(f.get_int("llama.rope.freq_base"), std::nullopt);
  EXPECT_EQ(f.get_bool("general.flag"), true);
  EXPECT_EQ(f.get_string("llama.offset"), std::nullopt);
  EXPECT_EQ(f.get_int("missing"), std::nullopt);
  EXPECT_EQ(f.find("missing"), nullptr);
  auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens);
  EXPECT_EQ(*tokens, (std::vector<std::string>{"a", "", "hello world", "\xe2\x96\x81x"}));
  EXPECT_EQ(f.get_float_array("tokenizer.ggml.scores"), (std::vector<double>{0.5, -1.25}));
  EXPECT_EQ(f.get_int_array("tokenizer.ggml.token_type"), (std::vector<int64_t>{1, 2, -3}));
  EXPECT_EQ(f.get_float_array("tokenizer.ggml.token_type"), (std::vector<double>{1, 2, -3}));
  EXPECT_EQ(f.get_int_array("tokenizer.ggml.scores"), std::nullopt);
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.scores"), std::nullopt);
  EXPECT_EQ(f.get_int_array("empty"), std::vector<int64_t>{});
  EXPECT_EQ(f.get_int_array("general.architecture"), std::nullopt);

  ASSERT_EQ(f.tensors().size(), 9u);
  const std::vector<std::string> names = {"f32", "f16", "bf16", "q8", "q40",
                                          "q41", "q4k", "q5k",  "q6k"};
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(f.tensors()[i].name, names[i]);
  const GgufTensorInfo* q8 = f.tensor("q8");
  ASSERT_NE(q8, nullptr);
  EXPECT_EQ(q8->type, GgufType::Q8_0);
  EXPECT_EQ(q8->shape, (std::vector<int64_t>{64, 2}));
  EXPECT_EQ(q8->num_elements(), 128);
  EXPECT_EQ(q8->nbytes, 136u);
  EXPECT_EQ(std::vector<uint8_t>(q8->data, q8->data + q8->nbytes), pattern_bytes(136, 4));
  EXPECT_EQ(f.tensor("q41")->shape, (std::vector<int64_t>{32, 1, 1, 2}));
  EXPECT_EQ(f.tensor("q4k")->nbytes, 288u);
  EXPECT_EQ(f.tensor("nope"), nullptr);
  uint8_t seed = 1;
  for (const GgufTensorInfo& t : f.tensors()) {
    EXPECT_EQ(t.offset % 32, 0u) << t.name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 32, 0u) << t.name;  // mmap is page aligned
    EXPECT_EQ(std::vector<uint8_t>(t.data, t.data + t.nbytes), pattern_bytes(t.nbytes, seed++))
        << t.name;
  }
}

TEST(GgufTest, EmptyFileHasNoTensors) {
  TempDir dir;
  GgufWriter w;
  ASSERT_TRUE(w.write(dir.file("e.gguf")).is_ok());
  auto r = GgufFile::open(dir.file("e.gguf"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE((*r)->metadata().empty());
  EXPECT_TRUE((*r)->tensors().empty());
}

TEST(GgufTest, RealVocabFiles) {
  const auto vocab = testing::testdata_dir() / "vocab";
  if (!std::filesystem::exists(vocab)) GTEST_SKIP() << "no test data at " << vocab;
  int num_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(vocab)) {
    if (entry.path().extension() != ".gguf") continue;
    ++num_files;
    auto r = GgufFile::open(entry.path().string());
    ASSERT_TRUE(r.ok()) << r.error();
    const GgufFile& f = **r;
    EXPECT_TRUE(f.version() == 2 || f.version() == 3);
    auto tokens = f.get_string_array("tokenizer.ggml.tokens");
    ASSERT_TRUE(tokens) << entry.path();
    EXPECT_GT(tokens->size(), 0u) << entry.path();
    EXPECT_TRUE(f.get_string("tokenizer.ggml.model")) << entry.path();
    auto types = f.get_int_array("tokenizer.ggml.token_type");
    if (types) {
      EXPECT_EQ(types->size(), tokens->size()) << entry.path();
    }
  }
  EXPECT_GT(num_files, 0);
}

}  // namespace
}  // namespace sluice
