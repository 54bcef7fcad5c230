#pragma once
// Opt-in timing totals for finding where a step's time goes: set SLUICE_PROFILE=<file> and the
// totals (count, seconds, mean) by key are rewritten there every ~2 s and at exit. Off (no cost
// beyond one branch) when the variable is unset.
#include <cstdint>
#include <string>

namespace sluice::profile {

bool enabled();
// Adds `seconds` to the key's total (thread-safe).
void add(const std::string& key, double seconds);
// Writes the table now (also done by add() every ~2 s and at exit).
void dump();

}  // namespace sluice::profile
