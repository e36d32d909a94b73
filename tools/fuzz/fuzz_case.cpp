// Picks a case's family and puts its generator and a command line together.
#include "fuzz_case.h"

#include "generators.h"

namespace jitfuse::fuzz {

Case make_case(std::uint64_t seed, std::uint64_t index, const std::vector<SeedGraph>& corpus, bool compile) {
  Rng rng(seed, index);
  Case c;
  CommandHints hints;
  hints.compile = compile;
  hints.valid_flags = !rng.chance(0.15);
  const SeedGraph& base = rng.pick(corpus);
  const double r = rng.unit();
  if (r < 0.40) {
    // Mutations start from a corpus graph, or from a generated one to reach ops and shapes
    // the corpus lacks.
    c.family = "mutate";
    json doc = base.doc;
    c.what = base.name + ": ";
    if (rng.chance(0.3)) {
      GenGraph g = elementwise_chain(rng, false);
      doc = g.doc;
      c.what = "a generated chain: ";
    }
    hints.symbols = {"M", "B", "C"};
    c.input = mutate_graph(rng, doc, c.what);
  } else if (r < 0.58) {
    c.family = "garbage";
    c.what = base.name + ": ";
    c.input = garbage(rng, base.text, c.what);
    hints.symbols = {"M"};
  } else if (r < 0.66) {
    c.family = "huge";
    c.input = huge_document(rng, c.what);
    hints.compile = false;  // a valid fan of 100,000 nodes is 100,000 kernels for NVRTC
  } else if (r < 0.95) {
    // Valid graphs with valid flags must succeed: a rejection or a compiler error is a bug.
    c.family = "chain";
    const bool long_chain = rng.chance(0.05);
    GenGraph g = elementwise_chain(rng, long_chain);
    c.what = long_chain ? "a long chain" : "a chain";
    c.input = g.doc.dump(rng.chance(0.5) ? -1 : 1);
    hints.symbols = g.symbols;
    hints.compile = compile && !long_chain;  // thousands of ops make NVRTC take minutes
    c.expect_ok = hints.valid_flags;
  } else {
    c.family = "flags";
    c.what = base.name + " with hostile flags";
    c.input = base.text;
    hints.symbols = {"M", "B", "C"};
    hints.valid_flags = false;
  }
  c.args = command_line(rng, hints, c.nvrtc);
  return c;
}

}  // namespace jitfuse::fuzz
