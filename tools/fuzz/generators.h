// The case generators, each a function of a random stream: JSON-aware mutations of a graph,
// byte-level garbage, deep nesting, generated elementwise chains, and command lines.
#pragma once

#include <string>
#include <vector>

#include "weird.h"

namespace jitfuse::fuzz {

// Stands for the graph file's path in a command line.
inline constexpr const char* kGraphArg = "@GRAPH@";

// A generated graph that validates: the document and the symbols its shapes use.
struct GenGraph {
  json doc;
  std::vector<std::string> symbols;
};

// A gemm (or, sometimes, a graph input) followed by a chain of random elementwise ops from the
// op table, with valid attributes, broadcast operands, literals, reuse of earlier values and
// several outputs. Chains are up to 40 ops long; with `long_chain`, hundreds to thousands.
GenGraph elementwise_chain(Rng& rng, bool long_chain);

// Applies one to four random mutations to the graph `doc` (nodes dropped, duplicated, swapped;
// ops, attributes, dtypes, shapes and names changed to hostile values; cycles; outputs removed)
// and returns it as text. Appends what it did to `what`.
std::string mutate_graph(Rng& rng, json doc, std::string& what);

// `text` damaged at the byte level: truncated, bytes flipped, inserted or deleted, NULs, two
// files spliced, a chunk repeated, or random bytes. Appends what it did to `what`.
std::string garbage(Rng& rng, const std::string& text, std::string& what);

// A file that stresses the parser's size and depth handling: up to a million levels of [ or
// {"a":, a million-node array, megabyte strings and numbers. Appends what it did to `what`.
std::string huge_document(Rng& rng, std::string& what);

// What a command line may assume about its graph.
struct CommandHints {
  std::vector<std::string> symbols;  // the graph's symbolic dims, for --dims
  bool valid_flags = true;           // false: flags may be hostile too
  bool compile = true;               // `compile` (NVRTC) may be chosen
};

// A jitfuse command line for the graph (kGraphArg): mostly `explain` or `compile` with an
// arch, sometimes --dims, --math, --gemm, --no-fuse, --format, --emit, -v, --dump-after, a cache
// directory or --no-cache, and sometimes `run`. Sets `nvrtc` when it may compile for real.
std::vector<std::string> command_line(Rng& rng, const CommandHints& hints, bool& nvrtc);

}  // namespace jitfuse::fuzz
