#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tokenizer/utf8.h"

namespace sluice {
namespace {

// One match-data block per thread (we only read the overall match, so one pair is enough) and a
// JIT stack large enough for long whitespace runs.
struct ThreadMatchState {
  pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
  pcre2_jit_stack* jit_stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
  pcre2_match_context* mctx = pcre2_match_context_create(nullptr);
  ThreadMatchState() {
    if (jit_stack && mctx) pcre2_jit_stack_assign(mctx, nullptr, jit_stack);
  }
  ~ThreadMatchState() {
    pcre2_match_context_free(mctx);
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_data_free(md);
  }
};

ThreadMatchState& thread_state() {
  thread_local ThreadMatchState state;
  return state;
}

}  // namespace

Result<std::shared_ptr<const Regex>> Regex::compile(const std::string& pattern,
                                                    bool dollar_end_only) {
  int err = 0;
  PCRE2_SIZE err_off = 0;
  uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK;
  if (dollar_end_only) opts |= PCRE2_DOLLAR_ENDONLY;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   opts & ~PCRE2_NO_UTF_CHECK, &err, &err_off, nullptr);
  if (!code) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof(buf));
    return Status::error("tokenizer", "bad regex at offset " + std::to_string(err_off) + ": " +
                                          reinterpret_cast<const char*>(buf) + " in '" + pattern +
                                          "'");
  }
  std::shared_ptr<Regex> re(new Regex());
  re->code_ = code;
  re->pattern_ = pattern;
  re->jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  return std::shared_ptr<const Regex>(std::move(re));
}

Regex::~Regex() {
  pcre2_code_free(static_cast<pcre2_code*>(code_));
}

void Regex::for_each_match(std::string_view subject,
                           const std::function<void(size_t, size_t)>& on_match) const {
  auto* code = static_cast<pcre2_code*>(code_);
  ThreadMatchState& st = thread_state();
  const auto* data = reinterpret_cast<PCRE2_SPTR>(subject.data());
  size_t pos = 0;
  while (pos <= subject.size()) {
    // Input is validated UTF-8 (the tokenizer repairs it first), so skip PCRE2's check.
    int rc = pcre2_match(code, data, subject.size(), pos, PCRE2_NO_UTF_CHECK, st.md, st.mctx);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      rc = pcre2_match(code, data, subject.size(), pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, st.md,
                       nullptr);
    }
    if (rc < 0) break;  // no match (or a resource limit): the rest stays unmatched
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.md);
    const size_t b = ov[0], e = ov[1];
    if (e == b) {
      // Empty match: report nothing, step one character.
      if (b >= subject.size()) break;
      pos = b + utf8::seq_len(static_cast<uint8_t>(subject[b]));
      continue;
    }
    on_match(b, e);
    pos = e;
  }
}

}  // namespace sluice
