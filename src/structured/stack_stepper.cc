#include "structured/stack_stepper.h"

#include <algorithm>

namespace sluice::structured {

namespace {
inline size_t hash_frame(int32_t node, int32_t parent) {
  uint64_t h = (uint64_t(uint32_t(node)) << 32) | uint32_t(parent);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return static_cast<size_t>(h);
}
}  // namespace

size_t FramePool::slot_of(int32_t node, int32_t parent) const {
  const size_t mask = table_.size() - 1;
  size_t i = hash_frame(node, parent) & mask;
  while (table_[i] >= 0) {
    const Stack& f = frames_[table_[i]];
    if (f.node == node && f.parent == parent) return i;
    i = (i + 1) & mask;
  }
  return i;
}

void FramePool::grow() {
  table_.assign(table_.size() * 2, -1);
  const size_t mask = table_.size() - 1;
  for (size_t id = 0; id < frames_.size(); ++id) {  // id order keeps LIFO removal valid
    size_t i = hash_frame(frames_[id].node, frames_[id].parent) & mask;
    while (table_[i] >= 0) i = (i + 1) & mask;
    table_[i] = static_cast<int32_t>(id);
  }
}

int32_t FramePool::push(int32_t node, int32_t parent) {
  size_t i = slot_of(node, parent);
  if (table_[i] >= 0) return table_[i];
  if ((frames_.size() + 1) * 2 > table_.size()) {
    grow();
    i = slot_of(node, parent);
  }
  const int32_t id = static_cast<int32_t>(frames_.size());
  frames_.push_back({node, parent});
  table_[i] = id;
  return id;
}

void FramePool::rollback(size_t mark) {
  while (frames_.size() > mark) {
    const Stack& f = frames_.back();
    table_[slot_of(f.node, f.parent)] = -1;  // the newest frame: clearing its slot is safe
    frames_.pop_back();
  }
}

void StackStepper::add(Stack s, std::vector<Stack>& out, size_t begin) {
  for (size_t i = begin; i < out.size(); ++i)
    if (out[i] == s) return;
  out.push_back(s);
}

void StackStepper::close(int32_t node, int32_t parent, std::vector<Stack>& out, size_t begin,
                         StepFlags& f) {
  const int32_t* pushes = g_.pushes();
  for (const Grammar::Expansion& e : g_.expansion(node)) {
    int32_t p = parent;
    for (int32_t k = 0; k < e.push_len; ++k) p = pool_.push(pushes[e.push_begin + k], p);
    add({e.byte_node, p}, out, begin);
  }
  if (!g_.end_reachable(node)) return;
  if (parent == kRootFrame) {
    f.finished = true;
  } else if (parent == kUnknownFrame) {
    f.unknown = true;
  } else {
    close(pool_.node(parent), pool_.parent(parent), out, begin, f);
  }
}

void StackStepper::step(std::vector<Stack>& buf, size_t in_begin, size_t in_end, uint8_t byte,
                        StepFlags& f) {
  const size_t begin = buf.size();
  for (size_t k = in_begin; k < in_end; ++k) {
    const Stack s = buf[k];  // buf may grow below
    if (!g_.has_byte(s.node, byte)) continue;
    for (const Grammar::Edge& e : g_.edges(s.node)) {
      if (e.lo > byte) break;
      if (byte <= e.hi) close(e.target, s.parent, buf, begin, f);
    }
  }
}

}  // namespace sluice::structured
