#pragma once
// A loaded encoder (BERT family) that turns whole sequences into one vector each (embeddings).
// It stands beside the decoder-only Model rather than inside it: an encoder step is one
// bidirectional forward over complete sequences with no KV cache, logits or sampling, so the two
// share the backend ops and blocks but not the runner's paged-cache and decode machinery.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "common/status.h"
#include "tokenizer/tokenizer.h"

namespace sluice {

struct EncoderArchSpec;

// What the encoder outputs per sequence: its pooled vector (embeddings) or the scores of a
// sequence classification head over the CLS row (cross-encoders: BertForSequenceClassification).
enum class EncoderHead { kPooled, kClassifier };

struct EncoderConfig {
  const EncoderArchSpec* arch = nullptr;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  float layer_norm_eps = 1e-12f;
  // sentence-transformers' modules: the pooling (1_Pooling/config.json) and a Normalize module.
  Pooling pooling = Pooling::kCls;
  bool normalize = false;
  // The longest input accepted: sentence_bert_config.json's max_seq_length where present (what
  // the model was trained for, as vLLM takes it), else max_position_embeddings.
  int64_t max_tokens = 512;
  EncoderHead head = EncoderHead::kPooled;
  // kClassifier: the classifier's labels (1 for a reranker: vLLM's score API takes one logit) and
  // whether the score is sigmoid(logit) (vLLM's and sentence-transformers' CrossEncoder default
  // for one label) or the logit (config.json sentence_transformers.activation_fn Identity).
  int64_t num_labels = 0;
  bool score_sigmoid = true;

  // Floats per sequence out of EncoderRunner: hidden_size, or num_labels for a classifier.
  int64_t output_dim() const { return head == EncoderHead::kClassifier ? num_labels : hidden_size; }
};

// Weights in Hugging Face's layout; vectors (biases, norms) are F32 [1, n]. The same struct holds
// them as loaded (host) and as placed on a backend.
struct EncoderLayerWeights {
  Weight wq, wk, wv, wo;                  // [hidden, hidden]
  Weight q_bias, k_bias, v_bias, o_bias;  // [1, hidden]
  Weight attn_norm_w, attn_norm_b;        // [1, hidden] LayerNorm after attention
  Weight w_up, up_bias;                   // [inter, hidden], [1, inter]
  Weight w_down, down_bias;               // [hidden, inter], [1, hidden]
  Weight ffn_norm_w, ffn_norm_b;          // [1, hidden] LayerNorm after the MLP
};

struct EncoderWeights {
  Weight word_embed;                  // [vocab, hidden]
  Weight position_embed;              // [max_position_embeddings, hidden]
  Weight type_embed;                  // [type_vocab_size, hidden]
  Weight embed_norm_w, embed_norm_b;  // [1, hidden]
  std::vector<EncoderLayerWeights> layers;
  // EncoderHead::kClassifier: score = classifier(tanh(pooler(CLS row))). The classifier stays on
  // the host as F32 (a few dot products per sequence).
  Weight pooler_w, pooler_b;                      // [hidden, hidden], [1, hidden]
  std::vector<float> classifier_w, classifier_b;  // [num_labels, hidden], [num_labels]
};

class EncoderModel {
 public:
  // True when path is a model directory whose config.json names an encoder architecture.
  static bool is_encoder_dir(const std::string& path);
  // True when it is one with a sequence classification head (a cross-encoder: rerank).
  static bool is_cross_encoder_dir(const std::string& path);
  // path: a Hugging Face model directory (config.json, safetensors, tokenizer.json and the
  // sentence-transformers files modules.json, 1_Pooling/config.json where present).
  static Result<std::unique_ptr<EncoderModel>> load(const std::string& path);
  ~EncoderModel();

  const EncoderConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const EncoderWeights& weights() const { return weights_; }
  const std::string& path() const { return path_; }

 private:
  struct Files;
  EncoderModel();

  std::string path_;
  EncoderConfig config_;
  std::unique_ptr<Files> files_;  // the mapped safetensors the weights point into
  std::unique_ptr<Tokenizer> tokenizer_;
  EncoderWeights weights_;
};

}  // namespace sluice
