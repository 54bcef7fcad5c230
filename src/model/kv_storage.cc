#include "model/kv_storage.h"

namespace sluice {

KvStorage::KvStorage(int64_t num_layers, int64_t num_blocks, int64_t block_size,
                     int64_t num_kv_heads, int64_t head_dim)
    : num_blocks_(num_blocks), block_size_(block_size), num_kv_heads_(num_kv_heads), head_dim_(head_dim) {
  const size_t per_layer = static_cast<size_t>(num_blocks * block_size * num_kv_heads * head_dim);
  k_.assign(num_layers, std::vector<float>(per_layer));
  v_.assign(num_layers, std::vector<float>(per_layer));
}

KvLayerView KvStorage::layer(int64_t i) {
  return KvLayerView{k_[i].data(), v_[i].data(), num_blocks_, block_size_, num_kv_heads_, head_dim_};
}

}  // namespace sluice
