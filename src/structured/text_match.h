#pragma once
// Whether a whole text is in a grammar's language (checks a tool input after the fact).
#include <memory>
#include <string_view>

#include "structured/grammar.h"

namespace sluice::structured {

bool grammar_matches(const std::shared_ptr<const Grammar>& grammar, std::string_view text);

}  // namespace sluice::structured
