// make-model's random BERT directories load as encoders: an embedding model (mean pooling,
// normalized) and a cross-encoder (classifier head, one label, sigmoid or raw-logit score);
// config variants a reranker cannot serve are load errors; a batch scores as its rows alone.
#include "convert/synthetic_bert.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "model/encoder_model.h"
#include "model/encoder_runner.h"
#include "tokenizer/encoder_input.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

const std::string kTokenizer =
    std::string(SLUICE_SOURCE_DIR) + "/models/all-minilm-l6-v2/tokenizer.json";

std::string write_bert(const std::string& name, bool classifier) {
  const std::string dir = ::testing::TempDir() + "/sluice_bert_" + name;
  fs::remove_all(dir);
  BertModelOptions o;
  o.classifier = classifier;
  o.tokenizer_path = kTokenizer;
  o.layers = 1;
  const Status s = write_synthetic_bert(o, dir);
  EXPECT_TRUE(static_cast<bool>(s)) << s.message();
  return dir;
}

void edit_config(const std::string& dir, const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json j;
  std::ifstream(dir + "/config.json") >> j;
  edit(j);
  std::ofstream(dir + "/config.json") << j.dump();
}

class SyntheticBert : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kTokenizer)) GTEST_SKIP() << kTokenizer << " is absent";
  }
};

TEST_F(SyntheticBert, EmbeddingModelLoadsWithMeanPoolingNormalized) {
  auto m = EncoderModel::load(write_bert("emb", false));
  ASSERT_TRUE(m.ok()) << m.error();
  const EncoderConfig& c = (*m)->config();
  EXPECT_EQ(c.head, EncoderHead::kPooled);
  EXPECT_EQ(c.pooling, Pooling::kMean);
  EXPECT_TRUE(c.normalize);
  EXPECT_EQ(c.output_dim(), 64);
  EXPECT_EQ(c.vocab_size, 30522);
  EXPECT_EQ(c.max_tokens, 256);
}

TEST_F(SyntheticBert, CrossEncoderScoresPairsAloneAndBatched) {
  const std::string dir = write_bert("ce", true);
  EXPECT_TRUE(EncoderModel::is_cross_encoder_dir(dir));
  auto m = EncoderModel::load(dir);
  ASSERT_TRUE(m.ok()) << m.error();
  const EncoderConfig& c = (*m)->config();
  EXPECT_EQ(c.head, EncoderHead::kClassifier);
  EXPECT_EQ(c.num_labels, 1);
  EXPECT_TRUE(c.score_sigmoid);
  EXPECT_EQ(c.pooling, Pooling::kCls);
  EXPECT_FALSE(c.normalize);
  EXPECT_EQ(c.output_dim(), 1);
  EXPECT_EQ(c.max_tokens, 512);

  auto be = make_backend("cpu", 1);
  ASSERT_TRUE(be.ok()) << be.error();
  EncoderRunner runner(**m, **be);
  std::vector<EncoderSequence> pairs;
  for (std::string_view doc : {"a cat sat", "the stock market fell", "x"}) {
    auto e = encode_for_encoder((*m)->tokenizer(), "what do cats do", &doc, {});
    ASSERT_TRUE(e.ok()) << e.error();
    EXPECT_EQ(e->type_ids.back(), 1);
    pairs.push_back({e->ids, e->type_ids});
  }
  const std::vector<float> batched = runner.embed({&pairs[0], &pairs[1], &pairs[2]});
  ASSERT_EQ(batched.size(), 3u);
  for (size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_GT(batched[i], 0.0f);
    EXPECT_LT(batched[i], 1.0f);
    EXPECT_EQ(runner.embed({&pairs[i]}), std::vector<float>{batched[i]});
  }
  EXPECT_NE(batched[0], batched[1]);
}

TEST_F(SyntheticBert, IdentityActivationGivesTheLogit) {
  const std::string dir = write_bert("ce_identity", true);
  auto sig = EncoderModel::load(dir);
  ASSERT_TRUE(sig.ok()) << sig.error();
  edit_config(dir, [](nlohmann::json& j) {
    j["sentence_transformers"] = {{"activation_fn", "torch.nn.modules.linear.Identity"}};
  });
  auto raw = EncoderModel::load(dir);
  ASSERT_TRUE(raw.ok()) << raw.error();
  EXPECT_FALSE((*raw)->config().score_sigmoid);
  auto be = make_backend("cpu", 1);
  ASSERT_TRUE(be.ok());
  const std::string_view doc = "a document";
  auto e = encode_for_encoder((*raw)->tokenizer(), "a query", &doc, {});
  ASSERT_TRUE(e.ok());
  const EncoderSequence seq{e->ids, e->type_ids};
  const float score = EncoderRunner(**sig, **be).embed({&seq})[0];
  const float logit = EncoderRunner(**raw, **be).embed({&seq})[0];
  EXPECT_NEAR(score, 1.0 / (1.0 + std::exp(-static_cast<double>(logit))), 1e-6);
}

TEST_F(SyntheticBert, ClassifiersARerankerCannotServeAreLoadErrors) {
  const std::string dir = write_bert("ce_bad", true);
  struct Case {
    std::function<void(nlohmann::json&)> edit;
    std::string needle;
  };
  const Case cases[] = {
      {[](nlohmann::json& j) {
         j["id2label"] = {{"0", "NO"}, {"1", "YES"}};
       },
       "with 2 labels"},
      {[](nlohmann::json& j) { j.erase("id2label"); }, "with 2 labels"},  // transformers' default
      {[](nlohmann::json& j) {
         j["sentence_transformers"] = {{"activation_fn", "torch.nn.modules.activation.Tanh"}};
       },
       "activation_fn"},
  };
  for (const Case& c : cases) {
    fs::copy_file(dir + "/config.json", dir + "/config.orig", fs::copy_options::overwrite_existing);
    edit_config(dir, c.edit);
    auto m = EncoderModel::load(dir);
    ASSERT_FALSE(m.ok()) << c.needle;
    EXPECT_NE(m.error().find(c.needle), std::string::npos) << m.error();
    fs::copy_file(dir + "/config.orig", dir + "/config.json", fs::copy_options::overwrite_existing);
  }
  // num_labels without id2label is read too.
  edit_config(dir, [](nlohmann::json& j) {
    j.erase("id2label");
    j["num_labels"] = 1;
  });
  EXPECT_TRUE(EncoderModel::load(dir).ok());
}

TEST_F(SyntheticBert, UnknownPresetAndDtypeAreErrors) {
  BertModelOptions o;
  o.tokenizer_path = kTokenizer;
  o.preset = "huge";
  EXPECT_NE(write_synthetic_bert(o, ::testing::TempDir() + "/sluice_bert_x")
                .message()
                .find("unknown preset"),
            std::string::npos);
  o.preset = "tiny";
  o.dtype = "Q4";
  EXPECT_FALSE(static_cast<bool>(write_synthetic_bert(o, ::testing::TempDir() + "/sluice_bert_x")));
}

}  // namespace
}  // namespace sluice
