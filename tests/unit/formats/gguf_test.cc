// GGUF reader/writer: round trips, every metadata value type, and the real vocab files.
#include "formats/gguf.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "gguf_raw.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing::TempDir;

std::vector<uint8_t> gguf_pattern_bytes(size_t n, uint8_t seed) {
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
  w.add_tensor("f32", GgufType::F32, {4, 3}, gguf_pattern_bytes(48, 1));
  w.add_tensor("f16", GgufType::F16, {5}, gguf_pattern_bytes(10, 2));
  w.add_tensor("bf16", GgufType::BF16, {3, 1, 2}, gguf_pattern_bytes(12, 3));
  w.add_tensor("q8", GgufType::Q8_0, {64, 2}, gguf_pattern_bytes(4 * 34, 4));
  w.add_tensor("q40", GgufType::Q4_0, {32}, gguf_pattern_bytes(18, 5));
  w.add_tensor("q41", GgufType::Q4_1, {32, 1, 1, 2}, gguf_pattern_bytes(40, 6));
  w.add_tensor("q4k", GgufType::Q4_K, {512}, gguf_pattern_bytes(288, 7));
  w.add_tensor("q5k", GgufType::Q5_K, {256, 3}, gguf_pattern_bytes(3 * 176, 8));
  w.add_tensor("q6k", GgufType::Q6_K, {256}, gguf_pattern_bytes(210, 9));
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
  EXPECT_EQ(std::vector<uint8_t>(q8->data, q8->data + q8->nbytes), gguf_pattern_bytes(136, 4));
  EXPECT_EQ(f.tensor("q41")->shape, (std::vector<int64_t>{32, 1, 1, 2}));
  EXPECT_EQ(f.tensor("q4k")->nbytes, 288u);
  EXPECT_EQ(f.tensor("nope"), nullptr);
  uint8_t seed = 1;
  for (const GgufTensorInfo& t : f.tensors()) {
    EXPECT_EQ(t.offset % 32, 0u) << t.name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 32, 0u) << t.name;  // mmap is page aligned
    EXPECT_EQ(std::vector<uint8_t>(t.data, t.data + t.nbytes), gguf_pattern_bytes(t.nbytes, seed++))
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

// Every metadata value type 0..12, nested arrays, in a v2 and a v3 file.
TEST(GgufTest, AllValueTypes) {
  for (uint32_t version : {2u, 3u}) {
    TempDir dir;
    testing::RawGguf g;
    g.header(version, 1, 17);
    g.key("u8", 0), g.put<uint8_t>(250);
    g.key("i8", 1), g.put<int8_t>(-100);
    g.key("u16", 2), g.put<uint16_t>(65000);
    g.key("i16", 3), g.put<int16_t>(-30000);
    g.key("u32", 4), g.put<uint32_t>(4000000000u);
    g.key("i32", 5), g.put<int32_t>(-2000000000);
    g.key("f32", 6), g.put<float>(1.5f);
    g.key("bool", 7), g.put<uint8_t>(0);
    g.key("str", 8), g.put_string("h\xc3\xa9llo");
    g.key("u64", 10), g.put<uint64_t>(18000000000000000000ull);
    g.key("i64", 11), g.put<int64_t>(-9000000000000000000ll);
    g.key("f64", 12), g.put<double>(-2.25);
    g.key("u64small", 10), g.put<uint64_t>(42);
    g.key("arr_u8", 9), g.put<uint32_t>(0), g.put<uint64_t>(3);
    for (uint8_t x : {1, 2, 255}) g.put(x);
    g.key("arr_bool", 9), g.put<uint32_t>(7), g.put<uint64_t>(2), g.put<uint8_t>(1),
        g.put<uint8_t>(0);
    g.key("arr_f64", 9), g.put<uint32_t>(12), g.put<uint64_t>(2), g.put(0.25), g.put(-8.0);
    // [[1, 2], ["x"]]
    g.key("nested", 9), g.put<uint32_t>(9), g.put<uint64_t>(2);
    g.put<uint32_t>(5), g.put<uint64_t>(2), g.put<int32_t>(1), g.put<int32_t>(2);
    g.put<uint32_t>(8), g.put<uint64_t>(1), g.put_string("x");
    g.tensor_info("t", {2, 2}, 0, 0);
    g.pad_to(32);
    g.append(std::vector<uint8_t>(16, 0x3f));
    const std::string path = dir.file("all.gguf");
    testing::write_bytes(path, g.bytes());

    auto r = GgufFile::open(path);
    ASSERT_TRUE(r.ok()) << r.error();
    const GgufFile& f = **r;
    EXPECT_EQ(f.version(), version);
    EXPECT_EQ(f.get_int("u8"), 250);
    EXPECT_EQ(f.get_int("i8"), -100);
    EXPECT_EQ(f.get_int("u16"), 65000);
    EXPECT_EQ(f.get_int("i16"), -30000);
    EXPECT_EQ(f.get_int("u32"), 4000000000ll);
    EXPECT_EQ(f.get_int("i32"), -2000000000);
    EXPECT_EQ(f.get_float("f32"), 1.5);
    EXPECT_EQ(f.get_bool("bool"), false);
    EXPECT_EQ(f.get_string("str"), "h\xc3\xa9llo");
    EXPECT_EQ(f.get_int("u64"), std::nullopt);  // does not fit int64
    EXPECT_EQ(std::get<uint64_t>(f.find("u64")->v), 18000000000000000000ull);
    EXPECT_EQ(f.get_float("u64"), 18000000000000000000.0);
    EXPECT_EQ(f.get_int("u64small"), 42);
    EXPECT_EQ(f.get_int("i64"), -9000000000000000000ll);
    EXPECT_EQ(f.get_float("f64"), -2.25);
    EXPECT_EQ(f.get_int_array("arr_u8"), (std::vector<int64_t>{1, 2, 255}));
    const auto& bools = std::get<GgufArray>(f.find("arr_bool")->v);
    ASSERT_EQ(bools.size(), 2u);
    EXPECT_EQ(std::get<bool>(bools[0].v), true);
    EXPECT_EQ(f.get_float_array("arr_f64"), (std::vector<double>{0.25, -8.0}));
    const auto& nested = std::get<GgufArray>(f.find("nested")->v);
    ASSERT_EQ(nested.size(), 2u);
    const auto& inner0 = std::get<GgufArray>(nested[0].v);
    ASSERT_EQ(inner0.size(), 2u);
    EXPECT_EQ(std::get<int64_t>(inner0[1].v), 2);
    EXPECT_EQ(std::get<std::string>(std::get<GgufArray>(nested[1].v)[0].v), "x");
    EXPECT_EQ(f.get_int_array("nested"), std::nullopt);
    ASSERT_EQ(f.tensors().size(), 1u);
    EXPECT_EQ(f.tensors()[0].nbytes, 16u);
    EXPECT_EQ(f.tensors()[0].data[15], 0x3f);
  }
}

TEST(GgufTest, CustomAlignment) {
  TempDir dir;
  GgufWriter w;
  w.add_uint32("general.alignment", 64);
  w.add_tensor("a", GgufType::F32, {3}, std::vector<uint8_t>(12, 1));
  w.add_tensor("b", GgufType::F32, {5}, std::vector<uint8_t>(20, 2));
  ASSERT_TRUE(w.write(dir.file("a.gguf")).is_ok());
  auto r = GgufFile::open(dir.file("a.gguf"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ((*r)->tensor("b")->offset, 64u);
  const uint8_t* base = (*r)->tensor("a")->data;
  EXPECT_EQ(reinterpret_cast<uintptr_t>(base) % 64, 0u);
  EXPECT_EQ((*r)->tensor("b")->data[0], 2);
}

TEST(GgufTest, WriterKeepsInsertionOrderAndReplacesRepeatedKeys) {
  TempDir dir;
  GgufWriter w;
  w.add_string("zeta", "1");
  w.add_string("alpha", "2");
  w.add_int32("mid", 1);
  w.add_int32("mid", 5);  // replaces in place
  ASSERT_TRUE(w.write(dir.file("o.gguf")).is_ok());
  const std::vector<uint8_t> raw = testing::read_bytes(dir.file("o.gguf"));
  const std::string text(raw.begin(), raw.end());
  EXPECT_LT(text.find("zeta"), text.find("alpha"));
  EXPECT_LT(text.find("alpha"), text.find("mid"));
  auto r = GgufFile::open(dir.file("o.gguf"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ((*r)->metadata().size(), 3u);
  EXPECT_EQ((*r)->get_int("mid"), 5);
  EXPECT_EQ(raw.size() % 32, 0u);
}

TEST(GgufTest, WriterRejectsBadTensors) {
  TempDir dir;
  const std::string p = dir.file("bad.gguf");
  auto error_of = [&](GgufType type, std::vector<int64_t> shape, size_t nbytes) {
    GgufWriter w;
    w.add_tensor("t", type, shape, std::vector<uint8_t>(nbytes));
    return w.write(p).message();
  };
  EXPECT_NE(error_of(GgufType::F32, {4}, 15).find("has 15 bytes, expected 16"), std::string::npos);
  EXPECT_NE(error_of(GgufType::Q8_0, {16}, 17).find("block size"), std::string::npos);
  EXPECT_NE(error_of(GgufType::Q3_K, {256}, 110).find("unsupported type Q3_K"), std::string::npos);
  EXPECT_NE(error_of(GgufType::F32, {1, 1, 1, 1, 1}, 4).find("1 to 4"), std::string::npos);
  EXPECT_NE(error_of(GgufType::F32, {0}, 0).find("invalid shape"), std::string::npos);
  GgufWriter long_name;
  long_name.add_tensor(std::string(64, 'n'), GgufType::F32, {1}, std::vector<uint8_t>(4));
  EXPECT_NE(long_name.write(p).message().find("longer than 63 bytes"), std::string::npos);
  GgufWriter w;
  w.add_tensor("t", GgufType::F32, {1}, std::vector<uint8_t>(4));
  w.add_tensor("t", GgufType::F32, {1}, std::vector<uint8_t>(4));
  EXPECT_NE(w.write(p).message().find("duplicate tensor 't'"), std::string::npos);
}

TEST(GgufTest, TypeNamesAndBlocks) {
  EXPECT_EQ(gguf_type_name(GgufType::Q4_K), "Q4_K");
  EXPECT_EQ(gguf_type_name(GgufType::BF16), "BF16");
  EXPECT_EQ(gguf_type_name(static_cast<GgufType>(99)), "type 99");
  int64_t e = 0, b = 0;
  EXPECT_TRUE(gguf_type_block(GgufType::Q6_K, &e, &b));
  EXPECT_EQ(e, 256);
  EXPECT_EQ(b, 210);
  EXPECT_TRUE(gguf_type_block(GgufType::Q4_1, &e, &b));
  EXPECT_EQ(b, 20);
  EXPECT_FALSE(gguf_type_block(GgufType::Q8_K, &e, &b));
  EXPECT_TRUE(gguf_type_block(GgufType::Q5_0, &e, &b));  // Gemma 3's rows of 640
  EXPECT_EQ(b, 22);
  EXPECT_TRUE(gguf_type_block(GgufType::Q5_1, &e, &b));
  EXPECT_EQ(b, 24);
  EXPECT_FALSE(gguf_type_block(GgufType::Q2_K, &e, &b));
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
