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

std::vector<uint8_t> safetensors_pattern_bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(seed + i * 13);
  return out;
}

SafetensorsWriteTensor make(const std::string& name, const std::string& dtype,
                            std::vector<int64_t> shape, uint8_t seed) {
  int64_t n = safetensors_dtype_size(dtype);
  for (int64_t d : shape) n *= d;
  return {name, dtype, std::move(shape), safetensors_pattern_bytes(static_cast<size_t>(n), seed)};
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

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string expect_dir_error(const std::string& dir, const std::string& substring) {
  auto r = SafetensorsModel::open_dir(dir);
  EXPECT_FALSE(r.ok()) << "expected error containing: " << substring;
  if (r.ok()) return "";
  EXPECT_EQ(r.error().rfind("[safetensors] ", 0), 0u) << r.error();
  EXPECT_NE(r.error().find(substring), std::string::npos) << r.error();
  EXPECT_EQ(r.error().find('\n'), std::string::npos) << r.error();
  return r.error();
}

class SafetensorsDirTest : public ::testing::Test {
 protected:
  // Two shards and an index naming every tensor.
  void write_sharded() {
    ASSERT_TRUE(write_safetensors(dir_.file("model-00001-of-00002.safetensors"), shard1_).is_ok());
    ASSERT_TRUE(write_safetensors(dir_.file("model-00002-of-00002.safetensors"), shard2_).is_ok());
    write_text(dir_.file("model.safetensors.index.json"), index_json(""));
  }
  std::string index_json(const std::string& extra) const {
    return R"({"metadata": {"total_size": 100}, "weight_map": {)"
           R"("embed": "model-00001-of-00002.safetensors",)"
           R"("layers.0.w": "model-00001-of-00002.safetensors",)"
           R"("layers.1.w": "model-00002-of-00002.safetensors",)"
           R"("norm": "model-00002-of-00002.safetensors")" +
           extra + "}}";
  }

  TempDir dir_;
  std::vector<SafetensorsWriteTensor> shard1_ = {make("embed", "BF16", {10, 4}, 1),
                                                 make("layers.0.w", "F32", {4, 4}, 2)};
  std::vector<SafetensorsWriteTensor> shard2_ = {make("layers.1.w", "F32", {4, 4}, 3),
                                                 make("norm", "F16", {4}, 4)};
};

TEST_F(SafetensorsDirTest, ShardedWithIndex) {
  write_sharded();
  // A stray file not named by the index is ignored.
  ASSERT_TRUE(
      write_safetensors(dir_.file("other.safetensors"), {make("zzz", "U8", {1}, 5)}).is_ok());
  auto r = SafetensorsModel::open_dir(dir_.path().string());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ((*r)->names(), (std::vector<std::string>{"embed", "layers.0.w", "layers.1.w", "norm"}));
  for (const auto& t : shard1_) expect_tensor(**r, t);
  for (const auto& t : shard2_) expect_tensor(**r, t);
}

TEST_F(SafetensorsDirTest, MissingShard) {
  write_sharded();
  write_text(dir_.file("model.safetensors.index.json"),
             index_json(R"(, "lm_head": "model-00003-of-00003.safetensors")"));
  expect_dir_error(dir_.path().string(), "shard 'model-00003-of-00003.safetensors' is missing");
}

TEST_F(SafetensorsDirTest, IndexNamesTensorMissingFromShard) {
  write_sharded();
  write_text(dir_.file("model.safetensors.index.json"),
             index_json(R"(, "lm_head": "model-00002-of-00002.safetensors")"));
  const std::string msg = expect_dir_error(dir_.path().string(),
                                           "tensor 'lm_head' listed in the index is missing from "
                                           "shard 'model-00002-of-00002.safetensors'");
  EXPECT_NE(msg.find("model.safetensors.index.json: "), std::string::npos) << msg;
}

TEST_F(SafetensorsDirTest, IndexNamesWrongShard) {
  write_sharded();
  std::string index = index_json("");
  const std::string from = R"("norm": "model-00002)";
  index.replace(index.find(from), from.size(), R"("norm": "model-00001)");
  write_text(dir_.file("model.safetensors.index.json"), index);
  expect_dir_error(dir_.path().string(),
                   "tensor 'norm' listed in the index is missing from shard 'model-00001-of-00002");
}

TEST_F(SafetensorsDirTest, BadIndex) {
  write_sharded();
  write_text(dir_.file("model.safetensors.index.json"), "{\"weight_map\": ");
  expect_dir_error(dir_.path().string(), "model.safetensors.index.json: invalid JSON");
  write_text(dir_.file("model.safetensors.index.json"), R"({"metadata": {}})");
  expect_dir_error(dir_.path().string(), "missing \"weight_map\" object");
  write_text(dir_.file("model.safetensors.index.json"), R"({"weight_map": {"a": 3}})");
  expect_dir_error(dir_.path().string(), "weight_map entry 'a' is not a string");
}

TEST_F(SafetensorsDirTest, BadShardIsReported) {
  write_sharded();
  write_text(dir_.file("model-00002-of-00002.safetensors"), "garbage");
  expect_dir_error(dir_.path().string(), "model-00002-of-00002.safetensors: file too small");
}

TEST_F(SafetensorsDirTest, SingleModelFile) {
  ASSERT_TRUE(write_safetensors(dir_.file("model.safetensors"), shard1_).is_ok());
  ASSERT_TRUE(write_safetensors(dir_.file("extra.safetensors"), shard2_).is_ok());  // ignored
  auto r = SafetensorsModel::open_dir(dir_.path().string());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ((*r)->names(), (std::vector<std::string>{"embed", "layers.0.w"}));
}

TEST_F(SafetensorsDirTest, AllFilesWithoutIndex) {
  ASSERT_TRUE(write_safetensors(dir_.file("b.safetensors"), shard2_).is_ok());
  ASSERT_TRUE(write_safetensors(dir_.file("a.safetensors"), shard1_).is_ok());
  write_text(dir_.file("config.json"), "{}");
  auto r = SafetensorsModel::open_dir(dir_.path().string());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ((*r)->names().size(), 4u);
  for (const auto& t : shard1_) expect_tensor(**r, t);
  for (const auto& t : shard2_) expect_tensor(**r, t);
}

TEST_F(SafetensorsDirTest, DuplicateTensorAcrossFiles) {
  ASSERT_TRUE(write_safetensors(dir_.file("a.safetensors"), shard1_).is_ok());
  ASSERT_TRUE(
      write_safetensors(dir_.file("b.safetensors"), {make("embed", "F32", {1}, 1)}).is_ok());
  expect_dir_error(dir_.path().string(), "b.safetensors: tensor 'embed' also appears in");
}

TEST_F(SafetensorsDirTest, EmptyOrMissingDir) {
  write_text(dir_.file("config.json"), "{}");
  expect_dir_error(dir_.path().string(), "no .safetensors files");
  expect_dir_error(dir_.file("nope"), "not a directory");
}

}  // namespace
}  // namespace sluice
