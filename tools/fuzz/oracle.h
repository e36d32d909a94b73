// What every jitfuse run must do, whatever its input: end by itself with 0, 1 or 2, report
// errors as README says, and print nothing that can drive or flood a terminal.
#pragma once

#include <string>

#include "child.h"
#include "fuzz_case.h"

namespace jitfuse::fuzz {

// The longest line stderr may hold: messages quote user text cut at 64 bytes and compiler
// logs cut at 4 KB a line, so a longer line means something uncapped got through.
inline constexpr std::size_t kMaxLine = 8192;

// Why the run `o` of case `c` is a bug; empty when it is not.
std::string judge(const Case& c, const Outcome& o);

}  // namespace jitfuse::fuzz
