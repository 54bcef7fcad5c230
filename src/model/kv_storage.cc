#include "model/kv_storage.h"

#include <cstring>

#include "common/assert.h"

namespace sluice {

KvStorage::KvStorage(int64_t num_layers, int64_t num_blocks, int64_t block_size,
                     int64_t num_kv_heads, int64_t head_dim)
    : num_blocks_(num_blocks),
      block_size_(block_size),
      num_kv_heads_(num_kv_heads),
      head_dim_(head_dim) {
  block_floats_ = static_cast<size_t>(block_size * num_kv_heads * head_dim);
  const size_t per_layer = static_cast<size_t>(num_blocks) * block_floats_;
  for (int64_t i = 0; i < num_layers; ++i) {
    k_.emplace_back(static_cast<float*>(std::calloc(per_layer, sizeof(float))));
    v_.emplace_back(static_cast<float*>(std::calloc(per_layer, sizeof(float))));
    SLUICE_ASSERT(k_.back() && v_.back(), "out of memory allocating the KV cache");
  }
}

KvLayerView KvStorage::layer(int64_t i) {
  return KvLayerView{k_[i].get(), v_[i].get(), num_blocks_, block_size_, num_kv_heads_, head_dim_};
}

void KvStorage::copy_block(int32_t src, int32_t dst) {
  SLUICE_ASSERT(src >= 0 && src < num_blocks_ && dst >= 0 && dst < num_blocks_, "bad KV block id");
  for (size_t l = 0; l < k_.size(); ++l) {
    std::memcpy(k_[l].get() + dst * block_floats_, k_[l].get() + src * block_floats_,
                block_floats_ * sizeof(float));
    std::memcpy(v_[l].get() + dst * block_floats_, v_[l].get() + src * block_floats_,
                block_floats_ * sizeof(float));
  }
}

}  // namespace sluice
