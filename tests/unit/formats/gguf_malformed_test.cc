// Malformed GGUF files: a valid file written to a temp dir, then truncated or patched. Each case
// must fail with one clear "[gguf] <path>: ..." line, never crash or read out of bounds.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "formats/gguf.h"
#include "gguf_raw.h"
#include "test_util.h"

namespace sluice {
namespace {

using testing::patch;
using testing::TempDir;

class GgufMalformedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GgufWriter w;
    w.add_string("general.architecture", "llama");
    w.add_uint32("general.alignment", 32);
    w.add_bool("general.flag", true);
    w.add_string_array("tokenizer.ggml.tokens", {"a", "b", "c"});
    w.add_tensor("blk.0.attn_q.weight", GgufType::Q8_0, {64, 2}, std::vector<uint8_t>(136, 7));
    w.add_tensor("tensor_b", GgufType::F32, {4, 2}, std::vector<uint8_t>(32, 8));
    // Last tensor's size is a multiple of 32: the file ends exactly at its last byte.
    w.add_tensor("tensor_c", GgufType::F32, {8}, std::vector<uint8_t>(32, 9));
    ASSERT_TRUE(w.write(dir_.file("valid.gguf")).is_ok());
    valid_ = testing::read_bytes(dir_.file("valid.gguf"));
    ASSERT_TRUE(GgufFile::open(dir_.file("valid.gguf")).ok());
    path_ = dir_.file("model.gguf");
  }

  // Where a name's bytes end (the name is preceded by its u64 length).
  size_t after_string(const std::string& s) const {
    std::vector<uint8_t> needle(8 + s.size());
    const uint64_t len = s.size();
    std::memcpy(needle.data(), &len, 8);
    std::memcpy(needle.data() + 8, s.data(), s.size());
    auto it = std::search(valid_.begin(), valid_.end(), needle.begin(), needle.end());
    EXPECT_NE(it, valid_.end()) << s;
    return static_cast<size_t>(it - valid_.begin()) + needle.size();
  }
  // Tensor info fields of a tensor in valid_.
  size_t n_dims_at(const std::string& name) const { return after_string(name); }
  size_t dim_at(const std::string& name, int d) const { return after_string(name) + 4 + 8 * d; }
  size_t type_at(const std::string& name) const {
    uint32_t n = 0;
    std::memcpy(&n, valid_.data() + n_dims_at(name), 4);
    return after_string(name) + 4 + 8 * n;
  }
  size_t offset_at(const std::string& name) const { return type_at(name) + 4; }

  // Opens `bytes` as model.gguf; expects failure with `substring` in a one-line message.
  std::string expect_error(const std::vector<uint8_t>& bytes, const std::string& substring) {
    testing::write_bytes(path_, bytes);
    auto r = GgufFile::open(path_);
    EXPECT_FALSE(r.ok()) << "expected error containing: " << substring;
    if (r.ok()) return "";
    const std::string& msg = r.error();
    EXPECT_EQ(msg.rfind("[gguf] " + path_ + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find(substring), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    return msg;
  }

  TempDir dir_;
  std::vector<uint8_t> valid_;
  std::string path_;
};

TEST_F(GgufMalformedTest, TooSmall) {
  expect_error({}, "file too small");
  expect_error({'G', 'G', 'U'}, "file too small");
}

TEST_F(GgufMalformedTest, BadMagic) {
  auto b = valid_;
  b[0] = 'X';
  expect_error(b, "not a GGUF file (bad magic)");
  expect_error({'P', 'K', 3, 4, 0, 0}, "not a GGUF file (bad magic)");
}

TEST_F(GgufMalformedTest, UnsupportedVersion) {
  auto b = valid_;
  patch<uint32_t>(&b, 4, 1);
  expect_error(b, "unsupported GGUF version 1");
  patch<uint32_t>(&b, 4, 4);
  expect_error(b, "unsupported GGUF version 4");
  patch<uint32_t>(&b, 4, 0x03000000);  // a big-endian v3 file
  expect_error(b, "unsupported GGUF version");
}

TEST_F(GgufMalformedTest, EveryTruncationFails) {
  for (size_t n = 0; n < valid_.size(); ++n) {
    SCOPED_TRACE("truncated to " + std::to_string(n) + " bytes");
    std::vector<uint8_t> b(valid_.begin(), valid_.begin() + n);
    const std::string msg = expect_error(b, "");
    if (n >= 4) {
      const bool explained = msg.find("truncated") != std::string::npos ||
                             msg.find("too small") != std::string::npos ||
                             msg.find("past end of file") != std::string::npos ||
                             msg.find("larger than the file could hold") != std::string::npos;
      EXPECT_TRUE(explained) << msg;
    }
  }
  expect_error(std::vector<uint8_t>(valid_.begin(), valid_.end() - 1),
               "tensor 'tensor_c' data extends past end of file (truncated?)");
  expect_error(std::vector<uint8_t>(valid_.begin(), valid_.begin() + 20), "truncated file");
}

TEST_F(GgufMalformedTest, StringLengthPastEof) {
  auto b = valid_;
  patch<uint64_t>(&b, 24, 1000000000000ull);  // first key's length
  expect_error(b, "past end of file");
  b = valid_;
  patch<uint64_t>(&b, after_string("general.architecture") + 4, ~0ull);  // its string value
  expect_error(b, "past end of file");
  b = valid_;
  patch<uint64_t>(&b, after_string("tensor_b") - 16, 1ull << 40);  // a tensor name
  expect_error(b, "past end of file");
}

TEST_F(GgufMalformedTest, AbsurdCounts) {
  auto b = valid_;
  patch<uint64_t>(&b, 8, 1ull << 40);
  expect_error(b, "tensor count 1099511627776 is larger than the file could hold");
  b = valid_;
  patch<uint64_t>(&b, 16, ~0ull);
  expect_error(b, "metadata count");
  b = valid_;
  const size_t count_at = after_string("tokenizer.ggml.tokens") + 4 + 4;
  patch<uint64_t>(&b, count_at, 1ull << 60);
  expect_error(b, "'tokenizer.ggml.tokens' has array count 1152921504606846976, larger than");
  patch<uint64_t>(&b, count_at, 4);  // one more string than present: runs into the next key
  expect_error(b, "");
}

TEST_F(GgufMalformedTest, InvalidValueTypes) {
  auto b = valid_;
  patch<uint32_t>(&b, after_string("general.architecture"), 13);
  expect_error(b, "metadata key 'general.architecture' has invalid value type 13");
  b = valid_;
  patch<uint32_t>(&b, after_string("tokenizer.ggml.tokens") + 4, 77);
  expect_error(b, "invalid array element type 77");
  b = valid_;
  patch<uint8_t>(&b, after_string("general.flag") + 4, 2);
  expect_error(b, "invalid bool");
}

TEST_F(GgufMalformedTest, DeeplyNestedArrays) {
  testing::RawGguf g;
  g.header(3, 0, 1);
  g.key("deep", 9);
  for (int i = 0; i < 64; ++i) g.put<uint32_t>(9), g.put<uint64_t>(1);
  g.put<uint32_t>(0), g.put<uint64_t>(0);
  expect_error(g.bytes(), "nests arrays too deep");
}

TEST_F(GgufMalformedTest, BadAlignment) {
  auto b = valid_;
  const size_t at = after_string("general.alignment") + 4;
  patch<uint32_t>(&b, at, 3);
  expect_error(b, "general.alignment must be a positive power of two");
  patch<uint32_t>(&b, at, 0);
  expect_error(b, "general.alignment must be a positive power of two");
}

TEST_F(GgufMalformedTest, DuplicateTensorNames) {
  auto b = valid_;
  const size_t at = after_string("tensor_c") - 1;
  b[at] = 'b';
  expect_error(b, "duplicate tensor name 'tensor_b'");
}

TEST_F(GgufMalformedTest, DimensionCount) {
  auto b = valid_;
  patch<uint32_t>(&b, n_dims_at("tensor_b"), 5);
  expect_error(b, "tensor 'tensor_b' has 5 dimensions (must be 1 to 4)");
  patch<uint32_t>(&b, n_dims_at("tensor_b"), 0);
  expect_error(b, "tensor 'tensor_b' has 0 dimensions");
  patch<uint32_t>(&b, n_dims_at("tensor_b"), ~0u);
  expect_error(b, "dimensions (must be 1 to 4)");
}

TEST_F(GgufMalformedTest, NonPositiveDims) {
  auto b = valid_;
  patch<uint64_t>(&b, dim_at("tensor_b", 1), 0);
  expect_error(b, "tensor 'tensor_b' has dimension 1 = 0 (must be positive)");
  patch<uint64_t>(&b, dim_at("tensor_b", 1), ~0ull);
  expect_error(b, "tensor 'tensor_b' has dimension 1 = -1 (must be positive)");
  b = valid_;
  patch<uint64_t>(&b, dim_at("tensor_b", 0), 1ull << 63);
  expect_error(b, "dimension 0 = -9223372036854775808");
}

TEST_F(GgufMalformedTest, ElementCountOverflow) {
  auto b = valid_;
  patch<uint64_t>(&b, dim_at("tensor_b", 0), 1ull << 32);
  patch<uint64_t>(&b, dim_at("tensor_b", 1), 1ull << 32);
  expect_error(b, "tensor 'tensor_b' element count overflows");
  // Fits in int64 elements, but not in bytes.
  patch<uint64_t>(&b, dim_at("tensor_b", 0), 1ull << 31);
  patch<uint64_t>(&b, dim_at("tensor_b", 1), 1ull << 31);
  expect_error(b, "tensor 'tensor_b' byte size overflows");
}

TEST_F(GgufMalformedTest, RowSizeNotMultipleOfBlock) {
  auto b = valid_;
  patch<uint64_t>(&b, dim_at("blk.0.attn_q.weight", 0), 48);
  expect_error(b,
               "tensor 'blk.0.attn_q.weight' row size 48 is not a multiple of the Q8_0 block "
               "size 32");
}

TEST_F(GgufMalformedTest, UnsupportedTensorType) {
  auto b = valid_;
  patch<uint32_t>(&b, type_at("blk.0.attn_q.weight"), 11);
  const std::string msg = expect_error(b, "");
  EXPECT_EQ(msg, "[gguf] " + path_ + ": tensor 'blk.0.attn_q.weight' has unsupported type Q3_K");
  patch<uint32_t>(&b, type_at("blk.0.attn_q.weight"), 1234);
  expect_error(b, "tensor 'blk.0.attn_q.weight' has unsupported type type 1234");
}

TEST_F(GgufMalformedTest, DataPastEndOfFile) {
  auto b = valid_;
  patch<uint64_t>(&b, offset_at("tensor_b"), 1ull << 40);
  expect_error(b, "tensor 'tensor_b' data extends past end of file (truncated?)");
  patch<uint64_t>(&b, offset_at("tensor_b"), ~0ull - 31);  // aligned, and offset + size wraps
  expect_error(b, "tensor 'tensor_b' data extends past end of file (truncated?)");
  b = valid_;
  patch<uint64_t>(&b, offset_at("tensor_c"), 224);  // real offset is 192, its data ends the file
  expect_error(b, "tensor 'tensor_c' data extends past end of file (truncated?)");
}

TEST_F(GgufMalformedTest, MisalignedOffset) {
  auto b = valid_;
  uint64_t off = 0;
  std::memcpy(&off, b.data() + offset_at("tensor_c"), 8);
  patch<uint64_t>(&b, offset_at("tensor_c"), off - 4);
  expect_error(b, "tensor 'tensor_c' offset " + std::to_string(off - 4) +
                      " is not a multiple of the alignment 32");
}

TEST_F(GgufMalformedTest, MissingFile) {
  auto r = GgufFile::open(dir_.file("nope.gguf"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rfind("[gguf] " + dir_.file("nope.gguf") + ": ", 0), 0u) << r.error();
  auto d = GgufFile::open(dir_.path().string());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().find("not a regular file"), std::string::npos) << d.error();
}

// Corrupt bytes everywhere before the tensor data: any outcome but a crash (ASan checks reads).
TEST_F(GgufMalformedTest, CorruptBytesNeverCrash) {
  const size_t data_start = valid_.size() - 224;  // q8 136 (padded to 160) + 2 x 32
  std::mt19937 rng(1234);
  for (size_t i = 0; i < data_start; ++i) {
    for (uint8_t v : {uint8_t{0x00}, uint8_t{0xff}, uint8_t{0x80}}) {
      auto b = valid_;
      b[i] = v;
      testing::write_bytes(path_, b);
      auto r = GgufFile::open(path_);
      if (!r.ok()) {
        EXPECT_EQ(r.error().rfind("[gguf] ", 0), 0u);
      }
    }
  }
  for (int iter = 0; iter < 500; ++iter) {
    auto b = valid_;
    for (int k = 0; k < 4; ++k) b[rng() % data_start] = static_cast<uint8_t>(rng());
    b.resize(rng() % (b.size() + 1));
    testing::write_bytes(path_, b);
    auto r = GgufFile::open(path_);
    if (r.ok()) {
      for (const auto& t : (*r)->tensors()) {
        volatile uint8_t last = t.data[t.nbytes - 1];  // inside the mapping
        (void)last;
      }
    }
  }
}

}  // namespace
}  // namespace sluice
