// Writes files from our GGUF and safetensors writers for a by-hand interop check with the Python
// `gguf`, `safetensors` and `mlx` packages. Runs only when SLUICE_INTEROP_DIR is set.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "formats/gguf.h"
#include "formats/safetensors.h"

namespace sluice {
namespace {

TEST(FormatsInterop, WriteFilesForPython) {
  const char* out = std::getenv("SLUICE_INTEROP_DIR");
  if (!out) GTEST_SKIP() << "set SLUICE_INTEROP_DIR to write interop files";
  std::filesystem::create_directories(out);
  std::vector<uint8_t> f32(4 * 6), f16(2 * 8), bf16(2 * 6), q8(34 * 2);
  const float vals[6] = {1.0f, -2.5f, 3.25f, 0.0f, 1e-3f, -7.0f};
  std::memcpy(f32.data(), vals, sizeof(vals));
  for (size_t i = 0; i < 8; ++i) {
    const uint16_t h = static_cast<uint16_t>(0x3c00 + i);  // f16 near 1.0
    std::memcpy(f16.data() + 2 * i, &h, 2);
  }
  for (size_t i = 0; i < 6; ++i) {
    uint32_t bits = 0;
    std::memcpy(&bits, &vals[i], 4);
    const uint16_t b = static_cast<uint16_t>(bits >> 16);
    std::memcpy(bf16.data() + 2 * i, &b, 2);
  }
  for (size_t i = 0; i < q8.size(); ++i) q8[i] = static_cast<uint8_t>(i);

  const std::string st_path = (std::filesystem::path(out) / "sluice.safetensors").string();
  ASSERT_TRUE(write_safetensors(st_path,
                                {{"w.f32", "F32", {2, 3}, f32},
                                 {"w.f16", "F16", {8}, f16},
                                 {"w.bf16", "BF16", {3, 2}, bf16},
                                 {"ids", "I32", {2}, {1, 0, 0, 0, 255, 255, 255, 255}},
                                 {"mask", "U8", {3}, {0, 1, 2}}},
                                {{"format", "mlx"}})
                  .is_ok());

  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_string("general.name", "sluice interop");
  w.add_uint32("llama.block_count", 2);
  w.add_int32("test.neg", -5);
  w.add_float32("llama.rope.freq_base", 10000.0f);
  w.add_bool("test.flag", true);
  w.add_string_array("tokenizer.ggml.tokens", {"<s>", "</s>", "hello"});
  w.add_float32_array("tokenizer.ggml.scores", {0.0f, -1.0f, -2.5f});
  w.add_int32_array("tokenizer.ggml.token_type", {3, 3, 1});
  w.add_tensor("w.f32", GgufType::F32, {3, 2}, f32);
  w.add_tensor("w.f16", GgufType::F16, {8}, f16);
  w.add_tensor("w.q8", GgufType::Q8_0, {32, 2}, q8);
  ASSERT_TRUE(w.write((std::filesystem::path(out) / "sluice.gguf").string()).is_ok());
}

// Reads python.gguf / python.safetensors from SLUICE_INTEROP_DIR when a by-hand run put them there
// (written by gguf.GGUFWriter and safetensors.numpy.save_file; see the snippet in the report).
TEST(FormatsInterop, ReadFilesFromPython) {
  const char* dir = std::getenv("SLUICE_INTEROP_DIR");
  if (!dir) GTEST_SKIP() << "set SLUICE_INTEROP_DIR to read interop files";
  const auto gguf_path = std::filesystem::path(dir) / "python.gguf";
  if (std::filesystem::exists(gguf_path)) {
    auto r = GgufFile::open(gguf_path.string());
    ASSERT_TRUE(r.ok()) << r.error();
    const GgufFile& f = **r;
    EXPECT_EQ(f.get_string("general.architecture"), "llama");
    EXPECT_EQ(std::get<uint64_t>(f.find("t.u64")->v), (1ull << 63) + 5);
    EXPECT_EQ(f.get_int("t.i64"), -3);
    EXPECT_EQ(f.get_float("t.f64"), 0.125);
    EXPECT_EQ(f.get_int("t.u8"), 200);
    EXPECT_EQ(f.get_int("t.i16"), -1234);
    EXPECT_EQ(f.get_bool("t.bool"), false);
    const auto& nested = std::get<GgufArray>(f.find("t.nested")->v);
    ASSERT_EQ(nested.size(), 2u);
    EXPECT_EQ(std::get<GgufArray>(nested[1].v).size(), 1u);
    EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens"), (std::vector<std::string>{"a", "b"}));
    const GgufTensorInfo* x = f.tensor("x");
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->shape, (std::vector<int64_t>{4, 3}));  // ggml order
    float last = 0;
    std::memcpy(&last, x->data + 44, 4);
    EXPECT_EQ(last, 11.0f);
    ASSERT_NE(f.tensor("y"), nullptr);
    EXPECT_EQ(f.tensor("y")->type, GgufType::F16);
  }
  const auto st_path = std::filesystem::path(dir) / "python.safetensors";
  if (std::filesystem::exists(st_path)) {
    auto r = SafetensorsModel::open_file(st_path.string());
    ASSERT_TRUE(r.ok()) << r.error();
    const SafetensorsTensor* a = (*r)->find("a");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
    float v = 0;
    std::memcpy(&v, a->data + 20, 4);
    EXPECT_EQ(v, 5.0f);
    ASSERT_NE((*r)->find("b"), nullptr);
    EXPECT_EQ((*r)->find("b")->dtype, "I64");
  }
}

}  // namespace
}  // namespace sluice
