#pragma once
// Matching state of the pushdown automaton: a set of stacks. A stack is (top byte node, parent
// frame); frames live in a hash-consed pool so equal stacks share ids and rollback is cheap.
#include <cstdint>
#include <span>
#include <vector>

#include "structured/compiled_grammar.h"

namespace sluice::structured {

constexpr int32_t kRootFrame = -1;     // popping past it completes the grammar
constexpr int32_t kUnknownFrame = -2;  // mask precomputation: the caller is not known

struct Stack {
  int32_t node = 0;
  int32_t parent = kRootFrame;
  bool operator==(const Stack&) const = default;
};

class FramePool {
 public:
  int32_t push(int32_t node, int32_t parent);  // the id of frame (node over parent)
  int32_t node(int32_t id) const { return frames_[id].node; }
  int32_t parent(int32_t id) const { return frames_[id].parent; }
  size_t mark() const { return frames_.size(); }
  void rollback(size_t mark);  // forgets frames pushed after mark (LIFO)
  size_t size() const { return frames_.size(); }

 private:
  size_t slot_of(int32_t node, int32_t parent) const;
  void grow();
  std::vector<Stack> frames_;
  std::vector<int32_t> table_ = std::vector<int32_t>(64, -1);
};

struct StepFlags {
  bool finished = false;  // some path popped past kRootFrame
  bool unknown = false;   // some path popped past kUnknownFrame
};

// Advances stacks by bytes. Output stacks are appended to `out` after index `begin`, deduped.
class StackStepper {
 public:
  StackStepper(const Grammar& g, FramePool& pool) : g_(g), pool_(pool) {}
  // Expands (node, parent) into byte-node stacks.
  void close(int32_t node, int32_t parent, std::vector<Stack>& out, size_t begin, StepFlags& f);
  // Steps buf[in_begin, in_end) by `byte`, appending the result to buf (deduped).
  void step(std::vector<Stack>& buf, size_t in_begin, size_t in_end, uint8_t byte, StepFlags& f);
  FramePool& pool() { return pool_; }

 private:
  void add(Stack s, std::vector<Stack>& out, size_t begin);
  const Grammar& g_;
  FramePool& pool_;
};

}  // namespace sluice::structured
