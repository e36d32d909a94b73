// Command lines for a case: the subcommand and flags a user or a script would give, and in
// hostile cases the flag values they should not.
#include <fmt/format.h>

#include "generators.h"

namespace jitfuse::fuzz {
namespace {

const std::vector<std::string> kArchs = {"sm_80", "sm_90a", "sm_75", "sm_86", "sm_89", "sm_90", "sm_100a", "sm_120"};
const std::vector<std::string> kGemms = {"auto", "mma", "simt", "wgmma", "wgmma,cluster=1,persistent=0",
                                         "wgmma,tile=256x128,cluster=2n", "wgmma,bn=32,split=4",
                                         "wgmma,pingpong=1", "wgmma,handoff=half", "wgmma,streamk=1"};
const std::vector<std::string> kSteps = {"validate", "specialize", "plan", "emit", "key", "all", "validate,plan"};

// A value that no flag takes, for hostile command lines. Arguments are C strings (no NULs), and
// Linux refuses to exec one longer than 128 KB.
std::string hostile(Rng& rng) {
  std::string s = rng.chance(0.5) ? weird_string(rng) : weird_number_token(rng);
  for (char& c : s) c = c == '\0' ? '?' : c;
  return s.substr(0, 100000);
}

// A --dims item; hostile ones are malformed, unknown, zero, negative or past the limits.
std::string dims_item(Rng& rng, const std::vector<std::string>& symbols, bool valid) {
  const std::string name = symbols.empty() || (!valid && rng.chance(0.2)) ? "Q" : rng.pick(symbols);
  if (valid) return fmt::format("{}={}", name, rng.pick(std::vector<int>{1, 2, 7, 64, 100, 129, 2048}));
  return rng.pick(std::vector<std::string>{
      name + "=0", name + "=-1", name + "=2147479552", name + "=2147479553", name + "=99999999999999999999",
      name + "=1e3", name + "=", "=5", name, name + "=5=6", name + "=0x10", name + "= 5", name + "=+5",
      name + "=281474976710657", hostile(rng) + "=5", name + "=" + hostile(rng)});
}

}  // namespace

std::vector<std::string> command_line(Rng& rng, const CommandHints& hints, bool& nvrtc) {
  const bool valid = hints.valid_flags;
  // A flag's value: usually a good one, in hostile cases sometimes anything.
  auto value = [&](const std::vector<std::string>& good) {
    return !valid && rng.chance(0.3) ? hostile(rng) : rng.pick(good);
  };
  std::vector<std::string> args;
  if (rng.chance(0.1)) args.push_back("-v");
  if (rng.chance(0.08)) args.insert(args.end(), {"--dump-after", value(kSteps)});
  if (rng.chance(0.15)) args.push_back("--no-cache");
  else if (rng.chance(0.1)) args.insert(args.end(), {"--cache-dir", "own-cache"});

  const double r = rng.unit();
  const std::string sub = r < 0.6 || !hints.compile ? "explain" : (r < 0.95 || valid ? "compile" : "run");
  nvrtc = sub == "compile";
  args.push_back(sub);
  args.push_back(kGraphArg);
  if (sub == "explain" && rng.chance(0.4)) args.insert(args.end(), {"--format", value({"text", "md", "json"})});
  if (sub == "compile") {
    // No GPU here: compile needs an arch; leaving it out is a case of its own.
    if (valid || rng.chance(0.9)) args.insert(args.end(), {"--arch", value(kArchs)});
    if (rng.chance(0.3)) args.insert(args.end(), {"--math", value({"auto", "ieee", "tf32", "tf32x3", "bf16x3"})});
    if (rng.chance(0.1)) args.insert(args.end(), {"--emit", value({"cu", "cu,ptx", "cubin"}), "-o", "emitted"});
    if (rng.chance(0.2)) args.insert(args.end(), {"--format", value({"text", "json"})});
  }
  if (sub == "run") args.insert(args.end(), {"--random", value({"1", "7"})});
  if (rng.chance(0.2)) args.insert(args.end(), {"--gemm", value(kGemms)});
  if (rng.chance(0.1)) args.push_back("--no-fuse");
  if (!hints.symbols.empty() && rng.chance(0.5)) {
    args.insert(args.end(), {"--dims", dims_item(rng, hints.symbols, valid)});
  }
  if (!valid) {
    if (rng.chance(0.2)) args.insert(args.end(), {"--dims", dims_item(rng, hints.symbols, false)});
    if (rng.chance(0.1)) args.push_back(rng.pick(std::vector<std::string>{"--bogus", "--arch", "--dims", "-", "--"}));
    if (rng.chance(0.1)) args.push_back(hostile(rng));
  }
  return args;
}

}  // namespace jitfuse::fuzz
