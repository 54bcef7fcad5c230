#pragma once
// The sequence classification head of cross-encoders (BertForSequenceClassification):
//   score = act(classifier(tanh(pooler(cls_row))))   act: sigmoid or identity (config)
#include <vector>

#include "model/encoder_context.h"

namespace sluice::blocks {

// [num_seqs, num_labels] on the host from s.pooled (the CLS rows). The pooler's matmul runs on
// the backend (into s.h); tanh, the classifier's few dot products and the activation on the host.
std::vector<float> classify(const EncoderContext& f);

}  // namespace sluice::blocks
