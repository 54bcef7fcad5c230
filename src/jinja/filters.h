#pragma once
// Shared by the filter files: the name -> filter table each one fills, and argument helpers.
#include <string_view>
#include <unordered_map>

#include "jinja/ast.h"

namespace sluice::jinja {

using FilterTable = std::unordered_map<std::string_view, FilterFn>;

void add_string_filters(FilterTable& table);      // string_filters.cc
void add_collection_filters(FilterTable& table);  // collection_filters.cc

// An int (or bool) argument; TypeError naming `what` otherwise.
int64_t as_int_arg(Interpreter& in, const Value& v, const char* what);

}  // namespace sluice::jinja
