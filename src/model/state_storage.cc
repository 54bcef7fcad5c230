#include "model/state_storage.h"

#include "common/assert.h"

namespace sluice {

namespace {
int64_t conv_floats(const ModelConfig& c) {
  const int64_t channels =
      2 * c.linear_num_k_heads * c.linear_head_k_dim + c.linear_num_v_heads * c.linear_head_v_dim;
  return (c.linear_conv_kernel - 1) * channels;
}
int64_t ssm_floats(const ModelConfig& c) {
  return c.linear_num_v_heads * c.linear_head_k_dim * c.linear_head_v_dim;
}
}  // namespace

StateStorage::StateStorage(Backend& be, const ModelConfig& c, int64_t num_slots)
    : be_(be), num_slots_(num_slots), conv_floats_(conv_floats(c)), ssm_floats_(ssm_floats(c)) {
  SLUICE_ASSERT(num_slots > 0, "a state storage needs slots");
  layer_index_.assign(c.num_layers, -1);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    if (!c.is_recurrent(i)) continue;
    layer_index_[i] = static_cast<int32_t>(conv_.size());
    conv_.push_back(static_cast<float*>(be.alloc(sizeof(float) * conv_floats_ * (num_slots + 1))));
    ssm_.push_back(static_cast<float*>(be.alloc(sizeof(float) * ssm_floats_ * (num_slots + 1))));
  }
}

StateStorage::~StateStorage() {
  for (float* p : conv_) be_.release(p);
  for (float* p : ssm_) be_.release(p);
}

RecurrentLayerView StateStorage::layer(int64_t i) const {
  SLUICE_ASSERT(i >= 0 && i < static_cast<int64_t>(layer_index_.size()) && layer_index_[i] >= 0,
                "not a recurrent layer");
  return {conv_[layer_index_[i]], ssm_[layer_index_[i]]};
}

void StateStorage::copy_slot(int32_t src, int32_t dst) {
  SLUICE_ASSERT(src >= 0 && src <= num_slots_ && dst >= 0 && dst <= num_slots_, "bad state slot");
  if (src == dst) return;
  for (size_t l = 0; l < conv_.size(); ++l) {
    be_.copy(conv_[l] + dst * conv_floats_, conv_[l] + src * conv_floats_,
             sizeof(float) * conv_floats_);
    be_.copy(ssm_[l] + dst * ssm_floats_, ssm_[l] + src * ssm_floats_, sizeof(float) * ssm_floats_);
  }
}

int64_t StateStorage::bytes_per_slot(const ModelConfig& c) {
  int64_t layers = 0;
  for (int64_t i = 0; i < c.num_layers; ++i) layers += c.is_recurrent(i) ? 1 : 0;
  return layers * static_cast<int64_t>(sizeof(float)) * (conv_floats(c) + ssm_floats(c));
}

}  // namespace sluice
