#include "tokenizer/pre_tokenizer.h"

#include <nlohmann/json.hpp>

#include "tokenizer/normalizer.h"

namespace sluice {

const char* const kGpt2SplitPattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

namespace {

std::string escape_literal(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

Result<SplitBehavior> parse_behavior(const std::string& s) {
  if (s == "Removed") return SplitBehavior::kRemoved;
  if (s == "Isolated") return SplitBehavior::kIsolated;
  if (s == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (s == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (s == "Contiguous") return SplitBehavior::kContiguous;
  return Status::error("tokenizer.json", "unknown split behavior '" + s + "'");
}

}  // namespace

void split_piece(std::string_view piece, const Regex& re, SplitBehavior behavior, bool invert,
                 std::vector<std::string>* out) {
  // Collect (begin, end, is_delimiter) spans covering the piece.
  struct Span {
    size_t b, e;
    bool delim;
  };
  std::vector<Span> spans;
  size_t last = 0;
  re.for_each_match(piece, [&](size_t b, size_t e) {
    if (b > last) spans.push_back({last, b, invert});
    spans.push_back({b, e, !invert});
    last = e;
  });
  if (last < piece.size()) spans.push_back({last, piece.size(), invert});

  auto emit = [&](size_t b, size_t e) {
    if (e > b) out->emplace_back(piece.substr(b, e - b));
  };
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const Span& s : spans)
        if (!s.delim) emit(s.b, s.e);
      break;
    case SplitBehavior::kIsolated:
      for (const Span& s : spans) emit(s.b, s.e);
      break;
    case SplitBehavior::kContiguous: {
      // Adjacent delimiters merge into one piece.
      size_t i = 0;
      while (i < spans.size()) {
        size_t j = i + 1;
        if (spans[i].delim)
          while (j < spans.size() && spans[j].delim) ++j;
        emit(spans[i].b, spans[j - 1].e);
        i = j;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      // A delimiter joins the piece before it.
      size_t start = 0;
      bool open = false;
      for (const Span& s : spans) {
        if (s.delim) {
          emit(open ? start : s.b, s.e);
          open = false;
        } else {
          if (open) emit(start, s.b);
          start = s.b;
          open = true;
        }
      }
      if (open) emit(start, piece.size());
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      // A delimiter joins the piece after it.
      bool pending = false;
      size_t start = 0;
      for (const Span& s : spans) {
        if (s.delim) {
          if (pending) emit(start, s.b);
          start = s.b;
          pending = true;
        } else {
          emit(pending ? start : s.b, s.e);
          pending = false;
        }
      }
      if (pending) emit(start, piece.size());
      break;
    }
  }
}

Result<PreTokenizer> PreTokenizer::from_json(const nlohmann::json& j) {
  PreTokenizer p;
  if (j.is_null()) return p;
  Status s = p.parse_into(j);
  if (!s) return s;
  return p;
}

Result<PreTokenizer> PreTokenizer::from_regex_list(const std::vector<std::string>& patterns,
                                                   bool dollar_end_only, bool byte_level) {
  PreTokenizer p;
  p.byte_level_ = byte_level;
  for (const auto& pat : patterns) {
    Step step{};
    step.kind = Step::kSplit;
    step.behavior = SplitBehavior::kIsolated;
    SLUICE_ASSIGN_OR_RETURN(step.regex, Regex::compile(pat, dollar_end_only));
    p.steps_.push_back(std::move(step));
  }
  return p;
}

Status PreTokenizer::parse_into(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    return Status::error("tokenizer.json", "pre_tokenizer without a \"type\"");
  }
  const std::string type = j["type"];
  Step step{};
  step.kind = Step::kSplit;
  if (type == "Sequence") {
    if (!j.contains("pretokenizers") || !j["pretokenizers"].is_array()) {
      return Status::error("tokenizer.json", "Sequence pre_tokenizer without \"pretokenizers\"");
    }
    for (const auto& sub : j["pretokenizers"]) SLUICE_RETURN_IF_ERROR(parse_into(sub));
    return Status::ok();
  } else if (type == "Split") {
    const auto& pat = j.value("pattern", nlohmann::json::object());
    std::string re;
    if (pat.contains("Regex") && pat["Regex"].is_string()) {
      re = pat["Regex"];
    } else if (pat.contains("String") && pat["String"].is_string()) {
      re = escape_literal(pat["String"]);
    } else {
      return Status::error("tokenizer.json", "Split pre_tokenizer without a String/Regex pattern");
    }
    SLUICE_ASSIGN_OR_RETURN(step.regex, Regex::compile(re));
    SLUICE_ASSIGN_OR_RETURN(step.behavior, parse_behavior(j.value("behavior", "Isolated")));
    step.invert = j.value("invert", false);
  } else if (type == "ByteLevel") {
    byte_level_ = true;
    step.add_prefix_space = j.value("add_prefix_space", false);
    if (j.value("use_regex", true)) {
      SLUICE_ASSIGN_OR_RETURN(step.regex, Regex::compile(kGpt2SplitPattern));
    } else if (!step.add_prefix_space) {
      return Status::ok();  // nothing to do at split time
    }
  } else if (type == "Metaspace") {
    step.kind = Step::kMetaspace;
    step.replacement = j.value("replacement", std::string("\xE2\x96\x81"));
    const std::string scheme =
        j.value("prepend_scheme", j.value("add_prefix_space", true) ? "always" : "never");
    step.prepend = scheme == "first"   ? Step::kFirst
                   : scheme == "never" ? Step::kNever
                                       : Step::kAlways;
    step.split = j.value("split", true);
  } else if (type == "Digits") {
    SLUICE_ASSIGN_OR_RETURN(
        step.regex, Regex::compile(j.value("individual_digits", false) ? "\\p{N}" : "\\p{N}+"));
  } else if (type == "Punctuation") {
    SLUICE_ASSIGN_OR_RETURN(step.regex, Regex::compile("\\p{P}"));
    SLUICE_ASSIGN_OR_RETURN(step.behavior, parse_behavior(j.value("behavior", "Isolated")));
  } else if (type == "Whitespace") {
    SLUICE_ASSIGN_OR_RETURN(step.regex, Regex::compile("\\w+|[^\\w\\s]+"));
    step.invert = true;
    step.behavior = SplitBehavior::kRemoved;
  } else if (type == "WhitespaceSplit") {
    SLUICE_ASSIGN_OR_RETURN(step.regex, Regex::compile("\\s+"));
    step.behavior = SplitBehavior::kRemoved;
  } else {
    return Status::error("tokenizer.json", "unsupported pre_tokenizer type '" + type + "'");
  }
  steps_.push_back(std::move(step));
  return Status::ok();
}

void PreTokenizer::split(std::string_view text, bool first_segment,
                         std::vector<std::string>* out) const {
  std::vector<std::string> pieces;
  pieces.emplace_back(text);
  std::vector<std::string> next;
  for (const Step& step : steps_) {
    next.clear();
    for (size_t i = 0; i < pieces.size(); ++i) {
      std::string& piece = pieces[i];
      if (step.kind == Step::kMetaspace) {
        std::string s = replace_all(piece, " ", step.replacement);
        const bool prepend = step.prepend == Step::kAlways ||
                             (step.prepend == Step::kFirst && first_segment && i == 0);
        if (prepend && s.compare(0, step.replacement.size(), step.replacement) != 0) {
          std::string t;  // (not "replacement + s": GCC 12 warns -Wrestrict on that)
          t.reserve(step.replacement.size() + s.size());
          t.append(step.replacement).append(s);
          s.swap(t);
        }
        if (!step.split) {
          next.push_back(std::move(s));
          continue;
        }
        // Split before every replacement char (MergedWithNext).
        size_t start = 0;
        size_t pos = s.find(step.replacement, 1);
        while (pos != std::string::npos) {
          next.push_back(s.substr(start, pos - start));
          start = pos;
          pos = s.find(step.replacement, pos + step.replacement.size());
        }
        if (start < s.size()) next.push_back(s.substr(start));
        continue;
      }
      if (step.add_prefix_space && (piece.empty() || piece[0] != ' '))
        piece.insert(piece.begin(), ' ');
      if (step.regex) {
        split_piece(piece, *step.regex, step.behavior, step.invert, &next);
      } else if (!piece.empty()) {
        next.push_back(std::move(piece));
      }
    }
    pieces.swap(next);
  }
  for (auto& p : pieces) {
    if (!p.empty()) out->push_back(std::move(p));
  }
}

}  // namespace sluice
