// Malformed safetensors files and model directories: each case fails with one clear
// "[safetensors] <path>: ..." line, never a crash or an out-of-bounds read.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "formats/safetensors.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing::patch;
using testing::TempDir;

// A file with the given header text (not padded) and data section.
std::vector<uint8_t> raw_file(const std::string& header, size_t data_size) {
  std::vector<uint8_t> b(8 + header.size() + data_size, 0x11);
  const uint64_t n = header.size();
  std::memcpy(b.data(), &n, 8);
  std::memcpy(b.data() + 8, header.data(), header.size());
  return b;
}

class SafetensorsMalformedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<SafetensorsWriteTensor> t = {
        {"a", "F32", {2, 3}, std::vector<uint8_t>(24, 1)},
        {"b", "I8", {4}, std::vector<uint8_t>(4, 2)},
    };
    ASSERT_TRUE(write_safetensors(dir_.file("valid.safetensors"), t, {{"format", "pt"}}).is_ok());
    valid_ = testing::read_bytes(dir_.file("valid.safetensors"));
    path_ = dir_.file("model.safetensors");
  }

  std::string expect_error(const std::vector<uint8_t>& bytes, const std::string& substring) {
    testing::write_bytes(path_, bytes);
    auto r = SafetensorsModel::open_file(path_);
    EXPECT_FALSE(r.ok()) << "expected error containing: " << substring;
    if (r.ok()) return "";
    const std::string& msg = r.error();
    EXPECT_EQ(msg.rfind("[safetensors] " + path_ + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find(substring), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    return msg;
  }
  void expect_header_error(const std::string& header, size_t data_size,
                           const std::string& substring) {
    SCOPED_TRACE(header);
    expect_error(raw_file(header, data_size), substring);
  }

  TempDir dir_;
  std::vector<uint8_t> valid_;
  std::string path_;
};

TEST_F(SafetensorsMalformedTest, ValidFileAndMetadataSkipped) {
  testing::write_bytes(path_, raw_file(R"({"__metadata__":{"format":"pt"},)"
                                       R"("x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})",
                                       4));
  auto r = SafetensorsModel::open_file(path_);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ((*r)->names(), std::vector<std::string>{"x"});
}

TEST_F(SafetensorsMalformedTest, TooSmall) {
  expect_error({}, "file too small (0 bytes)");
  expect_error({1, 0, 0}, "file too small");
}

TEST_F(SafetensorsMalformedTest, HeaderLengthPastEof) {
  auto b = valid_;
  patch<uint64_t>(&b, 0, b.size());
  expect_error(b, "header length " + std::to_string(b.size()) + " extends past end of file");
  patch<uint64_t>(&b, 0, ~0ull);
  expect_error(b, "extends past end of file");
}

TEST_F(SafetensorsMalformedTest, InvalidJson) {
  auto b = valid_;
  b[8] = 'X';
  expect_error(b, "header is not valid JSON");
  expect_header_error("{\"a\": ", 0, "header is not valid JSON");
  expect_header_error("", 0, "header is not valid JSON");
  expect_header_error("[1, 2]", 0, "header is not a JSON object");
}

TEST_F(SafetensorsMalformedTest, DeeplyNestedJson) {
  expect_header_error(std::string(1000000, '['), 0, "header is not valid JSON");
  expect_header_error("{\"x\": " + std::string(100000, '[') + std::string(100000, ']') + "}", 0,
                      "tensor 'x' entry is not an object");
}

TEST_F(SafetensorsMalformedTest, BadEntries) {
  expect_header_error(R"({"x": 5})", 0, "tensor 'x' entry is not an object");
  expect_header_error(R"({"x": {"shape": [1], "data_offsets": [0, 4]}})", 4,
                      "tensor 'x' has no \"dtype\" string");
  expect_header_error(R"({"x": {"dtype": 4, "shape": [1], "data_offsets": [0, 4]}})", 4,
                      "tensor 'x' has no \"dtype\" string");
  expect_header_error(R"({"x": {"dtype": "F32", "data_offsets": [0, 4]}})", 4,
                      "tensor 'x' has no \"shape\" array");
  expect_header_error(R"({"x": {"dtype": "F32", "shape": [1]}})", 4,
                      "tensor 'x' has no \"data_offsets\"");
  expect_header_error(R"({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", 4,
                      "tensor 'x' has no \"data_offsets\"");
}

TEST_F(SafetensorsMalformedTest, UnknownDtype) {
  expect_header_error(R"({"x": {"dtype": "Q4_K", "shape": [1], "data_offsets": [0, 4]}})", 4,
                      "tensor 'x' has unknown dtype 'Q4_K'");
}

TEST_F(SafetensorsMalformedTest, InvalidShape) {
  expect_header_error(R"({"x": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4,
                      "tensor 'x' has an invalid shape entry -1");
  expect_header_error(R"({"x": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})", 4,
                      "invalid shape entry 1.5");
  expect_header_error(R"({"x": {"dtype": "F32", "shape": ["2"], "data_offsets": [0, 4]}})", 4,
                      "invalid shape entry");
  expect_header_error(
      R"({"x": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]}})", 4,
      "tensor 'x' element count overflows");
  expect_header_error(
      R"({"x": {"dtype": "F64", "shape": [4611686018427387904], "data_offsets": [0, 4]}})", 4,
      "tensor 'x' byte size overflows");
}

TEST_F(SafetensorsMalformedTest, SizeMismatch) {
  expect_header_error(R"({"x": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}})", 20,
                      "tensor 'x' has 20 bytes but F32 [2,3] needs 24");
  expect_header_error(R"({"x": {"dtype": "BF16", "shape": [], "data_offsets": [0, 4]}})", 4,
                      "has 4 bytes but BF16 [] needs 2");
}

TEST_F(SafetensorsMalformedTest, OffsetsOutsideData) {
  expect_header_error(R"({"x": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 6,
                      "tensor 'x' data_offsets [4,8] extend past the data section (6 bytes");
  expect_header_error(R"({"x": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}})", 8,
                      "tensor 'x' has invalid data_offsets [8,4]");
  expect_header_error(R"({"x": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}})", 8,
                      "invalid data_offsets");
  expect_header_error(
      R"({"x": {"dtype": "U8", "shape": [1], "data_offsets": [18446744073709551615, 0]}})", 8,
      "invalid data_offsets");
}

TEST_F(SafetensorsMalformedTest, EveryTruncationFails) {
  for (size_t n = 0; n < valid_.size(); ++n) {
    SCOPED_TRACE("truncated to " + std::to_string(n) + " bytes");
    expect_error(std::vector<uint8_t>(valid_.begin(), valid_.begin() + n), "");
  }
  expect_error(std::vector<uint8_t>(valid_.begin(), valid_.end() - 1),
               "extend past the data section");
}

TEST_F(SafetensorsMalformedTest, CorruptBytesNeverCrash) {
  std::mt19937 rng(99);
  uint64_t header_len = 0;
  std::memcpy(&header_len, valid_.data(), 8);
  const size_t header_end = 8 + header_len;
  for (size_t i = 0; i < header_end; ++i) {
    for (uint8_t v : {uint8_t{0}, uint8_t{'9'}, uint8_t{'-'}, uint8_t{0xff}}) {
      auto b = valid_;
      b[i] = v;
      testing::write_bytes(path_, b);
      auto r = SafetensorsModel::open_file(path_);
      if (!r.ok()) {
        EXPECT_EQ(r.error().rfind("[safetensors] ", 0), 0u);
      }
    }
  }
  for (int iter = 0; iter < 300; ++iter) {
    auto b = valid_;
    for (int k = 0; k < 3; ++k) b[rng() % header_end] = static_cast<uint8_t>(rng());
    testing::write_bytes(path_, b);
    auto r = SafetensorsModel::open_file(path_);
    if (r.ok()) {
      for (const auto& name : (*r)->names()) {
        const SafetensorsTensor* t = (*r)->find(name);
        if (t->nbytes) {
          volatile uint8_t last = t->data[t->nbytes - 1];
          (void)last;
        }
      }
    }
  }
}

}  // namespace
}  // namespace sluice
