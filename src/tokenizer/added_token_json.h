#pragma once
// One entry of tokenizer.json's "added_tokens", with HF's defaults (normalized = !special).
#include <nlohmann/json.hpp>

#include "common/status.h"
#include "tokenizer/added_tokens.h"

namespace sluice {

Result<AddedToken> added_token_from_json(const nlohmann::json& entry);

}  // namespace sluice
