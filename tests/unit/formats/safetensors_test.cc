// Safetensors reader/writer: round trips, header layout, and model directories (single, sharded).
#include "formats/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace sluice {
namespace {

using testing::TempDir;

std::vector<uint8_t> pattern_bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(seed + i * 13);
  return out;
}

SafetensorsWriteTensor make(const std::string& name, const std::string& dtype,
                            std::vector<int64_t> shape, uint8_t seed) {
  int64_t n = safetensors_dtype_size(dtype);
  for (int64_t d : shape) n *= d;
  return {name, dtype, std::move(shape), pattern_bytes(static_cast<size_t>(n), seed)};
}

void expect_tensor(const SafetensorsModel& m, const SafetensorsWriteTensor& w) {
  const SafetensorsTensor* t = m.find(w.name);
  ASSERT_NE(t, nullptr) << w.name;
  EXPECT_EQ(t->name, w.name);
  EXPECT_EQ(t->dtype, w.dtype);
  EXPECT_EQ(t->shape, w.shape);
  ASSERT_EQ(t->nbytes, w.bytes.size());
  if (t->nbytes) {
    EXPECT_EQ(std::memcmp(t->data, w.bytes.data(), t->nbytes), 0) << w.name;
  }
}

TEST(SafetensorsTest, RoundTrip) {
  TempDir dir;
  const std::vector<SafetensorsWriteTensor> tensors = {
      make("model.layers.0.weight", "BF16", {3, 5}, 1),
      make("b", "F32", {7}, 2),
      make("a.scalar", "F64", {}, 3),
      make("empty", "F16", {0, 4}, 4),
      make("ids", "I64", {2, 2}, 5),
      make("q", "U32", {4, 1, 2}, 6),
      make("mask", "BOOL", {3}, 7),
      make("i8", "I8", {5}, 8),
      make("u8", "U8", {1}, 9),
      make("i16", "I16", {2}, 10),
      make("i32", "I32", {2}, 11),
      make("u64", "U64", {1}, 12),
  };
  const std::string path = dir.file("m.safetensors");
  auto st = write_safetensors(path, tensors, {{"format", "pt"}, {"note", "x\"y"}});
  ASSERT_TRUE(st.is_ok()) << st.message();

  // Header: length multiple of 8, sorted keys, metadata kept, offsets contiguous.
  const std::vector<uint8_t> raw = testing::read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, raw.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  const auto header = nlohmann::json::parse(raw.begin() + 8, raw.begin() + 8 + n);
  EXPECT_EQ(header["__metadata__"]["format"], "pt");
  EXPECT_EQ(header["__metadata__"]["note"], "x\"y");
  std::string prev;
  uint64_t expected_begin = 0;
  for (const auto& [key, value] : header.items()) {
    EXPECT_LT(prev, key);
    prev = key;
    if (key == "__metadata__") continue;
    EXPECT_EQ(value["data_offsets"][0].get<uint64_t>(), expected_begin) << key;
    expected_begin = value["data_offsets"][1].get<uint64_t>();
  }
  EXPECT_EQ(8 + n + expected_begin, raw.size());

  auto r = SafetensorsModel::open_file(path);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ((*r)->names().size(), tensors.size());
  for (const auto& t : tensors) expect_tensor(**r, t);
  EXPECT_EQ((*r)->find("__metadata__"), nullptr);
  EXPECT_EQ((*r)->find("missing"), nullptr);
}

TEST(SafetensorsTest, NoMetadataKeyWhenEmpty) {
  TempDir dir;
  ASSERT_TRUE(write_safetensors(dir.file("m.safetensors"), {make("w", "F32", {2}, 1)}).is_ok());
  const std::vector<uint8_t> raw = testing::read_bytes(dir.file("m.safetensors"));
  const std::string text(raw.begin(), raw.end());
  EXPECT_EQ(text.find("__metadata__"), std::string::npos);
}

TEST(SafetensorsTest, WriterRejectsBadInput) {
  TempDir dir;
  const std::string p = dir.file("bad.safetensors");
  auto t = make("w", "F32", {2}, 1);
  t.bytes.pop_back();
  EXPECT_NE(write_safetensors(p, {t}).message().find("expected 8"), std::string::npos);
  EXPECT_NE(write_safetensors(p, {make("w", "F32", {2}, 1), make("w", "F32", {2}, 1)})
                .message()
                .find("duplicate"),
            std::string::npos);
  auto u = make("w", "F32", {2}, 1);
  u.dtype = "Q4";
  EXPECT_NE(write_safetensors(p, {u}).message().find("unknown dtype 'Q4'"), std::string::npos);
}

}  // namespace
}  // namespace sluice
