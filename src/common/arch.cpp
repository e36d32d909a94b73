#include "common/arch.h"

#include <fmt/format.h>

#include <charconv>

namespace jitfuse {

std::string Arch::name() const { return fmt::format("sm_{}{}", sm, specific ? "a" : ""); }
std::string Arch::short_name() const { return fmt::format("sm{}{}", sm, specific ? "a" : ""); }

Expected<Arch> parse_arch(std::string_view text) {
  auto bad = [&] {
    return make_error(ErrorCode::bad_option,
                      fmt::format("arch \"{}\" is not a GPU architecture name; expected sm_XY or "
                                  "sm_XYa, e.g. sm_80, sm_90a (see `jitfuse archs`)", text));
  };
  if (!text.starts_with("sm_")) return bad();
  std::string_view rest = text.substr(3);
  Arch arch;
  if (rest.ends_with('a')) {
    arch.specific = true;
    rest.remove_suffix(1);
  }
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), arch.sm);
  if (ec != std::errc() || end != rest.data() + rest.size() || arch.sm < 10 || arch.sm > 999) {
    return bad();
  }
  return arch;
}

}  // namespace jitfuse
