// One fuzz case: a graph file's bytes and the jitfuse command line that reads it, made from a
// seed and a case number alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "weird.h"

namespace jitfuse::fuzz {

// A valid graph the mutations start from (tests/golden/*.json, examples/*.json).
struct SeedGraph {
  std::string name;  // its file name, for the report
  std::string text;  // the file's bytes
  json doc;          // parsed
};

// What one case runs, and what its result must be.
struct Case {
  std::string family;             // mutate, garbage, huge, chain, flags
  std::string what;               // what was done to the input, for the report
  std::string input;              // the graph file's bytes
  std::vector<std::string> args;  // jitfuse's arguments; kGraphArg stands for the file's path
  bool expect_ok = false;         // a valid graph and valid flags: any exit but 0 is a bug
  bool nvrtc = false;             // `compile`: may run NVRTC, which costs a second or more
};

// Case `index` of the run seeded `seed`, built from `corpus` (non-empty) and nothing else, so
// that the pair reproduces it. With `compile` false the case never runs `compile`.
Case make_case(std::uint64_t seed, std::uint64_t index, const std::vector<SeedGraph>& corpus, bool compile);

}  // namespace jitfuse::fuzz
