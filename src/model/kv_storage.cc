#include "model/kv_storage.h"

#include "common/assert.h"

namespace sluice {

KvStorage::KvStorage(Backend& be, KvLayout layout, int64_t num_blocks, int64_t block_size,
                     int64_t num_kv_heads, int64_t head_dim)
    : be_(be),
      layout_(std::move(layout)),
      num_blocks_(num_blocks),
      block_size_(block_size),
      num_kv_heads_(num_kv_heads),
      head_dim_(head_dim),
      dtype_(be.kv_dtype()) {
  block_bytes_ = static_cast<size_t>(block_size * num_kv_heads * head_dim * kv_dtype_bytes(dtype_));
  const size_t per_page = static_cast<size_t>(num_blocks) * block_bytes_;
  for (int64_t i = 0; i < layout_.pages_per_block; ++i) {
    k_.push_back(static_cast<uint8_t*>(be.alloc(per_page)));
    v_.push_back(static_cast<uint8_t*>(be.alloc(per_page)));
  }
}

KvStorage::~KvStorage() {
  for (uint8_t* p : k_) be_.release(p);
  for (uint8_t* p : v_) be_.release(p);
}

KvLayerView KvStorage::layer(int64_t i) {
  const int32_t page = layout_.layer_page[i], group = layout_.layer_group[i];
  SLUICE_ASSERT(page >= 0, "a recurrent layer has no KV pages");
  KvLayerView view{k_[page], v_[page], num_blocks_, block_size_, num_kv_heads_, head_dim_, dtype_};
  view.window = layout_.group_windows[group];  // a sliding group holds no block before it
  view.group = group;
  return view;
}

void KvStorage::copy_block(int32_t src, int32_t dst) {
  SLUICE_ASSERT(src >= 0 && src < num_blocks_ && dst >= 0 && dst < num_blocks_, "bad KV block id");
  const size_t bytes = block_bytes_;
  for (size_t p = 0; p < k_.size(); ++p) {
    be_.copy(k_[p] + dst * bytes, k_[p] + src * bytes, bytes);
    be_.copy(v_[p] + dst * bytes, v_[p] + src * bytes, bytes);
  }
}

}  // namespace sluice
